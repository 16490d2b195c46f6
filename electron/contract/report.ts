import { z } from 'zod';
import { AccessSourceId } from './caps.js';
import { Bytes, CountByNode, HexAddress } from './common.js';
import { SessionEndReason } from './session.js';
import { VmaKind } from './vma.js';

const Range = z.object({ start: HexAddress, end: HexAddress });

export const ReportVma = z.object({
  id: z.number().int().nonnegative(),
  start: HexAddress,
  end: HexAddress,
  path: z.string(),
  kind: VmaKind,
  rssBytes: Bytes,
  hotBytes: Bytes,
  warmBytes: Bytes,
  coldBytes: Bytes,
  /** Accessed in the report interval's own scan. */
  accessedBytes: Bytes,
  bytesByNode: CountByNode,
  hotBytesByNode: CountByNode,
  coldBytesByNode: CountByNode,
});
export type ReportVma = z.infer<typeof ReportVma>;

/** What `tierscope report` says about a session: the classes at its last complete hotness window. */
export const Report = z.object({
  file: z.string(),
  pid: z.number().int().positive(),
  comm: z.string(),
  source: AccessSourceId,
  sourceReason: z.string(),
  sourceLimits: z.string(),
  intervals: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
  end: z.object({ reason: SessionEndReason, detail: z.string(), recorded: z.boolean() }),
  /** Set when part of the file could not be read (what a killed recorder leaves). */
  recovered: z.string().nullable(),
  /** The interval the classes come from: the last one that completed a window of `scansPerWindow` scans. */
  window: z.object({
    intervalIndex: z.number().int().nonnegative(),
    scansPerWindow: z.number().int().positive(),
    /** False when the session ended before any window completed: the classes are provisional. */
    complete: z.boolean(),
  }),
  /** Sorted by hot bytes, hottest first. */
  vmas: z.array(ReportVma),
  totals: z.object({
    rssBytes: Bytes,
    hotBytes: Bytes,
    warmBytes: Bytes,
    coldBytes: Bytes,
    hotBytesByNode: CountByNode,
    coldBytesByNode: CountByNode,
  }),
  /**
   * Hot bytes on the slowest memory tier and cold bytes on the fastest; null when the machine has a
   * single tier (nothing can be misplaced) — `misplacementNote` says why.
   */
  misplacement: z
    .object({
      fastNodes: z.array(z.number().int().nonnegative()),
      slowNodes: z.array(z.number().int().nonnegative()),
      hotOnSlowBytes: Bytes,
      coldOnFastBytes: Bytes,
    })
    .nullable(),
  misplacementNote: z.string(),
  /** Address ranges accessed in every scan / in none of the window, at the finest granularity the source gave. */
  hotRanges: z.array(Range),
  coldRanges: z.array(Range),
});
export type Report = z.infer<typeof Report>;
