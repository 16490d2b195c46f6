// The recorder end to end on this host (refs: the source every Linux has), on processes the test starts:
// how a recording ends (duration, the user, the target exiting) and that every interval written before the
// end is in the session. page_idle and DAMON recordings run in the lab (test/lab/suite/record*.lab.test.ts).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REFS_LIMITS } from '../../../electron/engine/access/refs.js';
import { TierscopeError } from '../../../electron/engine/errors.js';
import { record, type RecordProgress } from '../../../electron/engine/record/recorder.js';
import { buildReport } from '../../../electron/engine/report.js';
import { openSession, type Session } from '../../../electron/engine/session/index.js';
import { waitForLine, wrap, type Child } from '../../helpers/children.js';

// One hot shared mapping (rewritten continuously) and three idle ones, each its own VMA: shared
// anonymous mappings never merge with their neighbours.
const WORKLOAD = `
import mmap, sys, time
idle = [mmap.mmap(-1, 8 << 20) for _ in range(3)]
for m in idle:
    for i in range(0, len(m), 4096): m[i] = 1
hot = mmap.mmap(-1, 2 << 20)
print("READY", flush=True)
deadline = time.time() + float(sys.argv[1])
while time.time() < deadline:
    for i in range(0, len(hot), 4096): hot[i] = (hot[i] + 1) & 255
`;

async function startWorkload(seconds: number): Promise<Child> {
  const proc = spawn('python3', ['-c', WORKLOAD, String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await waitForLine(proc, 'READY');
  return wrap(proc);
}

/** Interval indices are 0..n-1 without a gap, and the session's end is what `end` says. */
function expectComplete(session: Session, reason: string): void {
  const n = session.intervalCount;
  expect(n).toBeGreaterThan(0);
  expect(Array.from(session.intervals.index)).toEqual(Array.from({ length: n }, (_, i) => i));
  expect(session.end.reason).toBe(reason);
  expect(session.endRecorded).toBe(true);
}

let tmp: string;
let child: Child | null = null;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'tierscope-record-'));
});
afterEach(async () => {
  await child?.kill();
  child = null;
  await rm(tmp, { recursive: true, force: true });
});

describe('record (refs, on this host)', () => {
  it('records for a duration: meta, every interval, and a report', async () => {
    child = await startWorkload(60);
    const out = path.join(tmp, 'a.tierscope');
    const progress: RecordProgress[] = [];
    const result = await record({
      pid: child.pid,
      out,
      source: 'refs',
      intervalMs: 100,
      scansPerWindow: 3,
      durationMs: 800,
      onProgress: (p) => progress.push(p),
    });
    expect(result.end.reason).toBe('duration-reached');
    expect(result.meta).toMatchObject({
      source: 'refs',
      sourceLimits: REFS_LIMITS,
      intervalMs: 100,
      scansPerWindow: 3,
    });
    expect(result.meta.sourceReason).toBe('chosen by the user (--source refs)');
    const session = await openSession(out);
    expectComplete(session, 'duration-reached');
    expect(session.intervalCount).toBe(result.file.intervalCount);
    expect(progress.map((p) => p.intervals)).toEqual(
      Array.from({ length: session.intervalCount }, (_, i) => i + 1),
    );
    const report = buildReport(session);
    expect(report.pid).toBe(child.pid);
    expect(report.window.scansPerWindow).toBe(3);
    // The three idle 8 MiB mappings are resident and were sampled.
    const idle = report.vmas.filter((v) => v.rssBytes === 8 << 20);
    expect(idle.length).toBeGreaterThanOrEqual(3);
  });

  it('ends "process-exited" when the target exits, keeping every interval', async () => {
    child = await startWorkload(60);
    const target = child;
    const out = path.join(tmp, 'b.tierscope');
    let killedAfter = 0;
    const result = await record({
      pid: target.pid,
      out,
      source: 'refs',
      intervalMs: 50,
      onProgress: (p) => {
        if (p.intervals === 4 && killedAfter === 0) {
          killedAfter = p.intervals;
          void target.kill();
        }
      },
    });
    expect(result.end.reason, result.end.detail).toBe('process-exited');
    expect(result.end.detail).toMatch(new RegExp(`process ${target.pid} \\(python3\\) exited`));
    const session = await openSession(out);
    expectComplete(session, 'process-exited');
    expect(session.intervalCount).toBeGreaterThanOrEqual(killedAfter);
  });

  it('ends "stopped" when the caller aborts', async () => {
    child = await startWorkload(60);
    const out = path.join(tmp, 'c.tierscope');
    const stop = new AbortController();
    const result = await record({
      pid: child.pid,
      out,
      source: 'refs',
      intervalMs: 50,
      signal: stop.signal,
      onProgress: (p) => {
        if (p.intervals === 3) stop.abort();
      },
    });
    expect(result.end).toMatchObject({ reason: 'stopped', detail: 'stopped by the user' });
    expectComplete(await openSession(out), 'stopped');
  });

  it('refuses a source this host lacks, a kernel thread and a bad interval, leaving no file', async () => {
    child = await startWorkload(60);
    const out = path.join(tmp, 'd.tierscope');
    const err = (p: Promise<unknown>) =>
      p.then(
        () => {
          throw new Error('expected a rejection');
        },
        (e: unknown) => {
          expect(e).toBeInstanceOf(TierscopeError);
          return e as TierscopeError;
        },
      );
    const forced = await err(record({ pid: child.pid, out, source: 'page_idle', intervalMs: 50 }));
    expect(forced.code).toBe('unsupported');
    expect(forced.message).toMatch(/^access source page_idle is not usable here: /);
    expect((await err(record({ pid: 2, out, source: 'refs' }))).code).toBe('kernel-thread');
    expect((await err(record({ pid: child.pid, out, intervalMs: 5 }))).code).toBe('invalid-argument');
    expect(existsSync(out)).toBe(false);
  });
});
