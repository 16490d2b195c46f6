// Recording through the agent (in-process transport): a child process this test starts, recorded with
// the refs source; progress events, a live open, stop, the autosave folder, and what happens to a
// recording when its connection or the agent ends.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventData } from '../../electron/contract/index.js';
import { openSession } from '../../electron/engine/session/index.js';
import { readProcStat } from '../../electron/engine/procfs/process.js';
import { startQuietChild, type Child } from '../helpers/children.js';
import { startTestAgent, until, type TestAgent } from './agentFixture.js';
import { agentError, nextEvent } from './harness.js';

let a: TestAgent;
let child: Child;
const extra: TestAgent[] = [];

beforeAll(async () => {
  [a, child] = await Promise.all([Promise.resolve(startTestAgent()), startQuietChild(8)]);
});
afterEach(async () => {
  await Promise.all(extra.splice(0).map((x) => x.close()));
});
afterAll(async () => {
  await Promise.all([a.close(), child.kill()]);
  expect(a.dropped).toEqual([]);
});

const base = {
  source: 'refs' as const,
  intervalMs: 200,
  scansPerWindow: 2,
};

describe('startRecording / stopRecording', () => {
  it('records a child: answer, throttled progress, live open, stop, end event, finished file', async () => {
    const path = join(a.dir, 'rec.tierscope');
    const progress: { data: EventData<'recordingProgress'>; at: number }[] = [];
    const offProgress = a.client.on('recordingProgress', (data) => progress.push({ data, at: Date.now() }));
    const ended: EventData<'recordingEnded'>[] = [];
    const offEnded = a.client.on('recordingEnded', (d) => ended.push(d));
    const { startTimeTicks } = await readProcStat(child.pid);

    const started = await a.client.call('startRecording', {
      ...base,
      pid: child.pid,
      startTimeTicks,
      durationMs: null,
      path,
    });
    expect(started).toMatchObject({
      path,
      source: 'refs',
      sourceReason: 'chosen by the user (--source refs)',
    });
    expect(started.recording).toMatch(/^rec-\d+-[0-9a-f]{6}$/);
    expect(a.server.recordingCount).toBe(1);

    await until(() => progress.length >= 3, 15_000, 'three progress events');
    for (const p of progress) {
      expect(p.data).toMatchObject({ recording: started.recording, path, source: 'refs', scansPerWindow: 2 });
    }
    // At most two a second, though an interval ends every 200 ms.
    progress.slice(1).forEach((p, i) => {
      expect(p.at - (progress[i]?.at ?? 0)).toBeGreaterThanOrEqual(450);
    });
    const intervals = progress.map((p) => p.data.intervals);
    expect(intervals).toEqual([...intervals].sort((x, y) => x - y));

    // Opened while it records: live, no end record yet.
    const live = await a.client.call('openSession', { path });
    expect(live).toMatchObject({ live: true, endRecorded: false, recovered: null });
    expect(live.end.detail).toMatch(/^still being recorded by this agent: \d+ intervals so far/);
    expect(live.intervalCount).toBeGreaterThanOrEqual(1);
    await a.client.call('closeSession', { handle: live.handle });

    const stopped = await a.client.call('stopRecording', { recording: started.recording });
    expect(stopped).toMatchObject({ path, end: { reason: 'stopped', detail: 'stopped by the user' } });
    expect(stopped.intervals).toBeGreaterThanOrEqual(live.intervalCount);
    await until(() => ended.length === 1, 5000, 'recordingEnded');
    expect(ended[0]).toEqual({ recording: started.recording, ...stopped });
    expect(a.server.recordingCount).toBe(0);
    // A stop that crosses the end gets the same answer.
    expect(await a.client.call('stopRecording', { recording: started.recording })).toEqual(stopped);

    const done = await a.client.call('openSession', { path });
    expect(done).toMatchObject({ live: false, endRecorded: true, intervalCount: stopped.intervals });
    const session = await openSession(path);
    expect([session.layout, session.meta.target.pid]).toEqual(['compacted', child.pid]);
    offProgress();
    offEnded();
  });

  it('no path: a new file in the autosave folder, named after the process; ends by its duration', async () => {
    const ended = nextEvent(a.client, 'recordingEnded', () => true);
    const started = await a.client.call('startRecording', {
      ...base,
      pid: child.pid,
      durationMs: 700,
      path: null,
    });
    expect(started.path.startsWith(`${a.sessionsDir}/`)).toBe(true);
    expect(started.path.slice(a.sessionsDir.length + 1)).toMatch(
      new RegExp(`^python3-${child.pid}-\\d{8}T\\d{6}Z(-\\d+)?\\.tierscope$`),
    );
    const end = await ended;
    expect(end).toMatchObject({ recording: started.recording, path: started.path });
    expect(end.end.reason).toBe('duration-reached');
    expect(readdirSync(a.sessionsDir)).toContain(started.path.slice(a.sessionsDir.length + 1));
  });

  it('refusals: dead PID, replaced PID, existing file, unknown recording; one line each', async () => {
    const dead = await startQuietChild(1);
    const deadPid = dead.pid;
    await dead.kill();
    const gone = await agentError(
      a.client.call('startRecording', {
        ...base,
        pid: deadPid,
        durationMs: null,
        path: join(a.dir, 'x.tierscope'),
      }),
    );
    expect([gone.code, gone.message]).toEqual(['process-gone', `process ${deadPid} does not exist`]);

    const { startTimeTicks } = await readProcStat(child.pid);
    const replaced = await agentError(
      a.client.call('startRecording', {
        ...base,
        pid: child.pid,
        startTimeTicks: startTimeTicks + 1,
        durationMs: null,
        path: join(a.dir, 'y.tierscope'),
      }),
    );
    expect(replaced.code).toBe('process-gone');
    expect(replaced.message).toMatch(/was replaced: PID reused/);

    const taken = join(a.dir, 'taken.tierscope');
    writeFileSync(taken, 'x');
    const exists = await agentError(
      a.client.call('startRecording', { ...base, pid: child.pid, durationMs: null, path: taken }),
    );
    expect([exists.code, exists.message]).toEqual([
      'invalid-argument',
      `${taken} already exists: choose another name (a recording never overwrites a file)`,
    ]);
    const noDir = await agentError(
      a.client.call('startRecording', {
        ...base,
        pid: child.pid,
        durationMs: null,
        path: join(a.dir, 'missing-dir', 'r.tierscope'),
      }),
    );
    expect(noDir.code).toBe('not-found');
    for (const e of [gone, replaced, exists, noDir]) expect(e.message).not.toContain('\n');
    expect(a.server.recordingCount).toBe(0);

    const unknown = await agentError(a.client.call('stopRecording', { recording: 'rec-0' }));
    expect(unknown.code).toBe('not-found');
  });

  it('a recording outlives the connection that started it; another connection stops it', async () => {
    const first = a.connect();
    const started = await first.call('startRecording', {
      ...base,
      pid: child.pid,
      durationMs: null,
      path: join(a.dir, 'outlives.tierscope'),
    });
    first.close();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(a.server.recordingCount).toBe(1);
    const second = a.connect();
    const stopped = await second.call('stopRecording', { recording: started.recording });
    expect(stopped.end.reason).toBe('stopped');
    expect(stopped.intervals).toBeGreaterThanOrEqual(2);
  });

  it("the agent's end stops its recordings cleanly: the file has its end record", async () => {
    const own = startTestAgent();
    extra.push(own);
    const path = join(own.dir, 'closing.tierscope');
    await own.client.call('startRecording', { ...base, pid: child.pid, durationMs: null, path });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await own.server.close();
    expect(own.server.recordingCount).toBe(0);
    expect(existsSync(path)).toBe(true);
    const session = await openSession(path);
    expect(session.endRecorded).toBe(true);
    expect(session.end.reason).toBe('stopped');
    expect(session.intervalCount).toBeGreaterThanOrEqual(1);
  });
});
