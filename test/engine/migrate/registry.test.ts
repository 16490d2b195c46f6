import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TierscopeError } from '../../../electron/engine/errors.js';
import {
  ExperimentRegistry,
  rangesOverlap,
  type ClaimRecord,
} from '../../../electron/engine/migrate/registry.js';
import { readProcStat } from '../../../electron/engine/procfs/process.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tierscope-registry-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const TARGET = { pid: 777, startTimeTicks: 55 };
const r = (start: string, end: string) => [{ start, end }];

async function refusal(p: Promise<unknown>): Promise<TierscopeError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TierscopeError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('rangesOverlap', () => {
  it('is half-open, and the whole process overlaps everything', () => {
    expect(rangesOverlap(r('1000', '2000'), r('2000', '3000'))).toBe(false);
    expect(rangesOverlap(r('1000', '2001'), r('2000', '3000'))).toBe(true);
    expect(rangesOverlap(null, r('5000', '6000'))).toBe(true);
  });
});

describe('ExperimentRegistry', () => {
  it('refuses an overlapping experiment on the same process, naming the running one', async () => {
    const reg = new ExperimentRegistry(dir);
    const first = await reg.claim({
      id: 'exp-a',
      kind: 'lazy-rebind',
      ...TARGET,
      ranges: r('10000', '20000'),
    });
    const err = await refusal(
      reg.claim({ id: 'exp-b', kind: 'move-pages', ...TARGET, ranges: r('1f000', '30000') }),
    );
    expect(err.code).toBe('busy');
    expect(err.message).toMatch(
      /^experiment exp-a \(lazy-rebind of 10000-20000, run by process \d+ since .*\) is still running on pages this experiment would touch; wait for it to end, cancel it, or pick a range that does not overlap$/,
    );
    // Not overlapping, or another process (or another incarnation of the PID): fine.
    const side = await reg.claim({ id: 'exp-c', kind: 'move-pages', ...TARGET, ranges: r('20000', '30000') });
    const other = await reg.claim({
      id: 'exp-d',
      kind: 'move-pages',
      pid: 777,
      startTimeTicks: 56,
      ranges: r('10000', '20000'),
    });
    expect((await reg.active(777, 55)).map((c) => c.id).sort()).toEqual(['exp-a', 'exp-c']);
    await first.release();
    await side.release();
    await other.release();
    expect(readdirSync(dir)).toEqual([]);
    // Released: the range is free again.
    await (
      await reg.claim({ id: 'exp-e', kind: 'move-pages', ...TARGET, ranges: r('10000', '20000') })
    ).release();
  });

  it('a whole-process experiment conflicts with any range', async () => {
    const reg = new ExperimentRegistry(dir);
    const c = await reg.claim({ id: 'exp-a', kind: 'move-pages', ...TARGET, ranges: r('1000', '2000') });
    expect(
      (await refusal(reg.claim({ id: 'exp-b', kind: 'migrate-process', ...TARGET, ranges: null }))).code,
    ).toBe('busy');
    await c.release();
  });

  it('removes claims whose owner process is gone (a killed experiment)', async () => {
    // The PID of a process that has exited (and been reaped): its claim is stale.
    const childPid = spawnSync('true').pid;
    const ticks = 1;
    const stale: ClaimRecord = {
      id: 'exp-dead',
      kind: 'move-pages',
      ...TARGET,
      ranges: r('10000', '20000'),
      ownerPid: childPid,
      ownerStartTicks: ticks,
      claimedAtMs: Date.now() - 1000,
    };
    writeFileSync(path.join(dir, `777-55--${childPid}-exp-dead.json`), JSON.stringify(stale));
    const c = await reg().claim({
      id: 'exp-new',
      kind: 'move-pages',
      ...TARGET,
      ranges: r('10000', '20000'),
    });
    expect(readdirSync(dir)).toEqual([expect.stringContaining('exp-new')]);
    await c.release();
  });

  it('of two claims written at once, the later one withdraws', async () => {
    // Simulate a race: another live owner (this process, another experiment) wrote an overlapping claim
    // that is earlier by time, but our first check did not see it yet (it appears between check and write).
    const reg = new ExperimentRegistry(dir);
    const self = await readProcStat(process.pid);
    const earlier: ClaimRecord = {
      id: 'exp-early',
      kind: 'move-pages',
      ...TARGET,
      ranges: r('10000', '20000'),
      ownerPid: process.pid,
      ownerStartTicks: self.startTimeTicks,
      claimedAtMs: Date.now() - 5,
    };
    const racing = Object.create(reg) as ExperimentRegistry;
    let calls = 0;
    racing.active = async (pid, ticks) => {
      if (calls++ === 1)
        writeFileSync(path.join(dir, `777-55--${process.pid}-exp-early.json`), JSON.stringify(earlier));
      return ExperimentRegistry.prototype.active.call(reg, pid, ticks);
    };
    const err = await refusal(
      racing.claim({ id: 'exp-late', kind: 'move-pages', ...TARGET, ranges: r('18000', '19000') }),
    );
    expect(err.message).toMatch(/exp-early/);
    expect(readdirSync(dir)).toEqual([expect.stringContaining('exp-early')]);
  });

  function reg(): ExperimentRegistry {
    return new ExperimentRegistry(dir);
  }
});
