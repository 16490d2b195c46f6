// What the UI reads of an opened session (electron/contract/sessionView.ts): whole-process columns per
// interval, the VMAs with their summary at the report window, the report and the experiments. Pure: it
// only reads the in-memory Session model, so it is tested on hand-written sessions.
import type {
  CountByNode,
  Report,
  SessionTimeline,
  SessionView,
  SessionVmaSummary,
  VmaSeries,
} from '../../contract/index.js';
import { buildReport, mapByNode, reportSource, tierNodes } from '../report.js';
import type { Session } from '../session/index.js';

export interface SessionViewOptions {
  handle: string;
  /** True while this agent is still recording into the file. */
  live: boolean;
}

/** Typed array → plain numbers (JSON has no typed arrays); NaN → null where a value may be missing. */
function numbers(column: ArrayLike<number>): number[] {
  return Array.from(column);
}

function timelineOf(session: Session): SessionTimeline {
  const iv = session.intervals;
  const t = session.totals;
  return {
    startMs: numbers(iv.startMs),
    endMs: numbers(iv.endMs),
    samplerCpuMs: numbers(iv.samplerCpuMs),
    pagesScanned: numbers(iv.pagesScanned),
    scansInWindow: numbers(iv.scansInWindow),
    rssPages: numbers(t.rssPages),
    accessedPages: numbers(t.accessedPages),
    hotPages: numbers(t.hotPages),
    warmPages: numbers(t.warmPages),
    coldPages: numbers(t.coldPages),
    pagesByNode: t.pagesByNode.map(numbers),
    hotPagesByNode: t.hotPagesByNode.map(numbers),
    coldPagesByNode: t.coldPagesByNode.map(numbers),
    counters: {
      names: [...session.counters.names],
      values: session.counters.values.map((series) =>
        Array.from(series, (v) => (Number.isNaN(v) ? null : v)),
      ),
    },
  };
}

/**
 * The report of a session that has no interval yet (a recording that just started): buildReport refuses
 * it, but a live view must still open. Everything is zero; the window is marked incomplete.
 */
function emptyReport(session: Session): Report {
  const { meta } = session;
  const zeros = mapByNode(meta.nodes, () => 0);
  const tiers = tierNodes(meta.topology);
  return {
    ...reportSource(session),
    intervals: 0,
    durationMs: 0,
    end: { reason: session.end.reason, detail: session.end.detail, recorded: session.endRecorded },
    recovered: null,
    window: { intervalIndex: 0, scansPerWindow: meta.scansPerWindow, complete: false },
    vmas: [],
    totals: {
      rssBytes: 0,
      hotBytes: 0,
      warmBytes: 0,
      coldBytes: 0,
      hotBytesByNode: zeros,
      coldBytesByNode: { ...zeros },
    },
    misplacement: tiers
      ? { fastNodes: tiers.fast, slowNodes: tiers.slow, hotOnSlowBytes: 0, coldOnFastBytes: 0 }
      : null,
    misplacementNote: 'nothing recorded yet',
    hotRanges: [],
    coldRanges: [],
  };
}

const hexKey = (hex: string): bigint => BigInt(`0x${hex}`);

/**
 * The SessionView of an opened session. The per-VMA numbers at the report window are the report's own
 * (buildReport), so the table and `tierscope report` never disagree; VMAs the report window did not
 * sample (unmapped before it) show zeros there and keep their lastPos and maxRssBytes.
 */
export function buildSessionView(session: Session, options: SessionViewOptions): SessionView {
  const { meta } = session;
  const page = meta.pageSizeBytes;
  const live = options.live;
  let report = session.intervalCount === 0 ? emptyReport(session) : buildReport(session);
  // A live journal has no end record and may end inside the interval being written: that is what
  // recording looks like, not a crash, so say so instead of "recorder killed" / "recovered".
  const end = live
    ? {
        ...session.end,
        detail: `still being recorded by this agent: ${session.intervalCount} intervals so far; open it again to see newer ones`,
      }
    : session.end;
  if (live) report = { ...report, end: { ...report.end, detail: end.detail }, recovered: null };

  // One pass over the samples: the last position and the largest resident size of every VMA.
  const slots = new Map<number, number>();
  session.vmas.forEach((v, slot) => slots.set(v.id, slot));
  const lastPos = new Int32Array(session.vmas.length).fill(-1);
  const maxRssPages = new Float64Array(session.vmas.length);
  const s = session.sampleRows;
  for (let r = 0; r < s.vmaId.length; r++) {
    const slot = slots.get(s.vmaId[r] ?? 0);
    if (slot === undefined) continue;
    const pos = s.intervalPos[r] ?? 0;
    if (pos > (lastPos[slot] ?? -1)) lastPos[slot] = pos;
    const rss = s.rssPages[r] ?? 0;
    if (rss > (maxRssPages[slot] ?? 0)) maxRssPages[slot] = rss;
  }

  const atWindow = new Map(report.vmas.map((v) => [v.id, v]));
  const zeros = (): CountByNode => mapByNode(meta.nodes, () => 0);
  const vmas: SessionVmaSummary[] = session.vmas.map((v, slot) => {
    const w = atWindow.get(v.id);
    return {
      ...v,
      // Never sampled (introduced in an interval with no sample row for it): where it was introduced.
      lastPos: (lastPos[slot] ?? -1) >= 0 ? (lastPos[slot] ?? 0) : positionOf(session, v.firstInterval),
      rssBytes: w?.rssBytes ?? 0,
      hotBytes: w?.hotBytes ?? 0,
      warmBytes: w?.warmBytes ?? 0,
      coldBytes: w?.coldBytes ?? 0,
      bytesByNode: w?.bytesByNode ?? zeros(),
      hotBytesByNode: w?.hotBytesByNode ?? zeros(),
      coldBytesByNode: w?.coldBytesByNode ?? zeros(),
      maxRssBytes: (maxRssPages[slot] ?? 0) * page,
    };
  });
  vmas.sort((a, b) => {
    const x = hexKey(a.start);
    const y = hexKey(b.start);
    return x < y ? -1 : x > y ? 1 : a.id - b.id;
  });

  const recovered = live
    ? null
    : session.recovered
      ? `${session.recovered.droppedBytes} bytes after the last complete interval were not read: ${session.recovered.reason}`
      : null;
  return {
    handle: options.handle,
    path: session.path,
    fileBytes: session.fileBytes,
    fileVersion: session.fileVersion,
    meta,
    end,
    endRecorded: session.endRecorded,
    recovered,
    live,
    intervalCount: session.intervalCount,
    timeline: timelineOf(session),
    vmas,
    report,
    experiments: [...session.experiments],
  };
}

/** Position of the first interval whose index is ≥ `index` (indices ascend), clamped to the last one. */
function positionOf(session: Session, index: number): number {
  const at = session.intervals.index;
  let lo = 0;
  let hi = at.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((at[mid] ?? 0) < index) lo = mid + 1;
    else hi = mid;
  }
  return Math.max(0, Math.min(lo, at.length - 1));
}

/** One VMA over time, or undefined for an id the session does not have. */
export function buildVmaSeries(session: Session, vmaId: number): VmaSeries | undefined {
  const series = session.vmaSeries(vmaId);
  if (!series) return undefined;
  return {
    vmaId,
    intervalPos: numbers(series.intervalPos),
    rssPages: numbers(series.rssPages),
    accessedPages: numbers(series.accessedPages),
    hotPages: numbers(series.hotPages),
    warmPages: numbers(series.warmPages),
    coldPages: numbers(series.coldPages),
    pagesByNode: series.pagesByNode.map(numbers),
    hotPagesByNode: series.hotPagesByNode.map(numbers),
    coldPagesByNode: series.coldPagesByNode.map(numbers),
  };
}
