import { describe, expect, it } from 'vitest';
import { TierscopeError } from '../../../electron/engine/errors.js';
import {
  PAGE_OUTCOME,
  STATUS_NOT_REACHED,
  executeMove,
  type MoveProgress,
} from '../../../electron/engine/migrate/execute.js';
import { histogramPages } from '../../../electron/engine/migrate/histogram.js';
import { FakeClock, FakeKernel, PAGE, addresses } from './fakeKernel.js';

const BASE = 0x7f0000000000n;

function run(
  kernel: FakeKernel,
  addrs: BigUint64Array,
  to: number,
  extra: Partial<Parameters<typeof executeMove>[0]> = {},
) {
  return executeMove({
    pid: 4242,
    startTimeTicks: 1,
    addresses: addrs,
    targets: new Int32Array(addrs.length).fill(to),
    pageSizeBytes: PAGE,
    bridge: kernel,
    clock: new FakeClock(),
    ...extra,
  });
}

describe('executeMove against a simulated kernel', () => {
  it('moves every page, in batches, and judges each by re-query', async () => {
    const k = new FakeKernel().place(BASE, 3000, 2);
    const r = await run(k, addresses(BASE, 3000), 0, { planner: { initialPages: 512, maxPages: 1024 } });
    expect(r.status).toBe('completed');
    expect(r.histogram.moved).toBe(3000);
    expect(histogramPages(r.histogram)).toBe(3000);
    expect(k.pagesOn(0)).toBe(3000);
    expect(r.batches).toBe(k.moveCalls.length);
    expect(r.batches).toBeGreaterThan(2);
    expect(k.moveCalls.every((n) => n <= 1024)).toBe(true);
    expect([...r.after].every((s) => s === 0)).toBe(true);
    expect([...r.outcome].every((o) => o === PAGE_OUTCOME.onTarget)).toBe(true);
  });

  it('counts THP tail pages that report EBUSY as moved with their head, not as failures', async () => {
    const k = new FakeKernel().place(BASE, 512, 2);
    k.thp.add(BASE);
    const r = await run(k, addresses(BASE, 512), 0);
    expect(r.histogram).toMatchObject({ moved: 1, thpTailMovedWithHead: 511, otherFailures: {} });
    expect(k.pagesOn(0)).toBe(512);
  });

  it('reports pages already on the target, absent pages, busy and shared-like failures per kind', async () => {
    const k = new FakeKernel().place(BASE, 8, 2).place(BASE + BigInt(8 * PAGE), 4, 0);
    k.busy.add(BASE + BigInt(PAGE));
    // 16 addresses: 8 on node 2 (one busy), 4 already on 0, 4 never faulted.
    const r = await run(k, addresses(BASE, 16), 0);
    expect(r.histogram).toMatchObject({
      moved: 7,
      alreadyThere: 4,
      notPresent: 4,
      otherFailures: { EBUSY: 1 },
    });
    expect(r.outcome[1]).toBe(PAGE_OUTCOME.transient);
    expect(r.outcome[12]).toBe(PAGE_OUTCOME.absent);
  });

  it('stops with a clear detail when the target is full', async () => {
    const k = new FakeKernel().place(BASE, 2000, 2);
    k.fullNodes.add(0);
    const r = await run(k, addresses(BASE, 2000), 0, { planner: { initialPages: 256, maxPages: 256 } });
    expect(r.status).toBe('failed');
    expect(r.detail).toMatch(/target node is full/);
    expect(r.batches).toBe(1); // not batch after batch into a full node
    expect(r.histogram.targetFull).toBe(256);
    expect(r.pagesDone).toBe(256);
    expect(r.after[300]).toBe(STATUS_NOT_REACHED);
  });

  it('cancels between batches: the batch in flight completes, nothing after it starts', async () => {
    const k = new FakeKernel().place(BASE, 4096, 2);
    const stop = new AbortController();
    const seen: MoveProgress[] = [];
    const r = await run(k, addresses(BASE, 4096), 0, {
      planner: { initialPages: 512, maxPages: 512 },
      signal: stop.signal,
      onProgress: (p) => {
        seen.push({ ...p });
        if (p.batches === 2) stop.abort();
      },
    });
    expect(r.status).toBe('cancelled');
    expect(r.batches).toBe(2);
    expect(k.moveCalls).toEqual([512, 512]);
    expect(k.pagesOn(0)).toBe(1024);
    expect(k.pagesOn(2)).toBe(3072);
    expect(r.detail).toMatch(/1024 of 4096 pages handled, 3072 not attempted/);
    expect(seen.map((p) => p.pagesDone)).toEqual([512, 1024]);
  });

  it('fails with process-gone when the process exits mid-move, keeping what was done', async () => {
    const k = new FakeKernel().place(BASE, 2048, 2);
    k.beforeMove = (call) => {
      if (call === 1) k.gone = true;
    };
    const r = await run(k, addresses(BASE, 2048), 0, { planner: { initialPages: 512, maxPages: 512 } });
    expect(r.status).toBe('failed');
    expect(r.error).toBeInstanceOf(TierscopeError);
    expect((r.error as TierscopeError).code).toBe('process-gone');
    expect(r.detail).toMatch(/exited .* 512 of 2048 pages were handled/);
    expect(r.histogram.moved).toBe(512);
  });

  it('never moves pages of a process whose PID was reused', async () => {
    const k = new FakeKernel().place(BASE, 1024, 2);
    k.reused = true;
    const r = await run(k, addresses(BASE, 1024), 0);
    expect(r.status).toBe('failed');
    expect(k.moveCalls).toEqual([]);
    expect(k.pagesOn(2)).toBe(1024);
  });

  it('paces batches to the rate limit and caps a batch at a quarter second of budget', async () => {
    const k = new FakeKernel().place(BASE, 4096, 2);
    const clock = new FakeClock();
    const rate = 4 * 1024 * 1024; // 4 MiB/s: 16 MiB takes 4 s
    const r = await run(k, addresses(BASE, 4096), 0, { rateBytesPerSecond: rate, clock });
    expect(r.status).toBe('completed');
    expect(Math.max(...k.moveCalls)).toBeLessThanOrEqual(256); // 1 MiB = 0.25 s at 4 MiB/s
    const total = clock.slept.reduce((a, b) => a + b, 0);
    // The last batch needs no wait after it; all the others were spaced to the rate.
    expect(total).toBeGreaterThan(3500);
    expect(total).toBeLessThanOrEqual(4000);
  });
});
