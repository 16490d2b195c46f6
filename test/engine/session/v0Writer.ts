// A writer for format 0 (the prototype layout, see FORMAT0_SPECS and docs/session-format.md): what an
// earlier build would have written, used to make test/fixtures/sessions/v0-prototype.tierscope and to
// test the upgrade path. Format 0 journals one group per interval, like format 1 does while recording.
import { writeFileSync } from 'node:fs';
import type { IntervalRecord, SessionEnd, SessionMeta } from '../../../electron/contract/index.js';
import { type ColumnSet, encodeArrowStream, newColumnSet } from '../../../electron/engine/session/columns.js';
import { encodeChunk, encodeFileHeader } from '../../../electron/engine/session/format.js';
import { DATA_TABLES, type DataTable } from '../../../electron/engine/session/schema.js';
import { FORMAT0_SPECS } from '../../../electron/engine/session/upgrade.js';

function set(table: DataTable, rows: Record<string, unknown[]>): ColumnSet {
  const specs = FORMAT0_SPECS[table];
  const n = Object.values(rows)[0]?.length ?? 0;
  const out = newColumnSet(specs, n);
  for (const spec of specs) {
    const values = rows[spec.name] ?? [];
    const target = out.columns.get(spec.name);
    if (Array.isArray(target)) out.columns.set(spec.name, values as string[]);
    else if (target instanceof BigUint64Array) target.set(values.map((v) => BigInt(v as number)));
    else (target as Uint32Array | Float64Array).set(values as number[]);
  }
  return out;
}

/** The meta as format 0 stored it: `heatBuckets`, no `sourceLimits`, formatVersion 0. */
export function format0Meta(meta: SessionMeta): Record<string, unknown> {
  const rest: Record<string, unknown> = { ...meta };
  delete rest.sourceLimits;
  delete rest.heatBucketsPerVma;
  return { ...rest, formatVersion: 0, heatBuckets: meta.heatBucketsPerVma };
}

export function format0Bytes(meta: SessionMeta, records: IntervalRecord[], end: SessionEnd | null): Buffer {
  const parts: Buffer[] = [encodeFileHeader(0, 'journal')];
  parts.push(encodeChunk('meta', Buffer.from(JSON.stringify(format0Meta(meta))), 9));
  const meta0 = new Map([['tierscope.format', '0']]);
  for (const rec of records) {
    const tables: Record<DataTable, ColumnSet> = {
      vmas: set('vmas', {
        vma_id: rec.newVmas.map((v) => v.id),
        start: rec.newVmas.map((v) => v.start),
        end: rec.newVmas.map((v) => v.end),
        perms: rec.newVmas.map((v) => v.perms),
        path: rec.newVmas.map((v) => v.path),
        kind: rec.newVmas.map((v) => v.kind),
        first_interval: rec.newVmas.map((v) => v.firstInterval),
      }),
      samples: set('samples', {
        interval: rec.samples.map(() => rec.index),
        vma_id: rec.samples.map((s) => s.vmaId),
        rss_pages: rec.samples.map((s) => s.rssPages),
        pages_by_node: rec.samples.map((s) => s.pagesByNode),
        accessed_pages: rec.samples.map((s) => s.accessedPages),
        hot_pages: rec.samples.map((s) => s.hotPages),
        warm_pages: rec.samples.map((s) => s.warmPages),
        cold_pages: rec.samples.map((s) => s.coldPages),
        hot_pages_by_node: rec.samples.map((s) => s.hotPagesByNode),
        cold_pages_by_node: rec.samples.map((s) => s.coldPagesByNode),
      }),
      heat: set('heat', {
        interval: rec.heat.map(() => rec.index),
        vma_id: rec.heat.map((h) => h.vmaId),
        buckets: rec.heat.map((h) => h.buckets),
      }),
      count_runs: set('count_runs', {
        interval: (rec.countRuns ?? []).map(() => rec.index),
        start: (rec.countRuns ?? []).map((c) => c.start),
        end: (rec.countRuns ?? []).map((c) => c.end),
        accessed_scans: (rec.countRuns ?? []).map((c) => c.accessedScans),
      }),
      counters: set('counters', {
        interval: Object.keys(rec.counters).map(() => rec.index),
        name: Object.keys(rec.counters),
        value: Object.values(rec.counters),
      }),
      intervals: set('intervals', {
        interval: [rec.index],
        start_ms: [rec.startMs],
        end_ms: [rec.endMs],
        sampler_cpu_ms: [rec.samplerCpuMs],
        pages_scanned: [rec.pagesScanned],
        scans_in_window: [rec.scansInWindow],
      }),
    };
    for (const table of DATA_TABLES) {
      if (tables[table].rows === 0 && table !== 'intervals') continue;
      parts.push(encodeChunk(table, encodeArrowStream(FORMAT0_SPECS[table], tables[table], meta0), 6));
    }
  }
  if (end !== null) parts.push(encodeChunk('end', Buffer.from(JSON.stringify(end)), 9));
  return Buffer.concat(parts);
}

export function writeFormat0(
  path: string,
  meta: SessionMeta,
  records: IntervalRecord[],
  end: SessionEnd | null,
): void {
  writeFileSync(path, format0Bytes(meta, records, end), { flag: 'wx' });
}
