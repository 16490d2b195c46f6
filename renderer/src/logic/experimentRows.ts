// What the migration panel and the experiments list show of an experiment: the dry-run plan, progress,
// the per-page result histogram, and one row per experiment. Timeline bands and before/after deltas are
// in experiments.ts (shared with the session views).
import type {
  Experiment,
  ExperimentProgress,
  MigrationPlan,
  MoveHistogram,
} from '../../../electron/contract/index.js';
import { experimentLabel, placementDeltas } from './experiments.js';
import { formatBytes, formatCount, formatDurationMs } from './format.js';
import type { Viewport } from './timeScale.js';

export type HistogramKey =
  'moved' | 'alreadyThere' | 'thpTailMovedWithHead' | 'shared' | 'targetFull' | 'notPresent' | 'other';

export interface HistogramRow {
  key: HistogramKey;
  label: string;
  pages: number;
  /** Share of all pages accounted for, 0..1 (0 when the histogram is empty). */
  share: number;
  /** Failure rows; the others are outcomes that are fine. */
  failure: boolean;
  /** Extra words: the errno names behind 'other', what 'shared' needs. */
  detail: string;
}

/** The histogram in a fixed order, every row present (zeros included) so before/after tables align. */
export function histogramRows(h: MoveHistogram): HistogramRow[] {
  const otherEntries = Object.entries(h.otherFailures).filter(([, n]) => n > 0);
  const other = otherEntries.reduce((sum, [, n]) => sum + n, 0);
  const rows: Omit<HistogramRow, 'share'>[] = [
    { key: 'moved', label: 'moved', pages: h.moved, failure: false, detail: '' },
    { key: 'alreadyThere', label: 'already there', pages: h.alreadyThere, failure: false, detail: '' },
    {
      key: 'thpTailMovedWithHead',
      label: 'THP tail (moved with head)',
      pages: h.thpTailMovedWithHead,
      failure: false,
      detail: 'tail pages of a transparent huge page report EBUSY while the whole folio moves',
    },
    {
      key: 'shared',
      label: 'shared',
      pages: h.shared,
      failure: true,
      detail: 'mapped by several processes: moving them needs MPOL_MF_MOVE_ALL (CAP_SYS_NICE)',
    },
    {
      key: 'targetFull',
      label: 'target full',
      pages: h.targetFull,
      failure: true,
      detail: 'the target node ran out of memory',
    },
    {
      key: 'notPresent',
      label: 'not present',
      pages: h.notPresent,
      failure: false,
      detail: 'not resident: nothing to move',
    },
    {
      key: 'other',
      label: 'other',
      pages: other,
      failure: true,
      detail: otherEntries
        .sort((a, b) => b[1] - a[1])
        .map(([errno, n]) => `${errno} ${formatCount(n)}`)
        .join(', '),
    },
  ];
  const total = rows.reduce((sum, r) => sum + r.pages, 0);
  return rows.map((r) => ({ ...r, share: total > 0 ? r.pages / total : 0 }));
}

export interface PlanNodeRow {
  node: number;
  pages: number;
}

export interface PlanSummary {
  pagesSelected: number;
  bytesToMove: number;
  /** Pages that would move, per node they are on now, by node id. */
  toMoveByNode: PlanNodeRow[];
  pagesToMove: number;
  alreadyThere: number;
  notPresent: number;
  skipped: readonly string[];
  classesFrom: string | null;
}

export function planSummary(plan: MigrationPlan): PlanSummary {
  const toMoveByNode = Object.entries(plan.toMoveByNode)
    .map(([node, pages]) => ({ node: Number(node), pages }))
    .filter((r) => r.pages > 0)
    .sort((a, b) => a.node - b.node);
  return {
    pagesSelected: plan.pagesSelected,
    bytesToMove: plan.bytesToMove,
    toMoveByNode,
    pagesToMove: toMoveByNode.reduce((sum, r) => sum + r.pages, 0),
    alreadyThere: plan.alreadyThere,
    notPresent: plan.notPresent,
    skipped: plan.skipped,
    classesFrom: plan.classesFrom,
  };
}

const PHASE_LABELS: Record<ExperimentProgress['phase'], string> = {
  benchmark: 'running the benchmark',
  measuring: 'measuring page classes',
  moving: 'moving',
  waiting: 'waiting for touches',
  verifying: 'verifying',
};

/** Done / total for the progress bar; null when the phase has no known total (an indeterminate bar). */
export function progressFraction(p: Pick<ExperimentProgress, 'pagesDone' | 'pagesTotal'>): number | null {
  if (p.pagesTotal <= 0) return null;
  return Math.min(1, Math.max(0, p.pagesDone / p.pagesTotal));
}

/** "moving · 1,024 / 4,096 pages · 210 MB/s" (plus pages still waiting, for a lazy rebind). */
export function formatExperimentProgress(p: ExperimentProgress): string {
  const parts = [PHASE_LABELS[p.phase]];
  if (p.pagesTotal > 0) parts.push(`${formatCount(p.pagesDone)} / ${formatCount(p.pagesTotal)} pages`);
  if (p.bytesPerSecond > 0) parts.push(formatMBps(p.bytesPerSecond));
  if (p.pendingPages > 0) parts.push(`${formatCount(p.pendingPages)} waiting for a touch`);
  return parts.join(' · ');
}

/** Bytes per second as MB/s (10^6, as the rate field and `tierscope migrate --rate`). */
export function formatMBps(bytesPerSecond: number): string {
  const mbps = bytesPerSecond / 1e6;
  return `${mbps >= 100 ? Math.round(mbps) : mbps.toFixed(1)} MB/s`;
}

export interface ExperimentRow {
  id: string;
  /** "move → N0", "lazy rebind → N2". */
  label: string;
  kind: Experiment['kind'];
  selection: string;
  target: string;
  status: Experiment['status'];
  moved: number;
  selected: number;
  durationMs: number | null;
  /** "hot on N0 +64.0 MiB, hot on N2 −64.0 MiB" (the largest changes first), or why there is none. */
  deltas: string;
  /** Where it sits on the open session's time axis; null outside a session or in another session. */
  span: { fromMs: number; toMs: number | null } | null;
  /** Ended in this run of the UI. */
  thisRun: boolean;
  /** Recorded in a session other than the open one (its path), or in none (null with span null). */
  otherSession: string | null;
  detail: string;
}

function selectionText(e: Experiment): string {
  const ranges = e.selection.ranges.length;
  const where = ranges === 0 ? 'whole process' : ranges === 1 ? '1 range' : `${ranges} ranges`;
  const which =
    e.selection.hotness === 'top-k'
      ? `top ${formatCount(e.selection.topK ?? 0)} pages`
      : e.selection.hotness === null
        ? 'all pages'
        : `${e.selection.hotness} pages`;
  const from = e.selection.fromNodes ? ` on N${e.selection.fromNodes.join(',')}` : '';
  return `${where}, ${which}${from}`;
}

function durationOf(e: Experiment): number | null {
  if (e.endedAt === null) return null;
  const ms = Date.parse(e.endedAt) - Date.parse(e.startedAt);
  return Number.isFinite(ms) && ms >= 0 ? ms : null;
}

function signed(bytes: number): string {
  return `${bytes > 0 ? '+' : bytes < 0 ? '−' : '±'}${formatBytes(Math.abs(bytes))}`;
}

export function deltasText(e: Pick<Experiment, 'before' | 'after'>, limit = 4): string {
  if (!e.before || !e.after) return 'not measured';
  // Hot and cold bytes say what the move did for the workload; the selection's own bytes only when
  // classes were not measured.
  const all = placementDeltas(e);
  const classes = all.filter((d) => d.measure !== 'selection');
  const deltas = (classes.length > 0 ? classes : all).sort(
    (a, b) => Math.abs(b.deltaBytes) - Math.abs(a.deltaBytes),
  );
  if (deltas.length === 0) return 'unchanged';
  const shown = deltas.slice(0, limit).map((d) => `${d.measure} N${d.node} ${signed(d.deltaBytes)}`);
  return deltas.length > limit ? `${shown.join(', ')}, …` : shown.join(', ');
}

export interface KnownExperiment {
  experiment: Experiment;
  thisRun: boolean;
  /** Recorded in the session open now (its times are on that session's axis). */
  inOpenSession: boolean;
  /** The session it was recorded in, when known and not the open one. */
  otherSession: string | null;
}

export function experimentRow(known: KnownExperiment): ExperimentRow {
  const e = known.experiment;
  return {
    id: e.id,
    label: experimentLabel(e),
    kind: e.kind,
    selection: selectionText(e),
    target: `N${e.toNodes.join(',')}${e.fromNodes ? ` from N${e.fromNodes.join(',')}` : ''}`,
    status: e.status,
    moved: e.histogram.moved,
    selected: e.pagesSelected,
    durationMs: durationOf(e),
    deltas: deltasText(e),
    span: e.startMs === null || !known.inOpenSession ? null : { fromMs: e.startMs, toMs: e.endMs },
    thisRun: known.thisRun,
    otherSession: known.otherSession,
    detail: e.detail,
  };
}

/**
 * The open session's experiments and those ended in this run, once each (by id; the run's final record
 * wins while the session still shows it running), newest first.
 */
export function mergeExperiments(
  fromSession: readonly Experiment[],
  openSessionPath: string | null,
  fromRun: readonly { experiment: Experiment; sessionPath: string | null }[],
): KnownExperiment[] {
  const byId = new Map<string, KnownExperiment>();
  for (const e of fromSession) {
    byId.set(e.id, { experiment: e, thisRun: false, inOpenSession: true, otherSession: null });
  }
  for (const { experiment, sessionPath } of fromRun) {
    const known = byId.get(experiment.id);
    if (known && known.experiment.status !== 'running') {
      byId.set(experiment.id, { ...known, thisRun: true });
      continue;
    }
    const inOpenSession = known !== undefined || (sessionPath !== null && sessionPath === openSessionPath);
    byId.set(experiment.id, {
      experiment,
      thisRun: true,
      inOpenSession,
      otherSession: inOpenSession ? null : sessionPath,
    });
  }
  return [...byId.values()].sort((a, b) => b.experiment.startedAt.localeCompare(a.experiment.startedAt));
}

/**
 * The viewport that shows an experiment with some context: its span plus half of it on each side, at
 * least `minPadMs` (a few intervals) so an instant move is not a hairline. A running experiment reaches
 * `sessionEndMs`.
 */
export function experimentViewport(
  span: { fromMs: number; toMs: number | null },
  sessionEndMs: number,
  minPadMs: number,
): Viewport {
  const toMs = Math.max(span.fromMs, span.toMs ?? sessionEndMs);
  const pad = Math.max(minPadMs, (toMs - span.fromMs) / 2);
  return { fromMs: Math.max(0, span.fromMs - pad), toMs: toMs + pad };
}

export function formatExperimentDuration(ms: number | null): string {
  return ms === null ? 'running' : formatDurationMs(ms);
}

export interface PlacementRow {
  node: number;
  selectionBefore: number;
  selectionAfter: number;
  hotBefore: number;
  hotAfter: number;
  coldBefore: number;
  coldAfter: number;
}

/**
 * Before and after, per node: the selection's bytes and the hot and cold bytes (every node either
 * snapshot mentions, by id); empty when the experiment was not measured on both sides.
 */
export function placementTable(e: Pick<Experiment, 'before' | 'after'>): PlacementRow[] {
  const { before, after } = e;
  if (!before || !after) return [];
  const ids = new Set<string>();
  for (const s of [before, after]) {
    for (const m of [s.selectionBytesByNode, s.hotBytesByNode, s.coldBytesByNode]) {
      for (const k of Object.keys(m)) ids.add(k);
    }
  }
  return [...ids]
    .map(Number)
    .sort((a, b) => a - b)
    .map((node) => {
      const k = String(node);
      return {
        node,
        selectionBefore: before.selectionBytesByNode[k] ?? 0,
        selectionAfter: after.selectionBytesByNode[k] ?? 0,
        hotBefore: before.hotBytesByNode[k] ?? 0,
        hotAfter: after.hotBytesByNode[k] ?? 0,
        coldBefore: before.coldBytesByNode[k] ?? 0,
        coldAfter: after.coldBytesByNode[k] ?? 0,
      };
    });
}
