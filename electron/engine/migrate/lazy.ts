/**
 * Lazy rebind: MPOL_MF_LAZY semantics from outside an unmodified kernel. The user marks a range for a
 * target node; a page of it moves only once a sampler sees it accessed after the rebind; pages nobody
 * touches stay where they are.
 *
 * The 2006 migrate-on-fault prototype (mbind(MPOL_MF_MOVE | MPOL_MF_LAZY)) unmapped the pages and let the
 * next fault migrate each one in the kernel's fault path, under the VMA's new policy. Mainline never
 * exposed the flag to user space, and no interface lets another process arm a fault on a page. Here a
 * page-granularity access source (idle_pages, or the idle page bitmap) is scanned every interval; pages
 * accessed since the previous scan are moved with move_pages. So a page moves one sampling interval (at
 * most) after its first touch instead of at the touch, and it is touched on its old node meanwhile; the
 * VMA's policy is not changed (new pages are still allocated under the old policy). docs/migration.md
 * compares the two in full.
 *
 * Each round: scan; pending pages seen accessed are moved (bounded batches, re-query, reconcile); pending
 * pages re-queried away (unmapped, swapped) or moved there by someone else leave the pending set. Ends when
 * nothing is pending (completed), at expiry (expired: untouched pages stay pending), on cancel, or when
 * the process goes away (failed).
 */
import type { AccessSourceId, Experiment, MoveHistogram } from '../../contract/index.js';
import { PAGE_ACCESSED, type AccessSource, type ScanVma } from '../access/source.js';
import { TierscopeError } from '../errors.js';
import { readVmas } from '../procfs/vmas.js';
import { realClock, type BatchPlannerOptions } from './batches.js';
import {
  checkedExperiment,
  identifyTarget,
  newExperimentId,
  pageSourceFor,
  timelineMs,
  type CommonOptions,
  type Target,
} from './context.js';
import {
  PAGE_OUTCOME,
  TRANSIENT_FAILURE_KEYS,
  bridgeQuery,
  executeMove,
  nativeBridge,
  type MoveBridge,
} from './execute.js';
import { emptyHistogram, isAbsent, mergeHistograms } from './histogram.js';
import { planMove, type MovePlan } from './moveExperiment.js';
import { checkTargetNode } from './nodes.js';
import { placementSnapshot } from './placement.js';
import { withClaim, type ExperimentRegistry } from './registry.js';
import { piecesToRanges, queryPieces, resolvePieces, type AddressRange, type Piece } from './selection.js';

export const DEFAULT_LAZY_INTERVAL_MS = 1000;

export interface LazyRebindOptions extends CommonOptions {
  pid: number;
  range: AddressRange;
  toNode: number;
  /** Give up on untouched pages after this long (null: until cancelled or all moved). */
  expireMs?: number | null;
  /** Sampling interval: the longest a touched page waits before it moves. */
  intervalMs?: number;
  rateBytesPerSecond?: number | null;
  /** The access source to watch with; default the finest page source available. Must report page granularity. */
  source?: AccessSource;
  registry?: ExperimentRegistry | null;
  planner?: BatchPlannerOptions;
  bridge?: MoveBridge;
  /** Stop once the plan is known: nothing is watched or moved (the result is a dry-run record). */
  dryRun?: boolean;
  /**
   * Called once the plan is known (pages that would move on touch, by current node), before watching
   * starts, with the experiment record as it stands then (status 'running').
   */
  onPlan?: (plan: MovePlan, running: Experiment) => void;
}

export interface LazyProgress {
  movedOnTouch: number;
  pending: number;
  failed: number;
  rounds: number;
  elapsedMs: number;
}

/**
 * The pending set of a lazy rebind: page addresses still waiting for their first touch, kept in address
 * order. Pure bookkeeping, separate from the I/O so it can be tested alone.
 */
export class PendingPages {
  private readonly index = new Map<bigint, number>();
  private readonly addresses: bigint[];
  private readonly alive: Uint8Array;
  private count: number;

  constructor(addresses: readonly bigint[]) {
    this.addresses = [...addresses].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    this.alive = new Uint8Array(this.addresses.length).fill(1);
    this.addresses.forEach((a, i) => this.index.set(a, i));
    this.count = this.addresses.length;
  }

  get size(): number {
    return this.count;
  }

  has(address: bigint): boolean {
    const i = this.index.get(address);
    return i !== undefined && this.alive[i] === 1;
  }

  remove(address: bigint): void {
    const i = this.index.get(address);
    if (i !== undefined && this.alive[i] === 1) {
      this.alive[i] = 0;
      this.count--;
    }
  }

  /** Pending addresses, ascending. */
  list(): BigUint64Array {
    const out = new BigUint64Array(this.count);
    let k = 0;
    this.addresses.forEach((a, i) => {
      if (this.alive[i] === 1) out[k++] = a;
    });
    return out;
  }

  /** Pending pages that `flags` (page flags of a scanned range starting at `start`) report accessed. */
  touched(start: bigint, flags: Uint8Array, pageSizeBytes: number): bigint[] {
    const out: bigint[] = [];
    const size = BigInt(pageSizeBytes);
    for (let i = 0; i < flags.length; i++) {
      if (flags[i] !== PAGE_ACCESSED) continue;
      const a = start + BigInt(i) * size;
      if (this.has(a)) out.push(a);
    }
    return out;
  }
}

export interface LazyRebindResult {
  experiment: Experiment;
  source: AccessSourceId;
}

export async function runLazyRebind(options: LazyRebindOptions): Promise<LazyRebindResult> {
  const { pid, toNode } = options;
  const target = await identifyTarget(pid, options);
  checkTargetNode(toNode, target.nodeSets);
  const vmas = await readVmas(pid, {
    pageSizeBytes: target.pageSizeBytes,
    ...(options.procRoot !== undefined ? { procRoot: options.procRoot } : {}),
  });
  const { pieces: bare, skipped } = resolvePieces(vmas, { range: options.range }, target.pageSizeBytes);
  const source = options.source ?? (await defaultSource(target, options));
  if (source.id === 'refs' || source.id === 'damon') {
    throw new TierscopeError(
      'unsupported',
      `a lazy rebind moves each page on its own first touch, so it needs page identity; the ${source.id} source has none (${source.id === 'refs' ? 'it counts referenced pages per VMA' : 'it reports address regions'}); use page_idle (root, CONFIG_IDLE_PAGE_TRACKING) or idle_pages`,
    );
  }
  const id = newExperimentId();
  return withClaim(
    options.registry,
    options.dryRun === true
      ? null
      : {
          id,
          kind: 'lazy-rebind',
          pid,
          startTimeTicks: target.process.startTimeTicks,
          ranges: piecesToRanges(bare),
        },
    () => rebindClaimed(options, target, id, bare, skipped, source),
  );
}

async function defaultSource(target: Target, options: LazyRebindOptions): Promise<AccessSource> {
  const { choice } = await pageSourceFor(target, options, 'a lazy rebind', true);
  if (!choice)
    throw new TierscopeError('unsupported', 'a lazy rebind needs a page-granularity access source');
  return choice.create();
}

async function rebindClaimed(
  options: LazyRebindOptions,
  target: Target,
  id: string,
  bare: { vma: Piece['vma']; start: bigint; end: bigint }[],
  skipped: string[],
  source: AccessSource,
): Promise<LazyRebindResult> {
  const { pid, toNode } = options;
  const pageSize = target.pageSizeBytes;
  const clock = options.clock ?? realClock;
  const bridge = options.bridge ?? nativeBridge(options.procRoot);
  const intervalMs = options.intervalMs ?? DEFAULT_LAZY_INTERVAL_MS;
  if (!Number.isInteger(intervalMs) || intervalMs < 10) {
    throw new TierscopeError('invalid-argument', `interval ${intervalMs} ms is too short: use 10 ms or more`);
  }
  const notes = [...skipped];
  let histogram: MoveHistogram = emptyHistogram();

  const pieces = queryPieces(pid, bare, null, pageSize, bridgeQuery(options.bridge));
  const size = BigInt(pageSize);
  const all: bigint[] = [];
  for (const p of pieces) for (let i = 0; i < p.status.length; i++) all.push(p.start + BigInt(i) * size);
  const selected = BigUint64Array.from(all);
  const statusBefore = concatStatus(pieces);
  const { plan: counted, moveIndices } = planMove(
    { addresses: selected, before: statusBefore, counts: null },
    toNode,
    pageSize,
  );
  histogram.alreadyThere = counted.alreadyThere;
  histogram.notPresent = counted.notPresent;
  const pending = new PendingPages(Array.from(moveIndices, (i) => selected[i] ?? 0n));
  const beforeAt = Date.now();
  const before = placementSnapshot({
    atMs: timelineMs(target, options, beforeAt),
    pageSizeBytes: pageSize,
    pieces,
    selected: statusBefore,
    selectedCounts: null,
    scansPerWindow: null,
  });

  const dryRun = options.dryRun === true;
  const plan: MovePlan = { ...counted, skipped, classesFrom: null };
  const record = (
    fields: Pick<Experiment, 'endedAt' | 'endMs' | 'status' | 'detail' | 'after'>,
  ): Experiment =>
    checkedExperiment({
      id,
      kind: 'lazy-rebind',
      pid,
      selection: { ranges: piecesToRanges(bare), hotness: null, topK: null, fromNodes: null },
      fromNodes: null,
      toNodes: [toNode],
      dryRun,
      rateLimitBytesPerSecond: options.rateBytesPerSecond ?? null,
      startedAt: new Date(target.startedAtMs).toISOString(),
      startMs: options.session ? timelineMs(target, options, target.startedAtMs) : null,
      pagesSelected: selected.length,
      histogram,
      pendingPages: pending.size,
      before,
      benchmark: null,
      ...fields,
    });
  options.onPlan?.(
    plan,
    record({
      endedAt: null,
      endMs: null,
      status: 'running',
      detail: `waiting for the first touch of ${pending.size} pages`,
      after: null,
    }),
  );
  if (dryRun) {
    const endAt = Date.now();
    return {
      experiment: record({
        endedAt: new Date(endAt).toISOString(),
        endMs: options.session ? timelineMs(target, options, endAt) : null,
        status: 'completed',
        detail: [
          `dry run: ${pending.size} pages would move to node ${toNode} on their next touch`,
          ...notes,
        ].join('; '),
        after: null,
      }),
      source: source.id,
    };
  }

  const scanVmas: ScanVma[] = bare.map((p, k) => ({ id: k, start: p.start, end: p.end }));
  const t0 = clock.now();
  let rounds = 0;
  let movedOnTouch = 0;
  let failed = 0;
  let status: Experiment['status'] = 'completed';
  let detail = '';
  const progress = (): void =>
    options.onEvent?.({
      phase: 'waiting',
      movedOnTouch,
      pending: pending.size,
      failed,
      rounds,
      elapsedMs: clock.now() - t0,
    });

  await source.start(scanVmas);
  try {
    while (pending.size > 0) {
      const expireLeft = options.expireMs != null ? options.expireMs - (clock.now() - t0) : Infinity;
      if (expireLeft <= 0) {
        status = 'expired';
        detail = `expired after ${Math.round((clock.now() - t0) / 1000)} s with ${pending.size} pages never touched (they stay where they are)`;
        break;
      }
      await clock.sleep(Math.min(intervalMs, expireLeft), options.signal);
      if (options.signal?.aborted) {
        status = 'cancelled';
        detail = `cancelled by the user: ${pending.size} pages still pending stay where they are`;
        break;
      }
      rounds++;
      try {
        await bridge.checkIdentity(pid, target.process.startTimeTicks);
      } catch (err) {
        status = 'failed';
        detail = `process ${pid} went away: ${err instanceof Error ? err.message : String(err)}`;
        break;
      }
      let scan;
      try {
        scan = await source.scan(scanVmas);
      } catch (err) {
        // A scan that fails because the process ended is the end of the rebind, recorded as failed.
        if (await bridge.isGone(pid, target.process.startTimeTicks)) {
          status = 'failed';
          detail = `process ${pid} exited during the rebind`;
          break;
        }
        throw err;
      }
      const touched: bigint[] = [];
      for (const a of scan.accesses) {
        const v = scanVmas[a.vmaId];
        if (!v) continue;
        if (a.granularity !== 'page') {
          throw new TierscopeError(
            'unsupported',
            `the ${source.id} source reported ${a.granularity} granularity; a lazy rebind needs pages`,
          );
        }
        touched.push(...pending.touched(v.start, a.flags, pageSize));
      }
      if (touched.length > 0) {
        touched.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
        const addresses = BigUint64Array.from(touched);
        const result = await executeMove({
          pid,
          startTimeTicks: target.process.startTimeTicks,
          addresses,
          targets: new Int32Array(addresses.length).fill(toNode),
          pageSizeBytes: pageSize,
          rateBytesPerSecond: options.rateBytesPerSecond ?? null,
          bridge,
          ...(options.planner ? { planner: options.planner } : {}),
          ...(options.clock ? { clock: options.clock } : {}),
        });
        // Pages on the target now, or gone, leave the pending set; transient failures (busy) stay for the
        // next touch; permanent ones (shared, target full, I/O) leave it, counted as failed.
        for (let i = 0; i < result.pagesDone; i++) {
          const o = result.outcome[i];
          if (o !== PAGE_OUTCOME.transient) pending.remove(addresses[i] ?? 0n);
          if (o === PAGE_OUTCOME.permanent) failed++;
        }
        movedOnTouch += result.histogram.moved + result.histogram.thpTailMovedWithHead;
        // Transient failures are not outcomes yet: those pages stay pending.
        const otherFailures = Object.fromEntries(
          Object.entries(result.histogram.otherFailures).filter(([k]) => !TRANSIENT_FAILURE_KEYS.includes(k)),
        );
        histogram = mergeHistograms(histogram, { ...result.histogram, otherFailures });
        if (result.status === 'failed') {
          status = 'failed';
          detail = result.detail;
          break;
        }
      }
      // Pages unmapped or swapped out meanwhile, or moved to the target by someone else, are no longer pending.
      sweep(pending, bridge, pid, toNode, histogram);
      progress();
    }
    if (status === 'completed')
      detail = `every page of the range was touched and moved (${rounds} rounds of ${intervalMs} ms)`;
  } finally {
    await source.stop();
  }

  options.onEvent?.({ phase: 'verifying' });
  let after = null;
  if (status !== 'failed') {
    try {
      const now = bridge.queryPageNodes(pid, selected, 16384);
      after = placementSnapshot({
        atMs: timelineMs(target, options, Date.now()),
        pageSizeBytes: pageSize,
        pieces: [],
        selected: now,
        selectedCounts: null,
        scansPerWindow: null,
      });
    } catch (err) {
      notes.push(`after-placement not read: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const endAt = Date.now();
  const experiment = record({
    endedAt: new Date(endAt).toISOString(),
    endMs: options.session ? timelineMs(target, options, endAt) : null,
    status,
    detail: [
      `${movedOnTouch} pages moved on touch, ${pending.size} pending, ${failed} failed; ${detail}`,
      ...notes,
    ].join('; '),
    after,
  });
  return { experiment, source: source.id };
}

function sweep(
  pending: PendingPages,
  bridge: MoveBridge,
  pid: number,
  toNode: number,
  histogram: MoveHistogram,
): void {
  if (pending.size === 0) return;
  const list = pending.list();
  let status: Int32Array;
  try {
    status = bridge.queryPageNodes(pid, list, 16384);
  } catch {
    return; // the next round's identity check reports a vanished process
  }
  status.forEach((s, i) => {
    const a = list[i] ?? 0n;
    if (s === toNode) {
      pending.remove(a);
      histogram.alreadyThere++;
    } else if (isAbsent(s)) {
      pending.remove(a);
      histogram.notPresent++;
    }
  });
}

function concatStatus(pieces: readonly Piece[]): Int32Array {
  let n = 0;
  for (const p of pieces) n += p.status.length;
  const out = new Int32Array(n);
  let at = 0;
  for (const p of pieces) {
    out.set(p.status, at);
    at += p.status.length;
  }
  return out;
}
