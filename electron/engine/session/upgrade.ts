// Format versions and the upgraders between them. A file of version v is read with v's own column specs,
// then every upgrader from v up to SESSION_FORMAT_VERSION runs in order, on the meta/end JSON and on each
// group of rows. A new format version adds: its specs, one upgrader from the previous version, a fixture
// written by the previous version, and a line in docs/session-format.md.
import { type ColumnSet, ColumnError, lists, newColumnSet, strings, u8, u32, u64 } from './columns.js';
import { SESSION_FORMAT_VERSION } from './format.js';
import type { Group } from './records.js';
import { nodeColdColumn, nodeHotColumn, nodePagesColumn, tableSpecs, type TableSpecs } from './schema.js';

type Json = Record<string, unknown>;

export interface Upgrader {
  from: number;
  to: number;
  /** What changed, for docs and for `Session.upgradedFrom` readers. */
  summary: string;
  meta(old: Json): Json;
  end(old: Json): Json;
  /** Converts one group of rows; `oldMeta`/`newMeta` are the session meta before and after `meta()`. */
  group(old: Group, oldMeta: Json, newMeta: Json): Group;
}

/**
 * Format 0: the prototype layout. Same container; per-node values as variable-length list columns,
 * addresses as hex strings, heat as a list<uint8>, no has_count_runs flag; meta called the heat width
 * `heatBuckets` and had no `sourceLimits`.
 */
export const FORMAT0_SPECS: TableSpecs = {
  vmas: [
    { name: 'vma_id', kind: 'u32' },
    { name: 'start', kind: 'utf8' },
    { name: 'end', kind: 'utf8' },
    { name: 'perms', kind: 'utf8' },
    { name: 'path', kind: 'utf8' },
    { name: 'kind', kind: 'utf8' },
    { name: 'first_interval', kind: 'u32' },
  ],
  intervals: [
    { name: 'interval', kind: 'u32' },
    { name: 'start_ms', kind: 'f64' },
    { name: 'end_ms', kind: 'f64' },
    { name: 'sampler_cpu_ms', kind: 'f64' },
    { name: 'pages_scanned', kind: 'u64' },
    { name: 'scans_in_window', kind: 'u32' },
  ],
  samples: [
    { name: 'interval', kind: 'u32' },
    { name: 'vma_id', kind: 'u32' },
    { name: 'rss_pages', kind: 'u32' },
    { name: 'pages_by_node', kind: 'list-u32' },
    { name: 'accessed_pages', kind: 'u32' },
    { name: 'hot_pages', kind: 'u32' },
    { name: 'warm_pages', kind: 'u32' },
    { name: 'cold_pages', kind: 'u32' },
    { name: 'hot_pages_by_node', kind: 'list-u32' },
    { name: 'cold_pages_by_node', kind: 'list-u32' },
  ],
  heat: [
    { name: 'interval', kind: 'u32' },
    { name: 'vma_id', kind: 'u32' },
    { name: 'buckets', kind: 'list-u8' },
  ],
  count_runs: [
    { name: 'interval', kind: 'u32' },
    { name: 'start', kind: 'utf8' },
    { name: 'end', kind: 'utf8' },
    { name: 'accessed_scans', kind: 'u32' },
  ],
  counters: [
    { name: 'interval', kind: 'u32' },
    { name: 'name', kind: 'utf8' },
    { name: 'value', kind: 'f64' },
  ],
};

function hexColumn(values: string[], column: string): BigUint64Array {
  return BigUint64Array.from(values, (hex) => {
    if (!/^[0-9a-f]{1,16}$/.test(hex))
      throw new ColumnError(`${column} '${hex.slice(0, 40)}' is not a hex address`);
    return BigInt(`0x${hex}`);
  });
}

function copyU32(from: ColumnSet, to: ColumnSet, names: readonly string[]): void {
  for (const name of names) u32(to, name).set(u32(from, name));
}

function nodesOf(meta: Json): number[] {
  const nodes = meta.nodes;
  if (!Array.isArray(nodes) || !nodes.every((n) => Number.isInteger(n) && (n as number) >= 0)) {
    throw new ColumnError('meta has no valid node list');
  }
  return nodes as number[];
}

function heatWidthOf(meta: Json): number {
  const width = meta.heatBucketsPerVma;
  if (typeof width !== 'number' || !Number.isInteger(width) || width <= 0) {
    throw new ColumnError('meta has no valid heat bucket count');
  }
  return width;
}

const v0ToV1: Upgrader = {
  from: 0,
  to: 1,
  summary:
    'per-node lists become n<id>_* columns, hex-string addresses become uint64, heat lists become fixed-size lists, intervals gain has_count_runs, meta heatBuckets is renamed heatBucketsPerVma and gains sourceLimits',
  meta(old) {
    const { heatBuckets, ...rest } = old;
    return {
      ...rest,
      formatVersion: 1,
      heatBucketsPerVma: heatBuckets,
      sourceLimits:
        typeof old.sourceLimits === 'string' ? old.sourceLimits : 'not recorded (format 0 session)',
    };
  },
  end: (old) => old,
  group(old, _oldMeta, newMeta) {
    const nodes = nodesOf(newMeta);
    const width = heatWidthOf(newMeta);
    const specs = tableSpecs({ nodes, heatBucketsPerVma: width });

    const vmas = newColumnSet(specs.vmas, old.vmas.rows);
    // Format 0 listed a VMA with the interval that first saw it.
    u32(vmas, 'interval').set(u32(old.vmas, 'first_interval'));
    copyU32(old.vmas, vmas, ['vma_id', 'first_interval']);
    u64(vmas, 'start').set(hexColumn(strings(old.vmas, 'start'), 'VMA start'));
    u64(vmas, 'end').set(hexColumn(strings(old.vmas, 'end'), 'VMA end'));
    for (const name of ['perms', 'path', 'kind']) vmas.columns.set(name, [...strings(old.vmas, name)]);

    // Format 0 could not tell "a window closed with no runs" from "no window closed": with no run rows
    // the interval reads as the latter (countRuns null).
    const intervals = newColumnSet(specs.intervals, old.intervals.rows);
    copyU32(old.intervals, intervals, ['interval', 'scans_in_window']);
    for (const name of ['start_ms', 'end_ms', 'sampler_cpu_ms', 'pages_scanned']) {
      const column = old.intervals.columns.get(name);
      if (column === undefined) throw new ColumnError(`column ${name} is missing`);
      intervals.columns.set(name, column);
    }
    const withRuns = new Set(u32(old.count_runs, 'interval'));
    const flags = u8(intervals, 'has_count_runs');
    u32(intervals, 'interval').forEach((at, i) => (flags[i] = withRuns.has(at) ? 1 : 0));

    const samples = newColumnSet(specs.samples, old.samples.rows);
    copyU32(old.samples, samples, [
      'interval',
      'vma_id',
      'rss_pages',
      'accessed_pages',
      'hot_pages',
      'warm_pages',
      'cold_pages',
    ]);
    const spread = (listColumn: string, name: (node: number) => string): void => {
      const rows = lists(old.samples, listColumn);
      const targets = nodes.map((n) => u32(samples, name(n)));
      rows.forEach((values, i) => {
        if (values.length !== nodes.length) {
          throw new ColumnError(
            `${listColumn} has ${values.length} entries, the session has ${nodes.length} nodes`,
          );
        }
        values.forEach((v, k) => ((targets[k] as Uint32Array)[i] = v));
      });
    };
    spread('pages_by_node', nodePagesColumn);
    spread('hot_pages_by_node', nodeHotColumn);
    spread('cold_pages_by_node', nodeColdColumn);

    const heat = newColumnSet(specs.heat, old.heat.rows);
    copyU32(old.heat, heat, ['interval', 'vma_id']);
    const buckets = u8(heat, 'buckets');
    lists(old.heat, 'buckets').forEach((row, i) => {
      if (row.length !== width)
        throw new ColumnError(`a heat row has ${row.length} buckets, the session has ${width}`);
      buckets.set(row, i * width);
    });

    const countRuns = newColumnSet(specs.count_runs, old.count_runs.rows);
    copyU32(old.count_runs, countRuns, ['interval', 'accessed_scans']);
    u64(countRuns, 'start').set(hexColumn(strings(old.count_runs, 'start'), 'count run start'));
    u64(countRuns, 'end').set(hexColumn(strings(old.count_runs, 'end'), 'count run end'));

    return { vmas, intervals, samples, heat, count_runs: countRuns, counters: old.counters };
  },
};

/**
 * Format 2 adds the `experiments` chunk (migration experiments, JSON) and nothing else: a format 1 file is
 * a format 2 file without experiments, so only the version in its meta changes.
 */
const v1ToV2: Upgrader = {
  from: 1,
  to: 2,
  summary:
    'adds the experiments chunk (one migration experiment per chunk, JSON); a format 1 session has none',
  meta: (old) => ({ ...old, formatVersion: 2 }),
  end: (old) => old,
  group: (old) => old,
};

/** Every upgrader, oldest first; the chain must be contiguous up to SESSION_FORMAT_VERSION. */
export const UPGRADERS: readonly Upgrader[] = [v0ToV1, v1ToV2];
export const OLDEST_READABLE_VERSION = UPGRADERS[0]?.from ?? SESSION_FORMAT_VERSION;

/** The upgraders that take a file of `version` to the current one, in order. */
export function upgradeChain(version: number): Upgrader[] {
  const chain = UPGRADERS.filter((u) => u.from >= version);
  let at = version;
  for (const u of chain) {
    if (u.from !== at || u.to !== at + 1) throw new Error(`upgrader registry has a gap at format ${at}`);
    at = u.to;
  }
  if (at !== SESSION_FORMAT_VERSION) throw new Error(`no upgrade path from format ${at}`);
  return chain;
}

/** Column specs a file of `version` was written with, from its own (not yet upgraded) meta. */
export function specsForVersion(version: number, meta: Json): TableSpecs {
  switch (version) {
    case 0:
      return FORMAT0_SPECS;
    case 1:
    case 2:
      return tableSpecs({ nodes: nodesOf(meta), heatBucketsPerVma: heatWidthOf(meta) });
    default:
      throw new ColumnError(`format ${version} is not known to this build`);
  }
}
