import { z } from 'zod';
import { AccessSourceId } from './caps.js';
import { Bytes, HexAddress, Pages } from './common.js';
import { Topology } from './topology.js';
import { VmaKind } from './vma.js';

/**
 * The recorded-session model: what the recorder produces each interval, what the session store keeps,
 * what `report`/`export` and the UI read. Column-friendly on purpose: per-node values are arrays aligned
 * with `SessionMeta.nodes`, not objects, so the store can lay them out as fixed columns.
 */

/** Hotness class of a page over the last N scans: accessed in all N = hot, in none = cold. */
export const HotnessClass = z.enum(['hot', 'warm', 'cold']);
export type HotnessClass = z.infer<typeof HotnessClass>;

export const SessionEndReason = z.enum([
  'stopped', // the user stopped it (Ctrl-C, UI)
  'duration-reached',
  'process-exited',
  'pid-reused', // the pid now names another process (start time changed)
  'source-failed',
  'recorder-killed', // inferred on open: the journal ends without an end record
]);
export type SessionEndReason = z.infer<typeof SessionEndReason>;

export const SessionMeta = z.object({
  formatVersion: z.number().int().positive(),
  tierscopeVersion: z.string(),
  /** ISO 8601 wall-clock start of the recording. */
  startedAt: z.string(),
  target: z.object({
    pid: z.number().int().positive(),
    comm: z.string(),
    cmdline: z.string(),
    startTimeTicks: z.number().int().nonnegative(),
  }),
  hostname: z.string(),
  kernelRelease: z.string(),
  pageSizeBytes: Bytes,
  /** Node ids; every per-node array in the session is aligned with this. */
  nodes: z.array(z.number().int().nonnegative()),
  topology: Topology,
  source: AccessSourceId,
  /** Why this source was chosen (or that the user forced it), shown next to every view. */
  sourceReason: z.string(),
  /** What the source cannot see, in words (e.g. refs: per-VMA only, no page-level detail). */
  sourceLimits: z.string(),
  intervalMs: z.number().int().positive(),
  /** N of the hotness model: a page is hot when accessed in all of the last N scans. */
  scansPerWindow: z.number().int().positive(),
  /** Heatmap buckets per VMA per interval (bounded resolution). */
  heatBucketsPerVma: z.number().int().positive(),
});
export type SessionMeta = z.infer<typeof SessionMeta>;

/** A VMA as first seen by the session; samples refer to it by `id` (stable for the session). */
export const SessionVma = z.object({
  id: z.number().int().nonnegative(),
  start: HexAddress,
  end: HexAddress,
  perms: z.string(),
  path: z.string(),
  kind: VmaKind,
  /** Interval index in which the VMA first appeared. */
  firstInterval: z.number().int().nonnegative(),
});
export type SessionVma = z.infer<typeof SessionVma>;

const PagesPerNode = z.array(Pages);

export const VmaSample = z.object({
  vmaId: z.number().int().nonnegative(),
  rssPages: Pages,
  /** Resident pages per node (numa_maps), aligned with SessionMeta.nodes. */
  pagesByNode: PagesPerNode,
  /** Pages seen accessed in this interval's scan (refs: Referenced bytes / page size). */
  accessedPages: Pages,
  /** Hotness over the last `scansPerWindow` scans (pages with a known count only). */
  hotPages: Pages,
  warmPages: Pages,
  coldPages: Pages,
  /** Node of hot / cold pages (move_pages query), aligned with nodes; zeros when not measured. */
  hotPagesByNode: PagesPerNode,
  coldPagesByNode: PagesPerNode,
});
export type VmaSample = z.infer<typeof VmaSample>;

/** Heat of one VMA in one interval: `buckets` equal slices of [start, end), each 0..255 = share accessed. */
export const HeatRow = z.object({
  vmaId: z.number().int().nonnegative(),
  buckets: z.array(z.number().int().min(0).max(255)),
});
export type HeatRow = z.infer<typeof HeatRow>;

/** A run of pages with the same accessed count (0..N) at the finest granularity the source gave. */
export const CountRun = z.object({
  start: HexAddress,
  end: HexAddress,
  /** In how many of the window's scans the run was accessed. */
  accessedScans: z.number().int().nonnegative(),
});
export type CountRun = z.infer<typeof CountRun>;

export const IntervalRecord = z.object({
  index: z.number().int().nonnegative(),
  /** Milliseconds since SessionMeta.startedAt. */
  startMs: z.number().nonnegative(),
  endMs: z.number().nonnegative(),
  /** CPU time the sampler itself spent on this interval (user + system), and pages it scanned. */
  samplerCpuMs: z.number().nonnegative(),
  pagesScanned: Pages,
  /** Scans completed so far, capped at scansPerWindow: classes are final only once it reaches N. */
  scansInWindow: z.number().int().nonnegative(),
  newVmas: z.array(SessionVma),
  samples: z.array(VmaSample),
  heat: z.array(HeatRow),
  /** Per-page accessed-count runs, present on intervals that close a window (every N scans). */
  countRuns: z.array(CountRun).nullable(),
  /** Kernel counter deltas over the interval (/proc/vmstat numa_*, pgpromote_*, …; /proc/PID/sched numa_*). */
  counters: z.record(z.string(), z.number()),
});
export type IntervalRecord = z.infer<typeof IntervalRecord>;

export const SessionEnd = z.object({
  endedAt: z.string(),
  reason: SessionEndReason,
  detail: z.string(),
});
export type SessionEnd = z.infer<typeof SessionEnd>;
