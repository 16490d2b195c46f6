// The heatmap reduction on hand-built heat columns: exact cells for the shapes the UI asks for (a VMA
// partly in range, ranges with a gap, more columns than intervals, more rows than buckets), and a
// brute-force reference on random inputs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SessionVma } from '../../../electron/contract/index.js';
import { TierscopeError } from '../../../electron/engine/errors.js';
import type { HeatColumns } from '../../../electron/engine/session/index.js';
import { buildHeatmap, reduceHeat, type HeatGridRequest } from '../../../electron/engine/view/heatmap.js';

const PAGE = 4096;

function vma(id: number, start: number, pages: number): SessionVma {
  return {
    id,
    start: start.toString(16),
    end: (start + pages * PAGE).toString(16),
    perms: 'rw-p',
    path: '',
    kind: 'anon',
    firstInterval: 0,
  };
}

/** intervals[p] = heat rows of position p: [vmaId, buckets]. */
function heatOf(width: number, intervals: [number, number[]][][]): HeatColumns {
  const offsets = new Uint32Array(intervals.length + 1);
  const vmaId: number[] = [];
  const pos: number[] = [];
  const buckets: number[] = [];
  intervals.forEach((rows, p) => {
    for (const [id, values] of rows) {
      expect(values.length).toBe(width);
      vmaId.push(id);
      pos.push(p);
      buckets.push(...values);
    }
    offsets[p + 1] = vmaId.length;
  });
  return {
    offsets,
    intervalPos: Uint32Array.from(pos),
    vmaId: Uint32Array.from(vmaId),
    buckets: Uint8Array.from(buckets),
    width,
  };
}

const range = (start: number, end: number): { start: bigint; end: bigint } => ({
  start: BigInt(start),
  end: BigInt(end),
});

/** Cells as rows of numbers, for readable expectations. */
function grid(bytes: Uint8Array, rows: number, columns: number): number[][] {
  return Array.from({ length: rows }, (_, r) => Array.from(bytes.subarray(r * columns, (r + 1) * columns)));
}

type HeatInput = Parameters<typeof reduceHeat>[0];

/** The input of `intervals` (as heatOf takes them) over `vmas`. */
function heatInput(width: number, vmas: SessionVma[], intervals: [number, number[]][][]): HeatInput {
  return { heat: heatOf(width, intervals), vmas, intervalCount: intervals.length };
}

/** reduceHeat over every interval of `input`. */
function reduceAll(
  input: HeatInput,
  cells: Omit<HeatGridRequest, 'fromPos' | 'toPos'>,
): ReturnType<typeof reduceHeat> {
  return reduceHeat(input, { fromPos: 0, toPos: input.intervalCount, ...cells });
}

const A = 0x10_0000;
const B = 0x20_0000;

describe('reduceHeat: exact cells', () => {
  it('one VMA, one cell per bucket and interval: the buckets themselves (row 0 = lowest address)', () => {
    const input = heatInput(4, [vma(0, A, 4)], [[[0, [10, 20, 30, 40]]], [[0, [50, 60, 70, 80]]]]);
    const g = reduceAll(input, { columns: 2, rows: 4, ranges: [range(A, A + 4 * PAGE)] });
    expect(grid(g.max, 4, 2)).toEqual([
      [10, 50],
      [20, 60],
      [30, 70],
      [40, 80],
    ]);
    expect(g.mean).toEqual(g.max);
    expect([...g.present]).toEqual(new Array<number>(8).fill(1));
  });

  it('a VMA partly in range: only its buckets inside the range, stretched over the rows', () => {
    const input = heatInput(4, [vma(0, A, 4)], [[[0, [10, 20, 30, 40]]]]);
    // The range is the VMA's second half plus 2 unmapped pages after it.
    const g = reduceAll(input, { columns: 1, rows: 4, ranges: [range(A + 2 * PAGE, A + 6 * PAGE)] });
    expect(grid(g.max, 4, 1)).toEqual([[30], [40], [0], [0]]);
    expect(grid(g.present, 4, 1)).toEqual([[1], [1], [0], [0]]);
  });

  it('two ranges with a gap: the gap is left out of the axis, in address order whatever the request order', () => {
    const input = {
      heat: heatOf(2, [
        [
          [0, [1, 2]],
          [1, [3, 4]],
          [2, [99, 99]],
        ],
      ]),
      // VMA 2 lies in the gap between the two ranges.
      vmas: [vma(0, A, 2), vma(1, B, 2), vma(2, A + 0x8_0000, 2)],
      intervalCount: 1,
    };
    const request: HeatGridRequest = {
      fromPos: 0,
      toPos: 1,
      columns: 1,
      rows: 4,
      ranges: [range(B, B + 2 * PAGE), range(A, A + 2 * PAGE)],
    };
    const g = reduceHeat(input, request);
    expect(grid(g.max, 4, 1)).toEqual([[1], [2], [3], [4]]);
    // Two rows: each covers one VMA, max and mean of its two buckets.
    const half = reduceHeat(input, { ...request, rows: 2 });
    expect(grid(half.max, 2, 1)).toEqual([[2], [4]]);
    expect(grid(half.mean, 2, 1)).toEqual([[2], [4]]); // round(1.5) = 2, round(3.5) = 4
  });

  it('more columns than intervals: each interval spreads over the columns it covers', () => {
    const input = heatInput(1, [vma(0, A, 1)], [[[0, [100]]], [[0, [200]]]]);
    const four = reduceAll(input, { columns: 4, rows: 1, ranges: [range(A, A + PAGE)] });
    expect(grid(four.max, 1, 4)).toEqual([[100, 100, 200, 200]]);
    // Three columns over two intervals: the middle one is half of each.
    const three = reduceAll(input, { columns: 3, rows: 1, ranges: [range(A, A + PAGE)] });
    expect(grid(three.max, 1, 3)).toEqual([[100, 200, 200]]);
    expect(grid(three.mean, 1, 3)).toEqual([[100, 150, 200]]);
    expect([...three.present]).toEqual([1, 1, 1]);
  });

  it('more rows than buckets: a bucket fills every row it spans', () => {
    const input = heatInput(2, [vma(0, A, 4)], [[[0, [7, 9]]]]);
    const g = reduceAll(input, { columns: 1, rows: 6, ranges: [range(A, A + 4 * PAGE)] });
    expect(grid(g.max, 6, 1)).toEqual([[7], [7], [7], [9], [9], [9]]);
  });

  it('rows that split buckets: max of the buckets touched, mean weighted by the bytes of each', () => {
    const input = heatInput(4, [vma(0, A, 4)], [[[0, [0, 120, 0, 0]]]]);
    // Three rows over four buckets: row 0 = bucket 0 and a third of bucket 1.
    const g = reduceAll(input, { columns: 1, rows: 3, ranges: [range(A, A + 4 * PAGE)] });
    expect(grid(g.max, 3, 1)).toEqual([[120], [120], [0]]);
    // Row 0: (0·1 + 120·⅓) / (4/3) = 30. Row 1: ⅔ of bucket 1 and ⅔ of bucket 2: (120·⅔) / (4/3) = 60.
    expect(grid(g.mean, 3, 1)).toEqual([[30], [60], [0]]);
  });

  it('zoomed out in time: max keeps a short hot burst that the mean dilutes', () => {
    const input = heatInput(1, [vma(0, A, 1)], [[[0, [0]]], [[0, [0]]], [[0, [0]]], [[0, [200]]]]);
    const g = reduceAll(input, { columns: 1, rows: 1, ranges: [range(A, A + PAGE)] });
    expect([g.max[0], g.mean[0], g.present[0]]).toEqual([200, 50, 1]);
  });

  it('intervals without a row for the VMA are no data, not cold: absent cells, means over the sampled part', () => {
    const input = heatInput(1, [vma(0, A, 1)], [[[0, [80]]], [], [[0, [40]]]]);
    const g = reduceAll(input, { columns: 3, rows: 1, ranges: [range(A, A + PAGE)] });
    expect([...g.present]).toEqual([1, 0, 1]);
    expect([...g.max]).toEqual([80, 0, 40]);
    const one = reduceAll(input, { columns: 1, rows: 1, ranges: [range(A, A + PAGE)] });
    expect([one.mean[0], one.max[0]]).toEqual([60, 80]);
  });

  it('a time window in the middle, toPos past the end clamped to the last interval', () => {
    const input = heatInput(1, [vma(0, A, 1)], [[[0, [1]]], [[0, [2]]], [[0, [3]]]]);
    const g = reduceHeat(input, { fromPos: 1, toPos: 99, columns: 2, rows: 1, ranges: [range(A, A + PAGE)] });
    expect([g.fromPos, g.toPos]).toEqual([1, 3]);
    expect([...g.max]).toEqual([2, 3]);
  });

  it('VMA ids with gaps, and heat rows of VMAs outside every range, are handled; absurd ids refused', () => {
    const input = heatInput(
      1,
      [vma(3, B, 1), vma(7_000, A, 1)],
      [
        [
          [7_000, [5]],
          [3, [9]],
        ],
      ],
    );
    const g = reduceAll(input, { columns: 1, rows: 1, ranges: [range(A, A + PAGE)] });
    expect([g.max[0], g.present[0]]).toEqual([5, 1]);
    // Tierscope numbers VMAs 0, 1, …: an id in the billions is a damaged or foreign file.
    const absurd = { ...input, vmas: [vma(3, B, 1), vma(3_000_000_000, A, 1)] };
    expect(() => reduceAll(absurd, { columns: 1, rows: 1, ranges: [range(A, A + PAGE)] })).toThrow(
      /heatmap: VMA ids up to 3000000000 for 2 VMAs: not a session Tierscope wrote/,
    );
  });

  it('refuses an empty time window, an empty range and overlapping ranges (invalid-argument)', () => {
    const input = heatInput(1, [vma(0, A, 1)], [[[0, [1]]]]);
    const base: HeatGridRequest = { fromPos: 0, toPos: 1, columns: 1, rows: 1, ranges: [range(A, A + PAGE)] };
    const codeOf = (request: HeatGridRequest): [string, string] => {
      try {
        reduceHeat(input, request);
      } catch (err) {
        expect(err).toBeInstanceOf(TierscopeError);
        return [(err as TierscopeError).code, (err as TierscopeError).message];
      }
      throw new Error('expected an error');
    };
    expect(codeOf({ ...base, fromPos: 1 })).toEqual([
      'invalid-argument',
      expect.stringMatching(/positions 1…1 hold no interval \(the session has 1\)/) as string,
    ]);
    expect(codeOf({ ...base, ranges: [range(A, A)] })[1]).toMatch(/is empty/);
    expect(codeOf({ ...base, ranges: [range(A, A + 2 * PAGE), range(A + PAGE, A + 3 * PAGE)] })[1]).toMatch(
      /ranges overlap at 101000/,
    );
  });

  it('buildHeatmap: base64 of the three planes, hex ranges', () => {
    const input = heatInput(2, [vma(0, A, 2)], [[[0, [1, 255]]]]);
    const h = buildHeatmap(input, {
      fromPos: 0,
      toPos: 1,
      columns: 1,
      rows: 2,
      ranges: [{ start: A.toString(16), end: (A + 2 * PAGE).toString(16) }],
    });
    expect(h).toMatchObject({ fromPos: 0, toPos: 1, columns: 1, rows: 2 });
    expect([...Buffer.from(h.max, 'base64')]).toEqual([1, 255]);
    expect([...Buffer.from(h.mean, 'base64')]).toEqual([1, 255]);
    expect([...Buffer.from(h.present, 'base64')]).toEqual([1, 1]);
  });
});

/**
 * The definition, cell by cell and sample by sample: slow and obviously right. Positions are scaled so
 * that every boundary is an integer (addresses in pages × rows·width, time × columns), so the overlaps
 * are exact.
 */
function reference(
  vmas: { start: number; pages: number }[],
  width: number,
  samples: { pos: number; vma: number; buckets: number[] }[],
  req: { fromPos: number; toPos: number; columns: number; rows: number; ranges: [number, number][] },
): { max: number[]; mean: number[]; present: number[] } {
  const ranges = [...req.ranges].sort((a, b) => a[0] - b[0]);
  const total = ranges.reduce((a, [s, e]) => a + e - s, 0);
  const L = req.rows * width;
  const n = req.toPos - req.fromPos;
  const cells = req.rows * req.columns;
  const max = new Array<number>(cells).fill(0);
  const sum = new Array<number>(cells).fill(0);
  const wsum = new Array<number>(cells).fill(0);
  const overlap = (a0: number, a1: number, b0: number, b1: number): number =>
    Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
  for (const s of samples) {
    if (s.pos < req.fromPos || s.pos >= req.toPos) continue;
    const v = vmas[s.vma];
    if (!v) continue;
    const t0 = (s.pos - req.fromPos) * req.columns;
    for (let b = 0; b < width; b++) {
      const bs = v.start * L + b * v.pages * req.rows;
      const be = bs + v.pages * req.rows;
      let offset = 0;
      for (const [rs, re] of ranges) {
        const o0 = Math.max(bs, rs * L);
        const o1 = Math.min(be, re * L);
        if (o1 > o0) {
          const x0 = offset * L + o0 - rs * L;
          const x1 = offset * L + o1 - rs * L;
          for (let r = 0; r < req.rows; r++) {
            const ro = overlap(x0, x1, r * total * width, (r + 1) * total * width);
            if (ro <= 0) continue;
            for (let c = 0; c < req.columns; c++) {
              const co = overlap(t0, t0 + req.columns, c * n, (c + 1) * n);
              if (co <= 0) continue;
              const cell = r * req.columns + c;
              const value = s.buckets[b] ?? 0;
              max[cell] = Math.max(max[cell] ?? 0, value);
              sum[cell] = (sum[cell] ?? 0) + value * ro * co;
              wsum[cell] = (wsum[cell] ?? 0) + ro * co;
            }
          }
        }
        offset += re - rs;
      }
    }
  }
  return {
    max,
    mean: sum.map((s, i) => ((wsum[i] ?? 0) > 0 ? s / (wsum[i] ?? 1) : 0)),
    present: wsum.map((w) => (w > 0 ? 1 : 0)),
  };
}

describe('reduceHeat against the definition', () => {
  it('matches a brute-force reference on random VMAs, ranges, samples and grid sizes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }), // width
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }), // VMA sizes (pages)
        fc.integer({ min: 1, max: 6 }), // intervals
        fc.integer({ min: 1, max: 7 }), // rows
        fc.integer({ min: 1, max: 8 }), // columns
        fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 12 })), {
          minLength: 1,
          maxLength: 3,
        }), // candidate ranges (page, length)
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (width, sizes, intervals, rows, columns, candidates, seed) => {
          let rnd = seed;
          const next = (k: number): number => {
            rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0;
            return rnd % k;
          };
          // VMAs laid out with 1-page gaps, in page units.
          let at = 2;
          const layout = sizes.map((pages) => {
            const v = { start: at, pages };
            at += pages + 1;
            return v;
          });
          // Disjoint ranges from the candidates.
          const ranges: [number, number][] = [];
          for (const [s, len] of [...candidates].sort((a, b) => a[0] - b[0])) {
            const last = ranges[ranges.length - 1];
            const start = last ? Math.max(s, last[1]) : s;
            ranges.push([start, start + len]);
          }
          const samples: { pos: number; vma: number; buckets: number[] }[] = [];
          const rowsByPos: [number, number[]][][] = [];
          for (let p = 0; p < intervals; p++) {
            const here: [number, number[]][] = [];
            layout.forEach((_, id) => {
              if (next(4) === 0) return; // sometimes absent
              const buckets = Array.from({ length: width }, () => next(256));
              here.push([id, buckets]);
              samples.push({ pos: p, vma: id, buckets });
            });
            rowsByPos.push(here);
          }
          const fromPos = next(intervals);
          const toPos = fromPos + 1 + next(intervals - fromPos);
          const input = {
            heat: heatOf(width, rowsByPos),
            vmas: layout.map((v, id) => vma(id, v.start * PAGE, v.pages)),
            intervalCount: intervals,
          };
          const got = reduceHeat(input, {
            fromPos,
            toPos,
            columns,
            rows,
            ranges: ranges.map(([s, e]) => range(s * PAGE, e * PAGE)),
          });
          const want = reference(layout, width, samples, { fromPos, toPos, columns, rows, ranges });
          expect([...got.present]).toEqual(want.present);
          expect([...got.max]).toEqual(want.max);
          got.mean.forEach((m, i) => {
            expect(Math.abs(m - (want.mean[i] ?? 0))).toBeLessThanOrEqual(0.5 + 1e-3);
          });
        },
      ),
      { numRuns: 1000 },
    );
  });
});
