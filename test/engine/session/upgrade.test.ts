// The upgrade path: a format 0 session (committed fixture, written as the prototype layout) opens in
// this build with every value carried over, can be rewritten in the current format, and the upgrader
// registry is a contiguous chain from the oldest readable version to the current one.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { IntervalRecord, SessionEnd, SessionMeta } from '../../../electron/contract/index.js';
import {
  compactSession,
  OLDEST_READABLE_VERSION,
  openSession,
  SESSION_FORMAT_VERSION,
  UPGRADERS,
} from '../../../electron/engine/session/index.js';
import { upgradeChain } from '../../../electron/engine/session/upgrade.js';
import { expectTierscopeError, readAll, sha256, tempDir } from './helpers.js';
import { syntheticSession } from './synthetic.js';
import { writeFormat0 } from './v0Writer.js';

const file = tempDir();
const FIXTURE = new URL('../../fixtures/sessions/v0-prototype.tierscope', import.meta.url).pathname;
const expected = JSON.parse(
  readFileSync(new URL('../../fixtures/sessions/v0-prototype.expected.json', import.meta.url), 'utf8'),
) as { meta: SessionMeta; end: SessionEnd; records: IntervalRecord[] };

describe('upgrader registry', () => {
  test('is a contiguous chain from the oldest readable format to the current one', () => {
    expect(OLDEST_READABLE_VERSION).toBe(0);
    UPGRADERS.forEach((u, i) => {
      expect(u.to).toBe(u.from + 1);
      if (i > 0) expect(u.from).toBe(UPGRADERS[i - 1]?.to);
      expect(u.summary.length).toBeGreaterThan(20);
    });
    expect(UPGRADERS.at(-1)?.to).toBe(SESSION_FORMAT_VERSION);
    for (let v = OLDEST_READABLE_VERSION; v <= SESSION_FORMAT_VERSION; v++) {
      expect(upgradeChain(v).map((u) => u.from)).toEqual(
        Array.from({ length: SESSION_FORMAT_VERSION - v }, (_, k) => v + k),
      );
    }
  });
});

describe('format 0 fixture', () => {
  test('is what an earlier build wrote: format 0 in its header', () => {
    const bytes = readFileSync(FIXTURE);
    expect(bytes.readUInt32LE(8)).toBe(0);
  });

  test('opens upgraded, with every record and the meta carried over; the file is not changed', async () => {
    const before = sha256(FIXTURE);
    const session = await openSession(FIXTURE);
    expect(session.fileVersion).toBe(0);
    // The expected meta was written when format 1 was current; upgrading sets the current version.
    expect(session.meta).toEqual({ ...expected.meta, formatVersion: SESSION_FORMAT_VERSION });
    expect(session.meta.formatVersion).toBe(SESSION_FORMAT_VERSION);
    expect(session.end).toEqual(expected.end);
    expect(session.intervalCount).toBe(expected.records.length);
    expect(await readAll(FIXTURE)).toEqual(expected.records);
    // The fixture has VMAs that appear late, windows with runs, and per-node values on both nodes.
    expect(expected.records.some((r) => r.index > 0 && r.newVmas.length > 0)).toBe(true);
    expect(expected.records.some((r) => r.countRuns !== null && r.countRuns.length > 0)).toBe(true);
    expect(Array.from(session.totals.pagesByNode[1] ?? []).some((v) => v > 0)).toBe(true);
    expect(sha256(FIXTURE)).toBe(before);
  });

  test('is rewritten in the current format by compactSession (the on-disk upgrade)', async () => {
    const dest = file('v0-upgraded.tierscope');
    const result = await compactSession(FIXTURE, dest);
    expect(result.sourceVersion).toBe(0);
    expect(readFileSync(dest).readUInt32LE(8)).toBe(SESSION_FORMAT_VERSION);
    const upgraded = await openSession(dest);
    expect(upgraded.fileVersion).toBe(SESSION_FORMAT_VERSION);
    expect(upgraded.meta).toEqual({ ...expected.meta, formatVersion: SESSION_FORMAT_VERSION });
    expect(await readAll(dest)).toEqual(expected.records);
  });

  test('a format 0 file the upgrade cannot map is a parse error naming the cause', async () => {
    const synth = syntheticSession({ vmas: 3, intervals: 2, nodes: [0, 1], heatBucketsPerVma: 2 });
    const records = synth.all();
    const bad = records.map((r) => ({
      ...r,
      samples: r.samples.map((s) => ({ ...s, pagesByNode: [s.rssPages] })),
    }));
    const path = file('v0-bad-lists.tierscope');
    writeFormat0(path, synth.meta, bad, null);
    await expectTierscopeError(
      openSession(path),
      'parse',
      /v0-bad-lists\.tierscope: damaged at byte \d+: pages_by_node has 1 entries, the session has 2 nodes/,
    );
  });
});
