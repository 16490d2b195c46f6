// The DAMON source against the simulated DAMON sysfs (fakeDamonKernel.ts; the host's real DAMON belongs
// to the host and is never written), and DAMON's availability in probeCapabilities over a constructed
// sysfs: Tierscope's own crash leftovers do not block it, anything else does. The real kernel is covered
// in the lab (test/lab/suite/recordDamon.lab.test.ts).
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Capabilities } from '../../../electron/contract/caps.js';
import {
  DAMON_LIMITS,
  DamonSource,
  initialRanges,
  regionsToAccesses,
} from '../../../electron/engine/access/damonSource.js';
import { DamonInUseError, type DamonOwnershipRecord } from '../../../electron/engine/access/damonSysfs.js';
import { HotnessModel, hotColdRanges } from '../../../electron/engine/access/hotness.js';
import type { ScanVma } from '../../../electron/engine/access/source.js';
import { probeCapabilities } from '../../../electron/engine/caps.js';
import { TierscopeError } from '../../../electron/engine/errors.js';
import { FakeDamonKernel } from './fakeDamonKernel.js';

const MiB = 1n << 20n;
const BASE = 0x7f00_0000_0000n;
const TARGET = process.pid; // alive in /proc, which the client checks when DAMON stops by itself
const GONE_PID = 2_147_483_001;

const v = (id: number, startMiB: number, endMiB: number): ScanVma => ({
  id,
  start: BASE + BigInt(startMiB) * MiB,
  end: BASE + BigInt(endMiB) * MiB,
});
const range = (startMiB: number, endMiB: number) => ({
  start: BASE + BigInt(startMiB) * MiB,
  end: BASE + BigInt(endMiB) * MiB,
});

async function rejection(p: Promise<unknown>): Promise<TierscopeError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(TierscopeError);
    return err as TierscopeError;
  }
  throw new Error('expected a rejection');
}

describe('initialRanges', () => {
  it('merges touching and overlapping VMAs, in address order', () => {
    expect(initialRanges([v(3, 10, 12), v(1, 0, 4), v(2, 4, 6), v(4, 11, 16)], 10)).toEqual([
      range(0, 6),
      range(10, 16),
    ]);
    expect(initialRanges([], 4)).toEqual([]);
  });

  it('closes the smallest gaps first until at most the cap remains', () => {
    // Gaps: 1 MiB (2-3), 10 MiB (4-14), 2 MiB (15-17), 100 MiB (18-118).
    const vmas = [v(1, 0, 2), v(2, 3, 4), v(3, 14, 15), v(4, 17, 18), v(5, 118, 120)];
    expect(initialRanges(vmas, 5)).toHaveLength(5);
    expect(initialRanges(vmas, 3)).toEqual([range(0, 4), range(14, 18), range(118, 120)]);
    expect(initialRanges(vmas, 2)).toEqual([range(0, 18), range(118, 120)]);
    expect(initialRanges(vmas, 1)).toEqual([range(0, 120)]);
    expect(() => initialRanges(vmas, 0)).toThrow(TierscopeError);
  });
});

describe('regionsToAccesses', () => {
  it('clips regions to each VMA and rates them nr_accesses / maximum', () => {
    const regions = [
      { ...range(0, 3), nrAccesses: 20, age: 1 },
      { ...range(3, 8), nrAccesses: 5, age: 1 },
      { ...range(8, 30), nrAccesses: 0, age: 9 },
      { ...range(30, 31), nrAccesses: 25, age: 0 }, // above the maximum: capped
    ];
    const accesses = regionsToAccesses([v(1, 2, 4), v(2, 6, 10), v(3, 50, 60), v(4, 30, 31)], regions, 20);
    expect(accesses).toEqual([
      {
        granularity: 'region',
        vmaId: 1,
        regions: [
          { ...range(2, 3), accessRatio: 1 },
          { ...range(3, 4), accessRatio: 0.25 },
        ],
      },
      {
        granularity: 'region',
        vmaId: 2,
        regions: [
          { ...range(6, 8), accessRatio: 0.25 },
          { ...range(8, 10), accessRatio: 0 },
        ],
      },
      { granularity: 'region', vmaId: 4, regions: [{ ...range(30, 31), accessRatio: 1 }] },
    ]);
    expect(() => regionsToAccesses([], [], 0)).toThrow(/maxNrAccesses/);
  });
});

describe('DamonSource on a simulated DAMON', () => {
  let tmp: string;
  let kernel: FakeDamonKernel;
  let stateDir: string;

  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'tierscope-damon-source-'));
    const sysRoot = path.join(tmp, 'sys');
    kernel = await new FakeDamonKernel(sysRoot).init();
    kernel.alivePids.add(TARGET);
    stateDir = path.join(tmp, 'run');
  });
  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  const make = (pid = TARGET, intervalMs = 1000) =>
    new DamonSource(pid, { intervalMs, sysRoot: kernel.sysRoot, stateDir, io: kernel });

  it('monitors the VMAs with aggregation = interval and 20 samples, and reports clipped regions', async () => {
    const s = make(TARGET, 500);
    expect([s.aggrUs, s.sampleUs]).toEqual([500_000, 25_000]);
    const vmas = [v(1, 0, 64), v(2, 64, 66), v(3, 200, 201)];
    await s.start(vmas);
    const c = '0/contexts/0';
    expect(await kernel.value(`${c}/monitoring_attrs/intervals/aggr_us`)).toBe('500000');
    expect(await kernel.value(`${c}/monitoring_attrs/intervals/sample_us`)).toBe('25000');
    expect(await kernel.value(`${c}/monitoring_attrs/nr_regions/min`)).toBe('10');
    expect(await kernel.value(`${c}/monitoring_attrs/nr_regions/max`)).toBe('1000');
    expect(await kernel.value(`${c}/targets/0/regions/nr_regions`)).toBe('2');
    expect(await kernel.value(`${c}/targets/0/regions/0/end`)).toBe((BASE + 66n * MiB).toString());
    expect(s.ranges).toEqual([range(0, 66), range(200, 201)]);

    kernel.regions = [
      { ...range(0, 16), nrAccesses: 20, age: 3 },
      { ...range(16, 66), nrAccesses: 0, age: 3 },
      { ...range(200, 201), nrAccesses: 2, age: 3 },
    ];
    // A VMA mapped after start (4) lies outside every monitored range: no record, i.e. unknown.
    const scanned = [...vmas, v(4, 300, 310)];
    const result = await s.scan(scanned);
    expect(result.pagesScanned).toBe(3 * 20);
    expect(result.accesses.map((a) => a.vmaId)).toEqual([1, 2, 3]);
    expect(result.accesses[0]).toEqual({
      granularity: 'region',
      vmaId: 1,
      regions: [
        { ...range(0, 16), accessRatio: 1 },
        { ...range(16, 64), accessRatio: 0 },
      ],
    });

    await s.stop();
    await s.stop();
    expect(await kernel.nrKdamonds()).toBe(0);
    expect(existsSync(path.join(stateDir, 'damon.json'))).toBe(false);
    expect((await rejection(s.scan(vmas))).message).toMatch(/scan\(\) before start\(\)/);
  });

  it('feeds the hotness model: a region accessed in every aggregation is hot, one never accessed cold', async () => {
    const s = make();
    const vmas = [v(1, 0, 64)];
    await s.start(vmas);
    kernel.regions = [
      { ...range(0, 16), nrAccesses: 20, age: 3 },
      { ...range(16, 20), nrAccesses: 1, age: 3 }, // rarely, but accessed: counts (threshold 0)
      { ...range(20, 64), nrAccesses: 0, age: 3 },
    ];
    const model = new HotnessModel({ scansPerWindow: 3, heatBucketsPerVma: 8, pageSizeBytes: 4096 });
    for (let i = 0; i < 3; i++) model.update(vmas, (await s.scan(vmas)).accesses);
    const hex = (x: bigint) => x.toString(16);
    expect(hotColdRanges(model.countRuns(1), 3)).toEqual({
      hot: [{ start: hex(BASE), end: hex(BASE + 20n * MiB) }],
      cold: [{ start: hex(BASE + 20n * MiB), end: hex(BASE + 64n * MiB) }],
    });
    await s.stop();
  });

  it('refuses a DAMON someone else uses and names the tool, without writing', async () => {
    await kernel.addForeignKdamond(1, true);
    const err = await rejection(make().start([v(1, 0, 4)]));
    expect(err).toBeInstanceOf(DamonInUseError);
    expect(err.code).toBe('busy');
    expect(kernel.writes).toEqual([]);
  });

  it('reports the target exiting as process-gone, and still removes its kdamond', async () => {
    kernel.alivePids.add(GONE_PID);
    const s = make(GONE_PID);
    await s.start([v(1, 0, 4)]);
    await kernel.stopByItself(0);
    const err = await rejection(s.scan([v(1, 0, 4)]));
    expect(err.code).toBe('process-gone');
    await s.stop();
    expect(await kernel.nrKdamonds()).toBe(0);
  });

  it('rejects an interval DAMON cannot aggregate and a process with nothing resident', async () => {
    expect(() => new DamonSource(TARGET, { intervalMs: 5 })).toThrow(/too short/);
    expect(() => new DamonSource(-1, { intervalMs: 1000 })).toThrow(/not a process id/);
    expect((await rejection(make().start([]))).code).toBe('process-gone');
    expect(kernel.writes).toEqual([]);
    expect(DAMON_LIMITS).toMatch(/never faulted/);
  });
});

// --- availability in probeCapabilities -------------------------------------------------------------

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/sysfs');

describe('DAMON availability (probeCapabilities on a constructed sysfs, as root)', () => {
  let tmp: string;
  let sysRoot: string;
  let procRoot: string;
  let damonStateDir: string;
  let kernel: FakeDamonKernel;

  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'tierscope-damon-caps-'));
    await cp(path.join(fixtures, 'three-node'), tmp, { recursive: true });
    sysRoot = path.join(tmp, 'sys');
    procRoot = path.join(tmp, 'proc');
    damonStateDir = path.join(tmp, 'run');
    // Root-like credentials: CAP_DAC_OVERRIDE (DAMON's files are root-only) and CAP_SYS_ADMIN.
    const status = path.join(procRoot, 'self/status');
    await writeFile(
      status,
      (await readFile(status, 'utf8')).replace(/^CapEff:.*$/m, 'CapEff:\t0000000000a00002'),
    );
    kernel = await new FakeDamonKernel(sysRoot).init();
  });
  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  const damon = async () => {
    const caps = Capabilities.parse(await probeCapabilities({ sysRoot, procRoot, damonStateDir }));
    const s = caps.sources.find((x) => x.id === 'damon');
    if (!s) throw new Error('no damon source');
    return { caps, s };
  };

  /** An ownership record for kdamond 0, written by a Tierscope process `ownerPid`. */
  async function record(ownerPid: number, targetPid: number): Promise<void> {
    const r: DamonOwnershipRecord = {
      version: 1,
      bootId: null, // the constructed /proc has no boot_id either
      kdamondIndex: 0,
      targetPid,
      ownerPid,
      ownerStartTimeTicks: 1234,
      kdamondPid: 4242,
      createdAt: '2026-01-01T00:00:00.000Z',
    };
    await mkdir(damonStateDir, { recursive: true });
    await writeFile(path.join(damonStateDir, 'damon.json'), JSON.stringify(r));
  }

  it('is available with no kdamond', async () => {
    const { s } = await damon();
    expect(s).toMatchObject({
      available: true,
      reason: expect.stringMatching(/^no kdamond exists/) as string,
    });
  });

  it("is available over a crashed Tierscope's leftover kdamond, which recording will remove", async () => {
    await kernel.addForeignKdamond(777, true); // kdamond pid 4242, target 777: what the record says
    await record(999_999, 777); // owner 999999 is not in this /proc: it is gone
    const { caps, s } = await damon();
    expect(caps.damon).toEqual({ kdamonds: 1, kdamondsRunning: 1 });
    expect(s.available).toBe(true);
    expect(s.reason).toMatch(/1 kdamond\(s\) .* left by a Tierscope process that ended without cleaning up/);
    expect(kernel.writes).toEqual([]); // judged, not touched
  });

  it('is unavailable while another live Tierscope owns the kdamond', async () => {
    await kernel.addForeignKdamond(777, true);
    await record(31337, 777);
    // The owner is alive with the recorded start time (field 22 of its stat).
    const fields = Array.from({ length: 50 }, () => '0');
    fields[18] = '1234'; // field 22, counting from field 4 (ppid)
    await mkdir(path.join(procRoot, '31337'), { recursive: true });
    await writeFile(path.join(procRoot, '31337/stat'), `31337 (node) S ${fields.join(' ')}\n`);
    const { s } = await damon();
    expect(s.available).toBe(false);
    expect(s.reason).toMatch(/another Tierscope process \(pid 31337\) is using DAMON/);
  });

  it("is unavailable when the kdamond is someone else's (no record, or a record that does not match it)", async () => {
    await kernel.addForeignKdamond(777, true);
    let { s } = await damon();
    expect(s.available).toBe(false);
    expect(s.reason).toMatch(/already exist .* \(1 running\) and belong to someone else/);
    await record(999_999, 778); // a stale record for another target: not this kdamond
    ({ s } = await damon());
    expect(s.available).toBe(false);
    expect(s.reason).toMatch(/belong to someone else/);
    expect(kernel.writes).toEqual([]);
  });
});
