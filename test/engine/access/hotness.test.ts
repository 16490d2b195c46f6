import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { HotnessModel, hotColdRanges, type VmaHotness } from '../../../electron/engine/access/hotness.js';
import {
  PAGE_ACCESSED,
  PAGE_IDLE,
  PAGE_UNKNOWN,
  type ScanVma,
  type VmaAccess,
} from '../../../electron/engine/access/source.js';
import { TierscopeError } from '../../../electron/engine/errors.js';

const PAGE = 4096n;

/** 'A' accessed, '.' idle, '?' unknown — one character per base page. */
function flags(pattern: string): Uint8Array {
  return Uint8Array.from(pattern, (c) => (c === 'A' ? PAGE_ACCESSED : c === '.' ? PAGE_IDLE : PAGE_UNKNOWN));
}

function vma(id: number, startPage: number, pages: number): ScanVma {
  return { id, start: BigInt(startPage) * PAGE, end: BigInt(startPage + pages) * PAGE };
}

function pageScan(id: number, pattern: string): VmaAccess {
  return { granularity: 'page', vmaId: id, flags: flags(pattern) };
}

function classes(h: VmaHotness | undefined) {
  if (!h) throw new Error('no result');
  return { hot: h.hotPages, warm: h.warmPages, cold: h.coldPages, known: h.knownPages, s: h.scansInWindow };
}

function expectInvalid(fn: () => unknown, fragment: string): void {
  let caught: unknown = null;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(TierscopeError);
  expect((caught as TierscopeError).code).toBe('invalid-argument');
  expect((caught as TierscopeError).message).toContain(fragment);
}

describe('page granularity, N = 3', () => {
  // VMA of 8 pages at 0x10000.
  const v = vma(7, 16, 8);
  const model = new HotnessModel({ scansPerWindow: 3, heatBucketsPerVma: 4 });
  const scan = (pattern: string) => {
    const [r] = model.update([v], [pageScan(7, pattern)]);
    return r;
  };

  test('scan 1: every page accessed once is hot (1 of 1); the unknown page is excluded', () => {
    const r = scan('AAA.A..?');
    expect(classes(r)).toEqual({ hot: 4, warm: 0, cold: 3, known: 7, s: 1 });
    expect(r?.accessedPages).toBe(4);
    expect(r?.histogram).toEqual([3, 4, 0, 0]);
    expect(r?.granularity).toBe('page');
  });

  test('scan 2: counts accumulate', () => {
    const r = scan('AA..A.A?');
    expect(Array.from(model.counts(7) ?? [])).toEqual([2, 2, 1, 0, 2, 0, 1, 0]);
    expect(classes(r)).toEqual({ hot: 3, warm: 2, cold: 2, known: 7, s: 2 });
  });

  test('scan 3: window full; a page unknown now keeps its count but leaves the classes', () => {
    const r = scan('A...AA??');
    expect(Array.from(model.counts(7) ?? [])).toEqual([3, 2, 1, 0, 3, 1, 1, 0]);
    expect(classes(r)).toEqual({ hot: 2, warm: 3, cold: 1, known: 6, s: 3 });
    expect(r?.histogram).toEqual([1, 2, 1, 2]);
  });

  test('scan 4: scan 1 leaves the window', () => {
    const r = scan('A.A.AA.A');
    expect(Array.from(model.counts(7) ?? [])).toEqual([3, 1, 1, 0, 3, 2, 1, 1]);
    expect(classes(r)).toEqual({ hot: 2, warm: 5, cold: 1, known: 8, s: 3 });
    expect(r?.histogram).toEqual([1, 4, 1, 2]);
    // K = 4 slices of 2 pages: "A." "A." "AA" ".A"
    expect(r?.heat).toEqual([128, 128, 255, 128]);
    expect(model.heatRow(7)).toEqual({ vmaId: 7, buckets: [128, 128, 255, 128] });
  });

  test('count runs, page indices and hot/cold ranges after scan 4', () => {
    expect(model.countRuns(7)).toEqual([
      { start: '00010000', end: '00011000', accessedScans: 3 },
      { start: '00011000', end: '00013000', accessedScans: 1 },
      { start: '00013000', end: '00014000', accessedScans: 0 },
      { start: '00014000', end: '00015000', accessedScans: 3 },
      { start: '00015000', end: '00016000', accessedScans: 2 },
      { start: '00016000', end: '00018000', accessedScans: 1 },
    ]);
    expect(Array.from(model.pageIndices(7, 'hot'))).toEqual([0, 4]);
    expect(Array.from(model.pageIndices(7, 'cold'))).toEqual([3]);
    expect(Array.from(model.pageIndices(7, 'warm'))).toEqual([1, 2, 5, 6, 7]);
    expect(hotColdRanges(model.countRuns(7), 3)).toEqual({
      hot: [
        { start: '00010000', end: '00011000' },
        { start: '00014000', end: '00015000' },
      ],
      cold: [{ start: '00013000', end: '00014000' }],
    });
  });

  test('hot and cold pages per node from a per-page node status', () => {
    // Pages 0..7 on nodes 0,1,0,1,1,0,-2 (ENOENT),0; node 5 is not in the session's node list.
    const status = Int32Array.from([0, 1, 0, 1, 1, 0, -2, 5]);
    expect(model.classPagesByNode(7, status, [0, 1])).toEqual({
      hotPagesByNode: [1, 1], // page 0 on node 0, page 4 on node 1
      coldPagesByNode: [0, 1], // page 3 on node 1
    });
    expectInvalid(() => model.classPagesByNode(7, new Int32Array(3), [0]), 'node status has 3 entries');
  });
});

describe('heat buckets', () => {
  test('a VMA smaller than K repeats each page over its buckets', () => {
    const model = new HotnessModel({ scansPerWindow: 2, heatBucketsPerVma: 4 });
    const [r] = model.update([vma(1, 0, 2)], [pageScan(1, 'A.')]);
    expect(r?.heat).toEqual([255, 255, 0, 0]);
  });

  test('uneven slices: 10 pages in 3 buckets are 4 + 3 + 3 pages; unknown pages do not dilute the share', () => {
    const model = new HotnessModel({ scansPerWindow: 2, heatBucketsPerVma: 3 });
    // slices [0,4) [4,7) [7,10)
    const [r] = model.update([vma(1, 0, 10)], [pageScan(1, 'AA..' + 'A??' + '???')]);
    expect(r?.heat).toEqual([128, 255, 0]);
  });
});

describe('VMAs appear, disappear, resize, go unreported', () => {
  test('a VMA missing from the list is forgotten; back again it starts a new window', () => {
    const model = new HotnessModel({ scansPerWindow: 3, heatBucketsPerVma: 1 });
    model.update([vma(1, 0, 2)], [pageScan(1, 'AA')]);
    model.update([vma(1, 0, 2)], [pageScan(1, 'AA')]);
    expect(model.get(1)?.scansInWindow).toBe(2);
    model.update([vma(2, 10, 1)], [pageScan(2, 'A')]);
    expect(model.get(1)).toBeUndefined();
    const [r] = model.update([vma(1, 0, 2)], [pageScan(1, 'A.')]);
    expect(classes(r)).toEqual({ hot: 1, warm: 0, cold: 1, known: 2, s: 1 });
  });

  test('a scan without a record for a VMA is all-unknown: it still slides the window', () => {
    const model = new HotnessModel({ scansPerWindow: 3, heatBucketsPerVma: 1 });
    const v = vma(1, 0, 1);
    for (let i = 0; i < 3; i++) model.update([v], [pageScan(1, 'A')]);
    expect(classes(model.get(1))).toEqual({ hot: 1, warm: 0, cold: 0, known: 1, s: 3 });
    const [gap] = model.update([v], []);
    expect(classes(gap)).toEqual({ hot: 0, warm: 0, cold: 0, known: 0, s: 3 });
    // Window = (A, unknown, A): accessed in 2 of 3 scans, so warm, not hot.
    const [r] = model.update([v], [pageScan(1, 'A')]);
    expect(classes(r)).toEqual({ hot: 0, warm: 1, cold: 0, known: 1, s: 3 });
    expect(Array.from(model.counts(1) ?? [])).toEqual([2]);
  });

  test('a VMA never reported has an empty result and no state', () => {
    const model = new HotnessModel({ scansPerWindow: 3, heatBucketsPerVma: 2 });
    const [r] = model.update([vma(4, 0, 4)], []);
    expect(r).toMatchObject({ granularity: null, scansInWindow: 0, knownPages: 0, heat: [0, 0] });
    expect(model.get(4)).toBeUndefined();
  });

  test('growing at both ends re-bases by address: old pages keep counts and history, new ones start at 0', () => {
    const model = new HotnessModel({ scansPerWindow: 2, heatBucketsPerVma: 1 });
    model.update([vma(1, 10, 3)], [pageScan(1, 'AA.')]);
    model.update([vma(1, 10, 3)], [pageScan(1, 'A..')]);
    expect(Array.from(model.counts(1) ?? [])).toEqual([2, 1, 0]);
    // Now pages 9..13: one new page below, one above.
    const [r] = model.update([vma(1, 9, 5)], [pageScan(1, 'AAAAA')]);
    // Window = (scan 2, scan 3): old page 10: A,A → 2; 11: .,A → 1; 12: .,A → 1; new 9 and 13: 1.
    expect(Array.from(model.counts(1) ?? [])).toEqual([1, 2, 1, 1, 1]);
    expect(classes(r)).toEqual({ hot: 1, warm: 4, cold: 0, known: 5, s: 2 });
    expect(r?.start).toBe(9n * PAGE);
  });

  test('shrinking drops the pages that left and keeps the rest', () => {
    const model = new HotnessModel({ scansPerWindow: 2, heatBucketsPerVma: 1 });
    model.update([vma(1, 0, 4)], [pageScan(1, 'AAA.')]);
    model.update([vma(1, 0, 4)], [pageScan(1, 'A.A.')]);
    const [r] = model.update([vma(1, 2, 2)], [pageScan(1, 'A.')]);
    // Pages 2, 3: window (scan 2, scan 3) = (A, A) → 2 and (., .) → 0.
    expect(Array.from(model.counts(1) ?? [])).toEqual([2, 0]);
    expect(classes(r)).toEqual({ hot: 1, warm: 0, cold: 1, known: 2, s: 2 });
  });

  test('a resize to a disjoint range keeps the window length but no page history', () => {
    const model = new HotnessModel({ scansPerWindow: 2, heatBucketsPerVma: 1 });
    model.update([vma(1, 0, 2)], [pageScan(1, 'AA')]);
    const [r] = model.update([vma(1, 100, 2)], [pageScan(1, 'AA')]);
    expect(classes(r)).toEqual({ hot: 0, warm: 2, cold: 0, known: 2, s: 2 });
  });

  test('a switch to vma granularity resets the window', () => {
    const model = new HotnessModel({ scansPerWindow: 3, heatBucketsPerVma: 1 });
    model.update([vma(1, 0, 4)], [pageScan(1, 'AAAA')]);
    model.update([vma(1, 0, 4)], [pageScan(1, 'AAAA')]);
    const [r] = model.update(
      [vma(1, 0, 4)],
      [{ granularity: 'vma', vmaId: 1, accessedPages: 4, residentPages: 4 }],
    );
    expect(r?.scansInWindow).toBe(1);
    expect(r?.granularity).toBe('vma');
    expect(model.counts(1)).toBeNull();
  });

  test('a VMA beyond maxPagesPerVma is not modelled and says why', () => {
    const model = new HotnessModel({ scansPerWindow: 2, heatBucketsPerVma: 1, maxPagesPerVma: 4 });
    const [r] = model.update([vma(1, 0, 5)], [pageScan(1, 'AAAAA')]);
    expect(r?.untracked).toContain('exceeds the per-VMA limit of 4 pages');
    expect(r?.knownPages).toBe(0);
    expect(model.countRuns(1)).toEqual([]);
  });
});

describe('region granularity (DAMON)', () => {
  const v = vma(3, 16, 8); // 0x10000..0x18000
  const regions = [
    { start: 0x10000n, end: 0x12000n, accessRatio: 0.6 },
    { start: 0x12000n, end: 0x15000n, accessRatio: 0 },
    { start: 0x15000n, end: 0x17000n, accessRatio: 0.05 },
    // page 7 (0x17000) is in no region: unknown
  ];

  test('default threshold: any observed access makes the region accessed', () => {
    const model = new HotnessModel({ scansPerWindow: 2, heatBucketsPerVma: 2 });
    const [r] = model.update([v], [{ granularity: 'region', vmaId: 3, regions }]);
    expect(classes(r)).toEqual({ hot: 4, warm: 0, cold: 3, known: 7, s: 1 });
    expect(r?.granularity).toBe('region');
    expect(model.countRuns(3)).toEqual([
      { start: '00010000', end: '00012000', accessedScans: 1 },
      { start: '00012000', end: '00015000', accessedScans: 0 },
      { start: '00015000', end: '00017000', accessedScans: 1 },
    ]);
  });

  test('threshold 0.5: the 0.05 region counts as not accessed', () => {
    const model = new HotnessModel({ scansPerWindow: 2, heatBucketsPerVma: 2, regionAccessThreshold: 0.5 });
    const [r] = model.update([v], [{ granularity: 'region', vmaId: 3, regions }]);
    expect(classes(r)).toEqual({ hot: 2, warm: 0, cold: 5, known: 7, s: 1 });
  });

  test('regions map onto the same per-page counts as page flags: identical results', () => {
    const byRegion = new HotnessModel({ scansPerWindow: 2, heatBucketsPerVma: 3 });
    const byPage = new HotnessModel({ scansPerWindow: 2, heatBucketsPerVma: 3 });
    const scans = [
      { regions, pattern: 'AA...AA?' },
      {
        regions: [
          { start: 0x0f000n, end: 0x11000n, accessRatio: 1 }, // clipped to the VMA
          { start: 0x11000n, end: 0x18000n, accessRatio: 0 },
        ],
        pattern: 'A.......',
      },
    ];
    for (const s of scans) {
      const [a] = byRegion.update([v], [{ granularity: 'region', vmaId: 3, regions: s.regions }]);
      const [b] = byPage.update([v], [pageScan(3, s.pattern)]);
      expect({ ...a, granularity: null }).toEqual({ ...b, granularity: null });
    }
    expect(byRegion.countRuns(3)).toEqual(byPage.countRuns(3));
  });

  test('an accessRatio outside 0..1 is rejected', () => {
    const model = new HotnessModel({ scansPerWindow: 2, heatBucketsPerVma: 2 });
    expectInvalid(
      () =>
        model.update(
          [v],
          [
            {
              granularity: 'region',
              vmaId: 3,
              regions: [{ start: 0x10000n, end: 0x11000n, accessRatio: 2 }],
            },
          ],
        ),
      'accessRatio 2',
    );
  });
});

describe('vma granularity (clear_refs): classes as bounds', () => {
  const v = vma(5, 0, 100);
  const refs = (accessedPages: number, residentPages: number): VmaAccess => ({
    granularity: 'vma',
    vmaId: 5,
    accessedPages,
    residentPages,
  });

  test('partial references: hot ≤ min, cold ≤ resident − max, with their lower bounds', () => {
    const model = new HotnessModel({ scansPerWindow: 3, heatBucketsPerVma: 4 });
    model.update([v], [refs(30, 80)]);
    model.update([v], [refs(20, 80)]);
    const [r] = model.update([v], [refs(25, 80)]);
    expect(r).toMatchObject({
      granularity: 'vma',
      scansInWindow: 3,
      knownPages: 80,
      accessedPages: 25,
      hotPages: 20,
      coldPages: 50,
      warmPages: 10,
      hotPagesMin: 0, // 75 − 2 × 80 < 0
      coldPagesMin: 5, // 80 − 75
      histogram: null,
      heat: [80, 80, 80, 80], // round(255 × 25 / 80)
    });
    expect(model.countRuns(5)).toEqual([]);
    expect(model.pageIndices(5, 'hot').length).toBe(0);
  });

  test('all resident pages referenced every scan: exactly hot, one run of count N', () => {
    const model = new HotnessModel({ scansPerWindow: 3, heatBucketsPerVma: 1 });
    for (let i = 0; i < 3; i++) model.update([v], [refs(80, 80)]);
    expect(model.get(5)).toMatchObject({ hotPages: 80, hotPagesMin: 80, coldPages: 0, warmPages: 0 });
    expect(model.countRuns(5)).toEqual([{ start: '00000000', end: '00064000', accessedScans: 3 }]);
    expect(hotColdRanges(model.countRuns(5), 3).hot).toEqual([{ start: '00000000', end: '00064000' }]);
  });

  test('all-or-nothing scans give an exact count; nothing referenced is exactly cold', () => {
    const model = new HotnessModel({ scansPerWindow: 3, heatBucketsPerVma: 1 });
    model.update([v], [refs(80, 80)]);
    model.update([v], [refs(0, 80)]);
    model.update([v], [refs(80, 80)]);
    expect(model.get(5)).toMatchObject({ hotPages: 0, warmPages: 80, coldPages: 0 });
    expect(model.countRuns(5)).toEqual([{ start: '00000000', end: '00064000', accessedScans: 2 }]);
    for (let i = 0; i < 3; i++) model.update([v], [refs(0, 80)]);
    expect(model.get(5)).toMatchObject({ hotPages: 0, coldPages: 80, coldPagesMin: 80 });
    expect(model.countRuns(5)).toEqual([{ start: '00000000', end: '00064000', accessedScans: 0 }]);
  });

  test('a changing resident set gives no run', () => {
    const model = new HotnessModel({ scansPerWindow: 2, heatBucketsPerVma: 1 });
    model.update([v], [refs(0, 70)]);
    model.update([v], [refs(0, 80)]);
    expect(model.countRuns(5)).toEqual([]);
  });

  test('the bounds hold for any per-page truth with a stable resident set', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 30 }),
        fc.array(fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }), { minLength: 1, maxLength: 8 }),
        (n, resident, scans) => {
          const model = new HotnessModel({ scansPerWindow: n, heatBucketsPerVma: 1 });
          const w = vma(1, 0, 30);
          for (const s of scans) {
            const accessed = s.slice(0, resident).filter(Boolean).length;
            model.update(
              [w],
              [{ granularity: 'vma', vmaId: 1, accessedPages: accessed, residentPages: resident }],
            );
          }
          const window = scans.slice(-n);
          let trueHot = 0;
          let trueCold = 0;
          for (let p = 0; p < resident; p++) {
            const c = window.filter((s) => s[p]).length;
            if (c === window.length) trueHot++;
            if (c === 0) trueCold++;
          }
          const r = model.get(1);
          if (!r) return false;
          return (
            r.hotPagesMin <= trueHot &&
            trueHot <= r.hotPages &&
            r.coldPagesMin <= trueCold &&
            trueCold <= r.coldPages &&
            r.hotPages + r.warmPages + r.coldPages === resident &&
            r.warmPages >= 0
          );
        },
      ),
    );
  });
});

describe('hotColdRanges', () => {
  test('merges adjacent runs across VMAs and ignores the rest', () => {
    const runs = [
      { start: '00003000', end: '00004000', accessedScans: 3 }, // out of order on purpose
      { start: '00001000', end: '00002000', accessedScans: 0 },
      { start: '00002000', end: '00003000', accessedScans: 3 },
      { start: '00004000', end: '00005000', accessedScans: 2 },
      { start: '00006000', end: '00007000', accessedScans: 0 },
    ];
    expect(hotColdRanges(runs, 3)).toEqual({
      hot: [{ start: '00002000', end: '00004000' }],
      cold: [
        { start: '00001000', end: '00002000' },
        { start: '00006000', end: '00007000' },
      ],
    });
  });
});

describe('bad input', () => {
  test('options', () => {
    expectInvalid(() => new HotnessModel({ scansPerWindow: 0, heatBucketsPerVma: 1 }), 'scansPerWindow');
    expectInvalid(() => new HotnessModel({ scansPerWindow: 256, heatBucketsPerVma: 1 }), 'scansPerWindow');
    expectInvalid(() => new HotnessModel({ scansPerWindow: 3, heatBucketsPerVma: 0 }), 'heatBucketsPerVma');
    expectInvalid(
      () => new HotnessModel({ scansPerWindow: 3, heatBucketsPerVma: 1, pageSizeBytes: 3000 }),
      'power of two',
    );
    expectInvalid(
      () => new HotnessModel({ scansPerWindow: 3, heatBucketsPerVma: 1, regionAccessThreshold: 1.5 }),
      'regionAccessThreshold',
    );
  });

  test('scans', () => {
    const model = new HotnessModel({ scansPerWindow: 3, heatBucketsPerVma: 1 });
    const v = vma(1, 0, 2);
    expectInvalid(() => model.update([v], [pageScan(1, 'A')]), '1 page flags for a VMA of 2 pages');
    expectInvalid(
      () => model.update([v], [{ granularity: 'page', vmaId: 1, flags: Uint8Array.from([1, 7]) }]),
      'page flag 7',
    );
    expectInvalid(() => model.update([v, v], []), 'appears twice');
    expectInvalid(() => model.update([v], [pageScan(9, 'AA')]), 'not in this scan');
    expectInvalid(() => model.update([v], [pageScan(1, 'AA'), pageScan(1, 'AA')]), 'two access records');
    expectInvalid(() => model.update([{ id: 1, start: 0x1000n, end: 0x1800n }], []), 'not page aligned');
    expectInvalid(() => model.update([{ id: 1, start: 0x2000n, end: 0x1000n }], []), 'inverted');
  });
});

/** The model, naively: full history per page. */
function reference(n: number, history: (string | null)[]) {
  const window = history.slice(-n);
  const latest = history[history.length - 1];
  const pages = latest?.length ?? history.find((h) => h !== null)?.length ?? 0;
  const counts = Array.from({ length: pages }, (_, p) => window.filter((h) => h?.[p] === 'A').length);
  const known = Array.from({ length: pages }, (_, p) => latest != null && latest[p] !== '?');
  const s = window.length;
  let hot = 0;
  let cold = 0;
  let warm = 0;
  const histogram = new Array<number>(n + 1).fill(0);
  counts.forEach((c, p) => {
    if (!known[p]) return;
    histogram[c] = (histogram[c] ?? 0) + 1;
    if (c === s) hot++;
    else if (c === 0) cold++;
    else warm++;
  });
  return { counts, hot, warm, cold, histogram, s };
}

describe('properties', () => {
  const scanArb = (pages: number) =>
    fc.option(
      fc.array(fc.constantFrom('A', '.', '?'), { minLength: pages, maxLength: pages }).map((a) => a.join('')),
      {
        freq: 6,
      },
    );

  test('equals the naive full-history model; hot + warm + cold = known pages', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc
          .integer({ min: 1, max: 40 })
          .chain((pages) =>
            fc.tuple(fc.constant(pages), fc.array(scanArb(pages), { minLength: 1, maxLength: 14 })),
          ),
        (n, [pages, scans]) => {
          // A VMA must be reported once before it has state: start with a real scan.
          const history: (string | null)[] = [scans[0] ?? 'A'.repeat(pages), ...scans.slice(1)];
          const model = new HotnessModel({ scansPerWindow: n, heatBucketsPerVma: 5 });
          const v = vma(1, 256, pages);
          let r: VmaHotness | undefined;
          for (const h of history) [r] = model.update([v], h === null ? [] : [pageScan(1, h)]);
          const ref = reference(n, history);
          expect(Array.from(model.counts(1) ?? [])).toEqual(ref.counts);
          expect(r?.scansInWindow).toBe(ref.s);
          expect({ hot: r?.hotPages, warm: r?.warmPages, cold: r?.coldPages }).toEqual({
            hot: ref.hot,
            warm: ref.warm,
            cold: ref.cold,
          });
          expect(r?.histogram).toEqual(ref.histogram);
          expect((r?.hotPages ?? 0) + (r?.warmPages ?? 0) + (r?.coldPages ?? 0)).toBe(r?.knownPages);
          // Runs cover exactly the known pages, with their counts.
          let covered = 0;
          for (const run of model.countRuns(1)) {
            const from = Number((BigInt(`0x${run.start}`) - v.start) / PAGE);
            const to = Number((BigInt(`0x${run.end}`) - v.start) / PAGE);
            for (let p = from; p < to; p++) expect(ref.counts[p]).toBe(run.accessedScans);
            covered += to - from;
          }
          expect(covered).toBe(r?.knownPages);
        },
      ),
    );
  });

  test('monotone: one more access in the latest scan never lowers hot nor raises cold', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.array(fc.constantFrom('A', '.'), { minLength: 12, maxLength: 12 }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.integer({ min: 0, max: 11 }),
        (n, scans, page) => {
          const run = (last: string[]) => {
            const model = new HotnessModel({ scansPerWindow: n, heatBucketsPerVma: 1 });
            const v = vma(1, 0, 12);
            let r: VmaHotness | undefined;
            for (const s of [...scans.slice(0, -1), last]) [r] = model.update([v], [pageScan(1, s.join(''))]);
            return r;
          };
          const last = scans[scans.length - 1] ?? [];
          const base = run(last);
          const more = run(last.map((c, i) => (i === page ? 'A' : c)));
          return (
            (more?.hotPages ?? 0) >= (base?.hotPages ?? 0) && (more?.coldPages ?? 0) <= (base?.coldPages ?? 0)
          );
        },
      ),
    );
  });
});
