import { z } from 'zod';
import { Bytes, CountByNode, HexAddress, Pages } from './common.js';

/**
 * A migration experiment: what was moved, how, and what it did. Every move Tierscope makes is one of
 * these, recorded in the session next to the intervals it spans.
 */
export const ExperimentKind = z.enum([
  'move-pages', // move_pages of a selection to one node (promote/demote)
  'migrate-process', // migrate_pages of a whole process from a node set to a node set
  'lazy-rebind', // MPOL_MF_LAZY semantics: pages move when next touched
]);
export type ExperimentKind = z.infer<typeof ExperimentKind>;

export const Selection = z.object({
  /** Address ranges [start, end) the selection was drawn from (a VMA, a brushed range, a whole process). */
  ranges: z.array(z.object({ start: HexAddress, end: HexAddress })),
  /** Hotness filter applied within the ranges, if any. */
  hotness: z.enum(['hot', 'cold', 'top-k']).nullable(),
  topK: z.number().int().positive().nullable(),
  /** Only pages currently on these nodes (null = any node). */
  fromNodes: z.array(z.number().int().nonnegative()).nullable(),
});
export type Selection = z.infer<typeof Selection>;

/** Per-page outcomes, verified by re-querying the pages after the move. */
export const MoveHistogram = z.object({
  moved: Pages,
  alreadyThere: Pages,
  /** THP tail pages that reported EBUSY while their folio moved with its head: not failures. */
  thpTailMovedWithHead: Pages,
  /** Mapped by several processes: needs MPOL_MF_MOVE_ALL (CAP_SYS_NICE). */
  shared: Pages,
  /** Target node out of memory. */
  targetFull: Pages,
  notPresent: Pages,
  /** Any other per-page failure (busy, I/O, …) by errno name. */
  otherFailures: z.record(z.string(), Pages),
});
export type MoveHistogram = z.infer<typeof MoveHistogram>;

export const PlacementSnapshot = z.object({
  /** When measured, ms since the session started (or since the experiment began, outside a session). */
  atMs: z.number().nonnegative(),
  selectionBytesByNode: CountByNode,
  hotBytesByNode: CountByNode,
  coldBytesByNode: CountByNode,
  /** Share of the selection's pages accessed per scan, when a sampler measured it; null otherwise. */
  selectionAccessRate: z.number().min(0).max(1).nullable(),
});
export type PlacementSnapshot = z.infer<typeof PlacementSnapshot>;

export const Experiment = z.object({
  id: z.string().min(1),
  kind: ExperimentKind,
  pid: z.number().int().positive(),
  selection: Selection,
  fromNodes: z.array(z.number().int().nonnegative()).nullable(),
  toNodes: z.array(z.number().int().nonnegative()).min(1),
  dryRun: z.boolean(),
  rateLimitBytesPerSecond: Bytes.nullable(),
  /** ISO 8601. */
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  /** Milliseconds since the session started, so the timeline can place the experiment; null outside a session. */
  startMs: z.number().nonnegative().nullable(),
  endMs: z.number().nonnegative().nullable(),
  status: z.enum(['running', 'completed', 'cancelled', 'failed', 'expired']),
  /** Why it failed or was cancelled, in words. */
  detail: z.string(),
  pagesSelected: Pages,
  histogram: MoveHistogram,
  /** lazy-rebind: pages still waiting for their next touch. */
  pendingPages: Pages,
  before: PlacementSnapshot.nullable(),
  after: PlacementSnapshot.nullable(),
  /** Optional user command whose printed number (e.g. ops/s) was recorded before and after. */
  benchmark: z
    .object({ command: z.string(), before: z.number().nullable(), after: z.number().nullable() })
    .nullable(),
});
export type Experiment = z.infer<typeof Experiment>;
