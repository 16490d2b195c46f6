// Readable without Tierscope: a compacted session read with apache-arrow's own IPC reader and Node's
// zlib (through walk.ts, which follows docs/session-format.md and shares no code with the store), and the
// docs' Python container reader run with python3. These stand in for pandas/polars, which cannot be
// installed here (PyPI is unreachable).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DataType, type Table, tableFromIPC } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { tempDir, writeSession } from './helpers.js';
import { syntheticSession } from './synthetic.js';
import { walkChunks } from './walk.js';

const file = tempDir();
const synth = syntheticSession({ vmas: 30, intervals: 25, nodes: [0, 2], hotVmas: 2, heatBucketsPerVma: 4 });
const records = synth.all();

/** Every table of the file, each concatenated over its chunks, read by apache-arrow alone. */
function arrowTables(bytes: Buffer): Map<string, Table> {
  const parts = new Map<string, Table[]>();
  for (const chunk of walkChunks(bytes)) {
    if (chunk.table === 'meta' || chunk.table === 'end') continue;
    parts.set(chunk.table, [...(parts.get(chunk.table) ?? []), tableFromIPC(chunk.payload)]);
  }
  return new Map([...parts].map(([name, tables]) => [name, tables.reduce((a, b) => a.concat(b))]));
}

describe('a compacted session read without the store', () => {
  test('apache-arrow + zlib see the recorded values, types and metadata', async () => {
    const path = file('independent.tierscope');
    const closed = await writeSession(path, synth.meta, records);
    expect(closed?.compacted).toBe(true);
    const bytes = readFileSync(path);
    const chunks = walkChunks(bytes);
    expect(chunks.at(-1)?.end).toBe(bytes.length);
    expect(JSON.parse(chunks[0]?.payload.toString() ?? '')).toMatchObject({
      target: synth.meta.target,
      nodes: [0, 2],
    });
    expect(JSON.parse(chunks.at(-1)?.payload.toString() ?? '')).toMatchObject({ reason: 'stopped' });

    const tables = arrowTables(bytes);
    const samples = tables.get('samples');
    if (samples === undefined) throw new Error('no samples table');
    expect(samples.schema.metadata.get('tierscope.table')).toBe('samples');
    expect(samples.schema.fields.map((f) => f.name)).toEqual([
      'interval',
      'vma_id',
      'rss_pages',
      'n0_pages',
      'n2_pages',
      'accessed_pages',
      'hot_pages',
      'warm_pages',
      'cold_pages',
      'n0_hot_pages',
      'n2_hot_pages',
      'n0_cold_pages',
      'n2_cold_pages',
    ]);
    expect(samples.numRows).toBe(records.reduce((n, r) => n + r.samples.length, 0));

    // One VMA's series, column by column, against what the recorder produced.
    const vmaId = 1;
    const column = (name: string): number[] => Array.from(samples.getChild(name)?.toArray() as Uint32Array);
    const [iv, vma, rss, n2] = ['interval', 'vma_id', 'rss_pages', 'n2_pages'].map(column);
    const rows = (vma ?? []).flatMap((v, i) => (v === vmaId ? [i] : []));
    const got = rows
      .map((i) => ({ interval: iv?.[i], rss: rss?.[i], n2: n2?.[i] }))
      .sort((a, b) => (a.interval ?? 0) - (b.interval ?? 0));
    const want = records.flatMap((r) =>
      r.samples
        .filter((s) => s.vmaId === vmaId)
        .map((s) => ({ interval: r.index, rss: s.rssPages, n2: s.pagesByNode[1] })),
    );
    expect(got).toEqual(want);

    const vmas = tables.get('vmas');
    const start = vmas?.getChild('start');
    const startType: unknown = start?.type;
    expect(DataType.isInt(startType) && startType.bitWidth === 64 && !startType.isSigned).toBe(true);
    const ids = Array.from(vmas?.getChild('vma_id')?.toArray() as Uint32Array);
    const introduced = records.flatMap((r) => r.newVmas);
    const starts = start?.toArray() as BigUint64Array;
    for (const v of introduced) expect(starts[ids.indexOf(v.id)]).toBe(BigInt(`0x${v.start}`));
    expect(vmas?.getChild('path')?.get(ids.indexOf(introduced[5]?.id ?? -1))).toBe(introduced[5]?.path);

    const heat = tables.get('heat');
    const bucketsType: unknown = heat?.schema.fields[2]?.type;
    expect(DataType.isFixedSizeList(bucketsType) && bucketsType.listSize === 4).toBe(true);
    expect(String(bucketsType)).toBe('FixedSizeList[4]<Uint8>');
    const heatIv = Array.from(heat?.getChild('interval')?.toArray() as Uint32Array);
    const heatVma = Array.from(heat?.getChild('vma_id')?.toArray() as Uint32Array);
    const row = heatIv.findIndex((at, i) => at === 7 && heatVma[i] === 0);
    expect(Array.from(heat?.getChild('buckets')?.get(row) as Iterable<number>)).toEqual(
      records[7]?.heat.find((h) => h.vmaId === 0)?.buckets,
    );

    const intervals = tables.get('intervals');
    expect(Array.from(intervals?.getChild('has_count_runs')?.toArray() as boolean[])).toEqual(
      records.map((r) => r.countRuns !== null),
    );
    const counters = tables.get('counters');
    const names = counters?.getChild('name')?.toArray() as string[];
    const values = Array.from(counters?.getChild('value')?.toArray() as Float64Array);
    const cIv = Array.from(counters?.getChild('interval')?.toArray() as Uint32Array);
    const k = names.findIndex((n, i) => n === 'numa_hit' && cIv[i] === 3);
    expect(values[k]).toBe(records[3]?.counters.numa_hit);
  });

  test("the docs' Python container reader (stdlib only) yields every chunk the store wrote", async () => {
    const docs = readFileSync(new URL('../../../docs/session-format.md', import.meta.url), 'utf8');
    const snippet = /```python\n(# session-format: read_chunks\n[\s\S]*?)```/.exec(docs)?.[1];
    expect(snippet, 'the read_chunks snippet in docs/session-format.md').toBeDefined();
    const path = file('python.tierscope');
    await writeSession(path, synth.meta, records.slice(0, 6));
    const script = `${snippet ?? ''}
import hashlib, json, sys
print(json.dumps([[t, len(p), hashlib.sha256(p).hexdigest()] for t, p in read_chunks(sys.argv[1])]))
`;
    const out = execFileSync('python3', ['-c', script, path], { encoding: 'utf8' });
    const fromPython = JSON.parse(out) as [string, number, string][];
    const fromNode = walkChunks(readFileSync(path)).map((c) => [
      c.table,
      c.payload.length,
      createHash('sha256').update(c.payload).digest('hex'),
    ]);
    expect(fromPython).toEqual(fromNode);
    expect(fromPython.map(([t]) => t)).toEqual(
      expect.arrayContaining(['meta', 'vmas', 'samples', 'heat', 'counters', 'intervals', 'end']),
    );
    // Each Arrow payload starts with the IPC stream's continuation marker, as pyarrow.ipc.open_stream expects.
    for (const c of walkChunks(readFileSync(path))) {
      if (c.table !== 'meta' && c.table !== 'end') expect(c.payload.readInt32LE(0)).toBe(-1);
    }
  });
});
