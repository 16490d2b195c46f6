/**
 * Decoding move_pages per-page status words, and reconciling a move against a re-query.
 *
 * A status word is a node id (≥ 0) or a negative errno. The bridge pre-fills status arrays with
 * STATUS_UNREPORTED because the kernel aborts a batch without writing the rest of its statuses when a
 * migration fails part-way (move_pages then returns a positive "not migrated" count).
 */
import { ERRNO, errnoName } from './errors.js';

/** Never a kernel status (node ids are < 1024, errnos > -4096): "the kernel did not report this page". */
export const STATUS_UNREPORTED = -0x80000000;

export type PageStatusKind =
  | 'on-node'
  | 'not-present'
  | 'fault'
  | 'busy'
  | 'shared'
  | 'no-memory'
  | 'io'
  | 'invalid'
  | 'unreported'
  | 'errno';

export type PageStatus =
  /** Resident on `node` (after a move: on the node it was moved to, or already was on). */
  | { kind: 'on-node'; node: number }
  /** -ENOENT: not resident (never touched, swapped out, or a device page). */
  | { kind: 'not-present' }
  /** -EFAULT: no mapping at this address, or the shared zero page (read but never written). */
  | { kind: 'fault' }
  /** -EBUSY: could not be isolated now (pinned, under I/O, or a THP tail whose head was already taken). */
  | { kind: 'busy' }
  /** -EACCES: mapped by several processes; only MPOL_MF_MOVE_ALL (CAP_SYS_NICE) moves it. */
  | { kind: 'shared' }
  /** -ENOMEM: the target node had no free memory for it. */
  | { kind: 'no-memory' }
  /** -EIO: a dirty file page that could not be written back first. */
  | { kind: 'io' }
  /** -EINVAL: a dirty file page whose filesystem cannot migrate it. */
  | { kind: 'invalid' }
  /** The kernel aborted the batch before reporting this page; re-query to learn where it is. */
  | { kind: 'unreported' }
  /** Any other errno (e.g. -ENODEV, -EPERM on some kernels). */
  | { kind: 'errno'; errno: number; errnoName: string };

/** The kind of one status word, without allocating: for per-page loops. */
export function pageStatusKind(status: number): PageStatusKind {
  if (status >= 0) return 'on-node';
  switch (-status) {
    case ERRNO.ENOENT:
      return 'not-present';
    case ERRNO.EFAULT:
      return 'fault';
    case ERRNO.EBUSY:
      return 'busy';
    case ERRNO.EACCES:
      return 'shared';
    case ERRNO.ENOMEM:
      return 'no-memory';
    case ERRNO.EIO:
      return 'io';
    case ERRNO.EINVAL:
      return 'invalid';
    default:
      return status === STATUS_UNREPORTED ? 'unreported' : 'errno';
  }
}

export function describePageStatus(status: number): PageStatus {
  const kind = pageStatusKind(status);
  switch (kind) {
    case 'on-node':
      return { kind, node: status };
    case 'errno':
      return { kind, errno: -status, errnoName: errnoName(-status) };
    case 'not-present':
    case 'fault':
    case 'busy':
    case 'shared':
    case 'no-memory':
    case 'io':
    case 'invalid':
    case 'unreported':
      return { kind };
  }
}

export type MoveOutcomeKind = 'moved' | 'already-there' | 'thp-tail-moved-with-head' | 'failed';

/** Why a page is not on its target after a move. */
export type MoveFailureReason =
  /** The move reported this status (busy, shared, no-memory, …). */
  | Exclude<PageStatusKind, 'on-node'>
  /** The move reported the page on a node, but the re-query found it elsewhere or gone (it changed since). */
  | 'changed-after-move';

export type MoveOutcome =
  | { kind: 'moved' }
  | { kind: 'already-there' }
  | { kind: 'thp-tail-moved-with-head' }
  | { kind: 'failed'; reason: MoveFailureReason; now: PageStatus };

/** Outcome codes stored per page by reconcileMove (index = code). */
export const MOVE_OUTCOME_KINDS: readonly MoveOutcomeKind[] = [
  'moved',
  'already-there',
  'thp-tail-moved-with-head',
  'failed',
];
const MOVED = 0;
const ALREADY_THERE = 1;
const THP_TAIL = 2;
const FAILED = 3;

function outcomeCode(target: number, moveStatus: number, after: number, before: number | undefined): number {
  if (after !== target) return FAILED;
  if (before === target) return ALREADY_THERE;
  // move_pages isolates a transparent huge page once, through the first of its subpages in the request;
  // the other subpages then fail isolation with -EBUSY although the whole folio moves with the head.
  if (moveStatus === -ERRNO.EBUSY) return THP_TAIL;
  return MOVED;
}

function failureReason(moveStatus: number): MoveFailureReason {
  const kind = pageStatusKind(moveStatus);
  return kind === 'on-node' ? 'changed-after-move' : kind;
}

/**
 * Classifies one page of a move. `before` (a query taken before the move) is what tells "already there"
 * from "moved": move_pages reports the target node for both. Without it such pages count as moved.
 */
export function reconcilePage(
  target: number,
  moveStatus: number,
  after: number,
  before?: number,
): MoveOutcome {
  switch (outcomeCode(target, moveStatus, after, before)) {
    case MOVED:
      return { kind: 'moved' };
    case ALREADY_THERE:
      return { kind: 'already-there' };
    case THP_TAIL:
      return { kind: 'thp-tail-moved-with-head' };
    default:
      return { kind: 'failed', reason: failureReason(moveStatus), now: describePageStatus(after) };
  }
}

export interface MoveReconciliation {
  /** Per page, an index into MOVE_OUTCOME_KINDS. */
  outcomes: Uint8Array;
  moved: number;
  alreadyThere: number;
  thpTailMovedWithHead: number;
  failed: number;
  /** Failed pages by reason; errno reasons are keyed by errno name ("ENODEV"), the rest by reason. */
  failedByReason: Record<string, number>;
}

/**
 * Judges a move by where pages are now, not by what move_pages said: `targets` (node per page, as passed
 * to movePages), `moveStatus` (its result), `after` (a queryPageNodes re-query of the same addresses) and
 * optionally `before` (a query taken before the move). A page on its target after the move succeeded,
 * whatever its move status; one that is not failed, with the move's status as the reason.
 */
export function reconcileMove(
  targets: Int32Array,
  moveStatus: Int32Array,
  after: Int32Array,
  before: Int32Array | null = null,
): MoveReconciliation {
  const n = targets.length;
  if (moveStatus.length !== n || after.length !== n || (before !== null && before.length !== n)) {
    throw new RangeError(
      `reconcileMove needs arrays of one length (targets ${n}, moveStatus ${moveStatus.length}, after ${after.length}${before ? `, before ${before.length}` : ''})`,
    );
  }
  const outcomes = new Uint8Array(n);
  const counts = [0, 0, 0, 0];
  const failedByReason: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const target = targets[i] ?? 0;
    const status = moveStatus[i] ?? 0;
    const code = outcomeCode(target, status, after[i] ?? 0, before?.[i]);
    outcomes[i] = code;
    counts[code] = (counts[code] ?? 0) + 1;
    if (code === FAILED) {
      const reason = failureReason(status);
      const key = reason === 'errno' ? errnoName(-status) : reason;
      failedByReason[key] = (failedByReason[key] ?? 0) + 1;
    }
  }
  return {
    outcomes,
    moved: counts[MOVED] ?? 0,
    alreadyThere: counts[ALREADY_THERE] ?? 0,
    thpTailMovedWithHead: counts[THP_TAIL] ?? 0,
    failed: counts[FAILED] ?? 0,
    failedByReason,
  };
}
