// Misplacement per VMA: hot bytes on the slow tier (they would run faster promoted) and cold bytes on the
// fast tier (they take room hot pages could use), ranked by what a migration would gain — the bytes that
// would end up on the right tier. Tiers as `tierscope report` decides them (electron/engine/report.ts).
import type { SessionView, SessionVmaSummary, Topology } from '../../../electron/contract/index.js';
import { addressSortKey } from './format.js';

export interface TierSplit {
  fastNodes: readonly number[];
  slowNodes: readonly number[];
}

/**
 * Fastest and slowest memory tier by the kernel's tiers; without tiers, CPU nodes (fast) vs CPU-less nodes
 * (slow); null for a single tier. The same rule as the engine's tierNodes, for sessions whose report has
 * no split.
 */
export function tiersFromTopology(topology: Topology): TierSplit | null {
  const tiers = topology.tiers.filter((t) => t.nodes.length > 0).sort((a, b) => a.id - b.id);
  const fastest = tiers[0];
  const slowest = tiers[tiers.length - 1];
  if (tiers.length >= 2 && fastest && slowest) return { fastNodes: fastest.nodes, slowNodes: slowest.nodes };
  const cpu = topology.nodes.filter((n) => !n.cpuLess).map((n) => n.id);
  const far = topology.nodes.filter((n) => n.cpuLess).map((n) => n.id);
  return cpu.length > 0 && far.length > 0 ? { fastNodes: cpu, slowNodes: far } : null;
}

/** The session's tiers: the report's split (what the CLI printed), else the recorded topology's. */
export function sessionTiers(view: Pick<SessionView, 'report' | 'meta'>): TierSplit | null {
  const m = view.report.misplacement;
  if (m) return { fastNodes: m.fastNodes, slowNodes: m.slowNodes };
  return tiersFromTopology(view.meta.topology);
}

export interface MisplacedVma {
  id: number;
  start: string;
  end: string;
  path: string;
  kind: SessionVmaSummary['kind'];
  rssBytes: number;
  hotBytes: number;
  coldBytes: number;
  /** Hot bytes on slow-tier nodes: a promotion would move them up. */
  hotOnSlowBytes: number;
  /** Cold bytes on fast-tier nodes: a demotion would free that much fast memory. */
  coldOnFastBytes: number;
  /** What a migration would put on the right tier: hotOnSlow + coldOnFast. */
  gainBytes: number;
}

function sumNodes(byNode: Readonly<Record<string, number>>, nodes: readonly number[]): number {
  let total = 0;
  for (const n of nodes) total += byNode[String(n)] ?? 0;
  return total;
}

/** VMAs with anything misplaced, largest gain first (then most hot-on-slow, then by address). */
export function rankMisplacement(
  vmas: readonly SessionVmaSummary[],
  tiers: TierSplit | null,
): MisplacedVma[] {
  if (!tiers) return [];
  const rows: MisplacedVma[] = [];
  for (const v of vmas) {
    const hotOnSlowBytes = sumNodes(v.hotBytesByNode, tiers.slowNodes);
    const coldOnFastBytes = sumNodes(v.coldBytesByNode, tiers.fastNodes);
    const gainBytes = hotOnSlowBytes + coldOnFastBytes;
    if (gainBytes <= 0) continue;
    rows.push({
      id: v.id,
      start: v.start,
      end: v.end,
      path: v.path,
      kind: v.kind,
      rssBytes: v.rssBytes,
      hotBytes: v.hotBytes,
      coldBytes: v.coldBytes,
      hotOnSlowBytes,
      coldOnFastBytes,
      gainBytes,
    });
  }
  return rows.sort(
    (a, b) =>
      b.gainBytes - a.gainBytes ||
      b.hotOnSlowBytes - a.hotOnSlowBytes ||
      addressSortKey(a.start).localeCompare(addressSortKey(b.start)),
  );
}

export interface MisplacementSummary {
  tiers: TierSplit | null;
  rows: readonly MisplacedVma[];
  hotOnSlowBytes: number;
  coldOnFastBytes: number;
  /** Why there is nothing to rank (single tier), or which nodes are fast and slow: the report's note. */
  note: string;
  /** False when the session ended before a hotness window completed: classes are provisional. */
  windowComplete: boolean;
}

export function summarizeMisplacement(
  view: Pick<SessionView, 'report' | 'meta' | 'vmas'>,
): MisplacementSummary {
  const tiers = sessionTiers(view);
  const rows = rankMisplacement(view.vmas, tiers);
  let hotOnSlowBytes = 0;
  let coldOnFastBytes = 0;
  for (const r of rows) {
    hotOnSlowBytes += r.hotOnSlowBytes;
    coldOnFastBytes += r.coldOnFastBytes;
  }
  return {
    tiers,
    rows,
    hotOnSlowBytes,
    coldOnFastBytes,
    note: view.report.misplacementNote,
    windowComplete: view.report.window.complete,
  };
}
