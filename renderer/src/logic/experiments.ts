// Experiments as timeline annotations: where a band goes and what its tooltip says (the before/after
// placement of Experiment.before/after). The experiments list itself belongs to the migration panel.
import type { Experiment, PlacementSnapshot } from '../../../electron/contract/index.js';
import { formatBytes, formatCount, formatPercent } from './format.js';
import type { TimeBounds } from './timeScale.js';

export interface ExperimentBand {
  id: string;
  fromMs: number;
  /** A running experiment reaches to the session's end. */
  toMs: number;
  label: string;
  status: Experiment['status'];
  /** Tooltip lines: what moved where and the before/after deltas. */
  lines: readonly string[];
}

export type PlacementMeasure = 'selection' | 'hot' | 'cold';

export interface NodeDelta {
  measure: PlacementMeasure;
  node: number;
  beforeBytes: number;
  afterBytes: number;
  deltaBytes: number;
}

function byNode(s: PlacementSnapshot, measure: PlacementMeasure): Readonly<Record<string, number>> {
  switch (measure) {
    case 'selection':
      return s.selectionBytesByNode;
    case 'hot':
      return s.hotBytesByNode;
    case 'cold':
      return s.coldBytesByNode;
  }
}

/** Per node and measure, bytes before and after; only the pairs that changed. Empty without both snapshots. */
export function placementDeltas(exp: Pick<Experiment, 'before' | 'after'>): NodeDelta[] {
  const { before, after } = exp;
  if (!before || !after) return [];
  const out: NodeDelta[] = [];
  for (const measure of ['selection', 'hot', 'cold'] as const) {
    const b = byNode(before, measure);
    const a = byNode(after, measure);
    const nodes = [...new Set([...Object.keys(b), ...Object.keys(a)])].map(Number).sort((x, y) => x - y);
    for (const node of nodes) {
      const beforeBytes = b[String(node)] ?? 0;
      const afterBytes = a[String(node)] ?? 0;
      if (beforeBytes !== afterBytes) {
        out.push({ measure, node, beforeBytes, afterBytes, deltaBytes: afterBytes - beforeBytes });
      }
    }
  }
  return out;
}

function signedBytes(bytes: number): string {
  return `${bytes > 0 ? '+' : bytes < 0 ? '−' : '±'}${formatBytes(Math.abs(bytes))}`;
}

const MEASURE_LABEL: Record<PlacementMeasure, string> = {
  selection: 'selection',
  hot: 'hot',
  cold: 'cold',
};

/** "promote → N0", "lazy rebind → N2", "migrate process → N0,1". */
export function experimentLabel(exp: Pick<Experiment, 'kind' | 'toNodes' | 'dryRun'>): string {
  const to = `N${exp.toNodes.join(',')}`;
  const kind =
    exp.kind === 'move-pages' ? 'move' : exp.kind === 'lazy-rebind' ? 'lazy rebind' : 'migrate process';
  return `${exp.dryRun ? 'dry run: ' : ''}${kind} → ${to}`;
}

/** The tooltip of an experiment's band, one fact per line. */
export function experimentLines(exp: Experiment): string[] {
  const lines = [`${experimentLabel(exp)} · ${exp.status}${exp.detail ? ` (${exp.detail})` : ''}`];
  const h = exp.histogram;
  lines.push(
    `moved ${formatCount(h.moved)} of ${formatCount(exp.pagesSelected)} pages` +
      (h.alreadyThere > 0 ? `, ${formatCount(h.alreadyThere)} already there` : '') +
      (exp.pendingPages > 0 ? `, ${formatCount(exp.pendingPages)} waiting for a touch` : ''),
  );
  const deltas = placementDeltas(exp);
  if (deltas.length === 0)
    lines.push(exp.before && exp.after ? 'placement unchanged' : 'no before/after measure');
  for (const d of deltas) {
    lines.push(
      `${MEASURE_LABEL[d.measure]} on N${d.node}: ${formatBytes(d.beforeBytes)} → ${formatBytes(d.afterBytes)} (${signedBytes(d.deltaBytes)})`,
    );
  }
  const rateBefore = exp.before?.selectionAccessRate ?? null;
  const rateAfter = exp.after?.selectionAccessRate ?? null;
  if (rateBefore !== null || rateAfter !== null) {
    lines.push(`accessed per scan: ${formatPercent(rateBefore)} → ${formatPercent(rateAfter)}`);
  }
  const bench = exp.benchmark;
  if (bench && (bench.before !== null || bench.after !== null)) {
    const change =
      bench.before !== null && bench.after !== null && bench.before !== 0
        ? ` (${bench.after >= bench.before ? '+' : '−'}${formatPercent(Math.abs(bench.after - bench.before) / Math.abs(bench.before))})`
        : '';
    lines.push(`benchmark: ${bench.before ?? '—'} → ${bench.after ?? '—'}${change}`);
  }
  return lines;
}

/** Bands of the experiments placed on the session's time axis (those with a start time), by start. */
export function experimentBands(experiments: readonly Experiment[], bounds: TimeBounds): ExperimentBand[] {
  const out: ExperimentBand[] = [];
  for (const exp of experiments) {
    if (exp.startMs === null) continue;
    const fromMs = exp.startMs;
    const toMs = Math.max(fromMs, exp.endMs ?? bounds.maxMs);
    out.push({
      id: exp.id,
      fromMs,
      toMs,
      label: experimentLabel(exp),
      status: exp.status,
      lines: experimentLines(exp),
    });
  }
  return out.sort((a, b) => a.fromMs - b.fromMs);
}
