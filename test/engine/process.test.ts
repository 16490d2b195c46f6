import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessInfo } from '../../electron/contract/process.js';
import { TierscopeError } from '../../electron/engine/errors.js';
import {
  assertSameProcess,
  CLK_TCK,
  formatCmdline,
  listProcesses,
  parseBootTime,
  parsePasswd,
  parseProcStat,
  parseProcStatus,
  readProcStat,
  readProcess,
} from '../../electron/engine/procfs/process.js';
import { rejection, thrown } from '../helpers/errors.js';

const fixtureRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/proc-process');
const fx = { procRoot: path.join(fixtureRoot, 'proc'), etcRoot: path.join(fixtureRoot, 'etc') };

/** A stat line as the kernel prints it, with the given comm and the fields Tierscope reads. */
function statLine(pid: number, comm: string, state: string, flags: number, startTicks: number): string {
  const after = [
    state,
    '1',
    '1',
    '1',
    '0',
    '-1',
    String(flags),
    ...Array<string>(12).fill('0'),
    String(startTicks),
  ];
  return `${pid} (${comm}) ${after.join(' ')} 2990080 387 18446744073709551615 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n`;
}

describe('parseProcStat', () => {
  it('reads a comm with spaces and parentheses by splitting at the last ")"', async () => {
    const text = await readFile(path.join(fx.procRoot, '9103/stat'), 'utf8');
    expect(parseProcStat(text)).toEqual({
      pid: 9103,
      comm: ') Z 9 9 9 9 (x',
      state: 'S',
      ppid: 9098,
      flags: 4194304,
      startTimeTicks: 33278,
    });
  });

  it('reads the kernel-thread flag of kthreadd', async () => {
    const stat = parseProcStat(await readFile(path.join(fx.procRoot, '2/stat'), 'utf8'));
    expect(stat.comm).toBe('kthreadd');
    expect(stat.flags & 0x0020_0000).not.toBe(0);
    expect(stat.startTimeTicks).toBe(26);
  });

  it.each([
    ['', /no "\(comm\)"/],
    ['garbage', /no "\(comm\)"/],
    ['12 (x)', /state \(field 3\)/],
    ['12 (x) S 1', /flags \(field 9\) is missing/],
    ['abc (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5', /pid \(field 1\)/],
    ['12 (x) ? 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5', /expected one letter/],
    ['12 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -5', /start time \(field 22\)/],
    ['12 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99999999999999999999', /out of range/],
    [') 12 (x S', /no "\(comm\)"/],
  ])('rejects %j with a parse error', (text, message) => {
    const err = thrown(() => parseProcStat(text, '/proc/12/stat'));
    expect(err.code).toBe('parse');
    expect(err.message).toContain('/proc/12/stat');
    expect(err.message).toMatch(message);
  });

  it('property: never throws anything but TierscopeError', () => {
    const statish = fc
      .tuple(
        fc.string({ maxLength: 20 }),
        fc.array(fc.constantFrom('1', '-1', 'S', ')', '(', ' ', 'x', '99'), { maxLength: 30 }),
      )
      .map(([comm, rest]) => `1 (${comm}) ${rest.join(' ')}`);
    fc.assert(
      fc.property(fc.oneof(fc.string(), statish), (text) => {
        try {
          parseProcStat(text);
        } catch (err) {
          expect(err).toBeInstanceOf(TierscopeError);
        }
      }),
    );
  });

  it('property: any comm the kernel allows (≤ 15 bytes, no NUL) comes back intact with the right fields', () => {
    const comm = fc.string({ maxLength: 15, unit: 'binary-ascii' }).filter((s) => !s.includes('\0'));
    fc.assert(
      fc.property(
        comm,
        fc.integer({ min: 1, max: 4_194_304 }),
        fc.constantFrom('R', 'S', 'D', 'Z', 'I'),
        fc.nat(),
        fc.nat(),
        (c, pid, state, flags, ticks) => {
          expect(parseProcStat(statLine(pid, c, state, flags, ticks))).toEqual({
            pid,
            comm: c,
            state,
            ppid: 1,
            flags,
            startTimeTicks: ticks,
          });
        },
      ),
    );
  });
});

describe('small parsers', () => {
  it('reads uids and VmRSS from status, VmRSS absent for kernel threads', async () => {
    const status = await readFile(path.join(fx.procRoot, '9102/status'), 'utf8');
    expect(parseProcStatus(status)).toEqual({ uid: 0, euid: 0, vmRssBytes: 1776 * 1024 });
    const kthread = await readFile(path.join(fx.procRoot, '2/status'), 'utf8');
    expect(parseProcStatus(kthread).vmRssBytes).toBeNull();
    expect(parseProcStatus('Uid:\t1000\t0\t0\t0\n')).toEqual({ uid: 1000, euid: 0, vmRssBytes: null });
  });

  it('rejects a status without a usable Uid or VmRSS line', () => {
    expect(thrown(() => parseProcStatus('Name:\tx\n', '/proc/5/status')).message).toMatch(
      /\/proc\/5\/status: no Uid/,
    );
    expect(thrown(() => parseProcStatus('Uid:\t1 2\n')).message).toMatch(/4 ids/);
    expect(thrown(() => parseProcStatus('Uid:\t1\t1\t1\tx\n')).code).toBe('parse');
    expect(thrown(() => parseProcStatus('Uid:\t1\t1\t1\t1\nVmRSS:\tlots\n')).message).toMatch(/VmRSS/);
  });

  it('finds btime', () => {
    expect(parseBootTime('cpu 1 2 3\nbtime 1795308152\nprocesses 9\n')).toBe(1795308152);
    expect(thrown(() => parseBootTime('cpu 1 2 3\n', '/proc/stat')).message).toMatch(/\/proc\/stat.*btime/);
  });

  it('maps uids to the first passwd name and skips junk', () => {
    const names = parsePasswd(
      'root:x:0:0::/root:/bin/sh\n# c:x:5:5\nbad\ntoor:x:0:0::/:/bin/sh\nbob:x:1001:1001::/:/bin/sh\nx:x:y:1::/:/\n',
    );
    expect([...names]).toEqual([
      [0, 'root'],
      [1001, 'bob'],
    ]);
  });

  it('joins argv with spaces, ignoring setproctitle NUL padding', () => {
    expect(formatCmdline(Buffer.from('sleep\x0030\x00'))).toBe('sleep 30');
    expect(formatCmdline(Buffer.from('nginx: worker process\x00\x00\x00'))).toBe('nginx: worker process');
    expect(formatCmdline(Buffer.alloc(0))).toBe('');
  });
});

describe('readProcess on the fixture', () => {
  it('reads a normal process exactly', async () => {
    const info = await readProcess(9102, fx);
    expect(ProcessInfo.parse(info)).toEqual(info);
    expect(info).toEqual({
      pid: 9102,
      comm: 'sleep',
      cmdline: 'sleep 1000.5',
      uid: 0,
      user: 'root',
      rssBytes: 1776 * 1024,
      startTimeTicks: 33278,
      // btime 1795308152 s + 33278 ticks / 100
      startTime: '2026-11-22T00:48:04.780Z',
      hasUserMemory: true,
    });
  });

  it('reads the process with a hostile comm, falling back to the uid when passwd has no name', async () => {
    const info = await readProcess(9103, fx);
    expect(info.comm).toBe(') Z 9 9 9 9 (x');
    expect(info.cmdline).toBe(
      "/root/.pyenv/versions/3.11.7/bin/python3 -c import ctypes,time; ctypes.CDLL(None).prctl(15, b') Z 9 9 9 9 (x', 0, 0, 0); time.sleep(1000)",
    );
    expect(info.uid).toBe(4242);
    expect(info.user).toBe('4242');
    expect(info.rssBytes).toBe(13812 * 1024);
    expect(info.hasUserMemory).toBe(true);
  });

  it('reads kthreadd as a kernel thread without user memory', async () => {
    expect(await readProcess(2, fx)).toEqual({
      pid: 2,
      comm: 'kthreadd',
      cmdline: '',
      uid: 0,
      user: 'root',
      rssBytes: 0,
      startTimeTicks: 26,
      startTime: '2026-11-22T00:42:32.260Z',
      hasUserMemory: false,
    });
  });

  it('lists every fixture process', async () => {
    expect((await listProcesses(fx)).map((p) => [p.pid, p.comm])).toEqual([
      [2, 'kthreadd'],
      [9102, 'sleep'],
      [9103, ') Z 9 9 9 9 (x'],
    ]);
  });

  it('reports a PID that is not there as process-gone', async () => {
    const err = await rejection(readProcess(777, fx));
    expect(err.code).toBe('process-gone');
    expect(err.message).toMatch(/^process 777 does not exist/);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects pid %d as an invalid argument', async (pid) => {
    expect((await rejection(readProcess(pid, fx))).code).toBe('invalid-argument');
  });

  it('detects PID reuse by start time', async () => {
    await expect(assertSameProcess(9102, 33278, fx)).resolves.toBeUndefined();
    const err = await rejection(assertSameProcess(9102, 33000, fx));
    expect(err.code).toBe('process-gone');
    expect(err.message).toMatch(/^process 9102 was replaced: PID reused/);
    expect((await rejection(assertSameProcess(777, 1, fx))).message).toMatch(/^process 777 does not exist/);
  });

  describe('with a damaged copy', () => {
    let tmp = '';
    afterEach(async () => {
      if (tmp) await rm(tmp, { recursive: true, force: true });
      tmp = '';
    });

    it('skips a process that vanished mid-read but still lists the others', async () => {
      tmp = await mkdtemp(path.join(os.tmpdir(), 'tierscope-proc-'));
      await cp(fixtureRoot, tmp, { recursive: true });
      await mkdir(path.join(tmp, 'proc/5555')); // directory listed, files already gone
      const list = await listProcesses({ procRoot: path.join(tmp, 'proc'), etcRoot: path.join(tmp, 'etc') });
      expect(list.map((p) => p.pid)).toEqual([2, 9102, 9103]);
    });

    it('uses uids as names when there is no passwd at all', async () => {
      tmp = await mkdtemp(path.join(os.tmpdir(), 'tierscope-proc-'));
      expect((await readProcess(9102, { procRoot: fx.procRoot, etcRoot: tmp })).user).toBe('0');
    });
  });
});

describe('readProcess on this machine', () => {
  let child: ChildProcess | null = null;
  afterEach(() => {
    if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = null;
  });

  /** Spawns `sleep 30` and waits until exec has replaced the forked node image (comm becomes "sleep"). */
  async function spawnSleep(): Promise<{ proc: ChildProcess; pid: number; spawnedMs: number }> {
    const spawnedMs = Date.now();
    const proc = spawn('sleep', ['30'], { stdio: 'ignore' });
    child = proc;
    await once(proc, 'spawn');
    const pid = proc.pid;
    if (pid === undefined) throw new Error('spawn gave no pid');
    while ((await readProcStat(pid)).comm !== 'sleep') await new Promise((r) => setTimeout(r, 5));
    return { proc, pid, spawnedMs };
  }

  it('reads a child we spawned, then reports it gone once it exits', async () => {
    const { proc, pid, spawnedMs } = await spawnSleep();
    const info = ProcessInfo.parse(await readProcess(pid));
    expect(info.pid).toBe(pid);
    expect(info.comm).toBe('sleep');
    expect(info.cmdline).toBe('sleep 30');
    expect(info.uid).toBe(process.getuid?.());
    expect(info.user).toBe(os.userInfo().username);
    expect(info.hasUserMemory).toBe(true);
    expect(info.rssBytes).toBeGreaterThan(0);
    // Boot time has 1 s resolution and ticks 10 ms: the derived start is within a few seconds of spawn.
    expect(Math.abs(Date.parse(info.startTime) - spawnedMs)).toBeLessThan(5_000);
    await expect(assertSameProcess(pid, info.startTimeTicks)).resolves.toBeUndefined();
    expect((await rejection(assertSameProcess(pid, info.startTimeTicks + CLK_TCK))).message).toMatch(
      new RegExp(`^process ${pid} was replaced: PID reused`),
    );

    proc.kill('SIGKILL');
    await once(proc, 'exit'); // node has reaped it: /proc/PID is gone
    const err = await rejection(readProcess(pid));
    expect(err.code).toBe('process-gone');
    expect(err.message).toMatch(new RegExp(`^process ${pid} does not exist`));
    expect((await rejection(assertSameProcess(pid, info.startTimeTicks))).code).toBe('process-gone');
  });

  it('reads this test process', async () => {
    const info = ProcessInfo.parse(await readProcess(process.pid));
    expect(info.pid).toBe(process.pid);
    expect(info.uid).toBe(process.getuid?.());
    expect(info.cmdline.startsWith(process.argv0)).toBe(true);
    expect(info.hasUserMemory).toBe(true);
    expect(info.rssBytes).toBeGreaterThan(0);
    expect(Date.parse(info.startTime)).toBeLessThanOrEqual(Date.now() + 1_000);
  });

  it('sees pid 2 (kthreadd) as a kernel thread without user memory', async () => {
    const info = await readProcess(2);
    expect(info.hasUserMemory).toBe(false);
    expect(info.cmdline).toBe('');
    expect(info.rssBytes).toBe(0);
  });

  it('lists processes including ours and a spawned child', async () => {
    const { pid } = await spawnSleep();
    const list = await listProcesses();
    const pids = list.map((p) => p.pid);
    expect(pids).toContain(process.pid);
    expect(pids).toContain(pid);
    expect(pids).toEqual([...pids].sort((a, b) => a - b));
    for (const p of list) ProcessInfo.parse(p);
  });
});
