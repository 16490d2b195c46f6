// Crash safety: a recorder killed with SIGKILL at any moment leaves a session that opens with every
// interval it had committed, and a file cut at any byte reads up to its last complete interval, with the
// cut reported and the file left exactly as it was.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  appendFileSync,
  copyFileSync,
  mkdtempSync,
  readFileSync,
  rmdirSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { IntervalRecord } from '../../../electron/contract/index.js';
import { createSessionWriter, openSession } from '../../../electron/engine/session/index.js';
import { waitForLine, wrap } from '../../helpers/children.js';
import { expectTierscopeError, readAll, sha256, tempDir, writeSession } from './helpers.js';
import { canonical, syntheticSession } from './synthetic.js';
import { walkChunks } from './walk.js';

const file = tempDir();
const CHILD = new URL('./recorderChild.ts', import.meta.url).pathname;

describe('SIGKILL mid-recording', () => {
  test.each([
    [1, 5, 0],
    [2, 12, 3],
    [3, 30, 11],
    [4, 8, 27],
  ])(
    'run %i: killed after interval %i (+%i ms) keeps every committed interval',
    async (run, after, delayMs) => {
      const path = file(`killed-${run}.tierscope`);
      const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, path, '60', String(run)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const child = wrap(proc);
      let output = '';
      proc.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      try {
        await waitForLine(proc, `COMMITTED ${after}`);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      } finally {
        await child.kill();
      }
      expect(proc.signalCode).toBe('SIGKILL');
      if (!proc.stdout.readableEnded) await once(proc.stdout, 'end');
      const committed = [...output.matchAll(/^COMMITTED (\d+)$/gm)].map((m) => Number(m[1]));
      const lastCommitted = committed.at(-1) ?? -1;
      expect(lastCommitted).toBeGreaterThanOrEqual(after);

      const before = sha256(path);
      const session = await openSession(path);
      expect(sha256(path)).toBe(before);
      // Every interval reported committed is there; one more may be, if it reached the disk before the kill.
      expect(session.intervalCount).toBeGreaterThanOrEqual(lastCommitted + 1);
      expect(session.intervalCount).toBeLessThanOrEqual(lastCommitted + 2);
      expect(session).toMatchObject({ endRecorded: false, layout: 'journal' });
      expect(session.end.reason).toBe('recorder-killed');
      if (session.recovered !== null) expect(session.recovered.droppedBytes).toBeGreaterThan(0);

      const same = syntheticSession({ vmas: 60, seed: run, intervals: 1_000_000, hotVmas: 2 });
      const expected = Array.from({ length: session.intervalCount }, () => same.next());
      expect(await readAll(path)).toEqual(expected.map(canonical));
    },
  );
});

describe('a file cut at any byte', () => {
  const synth = syntheticSession({
    vmas: 3,
    intervals: 4,
    hotVmas: 1,
    heatBucketsPerVma: 2,
    scansPerWindow: 2,
  });
  const records = synth.all();

  test('reads every interval committed before the cut, reports the rest, and is not modified', async () => {
    const journal = file('cut-source.tierscope');
    await writeSession(journal, synth.meta, records, { end: null });
    const bytes = readFileSync(journal);
    const chunks = walkChunks(bytes);
    const metaEnd = chunks[0]?.end ?? 0;
    const commits = chunks.filter((c) => c.table === 'intervals').map((c) => c.end);
    expect(commits).toHaveLength(4);
    expect(commits.at(-1)).toBe(bytes.length);

    const path = file('cut.tierscope');
    // Every byte near each chunk boundary of the last two intervals (where the outcome changes), and a
    // stride through everything else.
    const cuts = new Set<number>();
    for (let cut = metaEnd; cut <= bytes.length; cut += 7) cuts.add(cut);
    for (const c of chunks.filter((c) => c.offset >= (commits[1] ?? 0))) {
      for (let d = -20; d <= 20; d++) cuts.add(Math.min(bytes.length, Math.max(metaEnd, c.offset + d)));
    }
    cuts.add(bytes.length);
    for (const cut of [...cuts].sort((a, b) => a - b)) {
      writeFileSync(path, bytes.subarray(0, cut));
      const before = sha256(path);
      const session = await openSession(path);
      expect(sha256(path)).toBe(before);
      const complete = commits.filter((end) => end <= cut).length;
      const lastCommit = complete === 0 ? metaEnd : (commits[complete - 1] ?? 0);
      expect(session.intervalCount, `cut at ${cut}`).toBe(complete);
      expect(session.end.reason).toBe('recorder-killed');
      if (cut === lastCommit) {
        expect(session.recovered, `cut at ${cut}`).toBeNull();
      } else {
        expect(session.recovered?.droppedBytes, `cut at ${cut}`).toBe(cut - lastCommit);
        expect(session.recovered?.reason).toMatch(/cut short|ends \d+ bytes into|ends inside an interval/);
      }
    }
    // Spot-check the values of a cut mid-way through the last interval.
    writeFileSync(path, bytes.subarray(0, (commits[3] ?? 0) - 5));
    expect(await readAll(path)).toEqual(records.slice(0, 3).map(canonical));
  });

  test('a tail of zeros or garbage after a power loss is dropped and reported', async () => {
    const journal = file('tail-source.tierscope');
    await writeSession(journal, synth.meta, records, { end: null });
    for (const [name, tail] of [
      ['zeros', Buffer.alloc(4096)],
      ['garbage', Buffer.from('TCHK\x05\x01\x00\x00\xff\xff\x00\x00junk after the last interval')],
    ] as const) {
      const path = file(`tail-${name}.tierscope`);
      copyFileSync(journal, path);
      appendFileSync(path, tail);
      const session = await openSession(path);
      expect(session.intervalCount).toBe(4);
      expect(session.recovered?.droppedBytes).toBe(tail.length);
    }
  });

  test('a cut inside the header or the metadata is an error that says nothing was recorded', async () => {
    const full = file('meta-full.tierscope');
    await writeSession(full, synth.meta, records.slice(0, 1), { compact: false });
    const bytes = readFileSync(full);
    const metaEnd = walkChunks(bytes)[0]?.end ?? 0;
    const path = file('meta-cut.tierscope');
    writeFileSync(path, bytes.subarray(0, 10));
    await expectTierscopeError(
      openSession(path),
      'parse',
      /meta-cut\.tierscope: is truncated: 10 bytes.*stopped before writing anything/,
    );
    writeFileSync(path, bytes.subarray(0, 16));
    await expectTierscopeError(
      openSession(path),
      'parse',
      /holds no session metadata \(the file ends after its header\)/,
    );
    writeFileSync(path, bytes.subarray(0, metaEnd - 1));
    await expectTierscopeError(
      openSession(path),
      'parse',
      /holds no session metadata \(the chunk is cut short/,
    );
    // Killed right after the metadata: a valid, empty session.
    writeFileSync(path, bytes.subarray(0, metaEnd));
    expect(await openSession(path)).toMatchObject({ intervalCount: 0, recovered: null, endRecorded: false });
    truncateSync(path, 0);
    await expectTierscopeError(openSession(path), 'parse', /is empty \(0 bytes\)/);
  });
});

/** Mounts a small tmpfs for a real ENOSPC; null where this test process may not mount (not root). */
function smallDisk(bytes: number): { dir: string; release(): void } | null {
  const dir = mkdtempSync(join(tmpdir(), 'tierscope-full-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tierscope-test', dir], { stdio: 'ignore' });
  } catch {
    rmdirSync(dir);
    return null;
  }
  return {
    dir,
    release: () => {
      execFileSync('umount', [dir]);
      rmdirSync(dir);
    },
  };
}

describe('a disk that fills up mid-recording', () => {
  // Needs root to mount a small tmpfs: skipped elsewhere (CI and developers here run as root).
  test('keeps every interval written before, says why, and leaves no torn bytes', async (context) => {
    const disk = smallDisk(48 * 1024);
    if (disk === null) {
      context.skip('cannot mount a tmpfs here (needs root)');
      return;
    }
    try {
      const synth = syntheticSession({ vmas: 6, intervals: 200, hotVmas: 1, heatBucketsPerVma: 8 });
      const path = join(disk.dir, 'full.tierscope');
      const writer = await createSessionWriter(path, synth.meta);
      const written: IntervalRecord[] = [];
      let failure: unknown = null;
      for (const rec of synth.all()) {
        try {
          await writer.append(rec);
          written.push(rec);
        } catch (err) {
          failure = err;
          break;
        }
      }
      expect(written.length).toBeGreaterThan(3);
      expect(String(failure)).toMatch(/full\.tierscope: the disk is full \(ENOSPC\); free space/);
      // Later appends and close report the same failure; the file holds exactly the written intervals.
      await expectTierscopeError(writer.append(synth.next()), 'io', /disk is full/);
      await expectTierscopeError(
        writer.close({ endedAt: 'x', reason: 'stopped', detail: '' }),
        'io',
        /disk is full/,
      );
      const session = await openSession(path);
      expect(session).toMatchObject({ intervalCount: written.length, recovered: null, endRecorded: false });
      expect(await readAll(path)).toEqual(written.map(canonical));
    } finally {
      disk.release();
    }
  });
});
