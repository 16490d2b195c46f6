// IntervalRecord ↔ column sets. A *group* is the rows of every data table that one `intervals` chunk
// commits: one interval while recording, up to a segment of intervals once compacted.
import { IntervalRecord, type SessionMeta, type SessionVma, VmaKind } from '../../contract/index.js';
import { TierscopeError } from '../errors.js';
import { procHex } from '../procfs/text.js';
import { type ColumnSet, ColumnError, f64, newColumnSet, strings, u8, u32, u64 } from './columns.js';
import {
  DATA_TABLES,
  type DataTable,
  nodeColdColumn,
  nodeHotColumn,
  nodePagesColumn,
  type TableSpecs,
} from './schema.js';

export type Group = Record<DataTable, ColumnSet>;

const U32_MAX = 0xffff_ffff;

export interface RecordCheckState {
  /** Index of the last accepted interval, -1 before the first. */
  lastIndex: number;
  /** Every VMA id introduced so far. */
  knownVmas: Set<number>;
}

function invalid(index: number | string, what: string): TierscopeError {
  return new TierscopeError(
    'invalid-argument',
    `interval ${index}: ${what}; the recorder produced an invalid record`,
  );
}

/**
 * Checks a record against the contract and against what the session already holds, without changing
 * `state` unless it is accepted. What it rejects the store could not keep faithfully.
 */
export function checkRecord(input: unknown, meta: SessionMeta, state: RecordCheckState): IntervalRecord {
  const parsed = IntervalRecord.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') ?? '';
    const index = (input as { index?: unknown } | null)?.index;
    throw invalid(
      typeof index === 'number' ? index : '?',
      `${where || 'record'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  // The input, not zod's copy: the copy loses a counter named "__proto__" (assigned as the prototype).
  const rec = input as IntervalRecord;
  const at = rec.index;
  if (at <= state.lastIndex)
    throw invalid(at, `index must grow (the previous interval was ${state.lastIndex})`);
  if (at > U32_MAX) throw invalid(at, 'index exceeds 2^32-1');
  const known = new Set(state.knownVmas);
  for (const vma of rec.newVmas) {
    if (vma.id > U32_MAX) throw invalid(at, `VMA id ${vma.id} exceeds 2^32-1`);
    if (known.has(vma.id)) throw invalid(at, `VMA id ${vma.id} was already introduced`);
    if (BigInt(`0x${vma.start}`) >= BigInt(`0x${vma.end}`))
      throw invalid(at, `VMA ${vma.id} ends before it starts`);
    known.add(vma.id);
  }
  const nodeCount = meta.nodes.length;
  const seen = new Set<number>();
  for (const s of rec.samples) {
    if (!known.has(s.vmaId))
      throw invalid(at, `sample for VMA ${s.vmaId}, which no interval introduced in newVmas`);
    if (seen.has(s.vmaId)) throw invalid(at, `two samples for VMA ${s.vmaId}`);
    seen.add(s.vmaId);
    for (const arr of [s.pagesByNode, s.hotPagesByNode, s.coldPagesByNode]) {
      if (arr.length !== nodeCount) {
        throw invalid(
          at,
          `VMA ${s.vmaId}: per-node array has ${arr.length} entries, the session has ${nodeCount} nodes`,
        );
      }
    }
    const counts = [s.rssPages, s.accessedPages, s.hotPages, s.warmPages, s.coldPages];
    for (const v of counts.concat(s.pagesByNode, s.hotPagesByNode, s.coldPagesByNode)) {
      if (v > U32_MAX) {
        throw new TierscopeError(
          'unsupported',
          `interval ${at}: VMA ${s.vmaId} has a page count of ${v}, above the session format's limit of 2^32-1 pages per VMA`,
        );
      }
    }
  }
  seen.clear();
  for (const h of rec.heat) {
    if (!known.has(h.vmaId)) throw invalid(at, `heat row for unknown VMA ${h.vmaId}`);
    if (seen.has(h.vmaId)) throw invalid(at, `two heat rows for VMA ${h.vmaId}`);
    seen.add(h.vmaId);
    if (h.buckets.length !== meta.heatBucketsPerVma) {
      throw invalid(
        at,
        `heat row of VMA ${h.vmaId} has ${h.buckets.length} buckets, the session has ${meta.heatBucketsPerVma}`,
      );
    }
  }
  for (const run of rec.countRuns ?? []) {
    if (BigInt(`0x${run.start}`) >= BigInt(`0x${run.end}`))
      throw invalid(at, `count run ${run.start}-${run.end} is empty`);
    if (run.accessedScans > U32_MAX)
      throw invalid(at, `count run ${run.start} has accessedScans above 2^32-1`);
  }
  for (const [name, value] of Object.entries(rec.counters)) {
    if (!Number.isFinite(value)) throw invalid(at, `counter ${name} is not a finite number`);
  }
  state.lastIndex = at;
  for (const vma of rec.newVmas) state.knownVmas.add(vma.id);
  return rec;
}

const byVma = <T extends { vmaId: number }>(a: T, b: T): number => a.vmaId - b.vmaId;

/** One checked record as a group of one interval. Samples and heat rows go by VMA id, counters by name. */
export function recordToGroup(rec: IntervalRecord, meta: SessionMeta, specs: TableSpecs): Group {
  const at = rec.index;
  const vmaList = [...rec.newVmas].sort((a, b) => a.id - b.id);
  const vmas = newColumnSet(specs.vmas, vmaList.length);
  vmaList.forEach((v, i) => {
    u32(vmas, 'interval')[i] = at;
    u32(vmas, 'vma_id')[i] = v.id;
    u64(vmas, 'start')[i] = BigInt(`0x${v.start}`);
    u64(vmas, 'end')[i] = BigInt(`0x${v.end}`);
    strings(vmas, 'perms')[i] = v.perms;
    strings(vmas, 'path')[i] = v.path;
    strings(vmas, 'kind')[i] = v.kind;
    u32(vmas, 'first_interval')[i] = v.firstInterval;
  });

  const intervals = newColumnSet(specs.intervals, 1);
  u32(intervals, 'interval')[0] = at;
  f64(intervals, 'start_ms')[0] = rec.startMs;
  f64(intervals, 'end_ms')[0] = rec.endMs;
  f64(intervals, 'sampler_cpu_ms')[0] = rec.samplerCpuMs;
  u64(intervals, 'pages_scanned')[0] = BigInt(rec.pagesScanned);
  u32(intervals, 'scans_in_window')[0] = rec.scansInWindow;
  u8(intervals, 'has_count_runs')[0] = rec.countRuns === null ? 0 : 1;

  const sampleList = [...rec.samples].sort(byVma);
  const samples = newColumnSet(specs.samples, sampleList.length);
  const sampleCols = {
    interval: u32(samples, 'interval'),
    vma: u32(samples, 'vma_id'),
    rss: u32(samples, 'rss_pages'),
    accessed: u32(samples, 'accessed_pages'),
    hot: u32(samples, 'hot_pages'),
    warm: u32(samples, 'warm_pages'),
    cold: u32(samples, 'cold_pages'),
    pages: meta.nodes.map((n) => u32(samples, nodePagesColumn(n))),
    hotBy: meta.nodes.map((n) => u32(samples, nodeHotColumn(n))),
    coldBy: meta.nodes.map((n) => u32(samples, nodeColdColumn(n))),
  };
  sampleList.forEach((s, i) => {
    sampleCols.interval[i] = at;
    sampleCols.vma[i] = s.vmaId;
    sampleCols.rss[i] = s.rssPages;
    sampleCols.accessed[i] = s.accessedPages;
    sampleCols.hot[i] = s.hotPages;
    sampleCols.warm[i] = s.warmPages;
    sampleCols.cold[i] = s.coldPages;
    for (let k = 0; k < meta.nodes.length; k++) {
      (sampleCols.pages[k] as Uint32Array)[i] = s.pagesByNode[k] ?? 0;
      (sampleCols.hotBy[k] as Uint32Array)[i] = s.hotPagesByNode[k] ?? 0;
      (sampleCols.coldBy[k] as Uint32Array)[i] = s.coldPagesByNode[k] ?? 0;
    }
  });

  const heatList = [...rec.heat].sort(byVma);
  const heat = newColumnSet(specs.heat, heatList.length);
  const width = meta.heatBucketsPerVma;
  heatList.forEach((h, i) => {
    u32(heat, 'interval')[i] = at;
    u32(heat, 'vma_id')[i] = h.vmaId;
    u8(heat, 'buckets').set(h.buckets, i * width);
  });

  const runList = rec.countRuns ?? [];
  const countRuns = newColumnSet(specs.count_runs, runList.length);
  runList.forEach((r, i) => {
    u32(countRuns, 'interval')[i] = at;
    u64(countRuns, 'start')[i] = BigInt(`0x${r.start}`);
    u64(countRuns, 'end')[i] = BigInt(`0x${r.end}`);
    u32(countRuns, 'accessed_scans')[i] = r.accessedScans;
  });

  const counterList = Object.entries(rec.counters).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const counters = newColumnSet(specs.counters, counterList.length);
  counterList.forEach(([name, value], i) => {
    u32(counters, 'interval')[i] = at;
    strings(counters, 'name')[i] = name;
    f64(counters, 'value')[i] = value;
  });

  return { vmas, intervals, samples, heat, count_runs: countRuns, counters };
}

/** The interval indexes a group commits, in order, and the position of each. */
export function groupIntervals(group: Group): Map<number, number> {
  const index = u32(group.intervals, 'interval');
  const positions = new Map<number, number>();
  index.forEach((at, pos) => {
    if (positions.has(at)) throw new ColumnError(`interval ${at} appears twice`);
    if (pos > 0 && at <= (index[pos - 1] ?? 0)) throw new ColumnError(`intervals are out of order at ${at}`);
    positions.set(at, pos);
  });
  return positions;
}

/** Checks that every row of every table belongs to an interval the group commits. */
export function checkGroupRows(group: Group, positions: Map<number, number>): void {
  for (const table of DATA_TABLES) {
    for (const at of u32(group[table], 'interval')) {
      if (!positions.has(at))
        throw new ColumnError(`a ${table} row refers to interval ${at}, which its group does not commit`);
    }
  }
  const hasRuns = u8(group.intervals, 'has_count_runs');
  for (const at of u32(group.count_runs, 'interval')) {
    if (hasRuns[positions.get(at) ?? 0] !== 1)
      throw new ColumnError(`interval ${at} has count runs but says it has none`);
  }
}

/** The VMAs of a vmas table, each with the interval whose record introduced it. */
export function vmaRows(v: ColumnSet): { interval: number; vma: SessionVma }[] {
  const rows: { interval: number; vma: SessionVma }[] = [];
  for (let i = 0; i < v.rows; i++) {
    const kind = VmaKind.safeParse(strings(v, 'kind')[i]);
    if (!kind.success) throw new ColumnError(`VMA kind '${String(strings(v, 'kind')[i])}' is unknown`);
    rows.push({
      interval: u32(v, 'interval')[i] ?? 0,
      vma: {
        id: u32(v, 'vma_id')[i] ?? 0,
        start: procHex(u64(v, 'start')[i] ?? 0n),
        end: procHex(u64(v, 'end')[i] ?? 0n),
        perms: strings(v, 'perms')[i] ?? '',
        path: strings(v, 'path')[i] ?? '',
        kind: kind.data,
        firstInterval: u32(v, 'first_interval')[i] ?? 0,
      },
    });
  }
  return rows;
}

/** Checks what the column types alone do not: values the contract's records could not hold. */
export function checkGroupValues(group: Group): void {
  const iv = group.intervals;
  for (const name of ['start_ms', 'end_ms', 'sampler_cpu_ms']) {
    for (const v of f64(iv, name)) {
      if (!(v >= 0 && Number.isFinite(v)))
        throw new ColumnError(`${name} holds ${v}, not a finite non-negative number`);
    }
  }
  for (const v of u64(iv, 'pages_scanned')) {
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ColumnError(`pages_scanned holds ${v}, beyond 2^53`);
  }
  for (const v of f64(group.counters, 'value')) {
    if (!Number.isFinite(v)) throw new ColumnError(`a counter holds ${v}, not a finite number`);
  }
}

/** Rebuilds the records of a decoded group, in interval order. Samples and heat rows come by VMA id. */
export function groupToRecords(group: Group, meta: SessionMeta): IntervalRecord[] {
  const positions = groupIntervals(group);
  checkGroupRows(group, positions);
  const iv = group.intervals;
  const records: IntervalRecord[] = [];
  for (let i = 0; i < iv.rows; i++) {
    records.push({
      index: u32(iv, 'interval')[i] ?? 0,
      startMs: f64(iv, 'start_ms')[i] ?? 0,
      endMs: f64(iv, 'end_ms')[i] ?? 0,
      samplerCpuMs: f64(iv, 'sampler_cpu_ms')[i] ?? 0,
      pagesScanned: Number(u64(iv, 'pages_scanned')[i] ?? 0n),
      scansInWindow: u32(iv, 'scans_in_window')[i] ?? 0,
      newVmas: [],
      samples: [],
      heat: [],
      countRuns: u8(iv, 'has_count_runs')[i] === 1 ? [] : null,
      counters: {},
    });
  }
  const recordOf = (at: number): IntervalRecord => records[positions.get(at) ?? 0] as IntervalRecord;

  for (const row of vmaRows(group.vmas)) recordOf(row.interval).newVmas.push(row.vma);

  const s = group.samples;
  const col = (name: string): Uint32Array => u32(s, name);
  const pages = meta.nodes.map((n) => col(nodePagesColumn(n)));
  const hotBy = meta.nodes.map((n) => col(nodeHotColumn(n)));
  const coldBy = meta.nodes.map((n) => col(nodeColdColumn(n)));
  const [interval, vmaId, rss, accessed, hot, warm, cold] = [
    'interval',
    'vma_id',
    'rss_pages',
    'accessed_pages',
    'hot_pages',
    'warm_pages',
    'cold_pages',
  ].map(col) as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  for (let i = 0; i < s.rows; i++) {
    recordOf(interval[i] ?? 0).samples.push({
      vmaId: vmaId[i] ?? 0,
      rssPages: rss[i] ?? 0,
      pagesByNode: pages.map((c) => c[i] ?? 0),
      accessedPages: accessed[i] ?? 0,
      hotPages: hot[i] ?? 0,
      warmPages: warm[i] ?? 0,
      coldPages: cold[i] ?? 0,
      hotPagesByNode: hotBy.map((c) => c[i] ?? 0),
      coldPagesByNode: coldBy.map((c) => c[i] ?? 0),
    });
  }

  const h = group.heat;
  const width = meta.heatBucketsPerVma;
  const buckets = u8(h, 'buckets');
  for (let i = 0; i < h.rows; i++) {
    recordOf(u32(h, 'interval')[i] ?? 0).heat.push({
      vmaId: u32(h, 'vma_id')[i] ?? 0,
      buckets: Array.from(buckets.subarray(i * width, (i + 1) * width)),
    });
  }

  const r = group.count_runs;
  for (let i = 0; i < r.rows; i++) {
    const rec = recordOf(u32(r, 'interval')[i] ?? 0);
    rec.countRuns ??= []; // checkGroupRows made sure the interval says it has runs
    rec.countRuns.push({
      start: procHex(u64(r, 'start')[i] ?? 0n),
      end: procHex(u64(r, 'end')[i] ?? 0n),
      accessedScans: u32(r, 'accessed_scans')[i] ?? 0,
    });
  }

  // Entries then fromEntries: a counter named "__proto__" must stay a plain own property.
  const counterEntries = records.map((): [string, number][] => []);
  const c = group.counters;
  for (let i = 0; i < c.rows; i++) {
    const pos = positions.get(u32(c, 'interval')[i] ?? 0) ?? 0;
    counterEntries[pos]?.push([strings(c, 'name')[i] ?? '', f64(c, 'value')[i] ?? 0]);
  }
  records.forEach((rec, pos) => (rec.counters = Object.fromEntries(counterEntries[pos] ?? [])));
  for (const rec of records) {
    rec.samples.sort(byVma);
    rec.heat.sort(byVma);
    rec.newVmas.sort((a, b) => a.id - b.id);
  }
  return records;
}
