// The in-memory model of an opened session: typed arrays per column, rows ordered by interval, plus what
// the report and the UI read most (per-interval totals, per-VMA series, counters as series).
import type { Experiment, SessionEnd, SessionMeta, SessionVma } from '../../contract/index.js';
import { type ColumnSet, concatSets, f64, permuteSet, strings, u8, u32, u64 } from './columns.js';
import type { Layout } from './format.js';
import type { Recovered } from './groups.js';
import { type Group, vmaRows } from './records.js';
import {
  DATA_TABLES,
  type DataTable,
  nodeColdColumn,
  nodeHotColumn,
  nodePagesColumn,
  tableSpecs,
  type TableSpecs,
} from './schema.js';

export interface IntervalColumns {
  /** The recorder's interval index; everything else in the model refers to intervals by position. */
  index: Uint32Array;
  startMs: Float64Array;
  endMs: Float64Array;
  samplerCpuMs: Float64Array;
  pagesScanned: Float64Array;
  scansInWindow: Uint32Array;
  /** 1 where the interval closed a hotness window (its countRuns is a list, possibly empty). */
  hasCountRuns: Uint8Array;
}

/** Rows of interval position p are [offsets[p], offsets[p + 1]). */
interface ByInterval {
  offsets: Uint32Array;
  intervalPos: Uint32Array;
}

export interface SampleColumns extends ByInterval {
  vmaId: Uint32Array;
  rssPages: Uint32Array;
  accessedPages: Uint32Array;
  hotPages: Uint32Array;
  warmPages: Uint32Array;
  coldPages: Uint32Array;
  /** One column per node, aligned with meta.nodes. */
  pagesByNode: Uint32Array[];
  hotPagesByNode: Uint32Array[];
  coldPagesByNode: Uint32Array[];
}

export interface HeatColumns extends ByInterval {
  vmaId: Uint32Array;
  /** Row-major: row r is buckets[r * width, (r + 1) * width). */
  buckets: Uint8Array;
  width: number;
}

/**
 * A table's rows in file order — compacted files group rows by VMA, for compression — with an index by
 * interval: the rows of interval position p are order[offsets[p]] … order[offsets[p + 1] - 1]. Readers that
 * do not care about row order (totals, per-VMA extremes, heatmaps) use these directly, so opening a session
 * does not reorder millions of rows.
 */
export interface FileOrderIndex {
  /** Interval position of each row, in file order. */
  intervalPos: Uint32Array;
  order: Uint32Array;
  offsets: Uint32Array;
}

export type SampleRows = Omit<SampleColumns, 'offsets' | 'intervalPos'> & FileOrderIndex;

/** Heat rows in file order (no interval index: heatmaps filter by intervalPos in one sequential pass). */
export interface HeatRows {
  intervalPos: Uint32Array;
  vmaId: Uint32Array;
  buckets: Uint8Array;
  width: number;
}

export interface CountRunColumns extends ByInterval {
  start: BigUint64Array;
  end: BigUint64Array;
  accessedScans: Uint32Array;
}

/** Sums over all VMAs per interval position (Float64: totals may exceed 2^32 pages). */
export interface IntervalTotals {
  vmaCount: Uint32Array;
  rssPages: Float64Array;
  accessedPages: Float64Array;
  hotPages: Float64Array;
  warmPages: Float64Array;
  coldPages: Float64Array;
  pagesByNode: Float64Array[];
  hotPagesByNode: Float64Array[];
  coldPagesByNode: Float64Array[];
}

/** One VMA over time: only the intervals that sampled it, in order. */
export interface VmaSeries {
  vma: SessionVma;
  intervalPos: Uint32Array;
  rssPages: Uint32Array;
  accessedPages: Uint32Array;
  hotPages: Uint32Array;
  warmPages: Uint32Array;
  coldPages: Uint32Array;
  pagesByNode: Uint32Array[];
  hotPagesByNode: Uint32Array[];
  coldPagesByNode: Uint32Array[];
}

export interface CounterSeries {
  /** Counter names, sorted. */
  names: string[];
  /** values[k][p]: counter names[k] at interval position p; NaN where that interval did not report it. */
  values: Float64Array[];
}

export interface SessionSource {
  path: string;
  fileBytes: number;
  fileVersion: number;
  layout: Layout;
  meta: SessionMeta;
  end: SessionEnd | null;
  recovered: Recovered | null;
  /** Migration experiments recorded in the session (format 2+), in file order. */
  experiments: Experiment[];
}

function countingOrder(keys: Uint32Array, buckets: number): { order: Uint32Array; offsets: Uint32Array } {
  const offsets = new Uint32Array(buckets + 1);
  for (let i = 0; i < keys.length; i++) {
    const k = (keys[i] ?? 0) + 1;
    offsets[k] = (offsets[k] ?? 0) + 1;
  }
  for (let b = 0; b < buckets; b++) offsets[b + 1] = (offsets[b + 1] ?? 0) + (offsets[b] ?? 0);
  const next = offsets.slice(0, buckets);
  const order = new Uint32Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] ?? 0;
    const at = next[k] ?? 0;
    order[at] = i;
    next[k] = at + 1;
  }
  return { order, offsets };
}

function toFloat64(values: BigUint64Array): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Number(values[i] ?? 0n);
  return out;
}

/** offsets[p]..offsets[p + 1] = the rows whose (sorted) key is p. */
function runOffsets(sortedKeys: Uint32Array, buckets: number): Uint32Array {
  const offsets = new Uint32Array(buckets + 1);
  for (const k of sortedKeys) offsets[k + 1] = (offsets[k + 1] ?? 0) + 1;
  for (let b = 0; b < buckets; b++) offsets[b + 1] = (offsets[b + 1] ?? 0) + (offsets[b] ?? 0);
  return offsets;
}

/**
 * Interval index → position in the intervals table (0 for an index it does not have). Indices count from
 * 0, so a dense lookup table is the fast path; a sparse or huge index (a damaged file) uses a Map. Maps
 * whole columns at once: typed-array loops, not TypedArray.from with a callback (that iterates through the
 * iterator protocol: seconds on a one-hour session).
 */
function intervalPositions(index: Uint32Array): (raw: Uint32Array) => Uint32Array {
  let max = 0;
  for (const at of index) if (at > max) max = at;
  if (max <= 4 * index.length + 1024) {
    const dense = new Uint32Array(max + 1);
    for (let pos = 0; pos < index.length; pos++) dense[index[pos] ?? 0] = pos;
    return (raw) => {
      const out = new Uint32Array(raw.length);
      for (let i = 0; i < raw.length; i++) {
        const at = raw[i] ?? 0;
        out[i] = at <= max ? (dense[at] ?? 0) : 0;
      }
      return out;
    };
  }
  const sparse = new Map<number, number>();
  index.forEach((at, pos) => sparse.set(at, pos));
  return (raw) => {
    const out = new Uint32Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = sparse.get(raw[i] ?? 0) ?? 0;
    return out;
  };
}

/** The value columns of a samples table (whatever its row order). */
function sampleValues(
  set: ColumnSet,
  nodes: readonly number[],
): Omit<SampleColumns, 'offsets' | 'intervalPos'> {
  return {
    vmaId: u32(set, 'vma_id'),
    rssPages: u32(set, 'rss_pages'),
    accessedPages: u32(set, 'accessed_pages'),
    hotPages: u32(set, 'hot_pages'),
    warmPages: u32(set, 'warm_pages'),
    coldPages: u32(set, 'cold_pages'),
    pagesByNode: nodes.map((n) => u32(set, nodePagesColumn(n))),
    hotPagesByNode: nodes.map((n) => u32(set, nodeHotColumn(n))),
    coldPagesByNode: nodes.map((n) => u32(set, nodeColdColumn(n))),
  };
}

function identity(length: number): Uint32Array {
  const out = new Uint32Array(length);
  for (let i = 0; i < length; i++) out[i] = i;
  return out;
}

/** True when keys never decrease. */
function ascending(keys: Uint32Array): boolean {
  for (let i = 1; i < keys.length; i++) if ((keys[i] ?? 0) < (keys[i - 1] ?? 0)) return false;
  return true;
}

/** Collects decoded groups and builds the model once all are read. */
export class SessionBuilder {
  private readonly parts = new Map<DataTable, ColumnSet[]>(DATA_TABLES.map((t) => [t, []]));
  readonly specs: TableSpecs;

  constructor(readonly meta: SessionMeta) {
    this.specs = tableSpecs(meta);
  }

  add(group: Group): void {
    for (const table of DATA_TABLES) this.parts.get(table)?.push(group[table]);
  }

  finish(source: SessionSource): Session {
    const all = {} as Group;
    for (const table of DATA_TABLES) all[table] = concatSets(this.specs[table], this.parts.get(table) ?? []);
    this.parts.clear();
    return new Session(source, all, this.specs);
  }
}

export class Session {
  readonly path: string;
  readonly meta: SessionMeta;
  /** VMAs in order of id. */
  readonly vmas: SessionVma[];
  /** The end record; when the recording ended without one, an inferred `recorder-killed` end. */
  readonly end: SessionEnd;
  /** False when `end` was inferred (the recorder was killed or crashed). */
  readonly endRecorded: boolean;
  /** Set when part of the file was not read (torn tail, or damage read with salvage). */
  readonly recovered: Recovered | null;
  /** Migration experiments recorded in the session, in file order (none before format 2). */
  readonly experiments: readonly Experiment[];
  /** Format version the file is written in; `meta.formatVersion` is the version it was upgraded to. */
  readonly fileVersion: number;
  readonly layout: Layout;
  readonly fileBytes: number;
  readonly intervalCount: number;
  readonly intervals: IntervalColumns;
  /** Samples in file order with an index by interval (what the report, totals, exports and the UI read). */
  readonly sampleRows: SampleRows;
  /** Heat rows in file order (heatmaps). */
  readonly heatRows: HeatRows;
  /** Heat rows reordered by interval: built on first use (heatAt). */
  get heat(): HeatColumns {
    this.heatColumns ??= this.buildHeat();
    return this.heatColumns;
  }
  private heatColumns: HeatColumns | null = null;
  private readonly buildHeat: () => HeatColumns;
  readonly countRuns: CountRunColumns;
  readonly counters: CounterSeries;
  readonly totals: IntervalTotals;
  private readonly vmaSlot = new Map<number, number>();
  private byVma: { order: Uint32Array; offsets: Uint32Array } | null = null;

  constructor(source: SessionSource, tables: Group, specs: TableSpecs) {
    this.path = source.path;
    this.meta = source.meta;
    this.fileVersion = source.fileVersion;
    this.layout = source.layout;
    this.fileBytes = source.fileBytes;
    this.recovered = source.recovered;
    this.experiments = source.experiments;
    const nodes = source.meta.nodes;

    const iv = tables.intervals;
    this.intervalCount = iv.rows;
    this.intervals = {
      index: u32(iv, 'interval'),
      startMs: f64(iv, 'start_ms'),
      endMs: f64(iv, 'end_ms'),
      samplerCpuMs: f64(iv, 'sampler_cpu_ms'),
      pagesScanned: toFloat64(u64(iv, 'pages_scanned')),
      scansInWindow: u32(iv, 'scans_in_window'),
      hasCountRuns: u8(iv, 'has_count_runs'),
    };
    const posOf = intervalPositions(this.intervals.index);
    const byInterval = (
      table: DataTable,
    ): { set: ColumnSet; offsets: Uint32Array; intervalPos: Uint32Array } => {
      const set = tables[table];
      const keys = posOf(u32(set, 'interval'));
      // Recorders write rows interval by interval: then only the offsets are needed, not a permuted copy
      // of every column. Compacted files group rows by VMA (better compression), so they are permuted.
      if (ascending(keys)) return { set, offsets: runOffsets(keys, this.intervalCount), intervalPos: keys };
      const { order, offsets } = countingOrder(keys, this.intervalCount);
      const sorted = permuteSet(specs[table], set, order);
      const intervalPos = new Uint32Array(keys.length);
      for (let p = 0; p < this.intervalCount; p++) intervalPos.fill(p, offsets[p], offsets[p + 1]);
      return { set: sorted, offsets, intervalPos };
    };

    const sampleSet = tables.samples;
    const sampleKeys = posOf(u32(sampleSet, 'interval'));
    const sampleIndex = ascending(sampleKeys)
      ? { order: identity(sampleKeys.length), offsets: runOffsets(sampleKeys, this.intervalCount) }
      : countingOrder(sampleKeys, this.intervalCount);
    this.sampleRows = {
      intervalPos: sampleKeys,
      order: sampleIndex.order,
      offsets: sampleIndex.offsets,
      ...sampleValues(sampleSet, nodes),
    };
    const heatSet = tables.heat;
    const width = source.meta.heatBucketsPerVma;
    this.heatRows = {
      intervalPos: posOf(u32(heatSet, 'interval')),
      vmaId: u32(heatSet, 'vma_id'),
      buckets: u8(heatSet, 'buckets'),
      width,
    };
    this.buildHeat = (): HeatColumns => {
      const h = byInterval('heat');
      const { offsets, intervalPos, set } = h;
      return { offsets, intervalPos, vmaId: u32(set, 'vma_id'), buckets: u8(set, 'buckets'), width };
    };
    const r = byInterval('count_runs');
    this.countRuns = {
      offsets: r.offsets,
      intervalPos: r.intervalPos,
      start: u64(r.set, 'start'),
      end: u64(r.set, 'end'),
      accessedScans: u32(r.set, 'accessed_scans'),
    };

    const c = tables.counters;
    const names = [...new Set(strings(c, 'name'))].sort();
    const nameSlot = new Map(names.map((n, k) => [n, k]));
    const values = names.map(() => new Float64Array(this.intervalCount).fill(NaN));
    const cNames = strings(c, 'name');
    const cPos = posOf(u32(c, 'interval'));
    const cValues = f64(c, 'value');
    for (let i = 0; i < c.rows; i++) {
      const series = values[nameSlot.get(cNames[i] ?? '') ?? 0];
      if (series) series[cPos[i] ?? 0] = cValues[i] ?? NaN;
    }
    this.counters = { names, values };

    this.vmas = vmaRows(tables.vmas)
      .map((row) => row.vma)
      .sort((a, b) => a.id - b.id);
    this.vmas.forEach((v, slot) => this.vmaSlot.set(v.id, slot));

    this.totals = this.computeTotals(nodes.length);
    if (source.end !== null) {
      this.end = source.end;
      this.endRecorded = true;
    } else {
      this.endRecorded = false;
      const lastEndMs = this.intervals.endMs[this.intervalCount - 1] ?? 0;
      const started = Date.parse(source.meta.startedAt);
      const dropped =
        source.recovered === null
          ? ''
          : `; ${source.recovered.droppedBytes} bytes after the last complete interval were left out`;
      this.end = {
        endedAt: Number.isNaN(started) ? source.meta.startedAt : new Date(started + lastEndMs).toISOString(),
        reason: 'recorder-killed',
        detail: `the recording has no end record (its recorder was killed or crashed); ${this.intervalCount} complete intervals were recovered${dropped}`,
      };
    }
  }

  /** Sums per interval position: order does not matter, so straight over the file-order rows. */
  private computeTotals(nodeCount: number): IntervalTotals {
    const n = this.intervalCount;
    const s = this.sampleRows;
    const pos = s.intervalPos;
    const sum = (column: Uint32Array): Float64Array => {
      const out = new Float64Array(n);
      for (let i = 0; i < column.length; i++) {
        const p = pos[i] ?? 0;
        out[p] = (out[p] ?? 0) + (column[i] ?? 0);
      }
      return out;
    };
    const vmaCount = new Uint32Array(n);
    for (let p = 0; p < n; p++) vmaCount[p] = (s.offsets[p + 1] ?? 0) - (s.offsets[p] ?? 0);
    const perNode = (columns: Uint32Array[]): Float64Array[] =>
      Array.from({ length: nodeCount }, (_, k) => sum(columns[k] ?? new Uint32Array(0)));
    return {
      vmaCount,
      rssPages: sum(s.rssPages),
      accessedPages: sum(s.accessedPages),
      hotPages: sum(s.hotPages),
      warmPages: sum(s.warmPages),
      coldPages: sum(s.coldPages),
      pagesByNode: perNode(s.pagesByNode),
      hotPagesByNode: perNode(s.hotPagesByNode),
      coldPagesByNode: perNode(s.coldPagesByNode),
    };
  }

  /** File-order row numbers of the samples at interval position `pos`. */
  sampleRowsAt(pos: number): Uint32Array {
    const s = this.sampleRows;
    return s.order.subarray(s.offsets[pos] ?? 0, s.offsets[pos + 1] ?? 0);
  }

  vma(id: number): SessionVma | undefined {
    const slot = this.vmaSlot.get(id);
    return slot === undefined ? undefined : this.vmas[slot];
  }

  /** The samples of one VMA over time, or undefined for an id the session does not have. */
  vmaSeries(id: number): VmaSeries | undefined {
    const slot = this.vmaSlot.get(id);
    const vma = slot === undefined ? undefined : this.vmas[slot];
    if (slot === undefined || vma === undefined) return undefined;
    // Built once: file-order rows taken in interval order, then a stable counting sort by VMA slot, so
    // each VMA's rows come out in interval order.
    const s = this.sampleRows;
    if (this.byVma === null) {
      const slotByRow = new Uint32Array(s.vmaId.length);
      for (let i = 0; i < s.vmaId.length; i++) slotByRow[i] = this.vmaSlot.get(s.vmaId[i] ?? 0) ?? 0;
      const slotsInIntervalOrder = new Uint32Array(s.order.length);
      for (let j = 0; j < s.order.length; j++) slotsInIntervalOrder[j] = slotByRow[s.order[j] ?? 0] ?? 0;
      const bySlot = countingOrder(slotsInIntervalOrder, this.vmas.length);
      // bySlot.order holds positions in s.order; map them to file rows.
      const rows = new Uint32Array(bySlot.order.length);
      for (let j = 0; j < rows.length; j++) rows[j] = s.order[bySlot.order[j] ?? 0] ?? 0;
      this.byVma = { order: rows, offsets: bySlot.offsets };
    }
    const rows = this.byVma.order.subarray(this.byVma.offsets[slot] ?? 0, this.byVma.offsets[slot + 1] ?? 0);
    const pick = (column: Uint32Array): Uint32Array => {
      const out = new Uint32Array(rows.length);
      for (let i = 0; i < rows.length; i++) out[i] = column[rows[i] ?? 0] ?? 0;
      return out;
    };
    return {
      vma,
      intervalPos: pick(s.intervalPos),
      rssPages: pick(s.rssPages),
      accessedPages: pick(s.accessedPages),
      hotPages: pick(s.hotPages),
      warmPages: pick(s.warmPages),
      coldPages: pick(s.coldPages),
      pagesByNode: s.pagesByNode.map(pick),
      hotPagesByNode: s.hotPagesByNode.map(pick),
      coldPagesByNode: s.coldPagesByNode.map(pick),
    };
  }

  /** Heat buckets of one VMA at interval position p, or undefined when that interval has no heat row for it. */
  heatAt(pos: number, vmaId: number): Uint8Array | undefined {
    const h = this.heat;
    for (let r = h.offsets[pos] ?? 0; r < (h.offsets[pos + 1] ?? 0); r++) {
      if (h.vmaId[r] === vmaId) return h.buckets.subarray(r * h.width, (r + 1) * h.width);
    }
    return undefined;
  }
}
