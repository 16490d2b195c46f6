// The DAMON sysfs client against a simulated kernel in a temp dir (fakeDamonKernel.ts). The host's real
// /sys/kernel/mm/damon holds the host's own kdamond: nothing here may write there, and the fake throws if
// the client touches any path outside its temp tree. Ownership records go to a temp state dir.
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DamonInUseError,
  inspectDamon,
  removeDamonLeftovers,
  startDamonVaddr,
  type DamonOwnershipRecord,
  type DamonSysfsOptions,
} from '../../../electron/engine/access/damonSysfs.js';
import { readProcStat } from '../../../electron/engine/procfs/process.js';
import { TierscopeError } from '../../../electron/engine/errors.js';
import { FakeDamonKernel } from './fakeDamonKernel.js';

const TARGET = process.pid; // any live pid works for the fake; this one surely exists in /proc
const GONE_PID = 2_147_483_000; // above any pid_max: no such process
const MiB = 1n << 20n;
const BASE = 0x7f00_0000_0000n;

let tmp: string;
let kernel: FakeDamonKernel;
let options: DamonSysfsOptions;
let recordFile: string;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'tierscope-damon-'));
  const sysRoot = path.join(tmp, 'sys');
  expect(sysRoot.startsWith('/sys')).toBe(false);
  kernel = await new FakeDamonKernel(sysRoot).init();
  kernel.alivePids.add(TARGET);
  options = { sysRoot, stateDir: path.join(tmp, 'run'), io: kernel, busyRetryMs: 1 };
  recordFile = path.join(tmp, 'run/damon.json');
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function inUse(p: Promise<unknown>): Promise<DamonInUseError> {
  const err = await rejection(p);
  if (!(err instanceof DamonInUseError)) throw new Error(`expected a DamonInUseError, got ${err.message}`);
  return err;
}

async function rejection(p: Promise<unknown>): Promise<TierscopeError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(TierscopeError);
    return err as TierscopeError;
  }
  throw new Error('expected a rejection');
}

const config = {
  pid: TARGET,
  regions: [
    { start: BASE, end: BASE + 64n * MiB },
    { start: BASE + 128n * MiB, end: BASE + 130n * MiB },
  ],
  sampleUs: 10_000,
  aggrUs: 200_000,
};

async function staleRecord(overrides: Partial<DamonOwnershipRecord>): Promise<void> {
  const own = await readProcStat(process.pid);
  const record: DamonOwnershipRecord = {
    version: 1,
    bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
    kdamondIndex: 0,
    targetPid: TARGET,
    ownerPid: process.pid,
    // Our own pid but another start time: the Tierscope that wrote it is gone (pid reused).
    ownerStartTimeTicks: own.startTimeTicks + 1,
    kdamondPid: 4242,
    createdAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
  await mkdir(path.dirname(recordFile), { recursive: true });
  await writeFile(recordFile, JSON.stringify(record));
}

describe('startDamonVaddr on an empty DAMON', () => {
  it('builds one vaddr kdamond with explicit regions and a match-all stat scheme, then removes it', async () => {
    const session = await startDamonVaddr(config, options);
    expect(session.kdamondIndex).toBe(0);
    expect(session.kdamondPid).toBe(4242);
    expect(session.maxNrAccesses).toBe(20);

    const c = '0/contexts/0';
    expect(await kernel.value('nr_kdamonds')).toBe('1');
    expect(await kernel.value('0/state')).toBe('on');
    expect(await kernel.value(`${c}/operations`)).toBe('vaddr');
    expect(await kernel.value(`${c}/monitoring_attrs/intervals/sample_us`)).toBe('10000');
    expect(await kernel.value(`${c}/monitoring_attrs/intervals/aggr_us`)).toBe('200000');
    // Explicit regions survive: the vaddr update that would replace them is pushed out of reach.
    expect(await kernel.value(`${c}/monitoring_attrs/intervals/update_us`)).toBe('1000000000000');
    expect(await kernel.value(`${c}/monitoring_attrs/nr_regions/min`)).toBe('10');
    expect(await kernel.value(`${c}/monitoring_attrs/nr_regions/max`)).toBe('1000');
    expect(await kernel.value(`${c}/targets/0/pid_target`)).toBe(String(TARGET));
    expect(await kernel.value(`${c}/targets/0/regions/nr_regions`)).toBe('2');
    expect(await kernel.value(`${c}/targets/0/regions/0/start`)).toBe(BASE.toString());
    expect(await kernel.value(`${c}/targets/0/regions/1/end`)).toBe((BASE + 130n * MiB).toString());
    expect(await kernel.value(`${c}/schemes/0/action`)).toBe('stat');
    expect(await kernel.value(`${c}/schemes/0/access_pattern/sz/max`)).toBe('18446744073709551615');
    expect(await kernel.value(`${c}/schemes/0/access_pattern/nr_accesses/max`)).toBe('4294967295');
    expect(await kernel.value(`${c}/schemes/0/access_pattern/age/max`)).toBe('4294967295');
    // "on" is the last write: everything was configured before the kdamond started.
    expect(kernel.writes.at(-1)).toBe('0/state=on');

    const record = JSON.parse(await readFile(recordFile, 'utf8')) as DamonOwnershipRecord;
    expect(record).toMatchObject({
      kdamondIndex: 0,
      targetPid: TARGET,
      ownerPid: process.pid,
      kdamondPid: 4242,
    });
    expect(record.ownerStartTimeTicks).toBe((await readProcStat(process.pid)).startTimeTicks);

    kernel.regions = [
      { start: BASE, end: BASE + 16n * MiB, nrAccesses: 20, age: 7 },
      { start: BASE + 16n * MiB, end: BASE + 64n * MiB, nrAccesses: 0, age: 30 },
      { start: BASE + 128n * MiB, end: BASE + 130n * MiB, nrAccesses: 3, age: 1 },
    ];
    // The fake applies the scheme's access pattern: with the sysfs default maxima (0) only idle regions
    // of size 0 would match — i.e. nothing. All three coming back proves the maxima were set.
    expect(await session.readRegions()).toEqual(kernel.regions);
    expect(kernel.writes.at(-1)).toBe('0/state=update_schemes_tried_regions');

    expect(await session.stop()).toEqual({ removed: true, note: null });
    expect(kernel.writes.slice(-2)).toEqual(['0/state=off', 'nr_kdamonds=0']);
    expect(await kernel.nrKdamonds()).toBe(0);
    expect(existsSync(recordFile)).toBe(false);
    expect(await session.stop()).toEqual({ removed: false, note: 'already stopped' });
    expect((await rejection(session.readRegions())).message).toMatch(/stopped/);
  });

  it('retries writes the kernel answers with EBUSY (its sysfs lock is a trylock)', async () => {
    kernel.failBusy('nr_kdamonds', 3);
    kernel.failBusy('0/state', 2);
    const session = await startDamonVaddr(config, options);
    expect(await kernel.value('0/state')).toBe('on');
    await session.stop();
    expect(await kernel.nrKdamonds()).toBe(0);
  });

  it('cleans up after the kernel refuses to start (target gone)', async () => {
    const err = await rejection(startDamonVaddr({ ...config, pid: GONE_PID }, options));
    expect(err.code).toBe('process-gone');
    expect(err.message).toMatch(new RegExp(`process ${GONE_PID} does not exist`));
    expect(await kernel.nrKdamonds()).toBe(0);
    expect(existsSync(recordFile)).toBe(false);
  });

  it('reports a target that exited while monitored', async () => {
    const pid = GONE_PID + 1;
    kernel.alivePids.add(pid); // alive for DAMON at "on", gone from /proc by the time we look
    const session = await startDamonVaddr({ ...config, pid }, options);
    await kernel.stopByItself(0);
    const err = await rejection(session.readRegions());
    expect(err.code).toBe('process-gone');
    expect(err.message).toMatch(/exited, and DAMON stopped monitoring it/);
    expect(await session.stop()).toEqual({ removed: true, note: null });
    expect(kernel.writes.at(-1)).toBe('nr_kdamonds=0'); // no "off" for a kdamond already off
  });

  it('rejects bad configurations before touching anything', async () => {
    const cases: [Parameters<typeof startDamonVaddr>[0], RegExp][] = [
      [{ ...config, pid: 0 }, /not a process id/],
      [{ ...config, regions: [] }, /no regions/],
      [{ ...config, regions: [{ start: BASE, end: BASE }] }, /is empty/],
      [{ ...config, regions: [...config.regions].reverse() }, /out of order/],
      [{ ...config, sampleUs: 300_000 }, /aggrUs 200000 is shorter than sampleUs 300000/],
      [{ ...config, minNrRegions: 2 }, /3 ≤ minNrRegions/],
      [{ ...config, maxNrRegions: 5 }, /3 ≤ minNrRegions ≤ maxNrRegions/],
    ];
    for (const [bad, message] of cases) {
      const err = await rejection(startDamonVaddr(bad, options));
      expect(err.code).toBe('invalid-argument');
      expect(err.message).toMatch(message);
    }
    expect(kernel.writes).toEqual([]);
  });
});

describe('kdamonds that are not ours', () => {
  it('refuses when a foreign kdamond runs, without writing anything', async () => {
    await kernel.addForeignKdamond(1, true);
    const err = await inUse(startDamonVaddr(config, options));
    expect(err.message).toMatch(/1 kdamond\(s\) exist .* \(1 running\) that Tierscope did not create.*damo/);
    expect(err.kdamonds).toEqual([
      { index: 0, state: 'on', pid: 4242, targetPid: 1, leftoverOfTierscope: false },
    ]);
    expect(kernel.writes).toEqual([]);
    expect(existsSync(recordFile)).toBe(false);
    expect(await kernel.value('0/state')).toBe('on');
  });

  it('refuses a stopped foreign kdamond too (rewriting nr_kdamonds would delete its setup)', async () => {
    await kernel.addForeignKdamond(TARGET, false);
    const found = await inspectDamon(options);
    expect(found.mayStart).toBe(false);
    expect(found.refusal).toMatch(/\(0 running\)/);
    await expect(startDamonVaddr(config, options)).rejects.toBeInstanceOf(DamonInUseError);
    await expect(removeDamonLeftovers(options)).rejects.toBeInstanceOf(DamonInUseError);
    expect(kernel.writes).toEqual([]);
  });

  it('refuses while another live Tierscope owns DAMON (here: this very process)', async () => {
    const session = await startDamonVaddr(config, options);
    const err = await rejection(startDamonVaddr(config, options));
    expect(err).toBeInstanceOf(DamonInUseError);
    expect(err.message).toMatch(/this Tierscope process already runs a DAMON session/);
    await session.stop();
  });

  it('leaves a kdamond alone at stop() if someone rewrote DAMON meanwhile', async () => {
    const session = await startDamonVaddr(config, options);
    await kernel.stopByItself(0);
    await kernel.addForeignKdamond(1, true); // nr_kdamonds now 2
    const writesBefore = kernel.writes.length;
    const result = await session.stop();
    expect(result.removed).toBe(false);
    expect(result.note).toMatch(/no longer the one Tierscope created \(nr_kdamonds 2\)/);
    expect(kernel.writes.length).toBe(writesBefore);
    expect(await kernel.value('1/state')).toBe('on');
    expect(existsSync(recordFile)).toBe(false);
  });
});

describe('leftovers of a crashed Tierscope', () => {
  async function leaveRunningKdamond(): Promise<void> {
    await kernel.addForeignKdamond(TARGET, true); // kdamond 0, thread 4242, target TARGET
  }

  it('takes back its own leftover: off first, then a fresh kdamond', async () => {
    await leaveRunningKdamond();
    await staleRecord({});
    const found = await inspectDamon(options);
    expect(found.mayStart).toBe(true);
    expect(found.ownerAlive).toBe(false);
    expect(found.kdamonds[0]?.leftoverOfTierscope).toBe(true);

    const session = await startDamonVaddr(config, options);
    expect(kernel.writes.slice(0, 2)).toEqual(['0/state=off', 'nr_kdamonds=1']);
    expect(session.kdamondPid).toBe(4243);
    const record = JSON.parse(await readFile(recordFile, 'utf8')) as DamonOwnershipRecord;
    expect(record.kdamondPid).toBe(4243);
    await session.stop();
  });

  it('removeDamonLeftovers stops and removes them and the record', async () => {
    await leaveRunningKdamond();
    await staleRecord({});
    expect(await removeDamonLeftovers(options)).toEqual({ removedKdamonds: 1 });
    expect(kernel.writes).toEqual(['0/state=off', 'nr_kdamonds=0']);
    expect(existsSync(recordFile)).toBe(false);
  });

  it('does not take back a kdamond that no longer matches the record', async () => {
    const mismatches: Partial<DamonOwnershipRecord>[] = [
      { targetPid: TARGET + 1 }, // someone re-targeted it
      { kdamondPid: 999 }, // a different thread: restarted by someone else
      { bootId: 'another-boot' }, // a record from before a reboot describes nothing that exists now
    ];
    await leaveRunningKdamond();
    for (const overrides of mismatches) {
      await staleRecord(overrides);
      const err = await inUse(startDamonVaddr(config, options));
      expect(err.kdamonds[0]?.leftoverOfTierscope).toBe(false);
    }
    expect(kernel.writes).toEqual([]);
  });

  it('drops a stale record when no kdamond exists', async () => {
    await staleRecord({});
    const session = await startDamonVaddr(config, options);
    expect(kernel.writes[0]).toBe('nr_kdamonds=1');
    await session.stop();
    expect(existsSync(recordFile)).toBe(false);
  });

  it('refuses when the record is unreadable and kdamonds exist', async () => {
    await leaveRunningKdamond();
    await mkdir(path.dirname(recordFile), { recursive: true });
    await writeFile(recordFile, '{ not json');
    const err = await rejection(startDamonVaddr(config, options));
    expect(err.message).toMatch(/damon\.json is unreadable/);
    expect(kernel.writes).toEqual([]);
  });
});
