// Min/max decimation per pixel column (the Firefox Profiler way of drawing long tracks): whatever the
// session's length, a track draws `widthPx` columns, each the minimum and maximum of every interval that
// touches it — a one-interval spike stays visible at any zoom, and the work is O(intervals in view + px).
import type { IntervalTimes, Viewport } from './timeScale.js';

export interface Decimated {
  widthPx: number;
  /** Number of stacked layers; the arrays are layer-major: layer k is [k·widthPx, (k+1)·widthPx). */
  layers: number;
  /**
   * Cumulative (stacked) values per pixel: for layer k the sum of layers 0..k of each interval, minimum and
   * maximum over the intervals touching the pixel. NaN where no interval touches it (a gap, or outside the
   * session). Because every layer is ≥ 0, max of layer k ≥ max of layer k−1 in every pixel.
   */
  min: Float64Array;
  max: Float64Array;
  /** The largest value drawn (top layer's max over all pixels), for the y scale; 0 when nothing is drawn. */
  peak: number;
}

/** First index with endMs > fromMs: the first interval still visible at the viewport's left edge. */
function firstVisible(endMs: ArrayLike<number>, fromMs: number): number {
  let a = 0;
  let b = endMs.length;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if ((endMs[mid] ?? Number.POSITIVE_INFINITY) > fromMs) b = mid;
    else a = mid + 1;
  }
  return a;
}

/**
 * Stacked decimation: `layers` are per-interval values aligned with `times` (null = not reported; such an
 * interval is skipped, leaving a gap rather than a fake zero). Interval p covers pixels from
 * floor(x(startMs[p])) to ceil(x(endMs[p])) − 1, at least one: a zoomed-in interval fills its whole width,
 * a zoomed-out one lands in one column.
 */
export function decimateStacked(
  times: IntervalTimes,
  layers: readonly ArrayLike<number | null>[],
  v: Viewport,
  widthPx: number,
): Decimated {
  const width = Math.max(0, Math.floor(widthPx));
  const k = layers.length;
  const min = new Float64Array(width * k).fill(Number.NaN);
  const max = new Float64Array(width * k).fill(Number.NaN);
  const spanMs = v.toMs - v.fromMs;
  let peak = 0;
  if (width === 0 || k === 0 || !(spanMs > 0)) return { widthPx: width, layers: k, min, max, peak };
  const pxPerMs = width / spanMs;
  const n = times.startMs.length;
  const cumulative = new Float64Array(k);
  for (let p = firstVisible(times.endMs, v.fromMs); p < n; p++) {
    const start = times.startMs[p] ?? 0;
    if (start >= v.toMs) break;
    let sum = 0;
    let missing = false;
    for (let l = 0; l < k; l++) {
      const value = layers[l]?.[p];
      if (value === null || value === undefined || !Number.isFinite(value)) {
        missing = true;
        break;
      }
      sum += value;
      cumulative[l] = sum;
    }
    if (missing) continue;
    const end = times.endMs[p] ?? start;
    const x0 = Math.max(0, Math.floor((start - v.fromMs) * pxPerMs));
    const x1 = Math.min(width - 1, Math.max(x0, Math.ceil((end - v.fromMs) * pxPerMs) - 1));
    for (let x = x0; x <= x1; x++) {
      for (let l = 0; l < k; l++) {
        const value = cumulative[l] ?? 0;
        const i = l * width + x;
        const lo = min[i] ?? Number.NaN;
        const hi = max[i] ?? Number.NaN;
        // NaN compares false: the first interval in a pixel always sets both.
        if (!(lo <= value)) min[i] = value;
        if (!(hi >= value)) max[i] = value;
      }
    }
    if (sum > peak) peak = sum;
  }
  return { widthPx: width, layers: k, min, max, peak };
}

/** One series: the per-pixel minimum and maximum of a column over the viewport. */
export function decimateMinMax(
  times: IntervalTimes,
  values: ArrayLike<number | null>,
  v: Viewport,
  widthPx: number,
): Decimated {
  return decimateStacked(times, [values], v, widthPx);
}
