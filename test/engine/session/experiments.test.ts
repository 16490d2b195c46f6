// Format 2's experiments chunk: written by a live recorder (appendExperiment) or added to a finished
// session (addExperimentToSession), read back by openSession, kept by compaction; format 1 files (the
// committed fixture) open upgraded with no experiments.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type {
  Experiment,
  IntervalRecord,
  SessionEnd,
  SessionMeta,
} from '../../../electron/contract/index.js';
import {
  addExperimentToSession,
  createSessionWriter,
  openSession,
  SESSION_FORMAT_VERSION,
} from '../../../electron/engine/session/index.js';
import { encodeChunk } from '../../../electron/engine/session/format.js';
import { END, expectTierscopeError, readAll, sha256, tempDir, writeSession } from './helpers.js';
import { canonical, syntheticSession } from './synthetic.js';

const file = tempDir();
const FIXTURE = new URL('../../fixtures/sessions/v1-before-experiments.tierscope', import.meta.url).pathname;
const expected = JSON.parse(
  readFileSync(
    new URL('../../fixtures/sessions/v1-before-experiments.expected.json', import.meta.url),
    'utf8',
  ),
) as { meta: SessionMeta; end: SessionEnd; records: IntervalRecord[] };

function experiment(id: string, status: Experiment['status'] = 'completed'): Experiment {
  return {
    id,
    kind: 'move-pages',
    pid: 4242,
    selection: {
      ranges: [{ start: '7f0000000000', end: '7f0004000000' }],
      hotness: 'hot',
      topK: null,
      fromNodes: [2],
    },
    fromNodes: [2],
    toNodes: [0],
    dryRun: false,
    rateLimitBytesPerSecond: 200e6,
    startedAt: '2025-01-02T03:04:08.000Z',
    endedAt: '2025-01-02T03:04:09.000Z',
    startMs: 3000,
    endMs: 4000,
    status,
    detail: '1638 pages in 2 batches',
    pagesSelected: 1638,
    histogram: {
      moved: 1630,
      alreadyThere: 0,
      thpTailMovedWithHead: 0,
      shared: 0,
      targetFull: 0,
      notPresent: 0,
      otherFailures: { EBUSY: 8 },
    },
    pendingPages: 0,
    before: {
      atMs: 2900,
      selectionBytesByNode: { '2': 1638 * 4096 },
      hotBytesByNode: { '2': 1638 * 4096 },
      coldBytesByNode: { '2': 14746 * 4096 },
      selectionAccessRate: 1,
    },
    after: null,
    benchmark: { command: 'echo 1', before: 1, after: 2 },
  };
}

describe('format 1 fixture', () => {
  test('is format 1 on disk and opens upgraded to format 2 with every record and no experiments', async () => {
    expect(readFileSync(FIXTURE).readUInt32LE(8)).toBe(1);
    const before = sha256(FIXTURE);
    const session = await openSession(FIXTURE);
    expect(session.fileVersion).toBe(1);
    expect(session.meta).toEqual({ ...expected.meta, formatVersion: SESSION_FORMAT_VERSION });
    expect(session.end).toEqual(expected.end);
    expect(session.experiments).toEqual([]);
    expect(await readAll(FIXTURE)).toEqual(expected.records);
    expect(sha256(FIXTURE)).toBe(before);
  });
});

describe('experiments in a session', () => {
  const synth = syntheticSession({ vmas: 4, intervals: 6, nodes: [0, 2], heatBucketsPerVma: 2 });
  const records = synth.all();

  test('a recorder appends them between intervals; they survive a kill and compaction, a later record replaces an earlier', async () => {
    const path = file('live.tierscope');
    const writer = await createSessionWriter(path, synth.meta);
    await writer.append(records[0] as IntervalRecord);
    await writer.appendExperiment(experiment('exp-a', 'cancelled'));
    await writer.append(records[1] as IntervalRecord);
    await writer.appendExperiment(experiment('exp-b'));
    // As a killed recorder leaves it: both experiments and both intervals are there.
    const killed = await openSession(path);
    expect(killed.experiments.map((e) => e.id)).toEqual(['exp-a', 'exp-b']);
    expect(killed.intervalCount).toBe(2);
    await writer.appendExperiment({ ...experiment('exp-a'), detail: 'resumed' });
    for (const r of records.slice(2)) await writer.append(r);
    const closed = await writer.close(END);
    expect(closed.compacted).toBe(true);
    const s = await openSession(path);
    expect(s.layout).toBe('compacted');
    expect(s.experiments).toEqual([{ ...experiment('exp-a'), detail: 'resumed' }, experiment('exp-b')]);
    expect(await readAll(path)).toEqual(records.map(canonical));
  });

  test('an invalid record is refused without touching the file', async () => {
    const path = file('invalid.tierscope');
    const writer = await createSessionWriter(path, synth.meta);
    await writer.append(records[0] as IntervalRecord);
    const size = readFileSync(path).length;
    await expectTierscopeError(
      writer.appendExperiment({ ...experiment('x'), toNodes: [] }),
      'invalid-argument',
      /invalid experiment record \(toNodes: /,
    );
    expect(readFileSync(path).length).toBe(size);
    await writer.close(END);
  });

  test('addExperimentToSession adds to a finished session atomically, keeping everything else', async () => {
    const path = file('finished.tierscope');
    await writeSession(path, synth.meta, records);
    await addExperimentToSession(path, experiment('exp-1'));
    await addExperimentToSession(path, experiment('exp-2', 'failed'));
    const r = await addExperimentToSession(path, { ...experiment('exp-1'), detail: 'again' });
    expect(r.experimentCount).toBe(2);
    const s = await openSession(path);
    expect(s.end).toEqual(END);
    expect(s.experiments.map((e) => [e.id, e.status, e.detail])).toEqual([
      ['exp-1', 'completed', 'again'],
      ['exp-2', 'failed', '1638 pages in 2 batches'],
    ]);
    expect(await readAll(path)).toEqual(records.map(canonical));
    // The format 1 fixture too: it is rewritten as format 2.
    const old = file('from-v1.tierscope');
    writeFileSync(old, readFileSync(FIXTURE));
    await addExperimentToSession(old, experiment('exp-v1'));
    expect(readFileSync(old).readUInt32LE(8)).toBe(SESSION_FORMAT_VERSION);
    expect((await openSession(old)).experiments.map((e) => e.id)).toEqual(['exp-v1']);
    expect(await readAll(old)).toEqual(expected.records);
  });

  test('experiments added at the same time are all kept (the lock serialises the rewrites)', async () => {
    const path = file('concurrent.tierscope');
    await writeSession(path, synth.meta, records);
    await Promise.all(['c1', 'c2', 'c3', 'c4'].map((id) => addExperimentToSession(path, experiment(id))));
    expect((await openSession(path)).experiments.map((e) => e.id).sort()).toEqual(['c1', 'c2', 'c3', 'c4']);
  });

  test('a session still being recorded (no end record) is refused and left as it was', async () => {
    const path = file('recording.tierscope');
    await writeSession(path, synth.meta, records.slice(0, 3), { end: null });
    const before = sha256(path);
    await expectTierscopeError(
      addExperimentToSession(path, experiment('exp-1')),
      'busy',
      /recording\.tierscope has no end record: it is still being recorded \(or its recorder was killed\)/,
    );
    expect(sha256(path)).toBe(before);
  });

  test('an experiments chunk in a format 1 file, or one the contract cannot hold, is damage', async () => {
    const path = file('v1-with-experiment.tierscope');
    await writeSession(path, synth.meta, records.slice(0, 2), { end: null });
    const bytes = readFileSync(path);
    bytes.writeUInt32LE(1, 8);
    writeFileSync(path, bytes);
    appendFileSync(path, encodeChunk('experiments', Buffer.from(JSON.stringify(experiment('e'))), 6));
    appendFileSync(path, encodeChunk('end', Buffer.from(JSON.stringify(END)), 6));
    await expectTierscopeError(
      openSession(path),
      'parse',
      /damaged at byte \d+: an experiments chunk in a format 1 file/,
    );

    const bad = file('bad-experiment.tierscope');
    await writeSession(bad, synth.meta, records.slice(0, 2), { end: null });
    appendFileSync(
      bad,
      encodeChunk('experiments', Buffer.from(JSON.stringify({ ...experiment('e'), status: 'maybe' })), 6),
    );
    appendFileSync(bad, encodeChunk('end', Buffer.from(JSON.stringify(END)), 6));
    await expectTierscopeError(openSession(bad), 'parse', /an experiment record is invalid \(status: /);
  });
});
