import type { Snapshot } from '../../../electron/contract/index.js';

/** One live-update sample of a process's residency, for the per-node chart over time. */
export interface HistoryPoint {
  /** Epoch milliseconds of the snapshot. */
  atMs: number;
  rssBytes: number;
  /** Resident bytes by node id (as a string key, like the contract's CountByNode). */
  bytesByNode: Record<string, number>;
}

/** Ten minutes at the default 1 s interval: enough for a glance; issue 7's sessions keep everything. */
export const HISTORY_LIMIT = 600;

export function historyPoint(snapshot: Snapshot): HistoryPoint {
  const bytesByNode: Record<string, number> = {};
  for (const n of snapshot.nodes) {
    bytesByNode[String(n)] = (snapshot.totals.pagesByNode[String(n)] ?? 0) * snapshot.pageSizeBytes;
  }
  return { atMs: Date.parse(snapshot.takenAt), rssBytes: snapshot.totals.rssBytes, bytesByNode };
}

/**
 * Appends without mutating; drops the oldest beyond `limit`; ignores a point that is not newer than the
 * last (a re-delivered or out-of-order snapshot must not fold the time axis back).
 */
export function appendHistory(
  history: readonly HistoryPoint[],
  point: HistoryPoint,
  limit = HISTORY_LIMIT,
): readonly HistoryPoint[] {
  const last = history[history.length - 1];
  if (last && point.atMs <= last.atMs) return history;
  const next = [...history, point];
  return next.length > limit ? next.slice(next.length - limit) : next;
}
