/**
 * The batched move itself: move_pages over an address list in adaptive batches (~20 ms of kernel work
 * each), paced by an optional byte rate, cancellable between batches, each batch judged by re-query
 * (reconcileMove). Used for promote/demote, for whole-process moves split by VMA, and by lazy rebinds.
 *
 * Per batch: identity check of the target (a PID reused mid-move must not have its pages moved), a query
 * (the "before" that tells already-there from moved), the move, a re-query, reconciliation. A batch is
 * the unit of cancellation: an abort takes effect before the next batch starts.
 */
import type { MoveHistogram } from '../../contract/index.js';
import {
  MPOL_MF_MOVE,
  NumaSyscallError,
  pageStatusKind,
  movePages as nativeMovePages,
  queryPageNodes as nativeQueryPageNodes,
  reconcileMove,
} from '../../../native-bridge/index.js';
import { TierscopeError } from '../errors.js';
import { queryRangePageNodes } from '../pageNodes.js';
import { assertSameProcess, isSameLiveProcess } from '../procfs/process.js';
import {
  BatchPlanner,
  RateLimiter,
  batchEnd,
  realClock,
  type BatchPlannerOptions,
  type Clock,
} from './batches.js';
import { addReconciliation, emptyHistogram, isAbsent } from './histogram.js';

/** The native calls the executor makes; tests substitute a simulated kernel. */
export interface MoveBridge {
  movePages(
    pid: number,
    addresses: BigUint64Array,
    nodes: Int32Array,
    options: { flags: number; batchPages: number },
  ): Int32Array;
  queryPageNodes(pid: number, addresses: BigUint64Array, batchPages: number): Int32Array;
  /** Node (or -errno) of every page of [start, end) (page aligned). */
  queryRange(pid: number, start: bigint, end: bigint, pageSizeBytes: number): Int32Array;
  /** Resolves if pid is still the process that started at startTimeTicks; throws TierscopeError otherwise. */
  checkIdentity(pid: number, startTimeTicks: number): Promise<void>;
  /** Whether the process has exited (to tell "gone" from other failures). */
  isGone(pid: number, startTimeTicks: number): Promise<boolean>;
}

export function nativeBridge(procRoot = '/proc'): MoveBridge {
  return {
    movePages: (pid, addresses, nodes, options) => nativeMovePages(pid, addresses, nodes, options),
    queryPageNodes: (pid, addresses, batchPages) => nativeQueryPageNodes(pid, addresses, batchPages),
    queryRange: (pid, start, end, pageSizeBytes) =>
      queryRangePageNodes(pid, start, end, { pageSizeBytes }).status,
    checkIdentity: (pid, ticks) => assertSameProcess(pid, ticks, { procRoot }),
    isGone: async (pid, ticks) => !(await isSameLiveProcess(pid, ticks, { procRoot })),
  };
}

/** The bridge's range query as selection.ts's RangeQuery (undefined: the native one). */
export function bridgeQuery(
  bridge: MoveBridge | undefined,
): ((pid: number, start: bigint, end: bigint, pageSizeBytes: number) => Int32Array) | undefined {
  return bridge
    ? (pid, start, end, pageSizeBytes) => bridge.queryRange(pid, start, end, pageSizeBytes)
    : undefined;
}

export interface MoveProgress {
  batches: number;
  /** Pages handled so far (every outcome) and in all. */
  pagesDone: number;
  pagesTotal: number;
  /** Bytes copied to the target so far (moved pages and THP tails). */
  bytesMoved: number;
  histogram: MoveHistogram;
  elapsedMs: number;
  /** Size of the batch just done, and the planner's measured speed. */
  lastBatchPages: number;
  pagesPerMs: number | null;
}

export interface ExecuteMoveOptions {
  pid: number;
  startTimeTicks: number;
  addresses: BigUint64Array;
  /** Target node per page. */
  targets: Int32Array;
  pageSizeBytes: number;
  /** MPOL_MF_MOVE (default) or MPOL_MF_MOVE_ALL. */
  flags?: number;
  rateBytesPerSecond?: number | null;
  signal?: AbortSignal;
  onProgress?: (p: MoveProgress) => void;
  planner?: BatchPlannerOptions;
  clock?: Clock;
  bridge?: MoveBridge;
}

export interface ExecuteMoveResult {
  status: 'completed' | 'cancelled' | 'failed';
  detail: string;
  histogram: MoveHistogram;
  /** Pages that went through a batch (the histogram accounts for exactly these). */
  pagesDone: number;
  /** Node (or -errno) of each page per its batch's re-query; pages not reached keep STATUS_NOT_REACHED. */
  after: Int32Array;
  /** Per page, one of PAGE_OUTCOME: what became of it. */
  outcome: Uint8Array;
  batches: number;
  elapsedMs: number;
  /** The error that failed the move, if any. */
  error: Error | null;
}

/** Marks pages of `after` that no batch reached (cancelled or failed before them). */
export const STATUS_NOT_REACHED = -0x7fffffff;

/** Per-page outcome codes of ExecuteMoveResult.outcome. */
export const PAGE_OUTCOME = {
  notReached: 0,
  onTarget: 1,
  /** Not resident (never touched, swapped out) or unmapped: nothing to move. */
  absent: 2,
  /** Failed for a reason that may pass (busy, batch aborted, changed under us): worth another try. */
  transient: 3,
  /** Failed for a reason another try will not fix soon (shared, target full, I/O, …). */
  permanent: 4,
} as const;

/** Histogram keys (otherFailures) that PAGE_OUTCOME.transient pages are counted under. */
export const TRANSIENT_FAILURE_KEYS: readonly string[] = ['EBUSY', 'unreported', 'changed-after-move'];

function outcomeOf(target: number, moveStatus: number, after: number): number {
  if (after === target) return PAGE_OUTCOME.onTarget;
  if (isAbsent(after)) return PAGE_OUTCOME.absent;
  switch (pageStatusKind(moveStatus)) {
    case 'busy':
    case 'unreported':
    case 'on-node':
      return PAGE_OUTCOME.transient;
    case 'not-present':
    case 'fault':
      return PAGE_OUTCOME.absent;
    case 'shared':
    case 'no-memory':
    case 'io':
    case 'invalid':
    case 'errno':
      return PAGE_OUTCOME.permanent;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export async function executeMove(options: ExecuteMoveOptions): Promise<ExecuteMoveResult> {
  const { pid, addresses, targets, pageSizeBytes } = options;
  const bridge = options.bridge ?? nativeBridge();
  const clock = options.clock ?? realClock;
  const flags = options.flags ?? MPOL_MF_MOVE;
  if (targets.length !== addresses.length) {
    throw new TierscopeError(
      'invalid-argument',
      `${addresses.length} addresses but ${targets.length} targets`,
    );
  }
  const planner = new BatchPlanner(options.planner);
  const limiter =
    options.rateBytesPerSecond != null && options.rateBytesPerSecond > 0
      ? new RateLimiter(options.rateBytesPerSecond, clock)
      : null;
  if (limiter) planner.capAt(Math.max(1, Math.floor(limiter.maxBatchBytes / pageSizeBytes)));

  const histogram = emptyHistogram();
  const after = new Int32Array(addresses.length).fill(STATUS_NOT_REACHED);
  const outcome = new Uint8Array(addresses.length);
  const t0 = clock.now();
  const total = addresses.length;
  let done = 0;
  let batches = 0;
  let bytesMoved = 0;
  const finish = (
    status: ExecuteMoveResult['status'],
    detail: string,
    error: Error | null = null,
  ): ExecuteMoveResult => ({
    status,
    detail,
    histogram,
    pagesDone: done,
    after,
    outcome,
    batches,
    elapsedMs: clock.now() - t0,
    error,
  });

  while (done < total) {
    if (options.signal?.aborted) {
      return finish(
        'cancelled',
        `cancelled by the user after ${batches} batches: ${done} of ${total} pages handled, ${total - done} not attempted`,
      );
    }
    const end = batchEnd(addresses, done, planner.next());
    const batchAddresses = addresses.subarray(done, end);
    const batchTargets = targets.subarray(done, end);
    const n = end - done;
    let reconciled;
    try {
      await bridge.checkIdentity(pid, options.startTimeTicks);
      const before = bridge.queryPageNodes(pid, batchAddresses, n);
      const tBatch = clock.now();
      const status = bridge.movePages(pid, batchAddresses, batchTargets, { flags, batchPages: n });
      planner.observe(n, clock.now() - tBatch);
      const now = bridge.queryPageNodes(pid, batchAddresses, n);
      reconciled = reconcileMove(batchTargets, status, now, before);
      after.set(now, done);
      for (let i = 0; i < n; i++)
        outcome[done + i] = outcomeOf(batchTargets[i] ?? -1, status[i] ?? 0, now[i] ?? -1);
    } catch (err) {
      const gone = await bridge.isGone(pid, options.startTimeTicks);
      const e = err instanceof Error ? err : new Error(String(err));
      const partial =
        err instanceof NumaSyscallError && err.completedPages > 0
          ? ' (part of the last batch may have moved)'
          : '';
      if (gone) {
        return finish(
          'failed',
          `process ${pid} exited (or its PID was reused) during the move: ${done} of ${total} pages were handled before${partial}`,
          new TierscopeError('process-gone', `process ${pid} exited during the move`, { cause: err }),
        );
      }
      return finish(
        'failed',
        `${errorText(err)}; ${done} of ${total} pages were handled before${partial}`,
        e,
      );
    }
    addReconciliation(histogram, reconciled);
    batches++;
    done = end;
    const copied = (reconciled.moved + reconciled.thpTailMovedWithHead) * pageSizeBytes;
    bytesMoved += copied;
    options.onProgress?.({
      batches,
      pagesDone: done,
      pagesTotal: total,
      bytesMoved,
      histogram,
      elapsedMs: clock.now() - t0,
      lastBatchPages: n,
      pagesPerMs: planner.rate,
    });
    // A full target fails every page with ENOMEM: stop rather than push the node into reclaim batch after batch.
    const full = reconciled.failedByReason['no-memory'] ?? 0;
    if (full > 0 && reconciled.moved + reconciled.thpTailMovedWithHead === 0) {
      return finish(
        'failed',
        `the target node is full: ${full} pages of the last batch found no free memory there; ${done} of ${total} pages handled`,
      );
    }
    if (limiter && done < total) {
      const wait = limiter.delayMs(copied);
      if (wait > 0) await clock.sleep(wait, options.signal);
    }
  }
  return finish('completed', `${total} pages in ${batches} batches`);
}
