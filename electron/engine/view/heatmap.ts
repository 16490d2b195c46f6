// The address × time heatmap, reduced on the agent to the pixels the UI asked for (contract: Heatmap in
// electron/contract/sessionView.ts). Input: the session's heat rows — per interval position, per VMA,
// `width` buckets (equal slices of the VMA, each 0..255 = share of that slice seen accessed).
//
// Cost: one pass over the heat rows of the requested time range (each bucket read once per row it
// overlaps, usually one), plus work per cell. Nothing is allocated per interval or per sample: a
// per-VMA "stencil" (runs of buckets that fall in one row, with their share of it) is built once per
// request, then every heat row of that VMA is folded into the grid through it, one cell update per run.
import type { Heatmap, HeatmapRequest, SessionVma } from '../../contract/index.js';
import { TierscopeError } from '../errors.js';
import type { HeatRows } from '../session/index.js';

export interface HeatInput {
  /** Rows in any order (file order: no reordering on open); each carries its interval position. */
  heat: HeatRows;
  /** The session's VMAs (their [start, end) place the buckets on the address axis). */
  vmas: readonly SessionVma[];
  intervalCount: number;
}

export interface HeatGridRequest {
  fromPos: number;
  /** Exclusive; clamped to the session's interval count. */
  toPos: number;
  columns: number;
  rows: number;
  /** [start, end) byte ranges; the address axis is their concatenation in address order. */
  ranges: readonly { start: bigint; end: bigint }[];
}

export interface HeatGrid {
  fromPos: number;
  toPos: number;
  columns: number;
  rows: number;
  /** rows × columns, row-major, row 0 = lowest address. */
  max: Uint8Array;
  mean: Uint8Array;
  present: Uint8Array;
}

function invalid(message: string): TierscopeError {
  return new TierscopeError('invalid-argument', `heatmap: ${message}`);
}

/** Sorted ranges with their offset on the concatenated axis; refuses empty and overlapping ones. */
function axisOf(ranges: HeatGridRequest['ranges']): {
  starts: bigint[];
  ends: bigint[];
  /** Offset of each range on the axis, bytes: exact, and as a number for the fast path. */
  offsets: bigint[];
  offsetNumbers: Float64Array;
  total: bigint;
  totalBytes: number;
} {
  const sorted = [...ranges].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const offsets: bigint[] = [];
  let total = 0n;
  let prevEnd = -1n;
  for (const r of sorted) {
    if (r.start >= r.end) {
      throw invalid(`range ${r.start.toString(16)}-${r.end.toString(16)} is empty: start must be below end`);
    }
    if (r.start < prevEnd) {
      throw invalid(
        `ranges overlap at ${r.start.toString(16)}: pass each address once (merge overlapping ranges)`,
      );
    }
    prevEnd = r.end;
    offsets.push(total);
    total += r.end - r.start;
  }
  return {
    starts: sorted.map((r) => r.start),
    ends: sorted.map((r) => r.end),
    offsets,
    offsetNumbers: Float64Array.from(offsets, Number),
    total,
    totalBytes: Number(total),
  };
}

/**
 * Per VMA slot: runs of consecutive buckets that fall into the same row with the same weight (zoomed out,
 * dozens of buckets land in one row: a run folds them with one read loop and one cell update).
 */
interface Stencil {
  /** Runs of slot s are [first[s], first[s + 1]). */
  first: Uint32Array;
  /** Buckets [from, to) of the VMA's heat row. */
  from: Uint32Array;
  to: Uint32Array;
  row: Uint32Array;
  /** Share of the row each bucket of the run covers (0..1]. */
  weight: Float64Array;
}

function buildStencil(
  vmas: readonly SessionVma[],
  width: number,
  rows: number,
  axis: ReturnType<typeof axisOf>,
): Stencil {
  const rowBytes = axis.totalBytes / rows;
  const from: number[] = [];
  const to: number[] = [];
  const row: number[] = [];
  const weight: number[] = [];
  const first = new Uint32Array(vmas.length + 1);
  const { starts, ends, offsets, offsetNumbers } = axis;
  const bigWidth = BigInt(width);
  // A row's length in the exact units (total·width per row, as total/rows bytes × rows·width).
  const rowScaled = axis.total * bigWidth;
  const rowScaledNumber = Number(rowScaled);
  // Below this (bytes), a floating-point overlap may be rounding: it is recomputed exactly.
  const eps = Math.max(axis.totalBytes, 1) * 1e-12;
  const add = (b: number, r: number, w: number): void => {
    const last = from.length - 1;
    // Extends the previous run when this bucket follows it in the same row with the same share (up to
    // rounding: full buckets all have the same size).
    if (
      last >= slotStart &&
      to[last] === b &&
      row[last] === r &&
      Math.abs((weight[last] ?? 0) - w) <= 1e-9 * w
    ) {
      to[last] = b + 1;
      return;
    }
    from.push(b);
    to.push(b + 1);
    row.push(r);
    weight.push(w);
  };
  // Runs never span two VMAs (nor two ranges of one: their buckets are not consecutive in the axis).
  let slotStart = 0;
  vmas.forEach((v, slot) => {
    slotStart = from.length;
    first[slot] = slotStart;
    const vs = BigInt(`0x${v.start}`);
    const ve = BigInt(`0x${v.end}`);
    if (ve <= vs) return;
    const size = Number(ve - vs);
    // First range that ends after the VMA starts (ranges are sorted and disjoint, so ends ascend too).
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((ends[mid] ?? 0n) <= vs) lo = mid + 1;
      else hi = mid;
    }
    for (let k = lo; k < starts.length && (starts[k] ?? 0n) < ve; k++) {
      const rs = starts[k] ?? 0n;
      const re = ends[k] ?? 0n;
      // The piece of the VMA inside range k, relative to the VMA start, and where the VMA start falls
      // on the axis (possibly before the range: the piece then starts later).
      const p0Big = (rs > vs ? rs : vs) - vs;
      const p1Big = (re < ve ? re : ve) - vs;
      const p0 = Number(p0Big);
      const p1 = Number(p1Big);
      const axisAtVma = (offsetNumbers[k] ?? 0) + Number(vs - rs);
      // One bucket more on each side, for the same reason as the rows below.
      const b0 = Math.max(0, Math.floor((p0 * width) / size) - 1);
      const b1 = Math.min(width, Math.ceil((p1 * width) / size) + 1);
      // Exact positions (bigint, in units of 1/(rows·width) byte, where every boundary is an integer)
      // settle the cases floating point cannot: a bucket that ends exactly where a row begins must not
      // show in that row, and a sliver of a few bytes must.
      const scale = BigInt(rows) * bigWidth;
      const axisScaled = ((offsets[k] ?? 0n) + vs - rs) * scale;
      const sizeRows = (ve - vs) * BigInt(rows);
      const p0s = axisScaled + p0Big * scale;
      const p1s = axisScaled + p1Big * scale;
      const exactOverlap = (b: number, r: number): bigint => {
        const bs = axisScaled + BigInt(b) * sizeRows;
        const be = bs + sizeRows;
        const rowStart = BigInt(r) * rowScaled;
        const rowEnd = rowStart + rowScaled;
        let lo = bs > p0s ? bs : p0s;
        if (rowStart > lo) lo = rowStart;
        let hi = be < p1s ? be : p1s;
        if (rowEnd < hi) hi = rowEnd;
        return hi - lo;
      };
      for (let b = b0; b < b1; b++) {
        const x0 = axisAtVma + Math.max(p0, (b * size) / width);
        const x1 = axisAtVma + Math.min(p1, ((b + 1) * size) / width);
        if (x1 <= x0 - eps) continue;
        // One row more on each side: the exact check decides the rows rounding may have put off by one.
        const r0 = Math.max(0, Math.floor(x0 / rowBytes) - 1);
        const r1 = Math.min(rows - 1, Math.ceil(x1 / rowBytes));
        for (let r = r0; r <= r1; r++) {
          const overlap = Math.min(x1, (r + 1) * rowBytes) - Math.max(x0, r * rowBytes);
          if (overlap > eps) add(b, r, overlap / rowBytes);
          else if (overlap > -eps) {
            const exact = exactOverlap(b, r);
            if (exact > 0n) add(b, r, Number(exact) / rowScaledNumber);
          }
        }
      }
    }
  });
  first[vmas.length] = from.length;
  return {
    first,
    from: Uint32Array.from(from),
    to: Uint32Array.from(to),
    row: Uint32Array.from(row),
    weight: Float64Array.from(weight),
  };
}

/**
 * VMA id → slot in `vmas` (-1: none), as a typed array indexed by id: the recorder numbers VMAs 0, 1, …
 * so it is dense. Ids far beyond the VMA count (never written by Tierscope) are refused rather than
 * allocating for them.
 */
function slotTable(vmas: readonly SessionVma[]): Int32Array {
  let maxId = -1;
  for (const v of vmas) if (v.id > maxId) maxId = v.id;
  if (maxId >= 16 * vmas.length + 65_536) {
    throw new TierscopeError(
      'parse',
      `heatmap: VMA ids up to ${maxId} for ${vmas.length} VMAs: not a session Tierscope wrote`,
    );
  }
  const slots = new Int32Array(maxId + 1).fill(-1);
  vmas.forEach((v, slot) => (slots[v.id] = slot));
  return slots;
}

/**
 * Reduces the heat of positions [fromPos, toPos) over `ranges` to rows × columns cells. A sample (one
 * bucket of one VMA in one interval) counts in every cell it overlaps: `max` is the largest value among
 * them, `mean` their average weighted by the overlap (bytes × time), over the cells' sampled part only
 * (unmapped or unsampled memory is "no data", not "cold"), `present` is 1 where any sample fell.
 */
export function reduceHeat(input: HeatInput, request: HeatGridRequest): HeatGrid {
  const { heat, vmas } = input;
  const { columns, rows } = request;
  if (!Number.isInteger(columns) || columns < 1 || !Number.isInteger(rows) || rows < 1) {
    throw invalid(`rows and columns must be positive integers, got ${rows} × ${columns}`);
  }
  const fromPos = request.fromPos;
  const toPos = Math.min(request.toPos, input.intervalCount);
  if (!Number.isInteger(fromPos) || fromPos < 0 || fromPos >= toPos) {
    throw invalid(
      `positions ${request.fromPos}…${request.toPos} hold no interval (the session has ${input.intervalCount}); ask for fromPos < toPos ≤ ${input.intervalCount}`,
    );
  }
  const axis = axisOf(request.ranges);
  const width = heat.width;
  const stencil = buildStencil(vmas, width, rows, axis);
  const slots = slotTable(vmas);

  // Stage 1: time bins. With at least as many intervals as columns a bin is a column and an interval
  // falls into one or two of them; with fewer, a bin is an interval, spread over columns in stage 2.
  const n = toPos - fromPos;
  const bins = Math.min(n, columns);
  const cells = bins * rows;
  // Column-major (bin · rows + row): a stencil walks rows of one bin, so its writes stay close together.
  const sum = new Float32Array(cells);
  const wsum = new Float32Array(cells);
  const max = new Uint8Array(cells);
  const { from: sFrom, to: sTo, row: sRow, weight: sWeight, first } = stencil;
  // The run's whole weight (every bucket of it counts with `weight`).
  const sRunWeight = Float64Array.from(sWeight, (w, k) => w * ((sTo[k] ?? 0) - (sFrom[k] ?? 0)));
  const buckets = heat.buckets;

  // Where each interval of the range lands: in units of 1/(n·bins), interval i is [i·bins, (i+1)·bins) and
  // bin c is [c·n, (c+1)·n), so it falls in bin c0 (share w0) and maybe c1 (share w1).
  const binBase0 = new Int32Array(n);
  const binBase1 = new Int32Array(n);
  const share0 = new Float64Array(n);
  const share1 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const lo = i * bins;
    const hi = lo + bins;
    const c0 = Math.floor(lo / n);
    const end0 = (c0 + 1) * n;
    const c1 = hi > end0 ? c0 + 1 : -1;
    binBase0[i] = c0 * rows;
    binBase1[i] = c1 >= 0 ? c1 * rows : -1;
    share0[i] = (Math.min(hi, end0) - lo) / n;
    share1[i] = c1 >= 0 ? (hi - end0) / n : 0;
  }

  // One sequential pass over the rows, whatever their order; rows outside the range cost one comparison.
  const rowPos = heat.intervalPos;
  for (let h = 0; h < rowPos.length; h++) {
    const i = (rowPos[h] ?? 0) - fromPos;
    if (i < 0 || i >= n) continue;
    const slot = slots[heat.vmaId[h] ?? 0] ?? -1;
    if (slot < 0) continue;
    const w0 = share0[i] ?? 0;
    const w1 = share1[i] ?? 0;
    const cellBase0 = binBase0[i] ?? 0;
    const cellBase1 = binBase1[i] ?? -1;
    const kFrom = first[slot] ?? 0;
    const kTo = first[slot + 1] ?? 0;
    const base = h * width;
    for (let k = kFrom; k < kTo; k++) {
      // The run's buckets: their sum and max, then one update per cell.
      const bEnd = base + (sTo[k] ?? 0);
      let total = 0;
      let top = 0;
      for (let b = base + (sFrom[k] ?? 0); b < bEnd; b++) {
        const v = buckets[b] ?? 0;
        total += v;
        if (v > top) top = v;
      }
      const r = sRow[k] ?? 0;
      const w = sWeight[k] ?? 0;
      const runWeight = sRunWeight[k] ?? 0;
      let cell = cellBase0 + r;
      sum[cell] = (sum[cell] ?? 0) + total * w * w0;
      wsum[cell] = (wsum[cell] ?? 0) + runWeight * w0;
      if (top > (max[cell] ?? 0)) max[cell] = top;
      if (cellBase1 >= 0) {
        cell = cellBase1 + r;
        sum[cell] = (sum[cell] ?? 0) + total * w * w1;
        wsum[cell] = (wsum[cell] ?? 0) + runWeight * w1;
        if (top > (max[cell] ?? 0)) max[cell] = top;
      }
    }
  }

  // Stage 2: bins → columns, transposed to row-major.
  const outMax = new Uint8Array(rows * columns);
  const outMean = new Uint8Array(rows * columns);
  const outPresent = new Uint8Array(rows * columns);
  for (let c = 0; c < columns; c++) {
    // Column c spans [c·n, (c+1)·n) in units of 1/columns of an interval: bins b0…b1 (one when bins = columns).
    const b0 = bins === columns ? c : Math.floor((c * n) / columns);
    const b1 = bins === columns ? c : Math.min(bins - 1, Math.ceil(((c + 1) * n) / columns) - 1);
    for (let r = 0; r < rows; r++) {
      let m = 0;
      let s = 0;
      let ws = 0;
      for (let b = b0; b <= b1; b++) {
        const cell = b * rows + r;
        const bw = wsum[cell] ?? 0;
        if (bw <= 0) continue;
        // Weighted by the share of the column the bin covers (equal in the one-bin case).
        const share =
          bins === columns
            ? 1
            : (Math.min((b + 1) * columns, (c + 1) * n) - Math.max(b * columns, c * n)) / n;
        s += (sum[cell] ?? 0) * share;
        ws += bw * share;
        const bm = max[cell] ?? 0;
        if (bm > m) m = bm;
      }
      const out = r * columns + c;
      if (ws > 0) {
        outPresent[out] = 1;
        outMax[out] = m;
        outMean[out] = Math.min(255, Math.round(s / ws));
      }
    }
  }
  return { fromPos, toPos, columns, rows, max: outMax, mean: outMean, present: outPresent };
}

function parseHex(text: string): bigint {
  return BigInt(`0x${text}`);
}

const base64 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

/** The contract's Heatmap for a request on an opened session's heat. */
export function buildHeatmap(input: HeatInput, request: Omit<HeatmapRequest, 'handle'>): Heatmap {
  const grid = reduceHeat(input, {
    fromPos: request.fromPos,
    toPos: request.toPos,
    columns: request.columns,
    rows: request.rows,
    ranges: request.ranges.map((r) => ({ start: parseHex(r.start), end: parseHex(r.end) })),
  });
  return {
    fromPos: grid.fromPos,
    toPos: grid.toPos,
    columns: grid.columns,
    rows: grid.rows,
    max: base64(grid.max),
    mean: base64(grid.mean),
    present: base64(grid.present),
  };
}
