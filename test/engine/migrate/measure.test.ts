import { describe, expect, it } from 'vitest';
import type { Capabilities } from '../../../electron/contract/index.js';
import {
  PAGE_ACCESSED,
  PAGE_IDLE,
  PAGE_UNKNOWN,
  type AccessSource,
  type ScanVma,
} from '../../../electron/engine/access/source.js';
import {
  choosePageSource,
  countsFromModel,
  countsFromRuns,
  measure,
} from '../../../electron/engine/migrate/measure.js';
import { placementSnapshot } from '../../../electron/engine/migrate/placement.js';
import { FakeClock } from './fakeKernel.js';

const PAGE = 4096;

describe('countsFromRuns (a session window)', () => {
  const c = countsFromRuns(
    [
      { start: '00012000', end: '00014000', accessedScans: 0 },
      { start: '00010000', end: '00012000', accessedScans: 5 },
      { start: '00016000', end: '00017000', accessedScans: 2 },
    ],
    5,
    'test',
  );
  it('gives each page its run count, unknown outside runs', () => {
    expect([...c.countsOf(0xf000n, 9, PAGE)]).toEqual([-1, 5, 5, 0, 0, -1, -1, 2, -1]);
    expect([...c.countsOf(0x11000n, 2, PAGE)]).toEqual([5, 0]);
    expect(c.scansPerWindow).toBe(5);
  });
});

/** A page source that replays given flags per scan (one VMA). */
class ReplaySource implements AccessSource {
  readonly id = 'page_idle' as const;
  readonly limits = 'test';
  started = 0;
  stopped = 0;
  private scans = 0;
  constructor(private readonly perScan: number[][]) {}
  start(): Promise<void> {
    this.started++;
    return Promise.resolve();
  }
  scan(vmas: readonly ScanVma[]) {
    const flags = Uint8Array.from(this.perScan[this.scans++] ?? []);
    return Promise.resolve({
      accesses: vmas.map((v) => ({ granularity: 'page' as const, vmaId: v.id, flags })),
      pagesScanned: flags.length,
    });
  }
  stop(): Promise<void> {
    this.stopped++;
    return Promise.resolve();
  }
}

describe('measure + countsFromModel', () => {
  const A = PAGE_ACCESSED;
  const I = PAGE_IDLE;
  const U = PAGE_UNKNOWN;
  const vmas: ScanVma[] = [{ id: 0, start: 0x10000n, end: 0x15000n }];

  it('runs N scans interval apart and counts per page; unknown in the last scan stays unknown', async () => {
    const src = new ReplaySource([
      [A, A, I, A, A],
      [A, I, I, A, A],
      [A, A, I, U, A],
    ]);
    const clock = new FakeClock();
    const events: number[] = [];
    const { model, scans } = await measure({
      source: src,
      vmas,
      scans: 3,
      intervalMs: 500,
      pageSizeBytes: PAGE,
      clock,
      onScan: (d) => events.push(d),
    });
    expect(scans).toBe(3);
    expect(clock.slept).toEqual([500, 500, 500]);
    expect(events).toEqual([1, 2, 3]);
    expect([src.started, src.stopped]).toEqual([1, 1]);
    const c = countsFromModel(model, vmas, 'live', scans);
    expect([...c.countsOf(0x10000n, 5, PAGE)]).toEqual([3, 2, 0, -1, 3]);
    expect([...c.countsOf(0xf000n, 3, PAGE)]).toEqual([-1, 3, 2]);
  });

  it('stops early when cancelled, with the scans done so far', async () => {
    const stop = new AbortController();
    const src = new ReplaySource([[A], [A], [A]]);
    const { scans } = await measure({
      source: src,
      vmas: [{ id: 0, start: 0x10000n, end: 0x11000n }],
      scans: 3,
      intervalMs: 10,
      pageSizeBytes: PAGE,
      clock: new FakeClock(),
      signal: stop.signal,
      onScan: (d) => {
        if (d === 1) stop.abort();
      },
    });
    expect(scans).toBe(1);
    expect(src.stopped).toBe(1);
  });
});

function caps(
  available: Partial<Record<'idle_pages' | 'page_idle' | 'damon' | 'refs', boolean>>,
): Capabilities {
  return {
    kernelRelease: '6.12',
    uid: 0,
    euid: 0,
    capSysAdmin: true,
    capSysNice: true,
    canMigrateOthers: true,
    damon: null,
    sources: (['idle_pages', 'page_idle', 'damon', 'refs'] as const).map((id) => ({
      id,
      available: available[id] ?? false,
      reason: `${id} reason`,
    })),
  };
}

describe('choosePageSource', () => {
  it('prefers idle_pages, then page_idle', () => {
    expect(
      choosePageSource(caps({ idle_pages: true, page_idle: true }), 1, { pageSizeBytes: PAGE }, 'x').id,
    ).toBe('idle_pages');
    expect(choosePageSource(caps({ page_idle: true, refs: true }), 1, { pageSizeBytes: PAGE }, 'x').id).toBe(
      'page_idle',
    );
  });

  it('refuses refs and DAMON and says why each page source is missing', () => {
    expect(() =>
      choosePageSource(caps({ refs: true, damon: true }), 1, { pageSizeBytes: PAGE }, 'selecting hot pages'),
    ).toThrow(
      /^selecting hot pages needs per-page access bits \(idle_pages or page_idle\), which are not usable here \(refs is available but counts referenced pages per VMA, not which pages\): idle_pages: idle_pages reason; page_idle: page_idle reason$/,
    );
  });
});

describe('placementSnapshot', () => {
  it('tallies selection, hot and cold bytes per node and the access rate', () => {
    const p = placementSnapshot({
      atMs: 12,
      pageSizeBytes: PAGE,
      pieces: [{ status: Int32Array.from([2, 2, 0, 2, -2]), counts: Int16Array.from([3, 3, 0, 1, 3]) }],
      selected: Int32Array.from([2, 2]),
      selectedCounts: Int16Array.from([3, 1]),
      scansPerWindow: 3,
    });
    expect(p).toEqual({
      atMs: 12,
      selectionBytesByNode: { '2': 2 * PAGE },
      hotBytesByNode: { '2': 2 * PAGE },
      coldBytesByNode: { '0': PAGE },
      selectionAccessRate: 4 / 6,
    });
    const none = placementSnapshot({
      atMs: 0,
      pageSizeBytes: PAGE,
      pieces: [],
      selected: Int32Array.from([0]),
      selectedCounts: null,
      scansPerWindow: null,
    });
    expect(none).toMatchObject({ hotBytesByNode: {}, coldBytesByNode: {}, selectionAccessRate: null });
  });
});
