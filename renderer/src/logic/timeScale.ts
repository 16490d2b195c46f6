// Time ↔ pixel mapping of the session views, and the zoom/pan arithmetic behind wheel, drag and keys. All
// times are milliseconds since the session's start (SessionTimeline.startMs); pixels are whatever unit the
// caller measures widths in (device pixels for canvases, CSS pixels for DOM overlays).
import { pad2 } from './format.js';

/** The visible time range [fromMs, toMs). */
export interface Viewport {
  fromMs: number;
  toMs: number;
}

/** What a viewport may cover: the session's time range, and the narrowest span worth zooming to. */
export interface TimeBounds {
  minMs: number;
  maxMs: number;
  minSpanMs: number;
}

/** Interval columns, as in SessionTimeline: interval p covers [startMs[p], endMs[p]); both ascending. */
export interface IntervalTimes {
  startMs: ArrayLike<number>;
  endMs: ArrayLike<number>;
}

/**
 * The session's time range, stretched to `alsoMs` (experiments run after the recording stopped are still
 * placed on its time axis). The narrowest span is one interval: zooming further shows one flat step and
 * nothing new. An empty session still gets a 1 ms range so every scale has a non-zero span.
 */
export function sessionBounds(
  times: IntervalTimes,
  intervalMs: number,
  alsoMs: readonly number[] = [],
): TimeBounds {
  const n = times.startMs.length;
  const minMs = n > 0 ? (times.startMs[0] ?? 0) : 0;
  const last = Math.max(n > 0 ? (times.endMs[n - 1] ?? minMs) : minMs, ...alsoMs);
  const maxMs = last > minMs ? last : minMs + 1;
  const spanMs = maxMs - minMs;
  return { minMs, maxMs, minSpanMs: Math.min(spanMs, Math.max(1, intervalMs)) };
}

export function fullViewport(b: TimeBounds): Viewport {
  return { fromMs: b.minMs, toMs: b.maxMs };
}

/** The viewport moved inside the bounds and its span kept between minSpanMs and the whole session. */
export function clampViewport(v: Viewport, b: TimeBounds): Viewport {
  const fullSpanMs = b.maxMs - b.minMs;
  if (!Number.isFinite(v.fromMs) || !Number.isFinite(v.toMs)) return fullViewport(b);
  const spanMs = Math.min(fullSpanMs, Math.max(b.minSpanMs, v.toMs - v.fromMs));
  const fromMs = Math.min(b.maxMs - spanMs, Math.max(b.minMs, v.fromMs));
  return { fromMs, toMs: fromMs + spanMs };
}

/**
 * Zoom by `factor` (< 1 zooms in, > 1 out) keeping `anchorMs` under the same pixel: the wheel zooms around
 * the mouse, the keyboard around the cursor or the middle.
 */
export function zoomViewport(v: Viewport, b: TimeBounds, factor: number, anchorMs: number): Viewport {
  const spanMs = v.toMs - v.fromMs;
  if (!(factor > 0) || spanMs <= 0) return clampViewport(v, b);
  const fullSpanMs = b.maxMs - b.minMs;
  const nextSpanMs = Math.min(fullSpanMs, Math.max(b.minSpanMs, spanMs * factor));
  const anchor = Math.min(v.toMs, Math.max(v.fromMs, anchorMs));
  const ratio = (anchor - v.fromMs) / spanMs;
  const fromMs = anchor - ratio * nextSpanMs;
  return clampViewport({ fromMs, toMs: fromMs + nextSpanMs }, b);
}

/** Shift by deltaMs (positive: later), stopping at the session's ends without changing the span. */
export function panViewport(v: Viewport, b: TimeBounds, deltaMs: number): Viewport {
  return clampViewport({ fromMs: v.fromMs + deltaMs, toMs: v.toMs + deltaMs }, b);
}

export function msToPx(ms: number, v: Viewport, widthPx: number): number {
  return ((ms - v.fromMs) / (v.toMs - v.fromMs)) * widthPx;
}

export function pxToMs(px: number, v: Viewport, widthPx: number): number {
  return v.fromMs + (px / Math.max(1, widthPx)) * (v.toMs - v.fromMs);
}

/** First index i in [lo, hi) with column[i] > value (column ascending); hi when none. */
function upperBound(column: ArrayLike<number>, value: number, lo: number, hi: number): number {
  let a = lo;
  let b = hi;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if ((column[mid] ?? Number.POSITIVE_INFINITY) > value) b = mid;
    else a = mid + 1;
  }
  return a;
}

/** First index i with column[i] >= value (column ascending). */
function lowerBound(column: ArrayLike<number>, value: number): number {
  let a = 0;
  let b = column.length;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if ((column[mid] ?? Number.POSITIVE_INFINITY) >= value) b = mid;
    else a = mid + 1;
  }
  return a;
}

/** The interval positions [fromPos, toPos) that overlap the viewport (what a heatmap request covers). */
export function positionRange(times: IntervalTimes, v: Viewport): { fromPos: number; toPos: number } {
  const n = times.startMs.length;
  const fromPos = upperBound(times.endMs, v.fromMs, 0, n);
  const toPos = Math.max(fromPos, lowerBound(times.startMs, v.toMs));
  return { fromPos, toPos };
}

/** The interval position shown at `ms` (the last one started by then), or null outside the session. */
export function positionAt(times: IntervalTimes, ms: number): number | null {
  const n = times.startMs.length;
  if (n === 0 || ms < (times.startMs[0] ?? 0) || ms >= (times.endMs[n - 1] ?? 0)) return null;
  return Math.max(0, upperBound(times.startMs, ms, 0, n) - 1);
}

// Tick steps people read at a glance: 1-2-5 below a second, then clock-friendly seconds, minutes, hours.
const TICK_STEPS_MS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000,
  600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
];

export interface TimeTick {
  ms: number;
  label: string;
}

/** Ticks at a round step, at least `minGapPx` apart, labelled as offsets from the session's start. */
export function timeTicks(v: Viewport, widthPx: number, minGapPx = 90): TimeTick[] {
  const spanMs = v.toMs - v.fromMs;
  if (!(spanMs > 0) || widthPx <= 0) return [];
  const wantMs = (spanMs * minGapPx) / widthPx;
  const stepMs = TICK_STEPS_MS.find((s) => s >= wantMs) ?? Math.ceil(wantMs / 86_400_000) * 86_400_000;
  const ticks: TimeTick[] = [];
  for (let t = Math.ceil(v.fromMs / stepMs) * stepMs; t <= v.toMs; t += stepMs) {
    ticks.push({ ms: t, label: formatOffsetMs(t, stepMs) });
  }
  return ticks;
}

/**
 * An offset from the session's start: "250 ms", "1.5 s", "45 s", "2:05" (min:s), "1:02:05" (h:min:s).
 * `stepMs` is the precision needed (the tick step, or the interval for a readout).
 */
export function formatOffsetMs(ms: number, stepMs: number): string {
  if (!Number.isFinite(ms)) return '—';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1000 && stepMs < 1000) return `${sign}${Math.round(abs)} ms`;
  if (abs < 60_000) {
    const digits = stepMs >= 1000 ? 0 : stepMs >= 100 ? 1 : stepMs >= 10 ? 2 : 3;
    return `${sign}${(abs / 1000).toFixed(digits)} s`;
  }
  const totalS = Math.floor(abs / 1000);
  const h = Math.floor(totalS / 3600);
  const min = Math.floor((totalS % 3600) / 60);
  const s = totalS % 60;
  const frac = stepMs < 1000 ? `.${String(Math.floor((abs % 1000) / 100))}` : '';
  return h > 0 ? `${sign}${h}:${pad2(min)}:${pad2(s)}${frac}` : `${sign}${min}:${pad2(s)}${frac}`;
}
