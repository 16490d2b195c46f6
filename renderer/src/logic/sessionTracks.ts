// What the session timeline draws, track by track, from a SessionView and the VmaSeries loaded so far. A
// track is a stack of layers (one layer for a plain series); values stay in the session's units (pages,
// counter deltas) and `scale` converts them for labels (pages → bytes).
import type { SessionView, SessionVmaSummary, VmaSeries } from '../../../electron/contract/index.js';
import type { IntervalTimes } from './timeScale.js';

export type TrackUnit = 'bytes' | 'count' | 'percent';

export interface TrackLayer {
  label: string;
  /** A CSS custom property of app.css ('--hot', '--node-2'): canvases resolve it per theme. */
  colorVar: string;
  values: ArrayLike<number | null>;
}

export interface TrackSpec {
  /** Stable and DOM-safe: the component's data-testid is `track-<id>`. */
  id: string;
  label: string;
  /** What the track shows, in a sentence (its tooltip). */
  title: string;
  unit: TrackUnit;
  /** Multiplies layer values into `unit` (page size for page counts, 1 otherwise). */
  scale: number;
  times: IntervalTimes;
  layers: readonly TrackLayer[];
  /** Draw as a stack (hotness, per node) or one series with its min–max band (counters, cost). */
  style: 'stacked' | 'series';
}

/** Kernel counter families worth a track, in display order: promotions, demotions, NUMA hint faults. */
const COUNTER_FAMILIES = ['pgpromote', 'pgdemote', 'numa_hint_faults'] as const;

/** The counters of those families present in the session, grouped by family, each family sorted. */
export function counterTrackNames(names: readonly string[]): string[] {
  return COUNTER_FAMILIES.flatMap((family) => names.filter((n) => n.startsWith(family)).sort());
}

/** Node columns of the timeline's per-node arrays, labelled by node id and coloured like everywhere else. */
function nodeLayers(nodes: readonly number[], columns: readonly (readonly number[])[]): TrackLayer[] {
  return nodes.map((n, i) => ({
    label: `N${n}`,
    colorVar: `--node-${i % 8}`,
    values: columns[i] ?? [],
  }));
}

/** Sampler CPU as a share of each interval's wall time (what `--max-cpu` limits). */
export function samplerCpuPercent(times: IntervalTimes, samplerCpuMs: ArrayLike<number>): Float64Array {
  const n = times.startMs.length;
  const out = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    const wallMs = (times.endMs[p] ?? 0) - (times.startMs[p] ?? 0);
    out[p] = wallMs > 0 ? ((samplerCpuMs[p] ?? 0) / wallMs) * 100 : 0;
  }
  return out;
}

/** The whole-process tracks: hotness, hot and cold per node, kernel counters, sampler cost. */
export function processTracks(view: SessionView): TrackSpec[] {
  const t = view.timeline;
  const times: IntervalTimes = { startMs: t.startMs, endMs: t.endMs };
  const page = view.meta.pageSizeBytes;
  const nodes = view.meta.nodes;
  const tracks: TrackSpec[] = [
    {
      id: 'hotness',
      label: 'process hotness',
      title: `Hot, warm and cold bytes of the whole process (hot = accessed in all of the last ${view.meta.scansPerWindow} scans, cold = in none)`,
      unit: 'bytes',
      scale: page,
      times,
      style: 'stacked',
      layers: [
        { label: 'hot', colorVar: '--hot', values: t.hotPages },
        { label: 'warm', colorVar: '--warm', values: t.warmPages },
        { label: 'cold', colorVar: '--cold', values: t.coldPages },
      ],
    },
    {
      id: 'hot-nodes',
      label: 'hot per node',
      title: 'Where the hot pages live, node by node (move_pages query once per window)',
      unit: 'bytes',
      scale: page,
      times,
      style: 'stacked',
      layers: nodeLayers(nodes, t.hotPagesByNode),
    },
    {
      id: 'cold-nodes',
      label: 'cold per node',
      title: 'Where the cold pages live, node by node (move_pages query once per window)',
      unit: 'bytes',
      scale: page,
      times,
      style: 'stacked',
      layers: nodeLayers(nodes, t.coldPagesByNode),
    },
  ];
  for (const name of counterTrackNames(t.counters.names)) {
    const index = t.counters.names.indexOf(name);
    tracks.push({
      id: name,
      label: name,
      title: `/proc/vmstat ${name}: change per interval (system-wide, not only this process)`,
      unit: 'count',
      scale: 1,
      times,
      style: 'series',
      layers: [{ label: name, colorVar: '--counter', values: t.counters.values[index] ?? [] }],
    });
  }
  tracks.push({
    id: 'sampler',
    label: 'sampler CPU',
    title: 'CPU time the sampler itself spent per interval, as a share of the interval (its overhead)',
    unit: 'percent',
    scale: 1,
    times,
    style: 'series',
    layers: [{ label: 'CPU', colorVar: '--sampler', values: samplerCpuPercent(times, t.samplerCpuMs) }],
  });
  return tracks;
}

/** A VMA's series on the session's time axis: its positions mapped to their intervals' times. */
export function seriesTimes(view: SessionView, series: VmaSeries): IntervalTimes {
  const n = series.intervalPos.length;
  const startMs = new Float64Array(n);
  const endMs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = series.intervalPos[i] ?? 0;
    startMs[i] = view.timeline.startMs[p] ?? 0;
    endMs[i] = view.timeline.endMs[p] ?? 0;
  }
  return { startMs, endMs };
}

/** Short name of a VMA for labels: its file's basename, else [heap]/[stack]/anon, with its start address. */
export function vmaLabel(vma: Pick<SessionVmaSummary, 'path' | 'start' | 'kind'>): string {
  const base = vma.path ? (vma.path.split('/').pop() ?? vma.path) : vma.kind;
  return `${base} ${vma.start}`;
}

/** Hot/warm/cold of one selected VMA over time. */
export function vmaTrack(view: SessionView, vma: SessionVmaSummary, series: VmaSeries): TrackSpec {
  return {
    id: `vma-${vma.id}`,
    label: vmaLabel(vma),
    title: `${vma.start}–${vma.end} ${vma.path || `[${vma.kind}]`}: hot, warm and cold bytes over time`,
    unit: 'bytes',
    scale: view.meta.pageSizeBytes,
    times: seriesTimes(view, series),
    style: 'stacked',
    layers: [
      { label: 'hot', colorVar: '--hot', values: series.hotPages },
      { label: 'warm', colorVar: '--warm', values: series.warmPages },
      { label: 'cold', colorVar: '--cold', values: series.coldPages },
    ],
  };
}

/** Index of the last interval of `times` started at or before `ms`, if `ms` falls inside it. */
function indexAt(times: IntervalTimes, ms: number): number | null {
  let a = 0;
  let b = times.startMs.length;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if ((times.startMs[mid] ?? 0) > ms) b = mid;
    else a = mid + 1;
  }
  const i = a - 1;
  return i >= 0 && ms < (times.endMs[i] ?? 0) ? i : null;
}

export interface LayerValue {
  label: string;
  colorVar: string;
  /** In the track's unit (scale applied); null where the interval did not report it. */
  value: number | null;
}

/** The track's values at `ms` (the cursor's readout), or null where the track has no interval there. */
export function trackValuesAt(track: TrackSpec, ms: number): LayerValue[] | null {
  const i = indexAt(track.times, ms);
  if (i === null) return null;
  return track.layers.map((l) => {
    const v = l.values[i];
    return {
      label: l.label,
      colorVar: l.colorVar,
      value: v === null || v === undefined ? null : v * track.scale,
    };
  });
}
