// The Session view in browser mode on this machine. The committed real lab capture
// (test/fixtures/sessions/lab-memhog-page_idle.tierscope: memhog on the slow node 2 with a known hot 16 MiB,
// page_idle, one promotion recorded as an experiment) opened with `tierscope ui --session` and through the
// Open dialog: the heatmap's hot band against memhog's own ground truth, misplacement, the experiment's
// band and list entry. Then the record → stop → export flow on a memhog started here (source refs: this
// kernel has no page_idle and its DAMON belongs to someone else), overwrite confirmation, a garbage file,
// and the keyboard zoom.
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  REPO,
  openBrowser,
  parseBytes,
  screenshot,
  startMemhog,
  startUi,
  type Browsing,
  type Proc,
} from './helpers.js';

const MiB = 1 << 20;
const FIXTURE = path.join(REPO, 'test/fixtures/sessions/lab-memhog-page_idle.tierscope');

interface Truth {
  pid: number;
  base: string;
  sizeBytes: number;
  hotRanges: { start: string; bytes: number }[];
}
const truth = JSON.parse(
  readFileSync(path.join(REPO, 'test/fixtures/sessions/lab-memhog-page_idle.truth.json'), 'utf8'),
) as Truth;
const hotRange = truth.hotRanges[0] ?? { start: truth.base, bytes: 0 };
const hotStart = BigInt(`0x${hotRange.start}`);
const hotEnd = hotStart + BigInt(hotRange.bytes);

let tmp: string;
let b: Browsing;
let fixtureUi: { proc: Proc; url: string } | undefined;
let liveUi: { proc: Proc; url: string } | undefined;
let memhog: { proc: Proc; base: string; sizeBytes: number } | undefined;

/** The hot band the heatmap reports (data-hot-rows) as addresses, or null while none is shown. */
async function hotRows(page: Page): Promise<[bigint, bigint] | null> {
  const text = await page.getByTestId('heatmap').getAttribute('data-hot-rows');
  if (text === null || text === 'null') return null;
  const [start, end] = JSON.parse(text) as [string, string];
  return [BigInt(`0x${start}`), BigInt(`0x${end}`)];
}

/**
 * Bytes per heatmap row on the whole-process view: the address axis is every VMA ever resident (the
 * session VMA table lists them, with their exact start–end) and the agent was asked for one row per
 * device pixel of the canvas (HeatmapPanel's requestRows: fewer only past 2 048 rows or one row per page).
 */
async function wholeProcessRowBytes(page: Page): Promise<bigint> {
  const grid = page.getByRole('grid', { name: 'Session VMAs' });
  const rowCount = Number(await grid.getAttribute('aria-rowcount')) - 1;
  const rows = grid.locator('[role="row"][aria-rowindex]').filter({ has: page.getByRole('gridcell') });
  expect(await rows.count(), 'every VMA row is rendered (a short table)').toBe(rowCount);
  const ranges: [bigint, bigint][] = [];
  for (const row of await rows.all()) {
    const cells = await row.getByRole('gridcell').allTextContents();
    // Start – end, Size, RSS, Max RSS, …: the axis holds the VMAs that were ever resident.
    if (parseBytes(cells[3] ?? '') === 0) continue;
    const [start = '', end = ''] = (cells[0] ?? '').split('–');
    ranges.push([BigInt(`0x${start}`), BigInt(`0x${end}`)]);
  }
  ranges.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  let total = 0n;
  let reach = 0n;
  for (const [start, end] of ranges) {
    const from = start > reach ? start : reach;
    if (end > from) total += end - from;
    if (end > reach) reach = end;
  }
  const heightPx = BigInt(Number(await page.getByTestId('heatmap').getAttribute('height')));
  expect(heightPx).toBeGreaterThan(0n);
  return (total + heightPx - 1n) / heightPx;
}

/**
 * What the lab capture must show wherever it was opened from: memhog on page_idle over 3 nodes; the
 * whole-process hot band within one heatmap row of the truth (HeatmapPanel / renderer README: one row of
 * slack at each end), exact once memhog's VMA is selected; that VMA first in the misplacement ranking with
 * its 16 MiB hot on the slow node; the promotion as a band on the timeline.
 */
async function checkLabCapture(page: Page): Promise<void> {
  const header = page.getByTestId('session-header');
  await expect.poll(() => header.textContent(), { timeout: 30_000 }).toContain(FIXTURE);
  const head = (await header.innerText()).replace(/\s+/g, ' ');
  expect(head).toContain(`memhog pid ${truth.pid}`);
  expect(head).toContain('3 NUMA nodes (0, 1, 2)');
  expect(head).toMatch(/source page_idle —/);
  expect(head).toContain('24 intervals of 500 ms');

  // Whole process: the widest hot band of the last column is memhog's hot 16 MiB, give or take a row.
  const heatmap = page.getByTestId('heatmap');
  await heatmap.and(page.locator('[data-drawn="true"]')).waitFor({ timeout: 30_000 });
  const rowBytes = await wholeProcessRowBytes(page);
  await expect.poll(() => hotRows(page), { timeout: 30_000 }).not.toBeNull();
  const [wholeStart, wholeEnd] = (await hotRows(page)) ?? [0n, 0n];
  const off = (a: bigint, b: bigint): bigint => (a > b ? a - b : b - a);
  expect(off(wholeStart, hotStart), `start ${wholeStart.toString(16)}, row ${rowBytes}`).toBeLessThanOrEqual(
    rowBytes,
  );
  expect(off(wholeEnd, hotEnd), `end ${wholeEnd.toString(16)}, row ${rowBytes}`).toBeLessThanOrEqual(
    rowBytes,
  );

  // Select memhog's VMA in the session VMA table: the heatmap zooms to it and the band is exact.
  const vmas = page.getByRole('grid', { name: 'Session VMAs' });
  const region = vmas.getByRole('row').filter({ hasText: `${truth.base}–` });
  await expect.poll(() => region.count()).toBe(1);
  await region.click();
  await expect
    .poll(() => page.getByTestId('session-selection').textContent())
    .toMatch(/selection: 1 VMA · 64\.0 MiB/);
  await expect
    .poll(() => heatmap.getAttribute('data-hot-rows'), { timeout: 30_000 })
    .toBe(JSON.stringify([hotStart.toString(16), hotEnd.toString(16)]));
  // Its own track on the timeline.
  await page.locator('[data-testid^="track-vma-"][data-drawn="true"]').first().waitFor({ timeout: 30_000 });

  // Misplacement: memhog's region first, its hot 16 MiB on the slow node 2.
  const misplaced = page.getByTestId('misplacement');
  expect(await misplaced.locator('h3').textContent()).toMatch(/fast N0,1 · slow N2/);
  const first = misplaced.getByRole('grid', { name: 'Misplaced VMAs' }).getByRole('row').nth(1);
  const cells = await first.getByRole('gridcell').allTextContents();
  // Start – end, Gain, Hot on slow, Cold on fast, Split, RSS, Mapping
  expect(cells[0]).toBe(
    `${truth.base}–${(BigInt(`0x${truth.base}`) + BigInt(truth.sizeBytes)).toString(16)}`,
  );
  expect(parseBytes(cells[2] ?? '')).toBe(16 * MiB);

  // The promotion recorded in the session: one band on the timeline, labelled with its target.
  const band = page.getByRole('region', { name: 'Timelines' }).locator('.exp-band');
  await expect.poll(() => band.count()).toBe(1);
  expect(await band.getAttribute('class')).toContain('completed');
  expect(await band.locator('.exp-label').textContent()).toBe('move → N0');
  expect(await band.locator('.exp-label').getAttribute('title')).toMatch(/moved 4,096 of 4,112 pages/);
}

/** The experiments list holds the capture's promotion: completed, 4 096 of 4 112 pages moved, on its timeline. */
async function checkExperimentsList(page: Page): Promise<void> {
  await page.getByRole('tab', { name: 'Experiments' }).click();
  const list = page.getByTestId('experiments-list');
  await list.waitFor();
  const rows = list.locator('tbody tr');
  expect(await rows.count()).toBe(1);
  const text = (await rows.first().innerText()).replace(/\s+/g, ' ');
  // experiment, selection, target, status (upper-cased by CSS: textContent has the word as written), …
  expect(await rows.first().locator('td').nth(3).textContent()).toBe('completed');
  expect(text).toContain('4,096 / 4,112');
  expect(text).toMatch(/at \d/);
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'tierscope-e2e-session-'));
  b = await openBrowser();
});

afterAll(async () => {
  await (b as Browsing | undefined)?.close();
  await fixtureUi?.proc.stop();
  await liveUi?.proc.stop();
  await memhog?.proc.stop();
  if ((tmp as string | undefined) !== undefined) await rm(tmp, { recursive: true, force: true });
});

describe('the Session view in browser mode', () => {
  it('opens the lab capture with --session: header, hot band at the truth, misplacement, experiment', async () => {
    const { page } = b;
    fixtureUi = await startUi(['--port', '0', '--session', FIXTURE], {
      XDG_DATA_HOME: path.join(tmp, 'data'),
    });
    expect(fixtureUi.url).toContain(`&session=${encodeURIComponent(FIXTURE)}`);
    await page.goto(fixtureUi.url);
    await expect
      .poll(() => page.getByRole('tab', { name: 'Session' }).getAttribute('aria-selected'))
      .toBe('true');
    await checkLabCapture(page);
    await screenshot(page, 'session-heatmap');
    await checkExperimentsList(page);
    await screenshot(page, 'experiments');
    // Clicking the experiment shows its span on the timeline.
    await page.getByTestId('experiments-list').locator('tbody tr').first().click();
    await expect
      .poll(() => page.getByRole('tab', { name: 'Session' }).getAttribute('aria-selected'))
      .toBe('true');
  });

  it('keyboard: + zooms in, 0 shows the whole session again', async () => {
    const { page } = b;
    const readout = page.getByTestId('session-viewport');
    // From the whole session (the experiment click above zoomed to it).
    await readout.click();
    await page.keyboard.press('0');
    await expect
      .poll(() => page.getByRole('button', { name: 'all', exact: true }).getAttribute('aria-pressed'))
      .toBe('true');
    const whole = (await readout.textContent()) ?? '';
    expect(whole).toMatch(/^\S+ \S+ – \S+ \S+ of \S+ \S+$/);
    await page.keyboard.type('+');
    await expect.poll(() => readout.textContent()).not.toBe(whole);
    const zoomed = (await readout.textContent()) ?? '';
    await page.keyboard.type('+');
    await expect.poll(() => readout.textContent()).not.toBe(zoomed);
    await expect
      .poll(() => page.getByRole('button', { name: 'all', exact: true }).getAttribute('aria-pressed'))
      .toBe('false');
    await page.keyboard.press('0');
    await expect.poll(() => readout.textContent()).toBe(whole);
    // The track canvases redraw for each viewport; none is left blank.
    await page.getByTestId('track-hotness').and(page.locator('[data-drawn="true"]')).waitFor();
  });

  it('light theme: the session view redraws in the light palette', async () => {
    const { page } = b;
    await page.getByRole('button', { name: 'Switch to light theme' }).click();
    await expect.poll(() => page.evaluate('document.documentElement.dataset.theme')).toBe('light');
    await page.getByTestId('heatmap').and(page.locator('[data-drawn="true"]')).waitFor();
    await screenshot(page, 'session-light');
    await page.getByRole('button', { name: 'Switch to dark theme' }).click();
    await expect.poll(() => page.evaluate('document.documentElement.dataset.theme')).toBe('dark');
    await fixtureUi?.proc.stop();
  });

  it('opens the same capture through the Open dialog with a typed path', async () => {
    const { page } = b;
    memhog = await startMemhog(['--size', '32', '--node', '0', '--interval-ms', '20']);
    liveUi = await startUi(['--port', '0', '--pid', String(memhog.proc.pid)], {
      XDG_DATA_HOME: path.join(tmp, 'data'),
    });
    await page.goto(liveUi.url);
    await page.getByText('live · 1 s').waitFor({ timeout: 30_000 });
    await page.getByTestId('open-session').click();
    const dialog = page.getByRole('dialog', { name: 'Open session' });
    await dialog.getByTestId('open-session-path').fill(FIXTURE);
    await dialog.getByTestId('open-session-button').click();
    await dialog.waitFor({ state: 'detached', timeout: 30_000 });
    await checkLabCapture(page);
    await checkExperimentsList(page);
  });

  it('records memhog (refs), stops into the session, exports CSV and Perfetto, asks before overwriting', async () => {
    const { page } = b;
    const hog = memhog;
    if (!hog) throw new Error('no memhog');
    await page.getByRole('tab', { name: 'Memory' }).click();
    await page.getByLabel('Access source for recording').selectOption('refs');
    await page.getByLabel('Recording interval').selectOption('250');
    await page.getByTestId('record-button').click();
    const status = page.getByTestId('recording-status');
    await expect
      .poll(() => status.textContent(), { timeout: 30_000 })
      .toContain(`Recording memhog (${hog.proc.pid})`);
    // A few intervals of progress (bounded poll on the live line), then Stop.
    const intervals = async (): Promise<number> =>
      Number(/(\d+) intervals? ·/.exec((await status.textContent()) ?? '')?.[1] ?? 0);
    await expect.poll(intervals, { timeout: 60_000 }).toBeGreaterThanOrEqual(8);
    expect(await status.textContent()).toContain(path.join(tmp, 'data', 'tierscope', 'sessions'));
    await page.getByTestId('record-button').click();
    // The session opens by itself once the file is closed.
    await status.waitFor({ state: 'detached', timeout: 30_000 });
    const header = page.getByTestId('session-header');
    await expect
      .poll(() => header.textContent(), { timeout: 30_000 })
      .toContain(`memhog pid ${hog.proc.pid}`);
    const head = (await header.innerText()).replace(/\s+/g, ' ');
    expect(head).toContain('ended: stopped by the user');
    expect(head).toMatch(/source refs —/);
    expect(Number(/(\d+) intervals of 250 ms/.exec(head)?.[1] ?? 0)).toBeGreaterThanOrEqual(8);
    await page
      .getByTestId('track-hotness')
      .and(page.locator('[data-drawn="true"]'))
      .waitFor({ timeout: 30_000 });
    await page.getByTestId('heatmap').and(page.locator('[data-drawn="true"]')).waitFor({ timeout: 30_000 });

    const exportAs = async (format: 'csv' | 'perfetto', file: string): Promise<void> => {
      await page.getByRole('button', { name: 'Export…' }).click();
      const dialog = page.getByRole('dialog', { name: 'Export session' });
      await dialog.getByTestId(`export-format-${format}`).click();
      await dialog.getByTestId('session-file-path').fill(file);
      await dialog.getByTestId('session-file-submit').click();
    };
    const notice = (label: string, file: string) =>
      page
        .getByRole('status')
        .filter({ hasText: `Exported as ${label}` })
        .filter({ hasText: file });

    const csv = path.join(tmp, 'memhog.csv');
    await exportAs('csv', csv);
    await notice('CSV', csv).waitFor({ timeout: 30_000 });
    const csvText = await readFile(csv, 'utf8');
    const lines = csvText.trim().split('\n');
    expect(lines[0]).toMatch(/^interval,start_ms,end_ms,vma_id,vma_start,vma_end,/);
    expect(lines.length).toBeGreaterThan(8);
    expect(
      lines.some((l) => l.includes(`,${hog.base.padStart(8, '0')},`) || l.includes(`,${hog.base},`)),
    ).toBe(true);

    const perfetto = path.join(tmp, 'memhog.perfetto.json');
    await exportAs('perfetto', perfetto);
    await notice('Perfetto', perfetto).waitFor({ timeout: 30_000 });
    const trace = JSON.parse(await readFile(perfetto, 'utf8')) as { traceEvents?: unknown[] };
    expect(Array.isArray(trace.traceEvents)).toBe(true);
    expect(trace.traceEvents?.length).toBeGreaterThan(0);

    // The same path again: the agent refuses, the dialog asks, Replace writes it.
    const before = await stat(csv);
    const dismiss = page.locator('.banners').getByRole('button', { name: 'Dismiss' });
    while ((await dismiss.count()) > 0) await dismiss.first().click();
    await exportAs('csv', csv);
    const dialog = page.getByRole('dialog', { name: 'Export session' });
    await dialog.getByTestId('confirm-overwrite').waitFor({ timeout: 30_000 });
    expect(await dialog.getByRole('alert').textContent()).toMatch(
      new RegExp(`${csv.replace(/[.]/g, '\\.')} already exists`),
    );
    await dialog.getByTestId('confirm-overwrite').click();
    await dialog.waitFor({ state: 'detached', timeout: 30_000 });
    await notice('CSV', csv).waitFor({ timeout: 30_000 });
    const after = await stat(csv);
    expect(after.mtimeMs).toBeGreaterThanOrEqual(before.mtimeMs);
    expect((await readFile(csv, 'utf8')).split('\n')[0]).toBe(lines[0]);
    while ((await dismiss.count()) > 0) await dismiss.first().click();
  });

  it('migration panel on the recorded session: the memhog VMA, a dry run with its plan', async () => {
    const { page } = b;
    if (!memhog) throw new Error('no memhog');
    const region = page
      .getByRole('grid', { name: 'Session VMAs' })
      .getByRole('row')
      .filter({ hasText: `${memhog.base.padStart(12, '0')}–` });
    await region.click();
    await page.getByTestId('session-selection').waitFor();
    await page.getByRole('button', { name: 'Migrate…' }).click();
    const panel = page.getByTestId('migration-panel');
    await panel.waitFor();
    expect(await panel.getByRole('radio', { name: /1 selected VMA/ }).isChecked()).toBe(true);
    // refs has no per-page classes: every page of the selection, to node 0 (the only node here).
    await panel.getByLabel('Pages', { exact: true }).selectOption('any');
    await panel.getByTestId('dry-run').click();
    const plan = panel.getByTestId('migration-plan');
    await plan.waitFor({ timeout: 30_000 });
    const facts = (await plan.innerText()).replace(/\s+/g, ' ');
    expect(facts).toContain(`pages selected ${(memhog.sizeBytes / 4096).toLocaleString('en-US')}`);
    expect(facts).toMatch(/already there [\d,]+/);
    await screenshot(page, 'migration-panel');
    await panel.getByRole('button', { name: 'Close the migration panel' }).click();
    await panel.waitFor({ state: 'detached' });
  });

  it('a garbage session file: one line saying so, the open session stays, nothing crashes', async () => {
    const { page } = b;
    const garbage = path.join(tmp, 'garbage.tierscope');
    await writeFile(garbage, randomBytes(64 * 1024));
    await page.getByTestId('open-session').click();
    const dialog = page.getByRole('dialog', { name: 'Open session' });
    await dialog.getByTestId('open-session-path').fill(garbage);
    await dialog.getByTestId('open-session-button').click();
    const error = dialog.getByRole('alert');
    await error.waitFor({ timeout: 30_000 });
    const message = (await error.innerText()).trim();
    expect(message).toContain(garbage);
    expect(message).toMatch(/not a Tierscope session/);
    expect(message.split('\n')).toHaveLength(1);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    // The recorded session is still the one shown.
    await expect
      .poll(() => page.getByTestId('session-header').textContent())
      .toContain(`memhog pid ${memhog?.proc.pid ?? 0}`);

    // The same file given at start, as `tierscope ui --session FILE` does (?session=, no pid): the Session
    // view says it cannot open it, with Retry.
    const url = new URL(liveUi?.url ?? '');
    url.searchParams.delete('pid');
    url.searchParams.set('session', garbage);
    await page.goto(url.toString());
    const state = page.getByRole('alert').filter({ hasText: 'Cannot open the session' });
    await state.waitFor({ timeout: 30_000 });
    expect(await state.textContent()).toMatch(/not a Tierscope session/);
    await state.getByRole('button', { name: 'Retry' }).waitFor();
  });

  it('logged no page errors and no CSP violations', () => {
    // Reloading the page closes its agent socket: a refused WebSocket then is expected; nothing else.
    const unexpected = b.errors.filter((e) => !/WebSocket connection to .* failed/.test(e));
    expect(unexpected).toEqual([]);
  });
});
