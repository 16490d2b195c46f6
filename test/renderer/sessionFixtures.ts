// A small hand-made SessionView for the session views' tests: 10 intervals of 1 s on the lab's three nodes
// (0 and 1 fast, 2 CPU-less and slow), five VMAs with numbers checked by hand.
import type { Experiment, SessionView, SessionVmaSummary, VmaSeries } from '../../electron/contract/index.js';
import { labTopology } from './fixtures.js';

export const MiB = 1 << 20;
export const PAGE = 4096;
export const INTERVALS = 10;

export function sessionVma(
  partial: Partial<SessionVmaSummary> & Pick<SessionVmaSummary, 'id' | 'start' | 'end'>,
): SessionVmaSummary {
  return {
    perms: 'rw-p',
    path: '',
    kind: 'anon',
    firstInterval: 0,
    lastPos: INTERVALS - 1,
    rssBytes: 0,
    hotBytes: 0,
    warmBytes: 0,
    coldBytes: 0,
    bytesByNode: {},
    hotBytesByNode: {},
    coldBytesByNode: {},
    maxRssBytes: 0,
    ...partial,
  };
}

/**
 * Sorted by start, as the agent sends them:
 * - 2 /usr/bin/memhog 400000–401000: one page
 * - 0 [heap] 1000000–1021000: resident, nothing misplaced
 * - 1 anon 7f0000000000–7f0004000000 (64 MiB): 16 MiB hot on node 2 (slow), 8 MiB cold on node 0 (fast)
 * - 4 anon 7f0004000000–7f0005000000 (16 MiB, right after 1): 1 MiB hot on node 2
 * - 3 anon 7f1000000000–7f2000000000: a reservation never resident (not on the heatmap's axis)
 */
export function sessionVmas(): SessionVmaSummary[] {
  return [
    sessionVma({
      id: 2,
      start: '400000',
      end: '401000',
      perms: 'r-xp',
      path: '/usr/bin/memhog',
      kind: 'file',
      rssBytes: PAGE,
      warmBytes: PAGE,
      bytesByNode: { '1': PAGE },
      maxRssBytes: PAGE,
    }),
    sessionVma({
      id: 0,
      start: '1000000',
      end: '1021000',
      path: '[heap]',
      kind: 'heap',
      rssBytes: 8 * PAGE,
      hotBytes: 8 * PAGE,
      bytesByNode: { '0': 8 * PAGE },
      hotBytesByNode: { '0': 8 * PAGE },
      maxRssBytes: 8 * PAGE,
    }),
    sessionVma({
      id: 1,
      start: '7f0000000000',
      end: '7f0004000000',
      rssBytes: 64 * MiB,
      hotBytes: 32 * MiB,
      warmBytes: 8 * MiB,
      coldBytes: 24 * MiB,
      bytesByNode: { '0': 32 * MiB, '1': 8 * MiB, '2': 24 * MiB },
      hotBytesByNode: { '0': 16 * MiB, '2': 16 * MiB },
      coldBytesByNode: { '0': 8 * MiB, '1': 8 * MiB, '2': 8 * MiB },
      maxRssBytes: 64 * MiB,
    }),
    sessionVma({
      id: 4,
      start: '7f0004000000',
      end: '7f0005000000',
      firstInterval: 2,
      rssBytes: 16 * MiB,
      hotBytes: MiB,
      coldBytes: 15 * MiB,
      bytesByNode: { '2': 16 * MiB },
      hotBytesByNode: { '2': MiB },
      coldBytesByNode: { '2': 15 * MiB },
      maxRssBytes: 16 * MiB,
    }),
    sessionVma({ id: 3, start: '7f1000000000', end: '7f2000000000' }),
  ];
}

export function experiment(partial: Partial<Experiment> = {}): Experiment {
  return {
    id: 'e1',
    kind: 'move-pages',
    pid: 4242,
    selection: {
      ranges: [{ start: '7f0000000000', end: '7f0004000000' }],
      hotness: 'hot',
      topK: null,
      fromNodes: [2],
    },
    fromNodes: [2],
    toNodes: [0],
    dryRun: false,
    rateLimitBytesPerSecond: null,
    startedAt: '2025-03-04T10:00:03.000Z',
    endedAt: '2025-03-04T10:00:05.000Z',
    startMs: 3000,
    endMs: 5000,
    status: 'completed',
    detail: '',
    pagesSelected: 4096,
    histogram: {
      moved: 4000,
      alreadyThere: 96,
      thpTailMovedWithHead: 0,
      shared: 0,
      targetFull: 0,
      notPresent: 0,
      otherFailures: {},
    },
    pendingPages: 0,
    before: {
      atMs: 3000,
      selectionBytesByNode: { '0': 0, '2': 16 * MiB },
      hotBytesByNode: { '2': 16 * MiB },
      coldBytesByNode: {},
      selectionAccessRate: 0.5,
    },
    after: {
      atMs: 5000,
      selectionBytesByNode: { '0': 16 * MiB, '2': 0 },
      hotBytesByNode: { '0': 16 * MiB },
      coldBytesByNode: {},
      selectionAccessRate: 0.75,
    },
    benchmark: { command: './bench', before: 1000, after: 1250 },
    ...partial,
  };
}

const range = (f: (p: number) => number): number[] => Array.from({ length: INTERVALS }, (_, p) => f(p));

export function sessionView(partial: Partial<SessionView> = {}): SessionView {
  const vmas = sessionVmas();
  const meta: SessionView['meta'] = {
    formatVersion: 2,
    tierscopeVersion: '0.1.0',
    startedAt: '2025-03-04T10:00:00.000Z',
    target: { pid: 4242, comm: 'memhog', cmdline: 'memhog --hot 16M', startTimeTicks: 1000 },
    hostname: 'lab',
    kernelRelease: '6.8.0',
    pageSizeBytes: PAGE,
    nodes: [0, 1, 2],
    topology: labTopology(),
    source: 'page_idle',
    sourceReason: 'root and CONFIG_IDLE_PAGE_TRACKING',
    sourceLimits: 'per page; shared pages counted once',
    intervalMs: 1000,
    scansPerWindow: 5,
    heatBucketsPerVma: 32,
  };
  return {
    handle: 'h1',
    path: '/tmp/memhog.tierscope',
    fileBytes: 123_456,
    fileVersion: 2,
    meta,
    end: { endedAt: '2025-03-04T10:00:10.000Z', reason: 'stopped', detail: 'Ctrl-C' },
    endRecorded: true,
    recovered: null,
    live: false,
    intervalCount: INTERVALS,
    timeline: {
      startMs: range((p) => p * 1000),
      endMs: range((p) => (p + 1) * 1000),
      samplerCpuMs: range((p) => (p === 4 ? 100 : 10)),
      pagesScanned: range(() => 1000),
      scansInWindow: range((p) => Math.min(5, p + 1)),
      rssPages: range(() => 100),
      accessedPages: range(() => 40),
      hotPages: range((p) => p),
      warmPages: range(() => 10),
      coldPages: range(() => 20),
      pagesByNode: [range(() => 50), range(() => 20), range(() => 30)],
      hotPagesByNode: [range(() => 5), range(() => 0), range((p) => p)],
      coldPagesByNode: [range(() => 10), range(() => 5), range(() => 5)],
      counters: {
        names: [
          'numa_hint_faults',
          'numa_hint_faults_local',
          'pgdemote_kswapd',
          'pgmigrate_success',
          'pgpromote_success',
        ],
        values: [
          range((p) => p * 10),
          range((p) => p * 5),
          range(() => 0),
          range(() => 1),
          Array.from({ length: INTERVALS }, (_, p): number | null => (p === 3 ? null : p)),
        ],
      },
    },
    vmas,
    report: {
      file: '/tmp/memhog.tierscope',
      pid: 4242,
      comm: 'memhog',
      source: 'page_idle',
      sourceReason: meta.sourceReason,
      sourceLimits: meta.sourceLimits,
      intervals: INTERVALS,
      durationMs: 10_000,
      end: { reason: 'stopped', detail: 'Ctrl-C', recorded: true },
      recovered: null,
      window: { intervalIndex: 9, scansPerWindow: 5, complete: true },
      vmas: [],
      totals: {
        rssBytes: 80 * MiB,
        hotBytes: 33 * MiB,
        warmBytes: 8 * MiB,
        coldBytes: 39 * MiB,
        hotBytesByNode: { '0': 16 * MiB, '2': 17 * MiB },
        coldBytesByNode: { '0': 8 * MiB, '1': 8 * MiB, '2': 23 * MiB },
      },
      misplacement: {
        fastNodes: [0, 1],
        slowNodes: [2],
        hotOnSlowBytes: 17 * MiB,
        coldOnFastBytes: 16 * MiB,
      },
      misplacementNote: 'fast tier = nodes 0,1, slow tier = nodes 2',
      hotRanges: [],
      coldRanges: [],
    },
    experiments: [experiment()],
    ...partial,
  };
}

/** The series of VMA 4 (mapped from interval 2 on): hot pages grow by one per interval. */
export function vmaSeries(vmaId = 4): VmaSeries {
  const pos = [2, 3, 4, 5, 6, 7, 8, 9];
  return {
    vmaId,
    intervalPos: pos,
    rssPages: pos.map(() => 4096),
    accessedPages: pos.map(() => 100),
    hotPages: pos.map((p) => p),
    warmPages: pos.map(() => 10),
    coldPages: pos.map(() => 4000),
    pagesByNode: [pos.map(() => 0), pos.map(() => 0), pos.map(() => 4096)],
    hotPagesByNode: [pos.map(() => 0), pos.map(() => 0), pos.map((p) => p)],
    coldPagesByNode: [pos.map(() => 0), pos.map(() => 0), pos.map(() => 4000)],
  };
}
