/**
 * Promote / demote: move a selection of pages (VMA, range, hotness class, current node) to one node with
 * move_pages, as an experiment — measured before, moved in bounded batches, verified by re-query,
 * measured after, recorded.
 *
 * Order: identify the target and check the node → claim the pages (no overlapping experiment) →
 * benchmark (before) → page classes (live N-scan measurement, or a session's) → query where every page
 * is → select → plan (per node) and check the target has room → move (or stop here for a dry run) →
 * re-query → measure again → benchmark (after). Every refusal happens before the first page moves.
 */
import type { CountByNode, Experiment, MoveHistogram } from '../../contract/index.js';
import { readVmas } from '../procfs/vmas.js';
import { TierscopeError } from '../errors.js';
import type { BatchPlannerOptions } from './batches.js';
import {
  benchmarkPhase,
  checkedExperiment,
  identifyTarget,
  measureLive,
  newExperimentId,
  pageSourceFor,
  timelineMs,
  type CommonOptions,
  type Target,
} from './context.js';
import { bridgeQuery, executeMove, type MoveBridge } from './execute.js';
import { emptyHistogram, mergeHistograms } from './histogram.js';
import type { PageCounts } from './measure.js';
import { checkSourceNodes, checkTargetNode, checkTargetRoom } from './nodes.js';
import { placementSnapshot } from './placement.js';
import { withClaim, type ExperimentRegistry } from './registry.js';
import {
  piecesToRanges,
  queryPieces,
  resolvePieces,
  selectPages,
  type Piece,
  type PlannedPages,
  type SelectionRequest,
} from './selection.js';

export interface Measurement {
  scans: number;
  intervalMs: number;
}

export const DEFAULT_MEASUREMENT: Measurement = { scans: 3, intervalMs: 1000 };

export interface MoveExperimentOptions extends CommonOptions {
  pid: number;
  selection: SelectionRequest;
  toNode: number;
  rateBytesPerSecond?: number | null;
  dryRun?: boolean;
  /** Move even when the target looks too full for the selection. */
  force?: boolean;
  /** Page classes from a recorded session; without them, classes are measured live when a sampler exists. */
  classes?: PageCounts | null;
  /** Live measurement settings, or false to never measure (then hotness filters need `classes`). */
  measurement?: Measurement | false;
  /** Measure again after the move (default true when the classes were measured live). */
  measureAfter?: boolean;
  benchmark?: { command: string; timeoutMs?: number } | null;
  /** null: do not register (callers that hold their own claim); default: the machine-wide registry. */
  registry?: ExperimentRegistry | null;
  planner?: BatchPlannerOptions;
  bridge?: MoveBridge;
  /**
   * Called once the plan is known and every check passed, before anything moves (a dry run ends right
   * after it), with the experiment record as it stands then (status 'running').
   */
  onPlan?: (plan: MovePlan, running: Experiment) => void;
}

/** What would move, per node: the dry run's answer, also returned by real runs. */
export interface MovePlan {
  pagesSelected: number;
  /** Pages that would move, by the node they are on now (pages, decimal node keys). */
  toMoveByNode: CountByNode;
  bytesToMove: number;
  alreadyThere: number;
  notPresent: number;
  /** VMAs the selection overlapped but could not include, with why. */
  skipped: string[];
  /** Where the page classes came from, or null when none were used or measured. */
  classesFrom: string | null;
}

export interface MoveExperimentResult {
  experiment: Experiment;
  plan: MovePlan;
}

/** Splits the selection into pages to move and the ones that need nothing (already there, absent). */
export function planMove(
  picked: PlannedPages,
  toNode: number,
  pageSizeBytes: number,
): {
  plan: Omit<MovePlan, 'skipped' | 'classesFrom'>;
  moveIndices: Uint32Array;
} {
  const toMoveByNode: CountByNode = {};
  const moveIndices: number[] = [];
  let alreadyThere = 0;
  let notPresent = 0;
  for (let i = 0; i < picked.before.length; i++) {
    const s = picked.before[i] ?? 0;
    if (s === toNode) alreadyThere++;
    else if (s < 0)
      notPresent++; // absent, or a status no move can change
    else {
      moveIndices.push(i);
      toMoveByNode[String(s)] = (toMoveByNode[String(s)] ?? 0) + 1;
    }
  }
  return {
    plan: {
      pagesSelected: picked.before.length,
      toMoveByNode,
      bytesToMove: moveIndices.length * pageSizeBytes,
      alreadyThere,
      notPresent,
    },
    moveIndices: Uint32Array.from(moveIndices),
  };
}

function gather(values: BigUint64Array, indices: Uint32Array): BigUint64Array {
  const out = new BigUint64Array(indices.length);
  indices.forEach((i, k) => (out[k] = values[i] ?? 0n));
  return out;
}

export async function runMoveExperiment(options: MoveExperimentOptions): Promise<MoveExperimentResult> {
  const { pid, toNode, selection } = options;
  const target = await identifyTarget(pid, options);
  checkTargetNode(toNode, target.nodeSets);
  if (selection.fromNodes) checkSourceNodes(selection.fromNodes, target.nodeSets);
  const hotness = selection.hotness ?? null;
  const dryRun = options.dryRun === true;

  const vmas = await readVmas(pid, {
    pageSizeBytes: target.pageSizeBytes,
    ...(options.procRoot !== undefined ? { procRoot: options.procRoot } : {}),
  });
  const { pieces: bare, skipped } = resolvePieces(vmas, selection, target.pageSizeBytes);

  // Page classes: the caller's (a session), else a live measurement when a page sampler exists (required
  // for a hotness filter, optional otherwise: it only feeds the before/after snapshots).
  const classes: PageCounts | null = options.classes ?? null;
  const wantLive = classes === null && options.measurement !== false;
  const source = wantLive
    ? await pageSourceFor(
        target,
        options,
        `selecting ${hotness ?? ''} pages`.replace('  ', ' '),
        hotness !== null,
      )
    : { choice: null, why: '' };
  if (hotness !== null && classes === null && source.choice === null) {
    throw new TierscopeError(
      'invalid-argument',
      `--${hotness} needs page classes: pass --session FILE (a recording of this process) or allow a live measurement`,
    );
  }
  const measuring = source.choice !== null;

  const id = newExperimentId();
  return withClaim(
    options.registry,
    dryRun && !measuring
      ? null
      : {
          id,
          kind: 'move-pages',
          pid,
          startTimeTicks: target.process.startTimeTicks,
          ranges: piecesToRanges(bare),
        },
    () => runClaimed(options, target, bare, skipped, classes, source.choice, source.why, id),
  );
}

async function runClaimed(
  options: MoveExperimentOptions,
  target: Target,
  bare: { vma: Piece['vma']; start: bigint; end: bigint }[],
  skipped: string[],
  sessionClasses: PageCounts | null,
  choice: Awaited<ReturnType<typeof pageSourceFor>>['choice'],
  noSamplerWhy: string,
  id: string,
): Promise<MoveExperimentResult> {
  const { pid, toNode, selection } = options;
  const pageSize = target.pageSizeBytes;
  const hotness = selection.hotness ?? null;
  const dryRun = options.dryRun === true;
  const measurement = options.measurement === false ? null : (options.measurement ?? DEFAULT_MEASUREMENT);
  const notes: string[] = [...skipped];
  const now = (): number => Date.now();

  const benchBefore = await benchmarkPhase(options, 'before', notes);

  let classes = sessionClasses;
  let liveBefore = false;
  if (classes === null && choice !== null && measurement !== null) {
    const m = await measureLive(choice, bare, measurement, target, options, 'before');
    if (m.scans === 0)
      throw new TierscopeError(
        'invalid-argument',
        'cancelled before the first scan: nothing was measured or moved',
      );
    classes = m.counts;
    liveBefore = true;
  } else if (classes === null && noSamplerWhy) {
    notes.push('hot/cold placement not measured: no per-page sampler here');
  }
  const beforeAt = now();
  const pieces = queryPieces(pid, bare, classes, pageSize, bridgeQuery(options.bridge));
  const picked = selectPages(
    pieces,
    {
      hotness,
      topKPages: selection.topKPages ?? null,
      fromNodes: selection.fromNodes ?? null,
      scansPerWindow: classes?.scansPerWindow ?? 0,
    },
    pageSize,
  );
  const { plan: basePlan, moveIndices } = planMove(picked, toNode, pageSize);
  const plan: MovePlan = { ...basePlan, skipped, classesFrom: classes?.origin ?? null };
  const scansPerWindow = classes?.scansPerWindow ?? null;
  const before = placementSnapshot({
    atMs: timelineMs(target, options, beforeAt),
    pageSizeBytes: pageSize,
    pieces,
    selected: picked.before,
    selectedCounts: picked.counts,
    scansPerWindow,
  });

  const base = {
    id,
    kind: 'move-pages' as const,
    pid,
    selection: {
      ranges: piecesToRanges(bare),
      hotness,
      topK: hotness === 'top-k' ? (selection.topKPages ?? null) : null,
      fromNodes: selection.fromNodes ? [...selection.fromNodes] : null,
    },
    fromNodes: selection.fromNodes ? [...selection.fromNodes] : null,
    toNodes: [toNode],
    dryRun,
    rateLimitBytesPerSecond: options.rateBytesPerSecond ?? null,
    startedAt: new Date(target.startedAtMs).toISOString(),
    startMs: options.session ? timelineMs(target, options, target.startedAtMs) : null,
    pagesSelected: plan.pagesSelected,
    pendingPages: 0,
    before,
  };
  const fixed: MoveHistogram = {
    ...emptyHistogram(),
    alreadyThere: plan.alreadyThere,
    notPresent: plan.notPresent,
  };

  // The record as it stands once the plan is known, for a UI to show while the move goes on.
  const running = (): Experiment =>
    checkedExperiment({
      ...base,
      endedAt: null,
      endMs: null,
      status: 'running',
      detail: dryRun ? 'dry run' : `moving ${moveIndices.length} pages to node ${toNode}`,
      histogram: fixed,
      after: null,
      benchmark: options.benchmark
        ? { command: options.benchmark.command, before: benchBefore?.value ?? null, after: null }
        : null,
    });

  if (dryRun) {
    options.onPlan?.(plan, running());
    const endAt = now();
    const experiment = checkedExperiment({
      ...base,
      endedAt: new Date(endAt).toISOString(),
      endMs: options.session ? timelineMs(target, options, endAt) : null,
      status: 'completed',
      detail: [`dry run: ${moveIndices.length} pages would move to node ${toNode}`, ...notes].join('; '),
      histogram: fixed,
      after: null,
      benchmark: options.benchmark
        ? { command: options.benchmark.command, before: benchBefore?.value ?? null, after: null }
        : null,
    });
    return { experiment, plan };
  }

  await checkTargetRoom(toNode, plan.bytesToMove, {
    ...(options.sysRoot !== undefined ? { sysRoot: options.sysRoot } : {}),
    ...(options.force !== undefined ? { force: options.force } : {}),
  });
  options.onPlan?.(plan, running());
  const addresses = gather(picked.addresses, moveIndices);
  const result = await executeMove({
    pid,
    startTimeTicks: target.process.startTimeTicks,
    addresses,
    targets: new Int32Array(addresses.length).fill(toNode),
    pageSizeBytes: pageSize,
    rateBytesPerSecond: options.rateBytesPerSecond ?? null,
    onProgress: (progress) => options.onEvent?.({ phase: 'moving', progress }),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.planner ? { planner: options.planner } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.bridge ? { bridge: options.bridge } : {}),
  });
  const histogram = mergeHistograms(fixed, result.histogram);

  // Verify: where is everything now (a fresh query, not the batches' re-queries), and how hot.
  options.onEvent?.({ phase: 'verifying' });
  let after = null;
  const gone = result.error instanceof TierscopeError && result.error.code === 'process-gone';
  if (!gone) {
    try {
      let afterClasses = classes;
      let afterScans = scansPerWindow;
      if (
        liveBefore &&
        choice !== null &&
        measurement !== null &&
        options.measureAfter !== false &&
        result.status === 'completed'
      ) {
        const m = await measureLive(choice, bare, measurement, target, options, 'after');
        if (m.scans > 0) {
          afterClasses = m.counts;
          afterScans = m.counts.scansPerWindow;
        }
      }
      const afterAt = now();
      const afterPieces = queryPieces(pid, bare, afterClasses, pageSize, bridgeQuery(options.bridge));
      const selectedNow = requery(afterPieces, picked.addresses, pageSize);
      after = placementSnapshot({
        atMs: timelineMs(target, options, afterAt),
        pageSizeBytes: pageSize,
        pieces: afterPieces,
        selected: selectedNow,
        selectedCounts: afterClasses ? countsAt(afterPieces, picked.addresses, pageSize) : null,
        scansPerWindow: afterScans,
      });
    } catch (err) {
      notes.push(`after-placement not measured: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  const benchAfter = result.status === 'completed' ? await benchmarkPhase(options, 'after', notes) : null;

  const endAt = now();
  const experiment = checkedExperiment({
    ...base,
    endedAt: new Date(endAt).toISOString(),
    endMs: options.session ? timelineMs(target, options, endAt) : null,
    status: result.status,
    detail: [result.detail, ...notes].join('; '),
    histogram,
    after,
    benchmark: options.benchmark
      ? {
          command: options.benchmark.command,
          before: benchBefore?.value ?? null,
          after: benchAfter?.value ?? null,
        }
      : null,
  });
  return { experiment, plan };
}

/** Locates each address in the pieces (ascending both) and returns its status there. */
function requery(pieces: readonly Piece[], addresses: BigUint64Array, pageSizeBytes: number): Int32Array {
  const out = new Int32Array(addresses.length);
  const size = BigInt(pageSizeBytes);
  let k = 0;
  addresses.forEach((a, i) => {
    while (k < pieces.length && (pieces[k]?.end ?? 0n) <= a) k++;
    const p = pieces[k];
    out[i] = p && p.start <= a ? (p.status[Number((a - p.start) / size)] ?? -1) : -1;
  });
  return out;
}

function countsAt(pieces: readonly Piece[], addresses: BigUint64Array, pageSizeBytes: number): Int16Array {
  const out = new Int16Array(addresses.length).fill(-1);
  const size = BigInt(pageSizeBytes);
  let k = 0;
  addresses.forEach((a, i) => {
    while (k < pieces.length && (pieces[k]?.end ?? 0n) <= a) k++;
    const p = pieces[k];
    if (p?.counts && p.start <= a) out[i] = p.counts[Number((a - p.start) / size)] ?? -1;
  });
  return out;
}
