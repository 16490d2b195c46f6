// Browser mode on this machine: `tierscope ui --pid <memhog>` served to Debian's Chromium. Picks the
// workload in the process picker, checks its VMAs and per-node pages against what memhog itself says, and
// walks through the states a user meets: a dead PID picked, the agent link lost (and Reconnect), the
// server gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MEMHOG,
  openBrowser,
  screenshot,
  startMemhog,
  startUi,
  type Browsing,
  type Proc,
} from './helpers.js';

const MiB = 1 << 20;

let memhog: { proc: Proc; base: string; sizeBytes: number };
let ui: { proc: Proc; url: string };
let b: Browsing;
/** The page's agent sockets, so a test can cut one as a dying agent would. */
const sockets: { close(options?: { code?: number; reason?: string }): Promise<void> }[] = [];

beforeAll(async () => {
  // 64 MiB bound to node 0 (the only node here): a VMA with policy bind:0 and 16 384 pages on N0.
  memhog = await startMemhog(['--size', '64', '--node', '0', '--interval-ms', '20']);
  ui = await startUi(['--port', '0', '--pid', String(memhog.proc.pid)]);
  b = await openBrowser();
  await b.page.routeWebSocket(/\/agent\?token=/, (ws) => {
    ws.connectToServer();
    sockets.push(ws);
  });
});

afterAll(async () => {
  // Each may be missing if beforeAll failed half-way; never leave a workload or a server behind.
  await (b as Browsing | undefined)?.close();
  await (ui as typeof ui | undefined)?.proc.stop();
  await (memhog as typeof memhog | undefined)?.proc.stop();
});

describe('browser mode against a real agent', () => {
  it('opens the --pid process, then picks it again in the process picker', async () => {
    const { page } = b;
    await page.goto(ui.url);
    // --pid: straight to the Memory view of the workload, live.
    await expect
      .poll(() => page.locator('.target-head .title').textContent(), { timeout: 30_000 })
      .toContain(`memhog pid ${memhog.proc.pid}`);
    await page.getByText('live · 1 s').waitFor();

    await page.getByRole('tab', { name: 'Processes' }).click();
    const search = page.getByLabel('Search processes');
    await search.fill('memhog');
    const grid = page.getByRole('grid', { name: 'Processes' });
    const row = grid
      .getByRole('row')
      .filter({ hasText: `${memhog.proc.pid}` })
      .filter({ hasText: 'memhog' });
    await row.waitFor();
    // Per-node column of the picker: 64 MiB resident on node 0 (plus memhog's few pages of code and stack).
    await expect
      .poll(() => row.getByRole('gridcell').last().textContent(), { timeout: 30_000 })
      .toMatch(/^6[4-5]\.\d MiB$/);
    await search.fill('');
    await row.click();
    await screenshot(page, 'process-picker');
    await search.fill('memhog');
    await row.dblclick();
    await page.getByRole('grid', { name: 'VMAs' }).waitFor();
    await expect
      .poll(() => page.locator('.target-head .title').textContent())
      .toContain(`pid ${memhog.proc.pid}`);
  });

  it('shows the workload’s VMA with its pages on node 0 and its bind policy', async () => {
    const { page } = b;
    const vmas = page.getByRole('grid', { name: 'VMAs' });
    await page.getByLabel('Filter VMAs').fill(`0x${memhog.base}`);
    const region = vmas.getByRole('row').filter({ hasText: memhog.base.padStart(12, '0') });
    await expect.poll(() => region.count()).toBe(1);
    const cells = await region.getByRole('gridcell').allTextContents();
    // Start–end, Size, RSS, N0, Nodes, Kind, Perms, Policy, Swap, Mapping
    expect(cells[1]).toBe('64.0 MiB');
    expect(cells[2]).toBe('64.0 MiB');
    expect(cells[3]).toBe('64.0 MiB');
    expect(cells[5]).toContain('anon');
    expect(cells[6]).toBe('rw-p');
    expect(cells[7]).toBe('bind:0');
    await page.getByRole('button', { name: 'pages', exact: true }).click();
    await expect
      .poll(async () => (await region.getByRole('gridcell').allTextContents())[3])
      .toBe((memhog.sizeBytes / 4096).toLocaleString('en-US'));
    await page.getByRole('button', { name: 'bytes', exact: true }).click();
    await page.getByLabel('Filter VMAs').fill('');
    // Totals per node: at least the 64 MiB region.
    const n0 = await page.getByTestId('node-bytes-0').textContent();
    expect(parseFloat(n0 ?? '0')).toBeGreaterThanOrEqual(64);
    // Sorting by the node column puts the region first.
    await vmas.getByRole('columnheader', { name: /N0/ }).click();
    await expect
      .poll(
        async () => (await vmas.getByRole('row').nth(1).getByRole('gridcell').first().textContent()) ?? '',
      )
      .toContain(memhog.base);
    // Live: the chart has more than one sample after a few seconds.
    await expect
      .poll(() => page.getByText(/\d+ samples/).textContent(), { timeout: 20_000 })
      .toMatch(/[2-9]\d* samples|\d{2,} samples/);
    await screenshot(page, 'vma-table');
  });

  it('shows the topology of the agent’s machine', async () => {
    const { page } = b;
    await page.getByRole('tab', { name: 'Topology' }).click();
    await page.getByRole('article', { name: 'Node 0' }).waitFor();
    await expect
      .poll(() => page.getByRole('table', { name: 'Node distances' }).locator('td').first().textContent())
      .toBe('10');
    await page.getByText('numa_balancing').waitFor();
    await screenshot(page, 'topology');
  });

  it('a dead PID picked in the list is a clear state, not an error dialog', async () => {
    const { page } = b;
    const doomed = await startMemhog(['--size', '4']);
    await page.getByRole('tab', { name: 'Processes' }).click();
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByLabel('Search processes').fill(`pid:${doomed.proc.pid}`);
    // Rows by their key (pid:startTime): a pid's digits can appear in other rows' text.
    const row = page
      .getByRole('grid', { name: 'Processes' })
      .locator(`[role="row"][data-key^="${doomed.proc.pid}:"]`);
    await row.waitFor();
    await doomed.proc.stop();
    await row.dblclick();
    const state = page.getByRole('alert').filter({ hasText: `Process ${doomed.proc.pid} has exited` });
    await state.waitFor({ timeout: 30_000 });
    await expect
      .poll(() => state.getByRole('button', { name: 'Refresh process list' }).isVisible())
      .toBe(true);
    await screenshot(page, 'state-dead-pid');
    await state.getByRole('button', { name: 'Refresh process list' }).click();
    await page.getByLabel('Search processes').fill('memhog');
    await page
      .getByRole('grid', { name: 'Processes' })
      .locator(`[role="row"][data-key^="${memhog.proc.pid}:"]`)
      .dblclick();
    await page.getByText('live · 1 s').waitFor({ timeout: 30_000 });
  });

  it('a lost agent keeps the data on screen; Reconnect resumes live updates', async () => {
    const { page } = b;
    await page.getByRole('tab', { name: 'Memory' }).click();
    const rowsBefore = await page.getByRole('grid', { name: 'VMAs' }).getByRole('row').count();
    // The agent's socket closes as when its process dies.
    const live = sockets.at(-1);
    if (!live) throw new Error('no agent socket seen');
    await live.close({ code: 1011, reason: 'agent killed' });
    const banner = page.getByRole('alert').filter({ hasText: 'Agent connection lost.' });
    await banner.waitFor();
    await page.getByText('paused').first().waitFor();
    // Everything stays: the VMA table, the filter works on the kept data, tabs switch.
    expect(await page.getByRole('grid', { name: 'VMAs' }).getByRole('row').count()).toBe(rowsBefore);
    await page.getByLabel('Filter VMAs').fill('memhog');
    await expect
      .poll(() => page.getByRole('grid', { name: 'VMAs' }).getByRole('row').count())
      .toBeGreaterThan(1);
    await page.getByLabel('Filter VMAs').fill('');
    await screenshot(page, 'state-agent-lost');

    await banner.getByRole('button', { name: 'Reconnect' }).click();
    await banner.waitFor({ state: 'detached', timeout: 30_000 });
    await page.getByText('live · 1 s').waitFor({ timeout: 30_000 });
    expect(sockets.length).toBeGreaterThanOrEqual(2);
  });

  it('launches a command through the agent and opens it', async () => {
    const { page } = b;
    await page.getByRole('tab', { name: 'Processes' }).click();
    await page.getByRole('button', { name: 'Launch…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Launch a command' });
    await dialog.getByLabel('Command').fill(`${MEMHOG} --size 8 --node 0`);
    await dialog.getByRole('button', { name: 'Launch' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 30_000 });
    await expect
      .poll(() => page.locator('.target-head .title').textContent(), { timeout: 30_000 })
      .toMatch(/^memhog pid \d+/);
    const title = (await page.locator('.target-head .title').textContent()) ?? '';
    expect(title).not.toContain(`pid ${memhog.proc.pid}`);
    await page
      .getByRole('grid', { name: 'VMAs' })
      .getByRole('row')
      .filter({ hasText: 'bind:0' })
      .first()
      .waitFor({ timeout: 30_000 });
  });

  it('the server gone for good: data stays, Reconnect says what to do', async () => {
    const { page } = b;
    await ui.proc.stop();
    const banner = page.getByRole('alert').filter({ hasText: 'Agent connection lost.' });
    await banner.waitFor({ timeout: 30_000 });
    await banner.getByRole('button', { name: 'Reconnect' }).click();
    await expect.poll(() => banner.textContent(), { timeout: 30_000 }).toMatch(/Cannot connect to the agent/);
    await expect.poll(() => banner.textContent()).toMatch(/tierscope ui/);
    await page.getByRole('grid', { name: 'VMAs' }).waitFor();
    await page.getByRole('tab', { name: 'Topology' }).click();
    await page.getByRole('article', { name: 'Node 0' }).waitFor();
  });

  it('opens a 20 000-VMA snapshot file without an agent, virtualized and sortable', async () => {
    const { page } = b;
    const vmas = Array.from({ length: 20_000 }, (_, i) => {
      const start = 0x7f0000000000 + i * 0x200000;
      const pages = { '0': i % 7, '1': (i * 13) % 11, '2': i === 12_345 ? 99_999 : 0 };
      return {
        start: start.toString(16),
        end: (start + 0x200000).toString(16),
        perms: 'rw-p',
        offset: '0',
        dev: '00:00',
        inode: '0',
        path: '',
        kind: 'anon',
        sizeBytes: 0x200000,
        rssBytes: (pages['0'] + pages['1'] + pages['2']) * 4096,
        pssBytes: 0,
        referencedBytes: 0,
        anonymousBytes: 0,
        anonHugePagesBytes: 0,
        swapBytes: 0,
        kernelPageSizeBytes: 4096,
        policy: i % 2 === 0 ? 'default' : 'bind:1',
        pagesByNode: pages,
      };
    });
    const snapshot = {
      formatVersion: 1,
      pid: 777,
      comm: 'synthetic',
      startTimeTicks: 1,
      startTime: new Date().toISOString(),
      takenAt: new Date().toISOString(),
      pageSizeBytes: 4096,
      nodes: [0, 1, 2],
      vmas,
      totals: {
        rssBytes: vmas.reduce((a, v) => a + v.rssBytes, 0),
        pagesByNode: { '0': 0, '1': 0, '2': 0 },
        bytesByNode: { '0': 0, '1': 0, '2': 0 },
        vmaCount: vmas.length,
      },
    };
    for (const v of vmas) {
      for (const n of ['0', '1', '2'] as const) {
        snapshot.totals.pagesByNode[n] += v.pagesByNode[n];
        snapshot.totals.bytesByNode[n] += v.pagesByNode[n] * 4096;
      }
    }
    await page.getByLabel('Open snapshot file').setInputFiles({
      name: 'synthetic.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(snapshot)),
    });
    await page.getByText('Offline snapshot.').waitFor();
    const grid = page.getByRole('grid', { name: 'VMAs' });
    await page.getByLabel('resident only').uncheck();
    await expect.poll(() => page.getByText(/of 20,000 VMAs/).textContent()).toBe('20,000 of 20,000 VMAs');
    // Only the rows in view are in the DOM, however long the list.
    expect(await grid.getByRole('row').count()).toBeLessThan(100);
    expect(await grid.getAttribute('aria-rowcount')).toBe('20001');
    // Sorting by N2 brings the one VMA with pages there to the top.
    await grid.getByRole('columnheader', { name: /N2/ }).click();
    await expect
      .poll(async () => (await grid.getByRole('row').nth(1).textContent()) ?? '')
      .toContain((0x7f0000000000 + 12_345 * 0x200000).toString(16));
    // End of the list: the last address sorted ascending is reachable by keyboard.
    await grid.getByRole('columnheader', { name: 'Start – end' }).click();
    await grid.getByRole('row').nth(1).click();
    await page.keyboard.press('End');
    const last = (0x7f0000000000 + 19_999 * 0x200000).toString(16);
    const lastRow = grid.locator('[role="row"][aria-rowindex="20001"]');
    await expect
      .poll(async () => (await lastRow.getByRole('gridcell').first().textContent()) ?? '')
      .toMatch(new RegExp(`^${last}–`));
    expect(await lastRow.getAttribute('aria-selected')).toBe('true');
    expect(await grid.getByRole('row').count()).toBeLessThan(100);
    await screenshot(page, 'vma-table-20k');
  });

  it('logged no page errors and no CSP violations', () => {
    // A refused WebSocket after the server stopped is expected; nothing else may appear.
    const unexpected = b.errors.filter((e) => !/WebSocket connection to .* failed/.test(e));
    expect(unexpected).toEqual([]);
    expect(MiB).toBe(1048576);
  });
});
