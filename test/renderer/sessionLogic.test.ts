import { describe, expect, it } from 'vitest';
import {
  addressOfOffset,
  buildAxis,
  heatmapRanges,
  mergeRanges,
  offsetOfAddress,
  parseHex,
  rangeRows,
  rowAddressSpan,
  rowOfOffset,
  rowStartOffset,
  rowsToRanges,
  sameRanges,
  sliceAxis,
  toHex,
} from '../../renderer/src/logic/addressAxis.js';
import { decimateMinMax, decimateStacked } from '../../renderer/src/logic/decimate.js';
import {
  experimentBands,
  experimentLabel,
  experimentLines,
  placementDeltas,
} from '../../renderer/src/logic/experiments.js';
import {
  buildRamp,
  cellValue,
  decodeBase64,
  heatmapToRgba,
  hotBands,
  hotRowsSpan,
  parseColor,
  type HeatPlanes,
} from '../../renderer/src/logic/heatmap.js';
import {
  rankMisplacement,
  sessionTiers,
  summarizeMisplacement,
  tiersFromTopology,
} from '../../renderer/src/logic/misplacement.js';
import {
  counterTrackNames,
  processTracks,
  samplerCpuPercent,
  trackValuesAt,
  vmaTrack,
} from '../../renderer/src/logic/sessionTracks.js';
import { filterSessionVmas, sortSessionVmas } from '../../renderer/src/logic/sessionVmas.js';
import {
  clampViewport,
  formatOffsetMs,
  fullViewport,
  msToPx,
  panViewport,
  positionAt,
  positionRange,
  pxToMs,
  sessionBounds,
  timeTicks,
  zoomViewport,
} from '../../renderer/src/logic/timeScale.js';
import { formatTrackValue } from '../../renderer/src/logic/trackFormat.js';
import { labTopology } from './fixtures.js';
import { experiment, MiB, PAGE, sessionView, sessionVmas, vmaSeries } from './sessionFixtures.js';

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('fixture is missing a value');
  return value;
}

/** Ten 1 s intervals, back to back. */
const TIMES = {
  startMs: Array.from({ length: 10 }, (_, p) => p * 1000),
  endMs: Array.from({ length: 10 }, (_, p) => (p + 1) * 1000),
};
const BOUNDS = sessionBounds(TIMES, 1000);

describe('time scale', () => {
  it('bounds a session by its first start and last end, one interval at the narrowest', () => {
    expect(BOUNDS).toEqual({ minMs: 0, maxMs: 10_000, minSpanMs: 1000 });
    expect(sessionBounds({ startMs: [], endMs: [] }, 1000)).toEqual({ minMs: 0, maxMs: 1, minSpanMs: 1 });
  });

  it('clamps span and position', () => {
    expect(clampViewport({ fromMs: 5000, toMs: 5100 }, BOUNDS)).toEqual({ fromMs: 5000, toMs: 6000 });
    expect(clampViewport({ fromMs: -3000, toMs: 1000 }, BOUNDS)).toEqual({ fromMs: 0, toMs: 4000 });
    expect(clampViewport({ fromMs: 8000, toMs: 12_000 }, BOUNDS)).toEqual({ fromMs: 6000, toMs: 10_000 });
    expect(clampViewport({ fromMs: -1, toMs: 50_000 }, BOUNDS)).toEqual(fullViewport(BOUNDS));
    expect(clampViewport({ fromMs: Number.NaN, toMs: 1 }, BOUNDS)).toEqual(fullViewport(BOUNDS));
  });

  it('zooms around the anchor, which keeps its pixel', () => {
    const v = zoomViewport(fullViewport(BOUNDS), BOUNDS, 0.5, 2000);
    expect(v).toEqual({ fromMs: 1000, toMs: 6000 });
    expect(msToPx(2000, v, 1000)).toBeCloseTo(msToPx(2000, fullViewport(BOUNDS), 1000));
    // No further than one interval, no wider than the session.
    expect(zoomViewport(v, BOUNDS, 0.0001, 3000)).toEqual({ fromMs: 2600, toMs: 3600 });
    expect(zoomViewport(v, BOUNDS, 100, 3000)).toEqual(fullViewport(BOUNDS));
  });

  it('pans without changing the span, stopping at the ends', () => {
    const v = { fromMs: 1000, toMs: 6000 };
    expect(panViewport(v, BOUNDS, 2000)).toEqual({ fromMs: 3000, toMs: 8000 });
    expect(panViewport(v, BOUNDS, 10_000)).toEqual({ fromMs: 5000, toMs: 10_000 });
    expect(panViewport(v, BOUNDS, -10_000)).toEqual({ fromMs: 0, toMs: 5000 });
  });

  it('maps pixels and times both ways', () => {
    const v = { fromMs: 1000, toMs: 3000 };
    expect(msToPx(2000, v, 400)).toBe(200);
    expect(pxToMs(200, v, 400)).toBe(2000);
  });

  it('finds the interval positions of a viewport and under a cursor', () => {
    expect(positionRange(TIMES, { fromMs: 1500, toMs: 3500 })).toEqual({ fromPos: 1, toPos: 4 });
    expect(positionRange(TIMES, { fromMs: 2000, toMs: 4000 })).toEqual({ fromPos: 2, toPos: 4 });
    expect(positionRange(TIMES, fullViewport(BOUNDS))).toEqual({ fromPos: 0, toPos: 10 });
    expect(positionAt(TIMES, 2500)).toBe(2);
    expect(positionAt(TIMES, 0)).toBe(0);
    expect(positionAt(TIMES, 10_000)).toBeNull();
    expect(positionAt(TIMES, -1)).toBeNull();
  });

  it('puts ticks at round steps with readable offsets', () => {
    const ticks = timeTicks(fullViewport(BOUNDS), 1000);
    expect(ticks.map((t) => t.ms)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000]);
    expect(ticks[1]?.label).toBe('1 s');
    const hour = timeTicks({ fromMs: 0, toMs: 3_600_000 }, 800);
    expect(hour[1]).toEqual({ ms: 600_000, label: '10:00' });
    expect(timeTicks({ fromMs: 0, toMs: 0 }, 100)).toEqual([]);
  });

  it('formats offsets at the precision asked', () => {
    expect(formatOffsetMs(250, 100)).toBe('250 ms');
    expect(formatOffsetMs(1500, 100)).toBe('1.5 s');
    expect(formatOffsetMs(45_000, 1000)).toBe('45 s');
    expect(formatOffsetMs(125_000, 1000)).toBe('2:05');
    expect(formatOffsetMs(3_725_000, 1000)).toBe('1:02:05');
  });
});

describe('min/max decimation', () => {
  const values = TIMES.startMs.map((_, p) => p);
  const full = fullViewport(BOUNDS);

  it('gives one interval per pixel when they match', () => {
    const d = decimateMinMax(TIMES, values, full, 10);
    expect([...d.min]).toEqual(values);
    expect([...d.max]).toEqual(values);
    expect(d.peak).toBe(9);
  });

  it('keeps the minimum and maximum of the intervals a pixel covers', () => {
    const d = decimateMinMax(TIMES, values, full, 5);
    expect([...d.min]).toEqual([0, 2, 4, 6, 8]);
    expect([...d.max]).toEqual([1, 3, 5, 7, 9]);
  });

  it('fills every pixel of a zoomed-in interval', () => {
    const d = decimateMinMax(TIMES, values, { fromMs: 2000, toMs: 4000 }, 4);
    expect([...d.max]).toEqual([2, 2, 3, 3]);
  });

  it('keeps a one-interval spike visible at any zoom, with a bounded output', () => {
    const n = 100_000;
    const times = {
      startMs: Array.from({ length: n }, (_, p) => p * 10),
      endMs: Array.from({ length: n }, (_, p) => p * 10 + 10),
    };
    const spiky = new Float64Array(n);
    spiky[53_712] = 1000;
    const d = decimateMinMax(times, spiky, { fromMs: 0, toMs: n * 10 }, 100);
    expect(d.max.length).toBe(100);
    expect(d.max[53]).toBe(1000);
    expect(d.min[53]).toBe(0);
    expect(d.peak).toBe(1000);
    expect([...d.max].filter((v) => v === 0)).toHaveLength(99);
  });

  it('leaves gaps for missing values and outside the session', () => {
    const d = decimateMinMax(TIMES, [1, null, 3, 4, 5, 6, 7, 8, 9, 10], { fromMs: 0, toMs: 20_000 }, 20);
    expect(d.max[0]).toBe(1);
    expect(d.max[1]).toBeNaN();
    expect(d.max[15]).toBeNaN();
  });

  it('stacks layers cumulatively', () => {
    const ones = TIMES.startMs.map(() => 1);
    const twos = TIMES.startMs.map(() => 2);
    const threes = TIMES.startMs.map(() => 3);
    const d = decimateStacked(TIMES, [ones, twos, threes], full, 10);
    expect(d.layers).toBe(3);
    expect(d.max[0]).toBe(1);
    expect(d.max[10]).toBe(3);
    expect(d.max[20]).toBe(6);
    expect(d.peak).toBe(6);
  });

  it('draws nothing for an empty viewport or width', () => {
    expect(decimateMinMax(TIMES, values, full, 0).peak).toBe(0);
    expect(decimateStacked(TIMES, [], full, 10).layers).toBe(0);
  });
});

describe('address axis', () => {
  const axis = buildAxis([
    { start: '5000', end: '6000' },
    { start: '1000', end: '2000' },
    { start: '3000', end: '3000' },
  ]);

  it('concatenates ranges in address order, leaving empty ones out', () => {
    expect(axis.totalBytes).toBe(0x2000n);
    expect(axis.ranges.map((r) => [toHex(r.start), r.offset])).toEqual([
      ['1000', 0n],
      ['5000', 0x1000n],
    ]);
  });

  it('maps offsets and addresses both ways, gaps excluded', () => {
    expect(offsetOfAddress(axis, 0x5800n)).toBe(0x1800n);
    expect(offsetOfAddress(axis, 0x3000n)).toBeNull();
    expect(offsetOfAddress(axis, 0x6000n)).toBeNull();
    expect(addressOfOffset(axis, 0x1800n)).toBe(0x5800n);
    expect(addressOfOffset(axis, 0x1000n)).toBe(0x5000n);
  });

  it('puts every byte in the row whose real-valued span holds it', () => {
    for (const [total, rows] of [
      [1000n, 7],
      [3n, 2],
      [4096n, 4096],
      [10n, 3],
    ] as const) {
      for (let o = 0n; o < total; o++) {
        const r = rowOfOffset(o, total, rows);
        expect(rowStartOffset(r, total, rows) <= o).toBe(true);
        expect(o < rowStartOffset(r + 1, total, rows)).toBe(true);
        // Row r covers [r·total/rows, (r+1)·total/rows) in real numbers.
        expect(Number(o) >= (r * Number(total)) / rows && Number(o) < ((r + 1) * Number(total)) / rows).toBe(
          true,
        );
      }
      expect(rowStartOffset(rows, total, rows)).toBe(total);
    }
  });

  it('stays exact above 2^53', () => {
    const high = buildAxis([{ start: 'ffffffffff600000', end: 'ffffffffff601000' }]);
    expect(high.totalBytes).toBe(0x1000n);
    expect(addressOfOffset(high, 0xfffn)).toBe(0xffffffffff600fffn);
    expect(toHex(parseHex('ffffffffff600000') + 1n)).toBe('ffffffffff600001');
  });

  it('slices the concatenation back into address ranges', () => {
    expect(sliceAxis(axis, 0x800n, 0x1800n)).toEqual([
      { start: '1800', end: '2000' },
      { start: '5000', end: '5800' },
    ]);
    expect(rowsToRanges(axis, 2, 1, 2)).toEqual([{ start: '5000', end: '6000' }]);
    expect(rowsToRanges(axis, 4, 0, 4)).toEqual([
      { start: '1000', end: '2000' },
      { start: '5000', end: '6000' },
    ]);
    expect(rowAddressSpan(axis, 4, 1, 3)).toEqual({ start: '1800', end: '5800' });
  });

  it('finds the rows an address range touches', () => {
    expect(rangeRows(axis, 4, 0x5000n, 0x6000n)).toEqual({ fromRow: 2, toRow: 4 });
    expect(rangeRows(axis, 4, 0x1800n, 0x5400n)).toEqual({ fromRow: 1, toRow: 3 });
    expect(rangeRows(axis, 4, 0x3000n, 0x4000n)).toBeNull();
  });

  it('merges overlapping and touching ranges', () => {
    expect(
      mergeRanges([
        { start: '3000', end: '4000' },
        { start: '1000', end: '2000' },
        { start: '2000', end: '2800' },
        { start: '3800', end: '3900' },
      ]),
    ).toEqual([
      { start: '1000', end: '2800' },
      { start: '3000', end: '4000' },
    ]);
    expect(sameRanges([{ start: '1', end: '2' }], [{ start: '1', end: '2' }])).toBe(true);
    expect(sameRanges([{ start: '1', end: '2' }], [{ start: '1', end: '3' }])).toBe(false);
  });

  it('puts every VMA ever resident on the heatmap, merged, within the request limit', () => {
    expect(heatmapRanges(sessionVmas())).toEqual([
      { start: '400000', end: '401000' },
      { start: '1000000', end: '1021000' },
      { start: '7f0000000000', end: '7f0005000000' },
    ]);
    // Over the limit, the smallest gaps close first.
    const vmas = [
      { start: '1000', end: '2000', maxRssBytes: 1 },
      { start: '2100', end: '3000', maxRssBytes: 1 },
      { start: '9000', end: 'a000', maxRssBytes: 1 },
      { start: 'a010', end: 'b000', maxRssBytes: 1 },
    ];
    expect(heatmapRanges(vmas, 2)).toEqual([
      { start: '1000', end: '3000' },
      { start: '9000', end: 'b000' },
    ]);
  });
});

describe('heatmap pixels', () => {
  const b64 = (bytes: number[]): string => btoa(String.fromCharCode(...bytes));

  it('decodes base64 and tolerates garbage', () => {
    expect([...decodeBase64(b64([0, 200, 255]))]).toEqual([0, 200, 255]);
    expect(decodeBase64('%%%').length).toBe(0);
  });

  it('parses the colour forms getComputedStyle returns', () => {
    expect(parseColor('#fa0')).toEqual([255, 170, 0]);
    expect(parseColor(' #12ab3F ')).toEqual([18, 171, 63]);
    expect(parseColor('#12ab3f80')).toEqual([18, 171, 63]);
    expect(parseColor('rgb(1, 2, 3)')).toEqual([1, 2, 3]);
    expect(parseColor('rgb(1 2 3 / 50%)')).toEqual([1, 2, 3]);
    expect(parseColor('blue')).toBeNull();
  });

  it('builds a ramp through its stops', () => {
    const lut = buildRamp([
      [0, 0, 0],
      [255, 255, 255],
    ]);
    expect([...lut.slice(0, 3)]).toEqual([0, 0, 0]);
    expect([...lut.slice(255 * 3)]).toEqual([255, 255, 255]);
    expect(lut[128 * 3]).toBe(128);
    const three = buildRamp([
      [0, 0, 0],
      [100, 0, 0],
      [100, 100, 0],
    ]);
    expect([...three.slice(255 * 3)]).toEqual([100, 100, 0]);
    expect(buildRamp([[9, 9, 9]])[255 * 3]).toBe(9);
  });

  /** 2 rows × 2 columns: row 0 (low addresses) = [0, absent], row 1 = [128, 255]. */
  const planes: HeatPlanes = {
    rows: 2,
    columns: 2,
    max: new Uint8Array([0, 255, 128, 255]),
    mean: new Uint8Array([0, 255, 64, 200]),
    present: new Uint8Array([1, 0, 1, 1]),
  };
  const gray = buildRamp([
    [0, 0, 0],
    [255, 255, 255],
  ]);

  it('colours cells through the ramp, absent ones as background, low addresses at the bottom', () => {
    const img = heatmapToRgba(planes, 'max', gray, [1, 2, 3]);
    expect(img.widthPx).toBe(2);
    expect(img.heightPx).toBe(2);
    const px = (x: number, y: number): number[] => [...img.data.slice((y * 2 + x) * 4, (y * 2 + x) * 4 + 4)];
    expect(px(0, 0)).toEqual([128, 128, 128, 255]); // row 1, column 0, drawn at the top
    expect(px(1, 0)).toEqual([255, 255, 255, 255]);
    expect(px(0, 1)).toEqual([0, 0, 0, 255]); // present, never accessed: the ramp's first colour
    expect(px(1, 1)).toEqual([1, 2, 3, 255]); // no data: the background
    expect(heatmapToRgba(planes, 'mean', gray, [1, 2, 3]).data[4]).toBe(200);
  });

  it('reads one cell, null where there is no data', () => {
    expect(cellValue(planes, 'max', 1, 0)).toBe(128);
    expect(cellValue(planes, 'mean', 1, 1)).toBe(200);
    expect(cellValue(planes, 'max', 0, 1)).toBeNull();
    expect(cellValue(planes, 'max', 5, 0)).toBeNull();
  });

  it('finds the hot rows of the rightmost column with data', () => {
    // 4 rows over 0x1000–0x5000; column 2 has no data; column 1 is hot in rows 1 and 2.
    const axis = buildAxis([{ start: '1000', end: '5000' }]);
    const p: HeatPlanes = {
      rows: 4,
      columns: 3,
      max: new Uint8Array([0, 10, 0, 255, 230, 0, 255, 200, 0, 0, 199, 0]),
      mean: new Uint8Array(12),
      present: new Uint8Array([1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0]),
    };
    expect(hotRowsSpan(p, axis)).toEqual({ start: '2000', end: '4000' });
    expect(hotBands(p, axis)).toEqual([{ start: '2000', end: '4000', rows: 2 }]);
    const cold = { ...p, max: new Uint8Array(12) };
    expect(hotRowsSpan(cold, axis)).toBeNull();
  });

  it('reports every hot band, the widest as the hot rows', () => {
    // One column, 8 rows over 0x0–0x8000: hot rows 0, 3–5 and 7.
    const axis = buildAxis([{ start: '0', end: '8000' }]);
    const p: HeatPlanes = {
      rows: 8,
      columns: 1,
      max: new Uint8Array([255, 0, 0, 210, 220, 230, 0, 255]),
      mean: new Uint8Array(8),
      present: new Uint8Array(8).fill(1),
    };
    expect(hotBands(p, axis)).toEqual([
      { start: '0', end: '1000', rows: 1 },
      { start: '3000', end: '6000', rows: 3 },
      { start: '7000', end: '8000', rows: 1 },
    ]);
    expect(hotRowsSpan(p, axis)).toEqual({ start: '3000', end: '6000' });
    // Rows of two mappings do not make one band, even when both are hot.
    const split = buildAxis([
      { start: '0', end: '4000' },
      { start: '10000', end: '14000' },
    ]);
    const hotAll = { ...p, max: new Uint8Array(8).fill(255) };
    expect(hotBands(hotAll, split)).toEqual([
      { start: '0', end: '4000', rows: 4 },
      { start: '10000', end: '14000', rows: 4 },
    ]);
  });
});

describe('misplacement', () => {
  it('splits tiers like the engine: memory tiers, else CPU vs CPU-less nodes, else none', () => {
    expect(tiersFromTopology(labTopology())).toEqual({ fastNodes: [0, 1], slowNodes: [2] });
    const noTiers = { ...labTopology(), tiers: [] };
    expect(tiersFromTopology(noTiers)).toEqual({ fastNodes: [0, 1], slowNodes: [2] });
    const flat = { ...noTiers, nodes: noTiers.nodes.map((n) => ({ ...n, cpuLess: false })) };
    expect(tiersFromTopology(flat)).toBeNull();
  });

  it('ranks VMAs by what a migration would put on the right tier', () => {
    const view = sessionView();
    const rows = rankMisplacement(view.vmas, sessionTiers(view));
    expect(rows.map((r) => [r.id, r.hotOnSlowBytes, r.coldOnFastBytes, r.gainBytes])).toEqual([
      [1, 16 * MiB, 16 * MiB, 32 * MiB],
      [4, MiB, 0, MiB],
    ]);
    const summary = summarizeMisplacement(view);
    expect(summary.hotOnSlowBytes).toBe(view.report.misplacement?.hotOnSlowBytes);
    expect(summary.coldOnFastBytes).toBe(view.report.misplacement?.coldOnFastBytes);
  });

  it('has nothing to rank on a single tier, and says why', () => {
    const view = sessionView();
    const flat = {
      ...view,
      meta: {
        ...view.meta,
        topology: {
          ...labTopology(),
          tiers: [],
          nodes: [{ ...must(labTopology().nodes[0]), cpuLess: false }],
        },
      },
      report: {
        ...view.report,
        misplacement: null,
        misplacementNote: 'one memory tier: nothing is misplaced',
      },
    };
    const summary = summarizeMisplacement(flat);
    expect(summary.tiers).toBeNull();
    expect(summary.rows).toEqual([]);
    expect(summary.note).toBe('one memory tier: nothing is misplaced');
  });
});

describe('experiments on the timeline', () => {
  it('computes the before/after deltas that changed', () => {
    expect(placementDeltas(experiment())).toEqual([
      { measure: 'selection', node: 0, beforeBytes: 0, afterBytes: 16 * MiB, deltaBytes: 16 * MiB },
      { measure: 'selection', node: 2, beforeBytes: 16 * MiB, afterBytes: 0, deltaBytes: -16 * MiB },
      { measure: 'hot', node: 0, beforeBytes: 0, afterBytes: 16 * MiB, deltaBytes: 16 * MiB },
      { measure: 'hot', node: 2, beforeBytes: 16 * MiB, afterBytes: 0, deltaBytes: -16 * MiB },
    ]);
    expect(placementDeltas(experiment({ after: null }))).toEqual([]);
  });

  it('labels and describes a band', () => {
    expect(experimentLabel(experiment())).toBe('move → N0');
    expect(experimentLabel(experiment({ kind: 'lazy-rebind', dryRun: true, toNodes: [2] }))).toBe(
      'dry run: lazy rebind → N2',
    );
    const lines = experimentLines(experiment());
    expect(lines).toContain('hot on N2: 16.0 MiB → 0 B (−16.0 MiB)');
    expect(lines).toContain('moved 4,000 of 4,096 pages, 96 already there');
    expect(lines).toContain('accessed per scan: 50 % → 75 %');
    expect(lines).toContain('benchmark: 1000 → 1250 (+25 %)');
  });

  it('places bands in time: running ones reach the end, those outside a session are left out', () => {
    const bands = experimentBands(
      [
        experiment({ id: 'late', startMs: 8000, endMs: null, status: 'running' }),
        experiment(),
        experiment({ id: 'outside', startMs: null, endMs: null }),
      ],
      BOUNDS,
    );
    expect(bands.map((b) => [b.id, b.fromMs, b.toMs])).toEqual([
      ['e1', 3000, 5000],
      ['late', 8000, 10_000],
    ]);
  });
});

describe('session tracks', () => {
  const view = sessionView();

  it('picks the promotion, demotion and hint-fault counters present', () => {
    expect(counterTrackNames(view.timeline.counters.names)).toEqual([
      'pgpromote_success',
      'pgdemote_kswapd',
      'numa_hint_faults',
      'numa_hint_faults_local',
    ]);
  });

  it('builds the whole-process tracks', () => {
    const tracks = processTracks(view);
    expect(tracks.map((t) => t.id)).toEqual([
      'hotness',
      'hot-nodes',
      'cold-nodes',
      'pgpromote_success',
      'pgdemote_kswapd',
      'numa_hint_faults',
      'numa_hint_faults_local',
      'sampler',
    ]);
    expect(tracks[1]?.layers.map((l) => [l.label, l.colorVar])).toEqual([
      ['N0', '--node-0'],
      ['N1', '--node-1'],
      ['N2', '--node-2'],
    ]);
  });

  it('reads values at the cursor, scaled to the unit', () => {
    const tracks = processTracks(view);
    const process = must(tracks[0]);
    const promote = must(tracks[3]);
    expect(trackValuesAt(process, 3500)?.map((v) => v.value)).toEqual([3 * PAGE, 10 * PAGE, 20 * PAGE]);
    expect(trackValuesAt(promote, 3500)?.[0]?.value).toBeNull();
    expect(trackValuesAt(promote, 4500)?.[0]?.value).toBe(4);
    expect(trackValuesAt(process, 20_000)).toBeNull();
  });

  it('expresses the sampler cost as a share of each interval', () => {
    const pct = samplerCpuPercent(view.timeline, view.timeline.samplerCpuMs);
    expect(pct[0]).toBe(1);
    expect(pct[4]).toBe(10);
  });

  it('places a VMA series on the session time axis', () => {
    const vma = must(view.vmas.find((v) => v.id === 4));
    const track = vmaTrack(view, vma, vmaSeries());
    expect(track.id).toBe('vma-4');
    expect(track.times.startMs[0]).toBe(2000);
    expect(trackValuesAt(track, 1500)).toBeNull();
    expect(trackValuesAt(track, 5500)?.[0]?.value).toBe(5 * PAGE);
  });

  it('formats values by unit', () => {
    expect(formatTrackValue(4 * MiB, 'bytes')).toBe('4.00 MiB');
    expect(formatTrackValue(12_345, 'count')).toBe('12,345');
    expect(formatTrackValue(3.25, 'percent')).toBe('3.3 %');
    expect(formatTrackValue(null, 'count')).toBe('—');
  });
});

describe('session VMA table', () => {
  const vmas = sessionVmas();

  it('filters by text or by an address inside', () => {
    expect(filterSessionVmas(vmas, 'heap').map((v) => v.id)).toEqual([0]);
    expect(filterSessionVmas(vmas, '0x7f0004000010').map((v) => v.id)).toEqual([4]);
    expect(filterSessionVmas(vmas, '').length).toBe(5);
  });

  it('sorts on any column, ties by address', () => {
    expect(sortSessionVmas(vmas, { key: 'hot', direction: 'desc' }).map((v) => v.id)).toEqual([
      1, 4, 0, 2, 3,
    ]);
    expect(sortSessionVmas(vmas, { key: 'address', direction: 'asc' }).map((v) => v.id)).toEqual([
      2, 0, 1, 4, 3,
    ]);
    expect(sortSessionVmas(vmas, { key: 'node:2', direction: 'desc' }).map((v) => v.id)).toEqual([
      1, 4, 2, 0, 3,
    ]);
    expect(sortSessionVmas(vmas, { key: 'size', direction: 'desc' })[0]?.id).toBe(3);
  });
});
