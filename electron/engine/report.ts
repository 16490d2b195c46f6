import type { CountByNode, CountRun, Report, ReportVma, Topology } from '../contract/index.js';
import { hotColdRanges } from './access/hotness.js';
import { TierscopeError } from './errors.js';
import { procHex as hex } from './procfs/text.js';
import type { Session } from './session/index.js';

/** Fastest and slowest tier by the kernel's memory tiers; without tiers, CPU nodes vs CPU-less nodes. */
export function tierNodes(topology: Topology): { fast: number[]; slow: number[] } | null {
  const tiers = topology.tiers.filter((t) => t.nodes.length > 0).sort((a, b) => a.id - b.id);
  if (tiers.length >= 2) return { fast: tiers[0]?.nodes ?? [], slow: tiers[tiers.length - 1]?.nodes ?? [] };
  const cpu = topology.nodes.filter((n) => !n.cpuLess).map((n) => n.id);
  const far = topology.nodes.filter((n) => n.cpuLess).map((n) => n.id);
  return cpu.length && far.length ? { fast: cpu, slow: far } : null;
}

/** A per-node map keyed by node id ('0', '1', …): `value(key, index)` for each of `nodes`. */
export function mapByNode(nodes: readonly number[], value: (key: string, i: number) => number): CountByNode {
  return Object.fromEntries(
    nodes.map((n, i) => {
      const key = String(n);
      return [key, value(key, i)];
    }),
  );
}

/** The report's first fields: the file, the target process and the access source it was recorded with. */
export function reportSource(
  session: Session,
): Pick<Report, 'file' | 'pid' | 'comm' | 'source' | 'sourceReason' | 'sourceLimits'> {
  const { meta } = session;
  return {
    file: session.path,
    pid: meta.target.pid,
    comm: meta.target.comm,
    source: meta.source,
    sourceReason: meta.sourceReason,
    sourceLimits: meta.sourceLimits,
  };
}

/** The hotness report of a session, at the last interval that completed a window of N scans. */
export function buildReport(session: Session): Report {
  const { meta } = session;
  const n = session.intervalCount;
  if (n === 0) {
    throw new TierscopeError('parse', `${session.path} has no complete interval: nothing was recorded`);
  }
  const N = meta.scansPerWindow;
  const scans = session.intervals.scansInWindow;
  let pos = n - 1;
  for (let p = n - 1; p >= 0; p--) {
    if (scans[p] === N && session.intervals.hasCountRuns[p] === 1) {
      pos = p;
      break;
    }
  }
  const complete = scans[pos] === N;
  const page = meta.pageSizeBytes;
  const byNode = (columns: Uint32Array[], row: number): CountByNode =>
    mapByNode(meta.nodes, (_, i) => (columns[i]?.[row] ?? 0) * page);

  const s = session.sampleRows;
  const vmas: ReportVma[] = [];
  for (const r of session.sampleRowsAt(pos)) {
    const id = s.vmaId[r] ?? 0;
    const vma = session.vma(id);
    if (!vma) continue;
    vmas.push({
      id,
      start: vma.start,
      end: vma.end,
      path: vma.path,
      kind: vma.kind,
      rssBytes: (s.rssPages[r] ?? 0) * page,
      hotBytes: (s.hotPages[r] ?? 0) * page,
      warmBytes: (s.warmPages[r] ?? 0) * page,
      coldBytes: (s.coldPages[r] ?? 0) * page,
      accessedBytes: (s.accessedPages[r] ?? 0) * page,
      bytesByNode: byNode(s.pagesByNode, r),
      hotBytesByNode: byNode(s.hotPagesByNode, r),
      coldBytesByNode: byNode(s.coldPagesByNode, r),
    });
  }
  vmas.sort((a, b) => b.hotBytes - a.hotBytes || b.accessedBytes - a.accessedBytes || a.id - b.id);

  const sumBy = (pick: (v: ReportVma) => number): number => vmas.reduce((acc, v) => acc + pick(v), 0);
  const sumNodes = (pick: (v: ReportVma) => CountByNode): CountByNode =>
    mapByNode(meta.nodes, (k) => sumBy((v) => pick(v)[k] ?? 0));
  const hotBytesByNode = sumNodes((v) => v.hotBytesByNode);
  const coldBytesByNode = sumNodes((v) => v.coldBytesByNode);

  const tiers = tierNodes(meta.topology);
  const misplacement = tiers
    ? {
        fastNodes: tiers.fast,
        slowNodes: tiers.slow,
        hotOnSlowBytes: tiers.slow.reduce((a, id) => a + (hotBytesByNode[String(id)] ?? 0), 0),
        coldOnFastBytes: tiers.fast.reduce((a, id) => a + (coldBytesByNode[String(id)] ?? 0), 0),
      }
    : null;
  const pageLevel = meta.source !== 'refs';
  const misplacementNote = !tiers
    ? 'one memory tier: every node is as fast as every other, nothing is misplaced'
    : pageLevel
      ? `fast tier = nodes ${tiers.fast.join(',')}, slow tier = nodes ${tiers.slow.join(',')}`
      : `the ${meta.source} source has no page identity, so hot and cold pages cannot be placed by node`;

  const runs: CountRun[] = [];
  const c = session.countRuns;
  for (let r = c.offsets[pos] ?? 0; r < (c.offsets[pos + 1] ?? 0); r++) {
    runs.push({
      start: hex(c.start[r] ?? 0n),
      end: hex(c.end[r] ?? 0n),
      accessedScans: c.accessedScans[r] ?? 0,
    });
  }
  const ranges = hotColdRanges(runs, N);

  return {
    ...reportSource(session),
    intervals: n,
    durationMs: session.intervals.endMs[n - 1] ?? 0,
    end: { reason: session.end.reason, detail: session.end.detail, recorded: session.endRecorded },
    recovered: session.recovered
      ? `${session.recovered.droppedBytes} bytes after the last complete interval were not read: ${session.recovered.reason}`
      : null,
    window: { intervalIndex: session.intervals.index[pos] ?? pos, scansPerWindow: N, complete },
    vmas,
    totals: {
      rssBytes: sumBy((v) => v.rssBytes),
      hotBytes: sumBy((v) => v.hotBytes),
      warmBytes: sumBy((v) => v.warmBytes),
      coldBytes: sumBy((v) => v.coldBytes),
      hotBytesByNode,
      coldBytesByNode,
    },
    misplacement,
    misplacementNote,
    hotRanges: ranges.hot,
    coldRanges: ranges.cold,
  };
}
