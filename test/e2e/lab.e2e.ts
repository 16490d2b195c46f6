// The same UI against an agent inside the NUMA lab: three real nodes (node 2 CPU-less, in a slower tier).
// The guest runs test/e2e/lab-agent.mjs (workloads + `tierscope ui`), QEMU forwards the host's
// 127.0.0.1:P to it (test/lab/run --hostfwd, restrict=on), and Chromium on the host drives the UI.
import { rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, openBrowser, screenshot, start, type Browsing, type Proc } from './helpers.js';

const SKIP = process.env['TIERSCOPE_SKIP_LAB'] === '1';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

interface Workload {
  pid: number;
  base: string;
}

let lab: Proc;
let stopFile: string;
let url: string;
let b: Browsing;
const workloads = new Map<string, Workload>();

/** "16.0 MiB" → bytes. */
function parseBytes(text: string | null): number {
  const m = /([\d.]+)\s*(B|KiB|MiB|GiB)/.exec(text ?? '');
  if (!m) return Number.NaN;
  const unit = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }[m[2] as 'B' | 'KiB' | 'MiB' | 'GiB'];
  return Number(m[1]) * unit;
}

describe.skipIf(SKIP)('UI against an agent in the NUMA lab (3 nodes)', () => {
  beforeAll(async () => {
    const port = await freePort();
    stopFile = path.join(REPO, `.lab-out/e2e-lab-stop-${port}`);
    await rm(stopFile, { force: true });
    lab = start(path.join(REPO, 'test/lab/run'), [
      '--hostfwd',
      `${port}:${port}`,
      '--timeout',
      '900',
      '--',
      'node',
      'test/e2e/lab-agent.mjs',
      String(port),
      stopFile,
    ]);
    const line = await lab.line(/^URL /, 480_000);
    url = line.slice(4).trim();
    for (const l of lab.lines.filter((x) => x.startsWith('WORKLOAD '))) {
      const [, name = '', pid = '0', base = ''] = l.split(' ');
      workloads.set(name, { pid: Number(pid), base });
    }
    expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/\\?token=`));
    b = await openBrowser();
  });

  afterAll(async () => {
    await (b as Browsing | undefined)?.close();
    if ((lab as Proc | undefined) !== undefined) {
      await writeFile(stopFile, 'stop\n');
      const ended = await Promise.race([
        new Promise<boolean>((resolve) => {
          lab.proc.once('exit', () => {
            resolve(true);
          });
        }),
        new Promise<boolean>((resolve) => {
          setTimeout(() => {
            resolve(false);
          }, 120_000);
        }),
      ]);
      if (!ended) await lab.stop();
      await rm(stopFile, { force: true });
    }
  });

  it('shows the lab topology: three nodes, node 2 CPU-less in a slower tier, distances 10/21/40', async () => {
    const { page } = b;
    // One reload allowed: under a loaded TCG guest the very first load has once stayed without a topology
    // for 120 s (seen once in a full CI-like run; not yet understood — see the closing note of session 1).
    for (let attempt = 1; ; attempt++) {
      await page.goto(url, { timeout: 120_000 });
      await page.getByRole('tab', { name: 'Topology' }).click();
      try {
        await page.getByRole('article', { name: 'Node 0' }).waitFor({ timeout: 60_000 });
        break;
      } catch (err) {
        if (attempt >= 2) throw err;
        console.warn(
          `lab e2e: no topology after 60 s, reloading; page said: ${(await page.locator('body').innerText()).slice(0, 500)}`,
        );
      }
    }
    for (const id of [0, 1, 2])
      await page.getByRole('article', { name: `Node ${id}` }).waitFor({ timeout: 120_000 });
    expect(await page.getByRole('article', { name: 'Node 2' }).textContent()).toMatch(/CPU-less/);
    expect(await page.getByRole('article', { name: 'Node 0' }).textContent()).not.toMatch(/CPU-less/);
    expect(await page.getByRole('article', { name: 'Node 2' }).textContent()).toMatch(/slow/);
    const cells = await page.getByRole('table', { name: 'Node distances' }).locator('td').allTextContents();
    expect(cells).toEqual(['10', '21', '40', '21', '10', '40', '40', '40', '10']);
    await screenshot(page, 'lab-topology');
  });

  it('shows the interleaved workload with its pages on all three nodes', async () => {
    const { page } = b;
    const w = workloads.get('interleaved');
    if (!w) throw new Error('no interleaved workload reported by the guest');
    await page.getByRole('tab', { name: 'Memory' }).click();
    await expect
      .poll(() => page.locator('.target-head .title').textContent(), { timeout: 120_000 })
      .toContain(`pid ${w.pid}`);
    // 48 MiB interleaved over 3 nodes: 16 MiB each, plus a few pages of code and stack.
    for (const node of [0, 1, 2]) {
      const text = await page.getByTestId(`node-bytes-${node}`).textContent();
      expect(parseBytes(text), `node ${node}: ${String(text)}`).toBeGreaterThanOrEqual(16 * 1024 ** 2);
      expect(parseBytes(text), `node ${node}: ${String(text)}`).toBeLessThan(17 * 1024 ** 2);
    }
    const vmas = page.getByRole('grid', { name: 'VMAs' });
    await page.getByLabel('Filter VMAs').fill(`0x${w.base}`);
    const region = vmas.getByRole('row').filter({ hasText: w.base.padStart(12, '0') });
    await expect.poll(() => region.count()).toBe(1);
    const cells = await region.getByRole('gridcell').allTextContents();
    // Start–end, Size, RSS, N0, N1, N2, Nodes, Kind, Perms, Policy, …
    expect(cells.slice(1, 6)).toEqual(['48.0 MiB', '48.0 MiB', '16.0 MiB', '16.0 MiB', '16.0 MiB']);
    expect(cells[9]).toBe('interleave:0-2');
    await page.getByLabel('Filter VMAs').fill('');
    await expect
      .poll(() => page.getByText(/\d+ samples/).textContent(), { timeout: 60_000 })
      .toMatch(/^([2-9]|\d{2,}) samples/);
    await screenshot(page, 'lab-memory');
  });

  it('lists both workloads in the picker with per-node columns for three nodes', async () => {
    const { page } = b;
    const far = workloads.get('far');
    if (!far) throw new Error('no far workload reported by the guest');
    await page.getByRole('tab', { name: 'Processes' }).click();
    await page.getByLabel('Search processes').fill('memhog');
    const grid = page.getByRole('grid', { name: 'Processes' });
    const headers = await grid.getByRole('columnheader').allTextContents();
    expect(headers.filter((h) => /^N\d/.test(h)).map((h) => h.slice(0, 2))).toEqual(['N0', 'N1', 'N2']);
    // By the row key (pid:startTime), not by text: "90" also appears in other rows' pids, times and sizes.
    const row = grid.locator(`[role="row"][data-key^="${far.pid}:"]`);
    // PID, User, Command, Started, RSS, N0, N1, N2: all of the 24 MiB on node 2.
    await expect
      .poll(async () => (await row.getByRole('gridcell').allTextContents())[7], { timeout: 120_000 })
      .toMatch(/^2[45]\.\d MiB$/);
    const cells = await row.getByRole('gridcell').allTextContents();
    expect(parseBytes(cells[5] ?? '')).toBeLessThan(1024 ** 2);
    // The whole list for the picture: per-node columns fill in for the rows on screen.
    await page.getByLabel('Search processes').fill('');
    await row.click();
    await expect
      .poll(() => grid.getByRole('row').filter({ hasText: '…' }).count(), { timeout: 120_000 })
      .toBe(0);
    await screenshot(page, 'lab-processes');
    await page.getByLabel('Search processes').fill(`pid:${far.pid}`);
    await row.dblclick();
    await expect
      .poll(() => page.locator('.target-head .title').textContent(), { timeout: 120_000 })
      .toContain(`pid ${far.pid}`);
    await expect
      .poll(async () => parseBytes(await page.getByTestId('node-bytes-2').textContent()), {
        timeout: 120_000,
      })
      .toBeGreaterThanOrEqual(24 * 1024 ** 2);
    await page.getByRole('button', { name: 'Switch to light theme' }).click();
    await expect.poll(() => page.evaluate('document.documentElement.dataset.theme')).toBe('light');
    await screenshot(page, 'lab-memory-light');
    expect(b.errors).toEqual([]);
  });
});
