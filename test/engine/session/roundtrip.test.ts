// Records written through the writer come back exactly (from the journal and from the compacted file),
// the in-memory model agrees with the records, and the writer keeps its promises about existing files,
// invalid records, abort and close.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { IntervalRecord, SessionMeta } from '../../../electron/contract/index.js';
import {
  compactSession,
  createSessionWriter,
  openSession,
  SESSION_FORMAT_VERSION,
} from '../../../electron/engine/session/index.js';
import { END, expectTierscopeError, readAll, sha256, tempDir, writeSession } from './helpers.js';
import { canonical, syntheticMeta, syntheticSession } from './synthetic.js';
import { walkChunks } from './walk.js';

const file = tempDir();

/** Values at the edges of every column type, and the shapes a recorder may legitimately produce. */
function edgeRecords(meta: SessionMeta): IntervalRecord[] {
  const nodes = meta.nodes.length;
  const zeros = new Array<number>(nodes).fill(0);
  const max = 0xffff_ffff;
  return [
    {
      index: 0,
      startMs: 0,
      endMs: 1000.125,
      samplerCpuMs: 0.001,
      pagesScanned: 2 ** 40 + 3,
      scansInWindow: 1,
      newVmas: [
        {
          id: 7,
          start: 'ffffffffff600000',
          end: 'ffffffffff601000',
          perms: '--xp',
          path: '[vsyscall]',
          kind: 'vsyscall',
          firstInterval: 0,
        },
        {
          id: 2,
          start: '00400000',
          end: '00452000',
          perms: 'r-xp',
          path: '/opt/ünï cödé/app\\012name (deleted)',
          kind: 'deleted-file',
          firstInterval: 0,
        },
      ],
      samples: [
        {
          vmaId: 7,
          rssPages: 1,
          pagesByNode: [1, ...zeros.slice(1)],
          accessedPages: 0,
          hotPages: 0,
          warmPages: 0,
          coldPages: 1,
          hotPagesByNode: zeros,
          coldPagesByNode: zeros,
        },
        {
          vmaId: 2,
          rssPages: max,
          pagesByNode: zeros.map(() => max),
          accessedPages: max,
          hotPages: max,
          warmPages: 0,
          coldPages: 0,
          hotPagesByNode: zeros.map(() => max),
          coldPagesByNode: zeros,
        },
      ],
      heat: [{ vmaId: 2, buckets: Array.from({ length: meta.heatBucketsPerVma }, (_, i) => (i * 37) % 256) }],
      countRuns: [],
      counters: { __proto__x: 1, ['__proto__']: -2.5, numa_hit: 1e15, 'weird name with spaces': 0.1 },
    },
    {
      index: 1,
      startMs: 1000.125,
      endMs: 2000,
      samplerCpuMs: 3.5,
      pagesScanned: 0,
      scansInWindow: 2,
      newVmas: [],
      samples: [],
      heat: [],
      countRuns: null,
      counters: {},
    },
    {
      // A gap in indexes (the recorder skipped intervals) is kept as is.
      index: 5,
      startMs: 5000,
      endMs: 6000,
      samplerCpuMs: 1,
      pagesScanned: 12,
      scansInWindow: 2,
      newVmas: [
        {
          id: 0,
          start: '7ffd0000',
          end: '7ffe0000',
          perms: 'rw-p',
          path: '[stack]',
          kind: 'stack',
          firstInterval: 5,
        },
      ],
      samples: [
        {
          vmaId: 0,
          rssPages: 3,
          pagesByNode: [3, ...zeros.slice(1)],
          accessedPages: 3,
          hotPages: 3,
          warmPages: 0,
          coldPages: 0,
          hotPagesByNode: [3, ...zeros.slice(1)],
          coldPagesByNode: zeros,
        },
        {
          vmaId: 2,
          rssPages: 10,
          pagesByNode: zeros.map((_, k) => k),
          accessedPages: 0,
          hotPages: 0,
          warmPages: 10,
          coldPages: 0,
          hotPagesByNode: zeros,
          coldPagesByNode: zeros,
        },
      ],
      heat: [],
      countRuns: [
        { start: '00400000', end: '00401000', accessedScans: 2 },
        { start: '00401000', end: '00452000', accessedScans: 0 },
      ],
      counters: { numa_hit: 0 },
    },
  ];
}

describe('round trip', () => {
  const meta = syntheticMeta({ nodes: [0, 2, 5], heatBucketsPerVma: 8, scansPerWindow: 2 });

  test('edge values come back exactly from the journal and from the compacted file', async () => {
    const records = edgeRecords(meta);
    const journal = file('edge-journal.tierscope');
    const closed = await writeSession(journal, meta, records, { compact: false });
    expect(closed).toMatchObject({ compacted: false, intervalCount: 3 });
    expect(await readAll(journal)).toEqual(records.map(canonical));
    // __proto__ stays an own, enumerable counter
    const [first] = await readAll(journal);
    expect(Object.keys(first?.counters ?? {})).toContain('__proto__');

    const compacted = await compactSession(journal, file('edge-compacted.tierscope'));
    expect(await readAll(compacted.path)).toEqual(records.map(canonical));
    const session = await openSession(compacted.path);
    expect(session.layout).toBe('compacted');
    expect(session.meta).toEqual({ ...meta, formatVersion: SESSION_FORMAT_VERSION });
  });

  test('a synthetic session round-trips through a closing (compacting) writer', async () => {
    const synth = syntheticSession({
      vmas: 60,
      intervals: 40,
      nodes: [0, 1, 2],
      hotVmas: 3,
      heatBucketsPerVma: 16,
    });
    const records = synth.all();
    const path = file('synthetic.tierscope');
    const closed = await writeSession(path, synth.meta, records);
    expect(closed?.compacted).toBe(true);
    expect(closed?.bytes).toBeLessThan(closed?.journalBytes ?? 0);
    expect(await readAll(path)).toEqual(records.map(canonical));
    const session = await openSession(path);
    expect(session).toMatchObject({
      layout: 'compacted',
      intervalCount: 40,
      endRecorded: true,
      recovered: null,
    });
    expect(session.end).toEqual(END);
  });

  test('the model agrees with the records: totals, per-VMA series, heat, count runs, counters', async () => {
    const synth = syntheticSession({
      vmas: 25,
      intervals: 30,
      nodes: [0, 1],
      hotVmas: 2,
      heatBucketsPerVma: 4,
      seed: 9,
    });
    const records = synth.all();
    const path = file('model.tierscope');
    await writeSession(path, synth.meta, records);
    const s = await openSession(path);

    expect(Array.from(s.intervals.index)).toEqual(records.map((r) => r.index));
    expect(Array.from(s.intervals.pagesScanned)).toEqual(records.map((r) => r.pagesScanned));
    expect(Array.from(s.intervals.hasCountRuns)).toEqual(records.map((r) => (r.countRuns === null ? 0 : 1)));
    const sum = (rec: IntervalRecord, f: (x: IntervalRecord['samples'][number]) => number): number =>
      rec.samples.reduce((n, x) => n + f(x), 0);
    expect(Array.from(s.totals.rssPages)).toEqual(records.map((r) => sum(r, (x) => x.rssPages)));
    expect(Array.from(s.totals.hotPages)).toEqual(records.map((r) => sum(r, (x) => x.hotPages)));
    expect(Array.from(s.totals.pagesByNode[1] ?? [])).toEqual(
      records.map((r) => sum(r, (x) => x.pagesByNode[1] ?? 0)),
    );
    expect(Array.from(s.totals.coldPagesByNode[0] ?? [])).toEqual(
      records.map((r) => sum(r, (x) => x.coldPagesByNode[0] ?? 0)),
    );
    expect(Array.from(s.totals.vmaCount)).toEqual(records.map((r) => r.samples.length));

    expect(s.vmas.map((v) => v.id)).toEqual(
      records.flatMap((r) => r.newVmas.map((v) => v.id)).sort((a, b) => a - b),
    );
    for (const id of [0, 1, 7, 24]) {
      const series = s.vmaSeries(id);
      const expected = records.flatMap((r, pos) =>
        r.samples.filter((x) => x.vmaId === id).map((x) => ({ pos, x })),
      );
      expect(Array.from(series?.intervalPos ?? [])).toEqual(expected.map((e) => e.pos));
      expect(Array.from(series?.rssPages ?? [])).toEqual(expected.map((e) => e.x.rssPages));
      expect(Array.from(series?.pagesByNode[1] ?? [])).toEqual(expected.map((e) => e.x.pagesByNode[1]));
      expect(Array.from(series?.accessedPages ?? [])).toEqual(expected.map((e) => e.x.accessedPages));
    }
    expect(s.vmaSeries(999)).toBeUndefined();

    const pos = 3;
    const rec = records[pos];
    const heatRow = rec?.heat.find((h) => h.vmaId === 1);
    expect(Array.from(s.heatAt(pos, 1) ?? [])).toEqual(heatRow?.buckets);
    const runs = records.flatMap((r, p) => (r.countRuns ?? []).map((c) => ({ p, c })));
    expect(s.countRuns.start.length).toBe(runs.length);
    expect(s.countRuns.start[0]?.toString(16).padStart(8, '0')).toBe(runs[0]?.c.start);
    expect(Array.from(s.countRuns.intervalPos)).toEqual(runs.map((r) => r.p));

    const k = s.counters.names.indexOf('numa_hit');
    expect(Array.from(s.counters.values[k] ?? [])).toEqual(records.map((r) => r.counters.numa_hit));
  });

  test('counters missing from an interval read as NaN in the series', async () => {
    const records = edgeRecords(meta);
    const path = file('counters.tierscope');
    await writeSession(path, meta, records);
    const s = await openSession(path);
    const k = s.counters.names.indexOf('numa_hit');
    expect(Array.from(s.counters.values[k] ?? [])).toEqual([1e15, NaN, 0]);
    expect(s.counters.names).toEqual(['__proto__', '__proto__x', 'numa_hit', 'weird name with spaces']);
  });
});

describe('compaction', () => {
  test('is equivalent to the journal, across several segments, and never touches its source', async () => {
    const synth = syntheticSession({
      vmas: 4,
      intervals: 250,
      hotVmas: 1,
      heatBucketsPerVma: 2,
      scansPerWindow: 3,
    });
    const records = synth.all();
    const journal = file('long-journal.tierscope');
    await writeSession(journal, synth.meta, records, { compact: false, sync: false });
    const before = sha256(journal);
    const dest = file('long-compacted.tierscope');
    const result = await compactSession(journal, dest, { segmentIntervals: 100 });
    expect(sha256(journal)).toBe(before);
    expect(result.intervalCount).toBe(250);
    // 100 intervals per segment: three groups, each committed by its own intervals chunk.
    const tables = walkChunks(readFileSync(dest)).map((c) => c.table);
    expect(tables.filter((t) => t === 'intervals')).toHaveLength(3);
    expect(tables[0]).toBe('meta');
    expect(tables.at(-1)).toBe('end');
    const [fromJournal, fromCompacted] = [await readAll(journal), await readAll(dest)];
    expect(fromCompacted).toEqual(fromJournal);
    expect(fromCompacted).toEqual(records.map(canonical));
  });

  test('refuses an existing destination without force, replaces it with force', async () => {
    const synth = syntheticSession({ vmas: 4, intervals: 3 });
    const src = file('c-src.tierscope');
    await writeSession(src, synth.meta, synth.all(), { compact: false });
    const dest = file('c-dest.tierscope');
    writeFileSync(dest, 'precious');
    await expectTierscopeError(compactSession(src, dest), 'invalid-argument', /already exists.*--force/);
    expect(readFileSync(dest, 'utf8')).toBe('precious');
    await compactSession(src, dest, { force: true });
    expect((await openSession(dest)).intervalCount).toBe(3);
  });
});

describe('writer', () => {
  const synth = syntheticSession({ vmas: 5, intervals: 6, nodes: [0, 1], heatBucketsPerVma: 4 });
  const records = synth.all();

  test('never overwrites an existing file unless forced', async () => {
    const path = file('exists.tierscope');
    writeFileSync(path, 'keep me');
    await expectTierscopeError(
      createSessionWriter(path, synth.meta),
      'invalid-argument',
      /already exists.*--force/,
    );
    expect(readFileSync(path, 'utf8')).toBe('keep me');
    await writeSession(path, synth.meta, records.slice(0, 2), { force: true });
    expect(await readAll(path)).toEqual(records.slice(0, 2).map(canonical));
  });

  test('a missing directory and invalid metadata are typed errors', async () => {
    await expectTierscopeError(
      createSessionWriter(file('no/such/dir/x.tierscope'), synth.meta),
      'not-found',
      /no\/such\/dir\/x\.tierscope: no such file/,
    );
    await expectTierscopeError(
      createSessionWriter(file('bad-meta.tierscope'), { ...synth.meta, nodes: [0, 0] }),
      'invalid-argument',
      /node ids repeat/,
    );
    await expectTierscopeError(
      createSessionWriter(file('bad-meta2.tierscope'), { ...synth.meta, intervalMs: -1 }),
      'invalid-argument',
      /intervalMs/,
    );
    expect(existsSync(file('bad-meta.tierscope'))).toBe(false);
  });

  test('rejects records it cannot keep, without writing anything, and goes on', async () => {
    const path = file('invalid.tierscope');
    const writer = await createSessionWriter(path, synth.meta, { compact: false });
    const [r0, r1, r2] = records as [IntervalRecord, IntervalRecord, IntervalRecord];
    await writer.append(r0);
    const wrongNodes = {
      ...r1,
      samples: r1.samples.map((s, i) => (i === 0 ? { ...s, pagesByNode: [1] } : s)),
    };
    await expectTierscopeError(
      writer.append(wrongNodes),
      'invalid-argument',
      /interval 1: VMA \d+: per-node array has 1 entries, the session has 2 nodes/,
    );
    const unknownVma = {
      ...r1,
      samples: [{ ...(r1.samples[0] as IntervalRecord['samples'][number]), vmaId: 77 }],
    };
    await expectTierscopeError(
      writer.append(unknownVma),
      'invalid-argument',
      /VMA 77, which no interval introduced/,
    );
    const badHeat = { ...r1, heat: [{ vmaId: 0, buckets: [1, 2] }] };
    await expectTierscopeError(writer.append(badHeat), 'invalid-argument', /2 buckets, the session has 4/);
    const huge = {
      ...r1,
      samples: [{ ...(r1.samples[0] as IntervalRecord['samples'][number]), rssPages: 2 ** 32 }],
    };
    await expectTierscopeError(writer.append(huge), 'unsupported', /limit of 2\^32-1 pages/);
    await expectTierscopeError(
      writer.append({ ...r1, startMs: -1 }),
      'invalid-argument',
      /interval 1: startMs/,
    );
    await writer.append(r1);
    await expectTierscopeError(writer.append({ ...r2, index: 1 }), 'invalid-argument', /index must grow/);
    await writer.append(r2);
    expect(writer.intervalCount).toBe(3);
    await writer.close(END);
    await expectTierscopeError(writer.append(r2), 'invalid-argument', /already closed/);
    expect(await readAll(path)).toEqual([r0, r1, r2].map(canonical));
  });

  test('overlapping appends are written in call order', async () => {
    const path = file('overlap.tierscope');
    const writer = await createSessionWriter(path, synth.meta);
    await Promise.all(records.map((r) => writer.append(r)));
    await writer.close(END);
    expect(await readAll(path)).toEqual(records.map(canonical));
  });

  test('abort keeps what was recorded (it opens as recorder-killed) and removes an empty file', async () => {
    const path = file('aborted.tierscope');
    await writeSession(path, synth.meta, records.slice(0, 3), { end: null });
    const s = await openSession(path);
    expect(s).toMatchObject({ intervalCount: 3, endRecorded: false, recovered: null, layout: 'journal' });
    expect(s.end.reason).toBe('recorder-killed');
    expect(s.end.detail).toMatch(/3 complete intervals/);
    expect(s.end.endedAt).toBe('2025-01-02T03:04:08.000Z');

    const empty = file('aborted-empty.tierscope');
    const writer = await createSessionWriter(empty, synth.meta);
    expect(await writer.abort()).toEqual({ removed: true });
    expect(existsSync(empty)).toBe(false);
  });
});
