// The tables of formats 1 and 2 (2 only adds the experiments JSON chunk) and their columns. Per-node values are fixed columns named by node id
// (n0_pages, n2_hot_pages…): a session's node set never changes, and flat columns are what pandas and
// polars users want. Page counts are uint32 (16 TiB of 4 KiB pages per VMA); addresses are uint64.
import type { SessionMeta } from '../../contract/index.js';
import type { ColumnSpec } from './columns.js';
import type { TableName } from './format.js';

export type DataTable = Exclude<TableName, 'meta' | 'end' | 'experiments'>;

/** Order in which a group's chunks are written: `intervals` last, because it commits the group. */
export const DATA_TABLES: readonly DataTable[] = [
  'vmas',
  'samples',
  'heat',
  'count_runs',
  'counters',
  'intervals',
];

export type TableSpecs = Record<DataTable, readonly ColumnSpec[]>;

export const nodePagesColumn = (node: number): string => `n${node}_pages`;
export const nodeHotColumn = (node: number): string => `n${node}_hot_pages`;
export const nodeColdColumn = (node: number): string => `n${node}_cold_pages`;

export function tableSpecs(meta: Pick<SessionMeta, 'nodes' | 'heatBucketsPerVma'>): TableSpecs {
  const perNode = (name: (node: number) => string): ColumnSpec[] =>
    meta.nodes.map((n) => ({ name: name(n), kind: 'u32' }));
  return {
    vmas: [
      // The interval whose record listed the VMA in newVmas (normally its first_interval too).
      { name: 'interval', kind: 'u32' },
      { name: 'vma_id', kind: 'u32' },
      { name: 'start', kind: 'u64' },
      { name: 'end', kind: 'u64' },
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
      { name: 'has_count_runs', kind: 'bool' },
    ],
    samples: [
      { name: 'interval', kind: 'u32' },
      { name: 'vma_id', kind: 'u32' },
      { name: 'rss_pages', kind: 'u32' },
      ...perNode(nodePagesColumn),
      { name: 'accessed_pages', kind: 'u32' },
      { name: 'hot_pages', kind: 'u32' },
      { name: 'warm_pages', kind: 'u32' },
      { name: 'cold_pages', kind: 'u32' },
      ...perNode(nodeHotColumn),
      ...perNode(nodeColdColumn),
    ],
    heat: [
      { name: 'interval', kind: 'u32' },
      { name: 'vma_id', kind: 'u32' },
      { name: 'buckets', kind: 'u8x', width: meta.heatBucketsPerVma },
    ],
    count_runs: [
      { name: 'interval', kind: 'u32' },
      { name: 'start', kind: 'u64' },
      { name: 'end', kind: 'u64' },
      { name: 'accessed_scans', kind: 'u32' },
    ],
    counters: [
      { name: 'interval', kind: 'u32' },
      { name: 'name', kind: 'utf8' },
      { name: 'value', kind: 'f64' },
    ],
  };
}

/** Key/value metadata stored in every Arrow schema, for readers that see one table on its own. */
export function schemaMetadata(table: DataTable, version: number): Map<string, string> {
  return new Map([
    ['tierscope.table', table],
    ['tierscope.format', String(version)],
  ]);
}
