// Deterministic synthetic sessions, shaped like a real recording of a tiered-memory process: mostly
// idle library and anonymous mappings whose numbers barely move, a few hot arenas whose access counts,
// hotness classes, node placement and heat change every interval, VMAs appearing (and going) over time,
// count runs on every window close, and a few dozen kernel counters. Used by the tests, the SIGKILL
// child and bench/session-size.ts.
import type {
  CountRun,
  HeatRow,
  IntervalRecord,
  SessionMeta,
  SessionVma,
  VmaKind,
  VmaSample,
} from '../../../electron/contract/index.js';

/** mulberry32: small, seedable, good enough for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SyntheticOptions {
  vmas: number;
  intervals: number;
  nodes: number[];
  heatBucketsPerVma: number;
  hotVmas: number;
  scansPerWindow: number;
  seed: number;
  /** Share of VMAs that appear after interval 0. */
  lateShare: number;
  /** Probability per interval that an idle VMA's numbers change (hot VMAs always change). */
  idleChurn: number;
}

export const DEFAULT_SYNTHETIC: SyntheticOptions = {
  vmas: 1000,
  intervals: 600,
  nodes: [0, 1],
  heatBucketsPerVma: 32,
  hotVmas: 6,
  scansPerWindow: 4,
  seed: 42,
  lateShare: 0.1,
  idleChurn: 0.04,
};

const hex = (v: bigint): string => v.toString(16).padStart(8, '0');

export function syntheticMeta(
  o: Pick<SyntheticOptions, 'nodes' | 'heatBucketsPerVma' | 'scansPerWindow'>,
): SessionMeta {
  return {
    formatVersion: 1,
    tierscopeVersion: '0.1.0',
    startedAt: '2025-01-02T03:04:05.000Z',
    target: { pid: 4242, comm: 'memhog', cmdline: 'memhog --size 8G', startTimeTicks: 123456 },
    hostname: 'lab',
    kernelRelease: '6.12.0',
    pageSizeBytes: 4096,
    nodes: o.nodes,
    topology: {
      nodes: o.nodes.map((id, k) => ({
        id,
        cpus: k === 0 ? [0, 1] : [],
        cpuLess: k !== 0,
        memTotalBytes: 8 * 2 ** 30,
        memFreeBytes: 2 * 2 ** 30,
        memoryTier: k === 0 ? 4 : 22,
      })),
      distances: o.nodes.map((_, i) => o.nodes.map((__, j) => (i === j ? 10 : 20))),
      tiers: [],
      demotionEnabled: true,
      numaBalancing: { raw: 2, mode: 'memory-tiering' },
    },
    source: 'idle_pages',
    sourceReason: 'idle_pages is available (CAP_SYS_ADMIN, kernel 6.12)',
    sourceLimits: 'none',
    intervalMs: 1000,
    scansPerWindow: o.scansPerWindow,
    heatBucketsPerVma: o.heatBucketsPerVma,
  };
}

interface VmaState {
  vma: SessionVma;
  pages: number;
  hot: boolean;
  /** Interval from which it is sampled, and after which it is gone (exclusive). */
  from: number;
  until: number;
  rss: number;
  byNode: number[];
  accessed: number;
  hotPages: number;
  warmPages: number;
  heat: number[];
  /** Probability per interval that its numbers change at all. */
  churn: number;
}

const COUNTERS = [
  'numa_hit',
  'numa_miss',
  'numa_foreign',
  'numa_interleave',
  'numa_local',
  'numa_other',
  'numa_pte_updates',
  'numa_huge_pte_updates',
  'numa_hint_faults',
  'numa_hint_faults_local',
  'numa_pages_migrated',
  'pgpromote_success',
  'pgpromote_candidate',
  'pgdemote_kswapd',
  'pgdemote_direct',
  'pgdemote_khugepaged',
  'pgmigrate_success',
  'pgmigrate_fail',
  'thp_migration_success',
  'thp_migration_fail',
  'pgfault',
  'pgmajfault',
  'pgscan_kswapd',
  'pgsteal_kswapd',
  'sched.numa_pages_migrated',
  'sched.numa_preferred_nid',
  'sched.total_numa_faults',
  'sched.numa_faults_locality_local',
  'sched.numa_faults_locality_remote',
  'nr_active_anon',
];

/**
 * A session as a meta and a function producing interval i's record. Records are produced in order
 * (each depends on the previous state), so call `next()` once per interval from 0.
 */
export function syntheticSession(options: Partial<SyntheticOptions> = {}): {
  meta: SessionMeta;
  options: SyntheticOptions;
  next(): IntervalRecord;
  all(): IntervalRecord[];
} {
  const o = { ...DEFAULT_SYNTHETIC, ...options };
  const r = rng(o.seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const meta = syntheticMeta(o);
  const nodeCount = o.nodes.length;
  const B = o.heatBucketsPerVma;

  const states: VmaState[] = [];
  let addr = 0x55_0000_0000n;
  for (let id = 0; id < o.vmas; id++) {
    const hot = id < o.hotVmas;
    const fileBacked = !hot && r() < 0.35;
    const pages = hot ? int(65536, 262144) : fileBacked ? int(1, 512) : int(1, 16384);
    const start = addr;
    addr += BigInt(pages * 4096 + 4096 * int(1, 16));
    const kind: VmaKind = hot ? 'anon' : fileBacked ? 'file' : id % 97 === 7 ? 'heap' : 'anon';
    const from = hot || r() > o.lateShare ? 0 : int(1, o.intervals - 1);
    const until = !hot && r() < 0.03 ? int(from + 1, o.intervals) : o.intervals;
    const rss = Math.floor(pages * (hot ? 0.6 : fileBacked ? r() : r() * 0.8));
    const onFast = hot ? 0.5 : r() < 0.7 ? 1 : r();
    const byNode = new Array<number>(nodeCount).fill(0);
    byNode[0] = Math.round(rss * onFast);
    if (nodeCount > 1) byNode[1] = rss - byNode[0];
    states.push({
      vma: {
        id,
        start: hex(start),
        end: hex(start + BigInt(pages * 4096)),
        perms: fileBacked ? (['r--p', 'r-xp', 'r--p', 'rw-p'][id % 4] ?? 'r--p') : 'rw-p',
        path: fileBacked ? `/usr/lib/x86_64-linux-gnu/lib${String(Math.floor(id / 4))}.so.1` : '',
        kind,
        firstInterval: from,
      },
      pages,
      hot,
      from,
      until,
      rss,
      byNode,
      accessed: 0,
      hotPages: 0,
      warmPages: 0,
      heat: new Array<number>(B).fill(0),
      churn: hot ? 1 : fileBacked ? o.idleChurn / 4 : o.idleChurn,
    });
  }
  const counterLevel = COUNTERS.map(() => int(0, 5000));

  let i = 0;
  const next = (): IntervalRecord => {
    const index = i++;
    const newVmas: SessionVma[] = [];
    const samples: VmaSample[] = [];
    const heat: HeatRow[] = [];
    const runs: CountRun[] = [];
    const windowCloses = (index + 1) % o.scansPerWindow === 0;
    for (const s of states) {
      if (index < s.from || index >= s.until) continue;
      if (index === s.from) newVmas.push(s.vma);
      if (r() < s.churn) {
        if (s.hot) {
          s.accessed = Math.min(
            s.rss,
            Math.max(0, Math.round(s.rss * (0.3 + 0.2 * Math.sin(index / 20)) + int(-500, 500))),
          );
          s.hotPages = Math.min(s.rss, Math.round(s.accessed * 0.7) + int(0, 50));
          s.warmPages = Math.min(s.rss - s.hotPages, int(0, 2000));
          // Promotion/demotion: a few pages move between the first two nodes.
          if (nodeCount > 1) {
            const move = int(-200, 200);
            const moved = Math.max(-(s.byNode[1] ?? 0), Math.min(s.byNode[0] ?? 0, move));
            s.byNode[0] = (s.byNode[0] ?? 0) - moved;
            s.byNode[1] = (s.byNode[1] ?? 0) + moved;
          }
          for (let b = 0; b < B; b++) s.heat[b] = Math.max(0, Math.min(255, (s.heat[b] ?? 0) + int(-40, 40)));
        } else {
          const grow = Math.min(s.pages - s.rss, int(0, 8));
          s.rss += grow;
          s.byNode[0] = (s.byNode[0] ?? 0) + grow;
          s.accessed = r() < 0.5 ? 0 : int(0, Math.min(16, s.rss));
          s.hotPages = Math.min(s.rss, Math.floor(s.accessed / 2));
          s.warmPages = 0;
          const b = int(0, B - 1);
          s.heat[b] = s.accessed > 0 ? int(1, 60) : 0;
        }
      }
      const cold = s.rss - s.hotPages - s.warmPages;
      const share = (k: number): number => (s.rss === 0 ? 0 : (s.byNode[k] ?? 0) / s.rss);
      samples.push({
        vmaId: s.vma.id,
        rssPages: s.rss,
        pagesByNode: [...s.byNode],
        accessedPages: s.accessed,
        hotPages: s.hotPages,
        warmPages: s.warmPages,
        coldPages: cold,
        hotPagesByNode: s.byNode.map((_, k) => Math.round(s.hotPages * share(k))),
        coldPagesByNode: s.byNode.map((_, k) => Math.round(cold * share(k))),
      });
      heat.push({ vmaId: s.vma.id, buckets: [...s.heat] });
      if (windowCloses && s.hot) {
        // Runs of equal accessed counts across the arena.
        let at = BigInt(`0x${s.vma.start}`);
        const end = BigInt(`0x${s.vma.end}`);
        for (let k = 0; k < 40 && at < end; k++) {
          const len = BigInt(int(1, 4096) * 4096);
          const runEnd = at + len < end ? at + len : end;
          runs.push({ start: hex(at), end: hex(runEnd), accessedScans: int(0, o.scansPerWindow) });
          at = runEnd;
        }
      }
    }
    const counters: Record<string, number> = {};
    COUNTERS.forEach((name, k) => {
      counterLevel[k] = Math.max(0, (counterLevel[k] ?? 0) + int(-100, 100));
      counters[name] = counterLevel[k] ?? 0;
    });
    return {
      index,
      startMs: index * 1000,
      endMs: index * 1000 + 1000,
      samplerCpuMs: Math.round(r() * 40 * 1000) / 1000,
      pagesScanned: int(300000, 400000),
      scansInWindow: Math.min(index + 1, o.scansPerWindow),
      newVmas,
      samples,
      heat,
      countRuns: windowCloses ? runs : null,
      counters,
    };
  };
  return {
    meta,
    options: o,
    next,
    all: () => Array.from({ length: o.intervals - i }, next),
  };
}

/** The form the store gives records back in: samples and heat by VMA id, counters by name. */
export function canonical(rec: IntervalRecord): IntervalRecord {
  const byVma = <T extends { vmaId: number }>(a: T, b: T): number => a.vmaId - b.vmaId;
  return {
    ...rec,
    newVmas: [...rec.newVmas].sort((a, b) => a.id - b.id),
    samples: [...rec.samples].sort(byVma),
    heat: [...rec.heat].sort(byVma),
    counters: Object.fromEntries(
      Object.entries(rec.counters).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    ),
  };
}
