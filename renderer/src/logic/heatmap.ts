// The heatmap's pixels: the agent's base64 planes (Heatmap in electron/contract/sessionView.ts) turned into
// RGBA through a colour ramp. Pure: the component wraps the bytes in an ImageData. Cells without any sample
// ('present' = 0: unmapped then, or not sampled) take the panel background, so "no data" never looks like
// "cold"; the ramp's first colour (mapped, never accessed) is kept distinct from that background in both
// themes (app.css, --heat-0 … --heat-4).
import type { Heatmap } from '../../../electron/contract/index.js';
import {
  rangeIndexAtOffset,
  rowAddressSpan,
  rowStartOffset,
  type AddressAxis,
  type HexRange,
} from './addressAxis.js';

export type Rgb = readonly [number, number, number];

export type HeatChannel = 'max' | 'mean';

/** Bytes of a base64 string; malformed input gives what could be decoded (an empty array at worst). */
export function decodeBase64(b64: string): Uint8Array {
  let binary: string;
  try {
    binary = atob(b64);
  } catch {
    return new Uint8Array(0);
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** "#rgb", "#rrggbb", "rgb(1, 2, 3)" or "rgb(1 2 3 / 50%)" (what getComputedStyle returns) → [r, g, b]. */
export function parseColor(css: string): Rgb | null {
  const s = css.trim().toLowerCase();
  const short = /^#([0-9a-f])([0-9a-f])([0-9a-f])$/.exec(s);
  if (short) {
    const [, r = '0', g = '0', b = '0'] = short;
    return [parseInt(r + r, 16), parseInt(g + g, 16), parseInt(b + b, 16)];
  }
  const long = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})(?:[0-9a-f]{2})?$/.exec(s);
  if (long) {
    const [, r = '0', g = '0', b = '0'] = long;
    return [parseInt(r, 16), parseInt(g, 16), parseInt(b, 16)];
  }
  const fn = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/.exec(s);
  if (fn) {
    const [, r = '0', g = '0', b = '0'] = fn;
    return [Math.round(Number(r)), Math.round(Number(g)), Math.round(Number(b))];
  }
  return null;
}

/** A 256-entry lookup table (r, g, b per entry) interpolating linearly between evenly spaced stops. */
export function buildRamp(stops: readonly Rgb[]): Uint8Array {
  const lut = new Uint8Array(256 * 3);
  if (stops.length === 0) return lut;
  const segments = Math.max(1, stops.length - 1);
  for (let v = 0; v < 256; v++) {
    const pos = (v / 255) * segments;
    const i = Math.min(segments - 1, Math.floor(pos));
    const t = stops.length === 1 ? 0 : pos - i;
    const a = stops[i] ?? stops[0] ?? [0, 0, 0];
    const b = stops[Math.min(stops.length - 1, i + 1)] ?? a;
    for (let c = 0; c < 3; c++) lut[v * 3 + c] = Math.round((a[c] ?? 0) + ((b[c] ?? 0) - (a[c] ?? 0)) * t);
  }
  return lut;
}

/** Decoded planes of a heatmap, each rows·columns bytes, row-major, row 0 = lowest address. */
export interface HeatPlanes {
  rows: number;
  columns: number;
  max: Uint8Array;
  mean: Uint8Array;
  present: Uint8Array;
}

export function decodeHeatmap(h: Heatmap): HeatPlanes {
  return {
    rows: h.rows,
    columns: h.columns,
    max: decodeBase64(h.max),
    mean: decodeBase64(h.mean),
    present: decodeBase64(h.present),
  };
}

export interface RgbaImage {
  widthPx: number;
  heightPx: number;
  /** widthPx·heightPx·4 bytes, what ImageData takes. */
  data: Uint8ClampedArray<ArrayBuffer>;
}

/**
 * One pixel per cell. The image's top row is the highest address (row rows−1): addresses grow upwards,
 * like a y axis. A short plane (a malformed answer) reads as "no data" past its end.
 */
export function heatmapToRgba(
  planes: HeatPlanes,
  channel: HeatChannel,
  ramp: Uint8Array,
  background: Rgb,
): RgbaImage {
  const { rows, columns } = planes;
  const values = channel === 'max' ? planes.max : planes.mean;
  const data = new Uint8ClampedArray(rows * columns * 4);
  for (let r = 0; r < rows; r++) {
    const y = rows - 1 - r;
    for (let c = 0; c < columns; c++) {
      const i = r * columns + c;
      const o = (y * columns + c) * 4;
      if ((planes.present[i] ?? 0) === 0) {
        data[o] = background[0];
        data[o + 1] = background[1];
        data[o + 2] = background[2];
      } else {
        const v = (values[i] ?? 0) * 3;
        data[o] = ramp[v] ?? 0;
        data[o + 1] = ramp[v + 1] ?? 0;
        data[o + 2] = ramp[v + 2] ?? 0;
      }
      data[o + 3] = 255;
    }
  }
  return { widthPx: columns, heightPx: rows, data };
}

/** The value of one cell (row 0 = lowest address), or null where the cell has no sample. */
export function cellValue(
  planes: HeatPlanes,
  channel: HeatChannel,
  row: number,
  column: number,
): number | null {
  if (row < 0 || row >= planes.rows || column < 0 || column >= planes.columns) return null;
  const i = row * planes.columns + column;
  if ((planes.present[i] ?? 0) === 0) return null;
  return (channel === 'max' ? planes.max : planes.mean)[i] ?? null;
}

/** Level at which a cell counts as hot for the e2e debug hook (share accessed ≥ 200/255 ≈ 78 %). */
export const HOT_CELL_LEVEL = 200;

export interface HotBand extends HexRange {
  /** Heatmap rows in the band. */
  rows: number;
}

/**
 * The hot bands of the rightmost column that has any data: runs of adjacent rows of one axis range
 * (merged VMAs) whose `max` ≥ `level`, each as the address span from its lowest row's first byte to its highest row's last, ascending. What
 * the heatmap exposes to tests (data-hot-rows, data-hot-bands) so they can check where the heat is
 * without reading pixels. O(rows) once the column is found (scanned from the right, usually the last).
 */
export function hotBands(planes: HeatPlanes, axis: AddressAxis, level = HOT_CELL_LEVEL): HotBand[] {
  const { rows, columns } = planes;
  for (let c = columns - 1; c >= 0; c--) {
    let any = false;
    const bands: HotBand[] = [];
    let runStart = -1;
    const close = (end: number): void => {
      if (runStart >= 0) bands.push({ ...rowAddressSpan(axis, rows, runStart, end), rows: end - runStart });
      runStart = -1;
    };
    let prevRange = -1;
    for (let r = 0; r < rows; r++) {
      const i = r * columns + c;
      const present = (planes.present[i] ?? 0) !== 0;
      if (present) any = true;
      // A band stays within one mapping: hot neighbours across a gap between VMAs are separate bands.
      const range = rangeIndexAtOffset(axis, rowStartOffset(r, axis.totalBytes, rows));
      if (range !== prevRange) close(r);
      prevRange = range;
      if (present && (planes.max[i] ?? 0) >= level) {
        if (runStart < 0) runStart = r;
      } else close(r);
    }
    close(rows);
    if (any) return bands;
  }
  return [];
}

/** The widest hot band (in rows; the lowest address on a tie), or null when nothing is hot. */
export function hotRowsSpan(planes: HeatPlanes, axis: AddressAxis, level = HOT_CELL_LEVEL): HexRange | null {
  return widestBand(hotBands(planes, axis, level));
}

/** The band with the most rows (the first of equals), as a range; null when there is none. */
export function widestBand(bands: readonly HotBand[]): HexRange | null {
  let best: HotBand | null = null;
  for (const b of bands) if (!best || b.rows > best.rows) best = b;
  return best ? { start: best.start, end: best.end } : null;
}
