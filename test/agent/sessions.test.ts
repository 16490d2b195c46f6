// The session methods over the in-process transport: open (fixtures of older formats, sessions written
// here), VMA series, heatmap, export and save-as, handles scoped to their connection.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Heatmap, SessionView } from '../../electron/contract/index.js';
import { openSession } from '../../electron/engine/session/index.js';
import { buildSessionView } from '../../electron/engine/view/sessionView.js';
import { writeSession } from '../engine/session/helpers.js';
import { syntheticSession } from '../engine/session/synthetic.js';
import { startTestAgent, until, type TestAgent } from './agentFixture.js';
import { agentError } from './harness.js';

const FIXTURE = 'test/fixtures/sessions/v1-before-experiments.tierscope';

let a: TestAgent;
let written: string;
const synth = syntheticSession({ vmas: 30, intervals: 20, nodes: [0, 1], heatBucketsPerVma: 8 });

beforeAll(async () => {
  a = startTestAgent();
  written = join(a.dir, 'written.tierscope');
  await writeSession(written, synth.meta, synth.all());
});
afterAll(async () => {
  await a.close();
  expect(a.dropped).toEqual([]);
});

describe('openSession / vmaSeries / heatmap / closeSession', () => {
  it('opens a format 1 fixture: the same view the engine builds, with a handle', async () => {
    const view = await a.client.call('openSession', { path: FIXTURE });
    expect(SessionView.parse(view)).toEqual(view);
    const local = buildSessionView(await openSession(join(process.cwd(), FIXTURE)), {
      handle: view.handle,
      live: false,
    });
    expect(view).toEqual(local);
    expect(view).toMatchObject({ fileVersion: 1, live: false, endRecorded: true, intervalCount: 6 });
    await a.client.call('closeSession', { handle: view.handle });
  });

  it("heatmap of the lab capture: memhog's hot first 16 MiB of 64, and nothing else, at every time", async () => {
    const truth = JSON.parse(
      readFileSync('test/fixtures/sessions/lab-memhog-page_idle.truth.json', 'utf8'),
    ) as {
      base: string;
      sizeBytes: number;
    };
    const view = await a.client.call('openSession', {
      path: 'test/fixtures/sessions/lab-memhog-page_idle.tierscope',
    });
    expect(view.experiments).toHaveLength(1);
    const end = (BigInt(`0x${truth.base}`) + BigInt(truth.sizeBytes)).toString(16);
    const h = await a.client.call('heatmap', {
      handle: view.handle,
      fromPos: 0,
      toPos: view.intervalCount,
      columns: 4,
      rows: 8,
      ranges: [{ start: truth.base, end }],
    });
    const rows = (plane: string): number[][] => {
      const b = Buffer.from(plane, 'base64');
      return Array.from({ length: 8 }, (_, r) => Array.from(b.subarray(r * 4, (r + 1) * 4)));
    };
    const hot = [255, 255, 255, 255];
    const cold = [0, 0, 0, 0];
    expect(rows(h.mean)).toEqual([hot, hot, cold, cold, cold, cold, cold, cold]);
    expect(rows(h.max)).toEqual(rows(h.mean));
    expect(
      rows(h.present)
        .flat()
        .every((x) => x === 1),
    ).toBe(true);
    await a.client.call('closeSession', { handle: view.handle });
  });

  it('vmaSeries of chosen VMAs; an unknown id is not-found', async () => {
    const view = await a.client.call('openSession', { path: written });
    const ids = view.vmas.slice(0, 3).map((v) => v.id);
    const { series } = await a.client.call('vmaSeries', { handle: view.handle, vmaIds: ids });
    expect(series.map((s) => s.vmaId)).toEqual(ids);
    for (const s of series) {
      expect(s.intervalPos.length).toBe(s.rssPages.length);
      expect(s.pagesByNode).toHaveLength(2);
    }
    const err = await agentError(
      a.client.call('vmaSeries', { handle: view.handle, vmaIds: [ids[0] ?? 0, 99_999] }),
    );
    expect([err.code, err.message]).toEqual([
      'not-found',
      `${written} has no VMA with id 99999: take the ids from the session view`,
    ]);
    await a.client.call('closeSession', { handle: view.handle });
  });

  it('heatmap: the requested grid, base64 planes of rows × columns bytes', async () => {
    const view = await a.client.call('openSession', { path: written });
    const ranges = view.vmas.map((v) => ({ start: v.start, end: v.end }));
    const h = Heatmap.parse(
      await a.client.call('heatmap', {
        handle: view.handle,
        fromPos: 0,
        toPos: 20,
        columns: 10,
        rows: 64,
        ranges,
      }),
    );
    expect(h).toMatchObject({ fromPos: 0, toPos: 20, columns: 10, rows: 64 });
    for (const plane of [h.max, h.mean, h.present]) expect(Buffer.from(plane, 'base64')).toHaveLength(640);
    const present = Buffer.from(h.present, 'base64');
    expect(present.some((x) => x === 1)).toBe(true);
    const max = Buffer.from(h.max, 'base64');
    const mean = Buffer.from(h.mean, 'base64');
    max.forEach((m, i) => {
      expect(m).toBeGreaterThanOrEqual(mean[i] ?? 0);
    });
    // Past the end is clamped; nothing in range is an error.
    const clamped = await a.client.call('heatmap', {
      handle: view.handle,
      fromPos: 15,
      toPos: 1000,
      columns: 1,
      rows: 1,
      ranges,
    });
    expect([clamped.fromPos, clamped.toPos]).toEqual([15, 20]);
    const err = await agentError(
      a.client.call('heatmap', { handle: view.handle, fromPos: 20, toPos: 30, columns: 1, rows: 1, ranges }),
    );
    expect(err.code).toBe('invalid-argument');
    expect(err.message).toMatch(/^heatmap: positions 20…30 hold no interval \(the session has 20\)/);
    await a.client.call('closeSession', { handle: view.handle });
  });

  it('bad files: a missing one is not-found, a non-session is parse, one line each', async () => {
    const missing = await agentError(a.client.call('openSession', { path: join(a.dir, 'nope.tierscope') }));
    expect(missing.code).toBe('not-found');
    const text = join(a.dir, 'notes.txt');
    writeFileSync(text, 'hello\n');
    const notSession = await agentError(a.client.call('openSession', { path: text }));
    expect(notSession.code).toBe('parse');
    expect(notSession.message).toMatch(/is not a Tierscope session/);
    for (const e of [missing, notSession]) expect(e.message).not.toContain('\n');
  });

  it('a handle belongs to its connection: others get not-found; it goes when its connection closes', async () => {
    const other = a.connect();
    const view = await other.call('openSession', { path: written });
    const err = await agentError(a.client.call('vmaSeries', { handle: view.handle, vmaIds: [0] }));
    expect(err.code).toBe('not-found');
    expect(err.message).toMatch(/no open session "s\d+-[0-9a-f]+" on this connection/);
    const before = a.server.openSessionCount;
    other.close();
    await until(() => a.server.openSessionCount === before - 1, 5000, 'the session to be closed');
    // closeSession twice: the second is not-found.
    const mine = await a.client.call('openSession', { path: written });
    await a.client.call('closeSession', { handle: mine.handle });
    expect((await agentError(a.client.call('closeSession', { handle: mine.handle }))).code).toBe('not-found');
  });

  it('a connection may keep only so many sessions open', async () => {
    const small = startTestAgent({ maxOpenSessions: 2 });
    try {
      await small.client.call('openSession', { path: written });
      await small.client.call('openSession', { path: written });
      const err = await agentError(small.client.call('openSession', { path: written }));
      expect([err.code, err.message]).toEqual([
        'busy',
        '2 sessions are already open on this connection (the limit): close one first',
      ]);
    } finally {
      await small.close();
    }
  });
});

describe('exportSession / saveSessionAs', () => {
  it('exports JSON and refuses to overwrite unless asked', async () => {
    const view = await a.client.call('openSession', { path: written });
    const out = join(a.dir, 'export.json');
    const res = await a.client.call('exportSession', {
      handle: view.handle,
      format: 'json',
      path: out,
      overwrite: false,
    });
    expect(res).toEqual({ path: out, bytes: statSync(out).size });
    const json = JSON.parse(readFileSync(out, 'utf8')) as { intervals: unknown[] };
    expect(json.intervals).toHaveLength(20);
    const err = await agentError(
      a.client.call('exportSession', { handle: view.handle, format: 'csv', path: out, overwrite: false }),
    );
    expect([err.code, err.message]).toEqual([
      'invalid-argument',
      `${out} already exists: choose another name, or allow overwriting it`,
    ]);
    await a.client.call('exportSession', { handle: view.handle, format: 'csv', path: out, overwrite: true });
    expect(readFileSync(out, 'utf8')).toMatch(/^interval,/);
    // Never over the session itself.
    const self = await agentError(
      a.client.call('exportSession', { handle: view.handle, format: 'json', path: written, overwrite: true }),
    );
    expect(self.code).toBe('invalid-argument');
    await a.client.call('closeSession', { handle: view.handle });
  });

  it('saveSessionAs writes a compacted copy that opens like the original', async () => {
    const view = await a.client.call('openSession', { path: FIXTURE });
    const out = join(a.dir, 'copy.tierscope');
    const res = await a.client.call('saveSessionAs', { handle: view.handle, path: out, overwrite: false });
    expect(res).toEqual({ path: out, bytes: statSync(out).size });
    const copy = await a.client.call('openSession', { path: out });
    // Upgraded on the way: written in the current format, same content.
    expect(copy.fileVersion).toBe(2);
    expect(copy.timeline).toEqual(view.timeline);
    expect(copy.vmas).toEqual(view.vmas);
    expect(
      (await agentError(a.client.call('saveSessionAs', { handle: view.handle, path: out, overwrite: false })))
        .code,
    ).toBe('invalid-argument');
  });
});
