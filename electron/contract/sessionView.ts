import { z } from 'zod';
import { AccessSourceId } from './caps.js';
import { Bytes, CountByNode, HexAddress, Pages } from './common.js';
import { Experiment, ExperimentKind, MoveHistogram } from './experiment.js';
import { Report } from './report.js';
import { SessionEnd, SessionMeta, SessionVma } from './session.js';

/**
 * What the UI reads of a recorded (or still recording) session, as the agent serves it: the engine opens
 * the file (Arrow IPC, docs/session-format.md) and sends these views, pre-aggregated so that a one-hour,
 * 1 000-VMA session crosses the protocol in a bounded size:
 * - `SessionView` once, on open: metadata, VMAs with their summary at the report window, whole-process
 *   columns per interval (totals, per node, kernel counters), the report and the experiments;
 * - `VmaSeries` on demand, for the VMAs a user looks at;
 * - `Heatmap` on demand, already reduced to the pixels asked for (address rows × time columns).
 * Columns are plain number arrays indexed by interval position (0 … intervalCount-1), aligned with
 * `timeline.startMs`; per-node columns are aligned with `meta.nodes`.
 */

/** An open session on the agent; valid until closeSession or the agent ends. */
export const SessionHandle = z.string().min(1).max(64);
export type SessionHandle = z.infer<typeof SessionHandle>;

const Column = z.array(z.number());
const NodeColumns = z.array(Column);

/** Pages per interval position — resident, accessed, hot/warm/cold, and per node — of the process or a VMA. */
const PageColumns = {
  rssPages: Column,
  accessedPages: Column,
  hotPages: Column,
  warmPages: Column,
  coldPages: Column,
  pagesByNode: NodeColumns,
  hotPagesByNode: NodeColumns,
  coldPagesByNode: NodeColumns,
};

/** Whole-process columns per interval position. */
export const SessionTimeline = z.object({
  /** Milliseconds since meta.startedAt: interval p covers [startMs[p], endMs[p]). */
  startMs: Column,
  endMs: Column,
  samplerCpuMs: Column,
  pagesScanned: Column,
  scansInWindow: Column,
  ...PageColumns,
  /** Kernel counter deltas per interval (names sorted); null where an interval did not report one. */
  counters: z.object({ names: z.array(z.string()), values: z.array(z.array(z.number().nullable())) }),
});
export type SessionTimeline = z.infer<typeof SessionTimeline>;

/** A VMA of the session with what the VMA table, the misplacement view and the heatmap axis need. */
export const SessionVmaSummary = SessionVma.extend({
  /** Last interval position that sampled it (it may have been unmapped since). */
  lastPos: z.number().int().nonnegative(),
  /** At the report window (the last complete hotness window; see Report.window). */
  rssBytes: Bytes,
  hotBytes: Bytes,
  warmBytes: Bytes,
  coldBytes: Bytes,
  bytesByNode: CountByNode,
  hotBytesByNode: CountByNode,
  coldBytesByNode: CountByNode,
  /** Largest resident size over the session. */
  maxRssBytes: Bytes,
});
export type SessionVmaSummary = z.infer<typeof SessionVmaSummary>;

export const SessionView = z.object({
  handle: SessionHandle,
  path: z.string(),
  fileBytes: Bytes,
  /**
   * Format the file is written in (meta.formatVersion is the version it was upgraded to on open); 0 is
   * the prototype format, still readable.
   */
  fileVersion: z.number().int().nonnegative(),
  meta: SessionMeta,
  end: SessionEnd,
  /** False when `end` was inferred (the recorder was killed) or the session is still being recorded. */
  endRecorded: z.boolean(),
  /** What could not be read (a torn tail after a crash), in words; null when the whole file was read. */
  recovered: z.string().nullable(),
  /** True while this agent is still recording into the file: reopen to see newer intervals. */
  live: z.boolean(),
  intervalCount: z.number().int().nonnegative(),
  timeline: SessionTimeline,
  /** Sorted by start address. */
  vmas: z.array(SessionVmaSummary),
  report: Report,
  experiments: z.array(Experiment),
});
export type SessionView = z.infer<typeof SessionView>;

/** One VMA over time: only the interval positions that sampled it, ascending. */
export const VmaSeries = z.object({
  vmaId: z.number().int().nonnegative(),
  intervalPos: Column,
  ...PageColumns,
});
export type VmaSeries = z.infer<typeof VmaSeries>;

const AddressRange = z.object({ start: HexAddress, end: HexAddress });

/**
 * An address × time heatmap reduced on the agent to the pixels asked for. The address axis is the
 * concatenation of `ranges` (gaps between them left out): row r covers bytes [r·total/rows,
 * (r+1)·total/rows) of that concatenation, row 0 at the lowest address. Column c covers interval positions
 * [fromPos + c·n/columns, fromPos + (c+1)·n/columns), n = toPos − fromPos.
 */
export const HeatmapRequest = z.object({
  handle: SessionHandle,
  fromPos: z.number().int().nonnegative(),
  /** Exclusive. */
  toPos: z.number().int().positive(),
  columns: z.number().int().min(1).max(4096),
  rows: z.number().int().min(1).max(2048),
  ranges: z.array(AddressRange).min(1).max(4096),
});
export type HeatmapRequest = z.infer<typeof HeatmapRequest>;

export const Heatmap = z.object({
  fromPos: z.number().int().nonnegative(),
  toPos: z.number().int().nonnegative(),
  columns: z.number().int().positive(),
  rows: z.number().int().positive(),
  /**
   * Base64 of rows·columns bytes, row-major (row 0 first): the share of the cell's pages seen accessed,
   * 0..255. `max` is the largest over the samples the cell covers (what keeps a thin hot band visible when
   * zoomed out); `mean` the average.
   */
  max: z.string(),
  mean: z.string(),
  /** Base64 of rows·columns bytes: 1 where the cell had any sample (mapped memory), 0 for no data. */
  present: z.string(),
});
export type Heatmap = z.infer<typeof Heatmap>;

export const ExportFormat = z.enum(['json', 'csv', 'perfetto']);
export type ExportFormat = z.infer<typeof ExportFormat>;

/** Recording through the agent (the UI's record button); the file is the crash-safe journal itself. */
export const StartRecording = z.object({
  pid: z.number().int().positive(),
  startTimeTicks: z.number().int().nonnegative().optional(),
  source: z.union([z.literal('auto'), AccessSourceId]),
  intervalMs: z.number().int().min(100).max(60_000),
  scansPerWindow: z.number().int().min(1).max(64).optional(),
  durationMs: z.number().int().positive().nullable(),
  /** Where to write; null: the agent's autosave folder (~/.local/share/tierscope/sessions/). */
  path: z.string().min(1).nullable(),
});
export type StartRecording = z.infer<typeof StartRecording>;

export const RecordingProgress = z.object({
  recording: z.string(),
  path: z.string(),
  intervals: z.number().int().nonnegative(),
  elapsedMs: z.number().nonnegative(),
  source: AccessSourceId,
  rssBytes: Bytes,
  hotBytes: Bytes,
  warmBytes: Bytes,
  coldBytes: Bytes,
  scansInWindow: z.number().int().nonnegative(),
  scansPerWindow: z.number().int().positive(),
  samplerCpuPercent: z.number().nonnegative(),
});
export type RecordingProgress = z.infer<typeof RecordingProgress>;

/** A selection to migrate, as the UI builds it (a VMA, a brushed range, a hotness class). */
export const MigrationSelection = z.object({
  /** [start, end) ranges; a VMA is its own range. */
  ranges: z.array(AddressRange).min(1).max(4096),
  hotness: z.enum(['hot', 'cold', 'top-k']).nullable(),
  topKPages: z.number().int().positive().nullable(),
  /** Only pages now on one of these nodes (null = any). */
  fromNodes: z.array(z.number().int().nonnegative()).nullable(),
});
export type MigrationSelection = z.infer<typeof MigrationSelection>;

export const StartMigration = z.object({
  pid: z.number().int().positive(),
  startTimeTicks: z.number().int().nonnegative().optional(),
  kind: z.enum(['move-pages', 'lazy-rebind']),
  selection: MigrationSelection,
  toNode: z.number().int().nonnegative(),
  rateBytesPerSecond: Bytes.positive().nullable(),
  dryRun: z.boolean(),
  /** lazy-rebind: give up on untouched pages after this long (null = until cancelled). */
  expireMs: z.number().int().positive().nullable(),
  /** The session to take page classes from and to record the experiment into (null: none). */
  sessionPath: z.string().min(1).nullable(),
});
export type StartMigration = z.infer<typeof StartMigration>;

/** What a move would do (the dry run's answer; real runs report it too, before moving). */
export const MigrationPlan = z.object({
  pagesSelected: Pages,
  toMoveByNode: CountByNode,
  bytesToMove: Bytes,
  alreadyThere: Pages,
  notPresent: Pages,
  skipped: z.array(z.string()),
  classesFrom: z.string().nullable(),
});
export type MigrationPlan = z.infer<typeof MigrationPlan>;

export const ExperimentProgress = z.object({
  experimentId: z.string(),
  kind: ExperimentKind,
  phase: z.enum(['benchmark', 'measuring', 'moving', 'waiting', 'verifying']),
  /**
   * Pages done / to do in this phase (moving: pages handled so far, moved or not, of those to move — the
   * histogram says what became of them; waiting: moved on touch; measuring, verifying: 0 of the pages to
   * move).
   */
  pagesDone: Pages,
  pagesTotal: Pages,
  /** lazy-rebind: pages still waiting for their first touch. */
  pendingPages: Pages,
  bytesPerSecond: z.number().nonnegative(),
  /** One line for a status bar. */
  text: z.string(),
  partialHistogram: MoveHistogram.nullable(),
});
export type ExperimentProgress = z.infer<typeof ExperimentProgress>;
