// The heatmap's address axis, as the agent defines it (HeatmapRequest in electron/contract/sessionView.ts):
// the concatenation of `ranges` with the gaps between them left out, cut into `rows` equal slices; row r
// covers bytes [r·total/rows, (r+1)·total/rows) of the concatenation, row 0 at the lowest address. Exact
// integer arithmetic on bigint: addresses exceed 2^53 ([vsyscall] is ffffffffff600000), so a double would
// put a row boundary a few bytes off.
import type { SessionVmaSummary } from '../../../electron/contract/index.js';

export interface HexRange {
  start: string;
  end: string;
}

export interface AxisRange {
  start: bigint;
  end: bigint;
  /** Offset of `start` in the concatenation. */
  offset: bigint;
}

export interface AddressAxis {
  /** Non-empty, ascending, non-overlapping: the order of the concatenation. */
  ranges: readonly AxisRange[];
  totalBytes: bigint;
}

export function parseHex(hex: string): bigint {
  return BigInt(`0x${hex}`);
}

/** Lowercase hex without 0x, as /proc prints addresses (the contract's HexAddress). */
export function toHex(address: bigint): string {
  return address.toString(16);
}

/**
 * The axis of a request's ranges, concatenated in address order as the agent does (it refuses empty and
 * overlapping ranges; empty ones are left out here, overlapping ones are the caller's to merge first).
 */
export function buildAxis(ranges: readonly HexRange[]): AddressAxis {
  const parsed = ranges
    .map((r) => ({ start: parseHex(r.start), end: parseHex(r.end) }))
    .filter((r) => r.end > r.start)
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: AxisRange[] = [];
  let offset = 0n;
  for (const { start, end } of parsed) {
    out.push({ start, end, offset });
    offset += end - start;
  }
  return { ranges: out, totalBytes: offset };
}

/** Row of the byte at `offset`: floor(offset·rows/total). */
export function rowOfOffset(offset: bigint, totalBytes: bigint, rows: number): number {
  if (totalBytes <= 0n) return 0;
  const r = Number((offset * BigInt(rows)) / totalBytes);
  return Math.min(rows - 1, Math.max(0, r));
}

/** First byte of row r: ceil(r·total/rows) (rows = row count gives the end of the axis). */
export function rowStartOffset(row: number, totalBytes: bigint, rows: number): bigint {
  const r = BigInt(Math.max(0, Math.min(rows, row)));
  const n = BigInt(rows);
  return (r * totalBytes + n - 1n) / n;
}

/** Index of the axis range holding `offset` (the last whose offset ≤ it). */
export function rangeIndexAtOffset(axis: AddressAxis, offset: bigint): number {
  let a = 0;
  let b = axis.ranges.length;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if ((axis.ranges[mid]?.offset ?? 0n) > offset) b = mid;
    else a = mid + 1;
  }
  return Math.max(0, a - 1);
}

/** The address of the byte at `offset` of the concatenation. */
export function addressOfOffset(axis: AddressAxis, offset: bigint): bigint {
  const r = axis.ranges[rangeIndexAtOffset(axis, offset)];
  return r ? r.start + (offset - r.offset) : 0n;
}

/** Offset of an address in the concatenation, or null when it falls in a gap or outside. */
export function offsetOfAddress(axis: AddressAxis, address: bigint): bigint | null {
  let a = 0;
  let b = axis.ranges.length;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if ((axis.ranges[mid]?.start ?? 0n) > address) b = mid;
    else a = mid + 1;
  }
  const r = axis.ranges[a - 1];
  return r && address < r.end ? r.offset + (address - r.start) : null;
}

/** The address ranges holding bytes [fromOffset, toOffset) of the concatenation, ascending. */
export function sliceAxis(axis: AddressAxis, fromOffset: bigint, toOffset: bigint): HexRange[] {
  const out: HexRange[] = [];
  if (toOffset <= fromOffset) return out;
  for (let i = rangeIndexAtOffset(axis, fromOffset); i < axis.ranges.length; i++) {
    const r = axis.ranges[i];
    if (!r || r.offset >= toOffset) break;
    const size = r.end - r.start;
    const lo = fromOffset > r.offset ? fromOffset - r.offset : 0n;
    const hi = toOffset < r.offset + size ? toOffset - r.offset : size;
    if (hi > lo) out.push({ start: toHex(r.start + lo), end: toHex(r.start + hi) });
  }
  return out;
}

/** The address ranges of rows [fromRow, toRow): what a brush over those rows selects. */
export function rowsToRanges(axis: AddressAxis, rows: number, fromRow: number, toRow: number): HexRange[] {
  return sliceAxis(
    axis,
    rowStartOffset(fromRow, axis.totalBytes, rows),
    rowStartOffset(toRow, axis.totalBytes, rows),
  );
}

/** Address span [start, end) of one row (end exclusive), as hex. */
export function rowAddressSpan(axis: AddressAxis, rows: number, fromRow: number, toRow: number): HexRange {
  const from = rowStartOffset(fromRow, axis.totalBytes, rows);
  const to = rowStartOffset(toRow, axis.totalBytes, rows);
  const end = to > from ? addressOfOffset(axis, to - 1n) + 1n : addressOfOffset(axis, from);
  return { start: toHex(addressOfOffset(axis, from)), end: toHex(end) };
}

/**
 * Rows [fromRow, toRow) touched by the address range [start, end) where it meets the axis, or null when it
 * misses every axis range (used to draw a selection or a VMA's extent over the heatmap).
 */
export function rangeRows(
  axis: AddressAxis,
  rows: number,
  start: bigint,
  end: bigint,
): { fromRow: number; toRow: number } | null {
  let first: bigint | null = null;
  let last: bigint | null = null;
  for (const r of axis.ranges) {
    if (r.end <= start) continue;
    if (r.start >= end) break;
    const lo = start > r.start ? start : r.start;
    const hi = end < r.end ? end : r.end;
    first ??= r.offset + (lo - r.start);
    last = r.offset + (hi - r.start);
  }
  if (first === null || last === null || last <= first) return null;
  return {
    fromRow: rowOfOffset(first, axis.totalBytes, rows),
    toRow: rowOfOffset(last - 1n, axis.totalBytes, rows) + 1,
  };
}

/** Sorts and merges overlapping or touching ranges. */
export function mergeRanges(ranges: readonly HexRange[]): HexRange[] {
  const parsed = ranges
    .map((r) => ({ start: parseHex(r.start), end: parseHex(r.end) }))
    .filter((r) => r.end > r.start)
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: { start: bigint; end: bigint }[] = [];
  for (const r of parsed) {
    const prev = out[out.length - 1];
    if (prev && r.start <= prev.end) {
      if (r.end > prev.end) prev.end = r.end;
    } else out.push({ ...r });
  }
  return out.map((r) => ({ start: toHex(r.start), end: toHex(r.end) }));
}

/** HeatmapRequest.ranges accepts at most this many. */
export const MAX_AXIS_RANGES = 4096;

/**
 * The ranges of the whole-process heatmap: every VMA that was ever resident (never-touched reservations
 * would take rows and show nothing), merged where they overlap or touch (VMAs of different times can share
 * addresses). Above `maxRanges`, the smallest gaps are closed first: a few rows show unmapped bytes
 * (drawn as "no data"), and the request stays within the protocol's limit.
 */
export function heatmapRanges(
  vmas: readonly Pick<SessionVmaSummary, 'start' | 'end' | 'maxRssBytes'>[],
  maxRanges = MAX_AXIS_RANGES,
): HexRange[] {
  const merged = mergeRanges(vmas.filter((v) => v.maxRssBytes > 0));
  if (merged.length <= maxRanges) return merged;
  const parsed = merged.map((r) => ({ start: parseHex(r.start), end: parseHex(r.end) }));
  // Gaps below the (merged.length − maxRanges)-th smallest are closed; ties broken by position.
  const gaps = parsed
    .slice(1)
    .map((r, i) => ({ i, gap: r.start - (parsed[i]?.end ?? r.start) }))
    .sort((a, b) => (a.gap < b.gap ? -1 : a.gap > b.gap ? 1 : a.i - b.i));
  const close = new Set(gaps.slice(0, merged.length - maxRanges).map((g) => g.i));
  const out: { start: bigint; end: bigint }[] = [];
  parsed.forEach((r, j) => {
    const prev = out[out.length - 1];
    // Gap i sits between parsed[i] and parsed[i + 1].
    if (prev && close.has(j - 1)) prev.end = r.end;
    else out.push({ ...r });
  });
  return out.map((r) => ({ start: toHex(r.start), end: toHex(r.end) }));
}

/** True when two range lists are the same ranges in the same order. */
export function sameRanges(a: readonly HexRange[], b: readonly HexRange[]): boolean {
  return (
    a.length === b.length &&
    a.every((r, i) => {
      const o = b[i];
      return o !== undefined && r.start === o.start && r.end === o.end;
    })
  );
}
