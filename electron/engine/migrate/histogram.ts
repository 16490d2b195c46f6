/**
 * The per-page result of a move (the contract's MoveHistogram), accumulated batch by batch from the
 * bridge's reconcileMove — which judges each page by where a re-query finds it, not by move_pages's own
 * status words (see native-bridge/README.md, "Per-page status and THP").
 */
import type { CountByNode, MoveHistogram } from '../../contract/index.js';
import { ERRNO, MAX_NODE_ID_EXCLUSIVE, type MoveReconciliation } from '../../../native-bridge/index.js';

export function emptyHistogram(): MoveHistogram {
  return {
    moved: 0,
    alreadyThere: 0,
    thpTailMovedWithHead: 0,
    shared: 0,
    targetFull: 0,
    notPresent: 0,
    otherFailures: {},
  };
}

/**
 * Failure reasons of reconcileMove → histogram slot. Reasons that are errnos are keyed by errno name in
 * otherFailures; 'unreported' (the kernel aborted the batch before reporting the page) and
 * 'changed-after-move' (the move reported a node, the re-query found the page elsewhere) keep their names.
 */
const OTHER_KEYS: Record<string, string> = {
  busy: 'EBUSY',
  io: 'EIO',
  invalid: 'EINVAL',
};

/** Adds one batch's reconciliation to `h` (in place) and returns it. */
export function addReconciliation(h: MoveHistogram, r: MoveReconciliation): MoveHistogram {
  h.moved += r.moved;
  h.alreadyThere += r.alreadyThere;
  h.thpTailMovedWithHead += r.thpTailMovedWithHead;
  for (const [reason, pages] of Object.entries(r.failedByReason)) {
    switch (reason) {
      case 'shared':
        h.shared += pages;
        break;
      case 'no-memory':
        h.targetFull += pages;
        break;
      case 'not-present':
      case 'fault':
        h.notPresent += pages;
        break;
      default: {
        const key = OTHER_KEYS[reason] ?? reason;
        h.otherFailures[key] = (h.otherFailures[key] ?? 0) + pages;
      }
    }
  }
  return h;
}

/** Sum of two histograms (new object). */
export function mergeHistograms(a: MoveHistogram, b: MoveHistogram): MoveHistogram {
  const out: MoveHistogram = {
    moved: a.moved + b.moved,
    alreadyThere: a.alreadyThere + b.alreadyThere,
    thpTailMovedWithHead: a.thpTailMovedWithHead + b.thpTailMovedWithHead,
    shared: a.shared + b.shared,
    targetFull: a.targetFull + b.targetFull,
    notPresent: a.notPresent + b.notPresent,
    otherFailures: { ...a.otherFailures },
  };
  for (const [k, v] of Object.entries(b.otherFailures))
    out.otherFailures[k] = (out.otherFailures[k] ?? 0) + v;
  return out;
}

/** Pages the histogram accounts for. */
export function histogramPages(h: MoveHistogram): number {
  let other = 0;
  for (const v of Object.values(h.otherFailures)) other += v;
  return h.moved + h.alreadyThere + h.thpTailMovedWithHead + h.shared + h.targetFull + h.notPresent + other;
}

/** Pages now on their target: moved, already there, or moved as part of a huge page. */
export function histogramOnTarget(h: MoveHistogram): number {
  return h.moved + h.alreadyThere + h.thpTailMovedWithHead;
}

/** Pages that failed to move (everything not on target, except not-present pages, which had nothing to move). */
export function histogramFailed(h: MoveHistogram): number {
  return histogramPages(h) - histogramOnTarget(h) - h.notPresent;
}

/**
 * Resident pages per node of a status array (node id, or -errno), optionally only at `indices`. Returns
 * bytes per node (decimal string keys) when `pageSizeBytes` is given, pages otherwise.
 */
export function tallyByNode(
  status: Int32Array,
  pageSizeBytes = 1,
  indices: ArrayLike<number> | null = null,
): CountByNode {
  const perNode = new Float64Array(MAX_NODE_ID_EXCLUSIVE);
  const n = indices ? indices.length : status.length;
  for (let k = 0; k < n; k++) {
    const s = status[indices ? (indices[k] ?? 0) : k] ?? -1;
    if (s >= 0 && s < MAX_NODE_ID_EXCLUSIVE) perNode[s] = (perNode[s] ?? 0) + 1;
  }
  const out: CountByNode = {};
  perNode.forEach((count, node) => {
    if (count > 0) out[String(node)] = count * pageSizeBytes;
  });
  return out;
}

/** True for a query status that says "no page here" (not resident, or no mapping / zero page). */
export function isAbsent(status: number): boolean {
  return status === -ERRNO.ENOENT || status === -ERRNO.EFAULT;
}

/** One line: "moved 1200, already there 30, THP tails 511, shared 0, target full 0, not present 2". */
export function describeHistogram(h: MoveHistogram): string {
  const parts = [
    `moved ${h.moved}`,
    `already there ${h.alreadyThere}`,
    `THP tails moved with head ${h.thpTailMovedWithHead}`,
    `shared ${h.shared}`,
    `target full ${h.targetFull}`,
    `not present ${h.notPresent}`,
  ];
  for (const [k, v] of Object.entries(h.otherFailures)) parts.push(`${k} ${v}`);
  return parts.join(', ');
}
