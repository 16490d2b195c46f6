// Every protocol method, through the in-process transport pair and through a real `tierscope agent
// --stdio` child (the compiled CLI: `npm run build` first), checked against independent reads of /proc and
// /sys.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Response, Snapshot, Topology } from '../../electron/contract/index.js';
import { readProcStat } from '../../electron/engine/procfs/process.js';
import { startQuietChild, type Child } from '../helpers/children.js';
import { agentError, nextEvent, startHarness, type Harness, type HarnessKind } from './harness.js';

const QUIET_MIB = 24;
const PAGE = 4096;

/** A PID that is certainly not in use: a child that has exited and been reaped. */
async function deadPid(): Promise<number> {
  for (;;) {
    const proc = spawn('true');
    await once(proc, 'exit');
    const pid = proc.pid;
    if (pid !== undefined && !existsSync(`/proc/${pid}`)) return pid;
  }
}

/** Resident pages per node of a process, read from numa_maps here, independently of the engine. */
function numaMapsPages(pid: number): Record<string, number> {
  const pages: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/numa_maps`, 'utf8').trim().split('\n')) {
    for (const token of line.split(' ')) {
      const m = /^N(\d+)=(\d+)$/.exec(token);
      if (m?.[1] !== undefined && m[2] !== undefined) pages[m[1]] = (pages[m[1]] ?? 0) + Number(m[2]);
    }
  }
  return pages;
}

const sum = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

/**
 * The interpreter itself, not a version-manager shim on PATH (pyenv's is a script that execs it later):
 * launch's answer comes after the exec it did, and a second exec after that would race the attach.
 */
const realPython = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], {
  encoding: 'utf8',
}).trim();

const pythonSleeper =
  'a = bytearray(8 << 20)\nfor i in range(0, len(a), 4096): a[i] = 1\nimport time\ntime.sleep(600)\n';

describe.each<HarnessKind>(['in-process', 'stdio child'])('agent methods (%s)', (kind) => {
  let h: Harness;
  let quiet: Child;

  beforeAll(async () => {
    [h, quiet] = await Promise.all([startHarness(kind), startQuietChild(QUIET_MIB)]);
  });
  afterAll(async () => {
    await Promise.all([h.close(), quiet.kill()]);
    expect(h.dropped).toEqual([]);
  });

  it('hello: protocol version, identity and privilege of the agent', async () => {
    const hello = await h.client.call('hello', { protocolVersion: 1, client: 'test' });
    expect(hello.protocolVersion).toBe(1);
    expect(hello.hostname).toBe(hostname());
    expect(hello.uid).toBe(process.getuid?.());
    // CapEff bit 21 (CAP_SYS_ADMIN) of the agent = ours: the child inherits our credentials.
    const capEff = BigInt(
      `0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'}`,
    );
    expect(hello.privileged).toBe(((capEff >> 21n) & 1n) === 1n);
    if (kind === 'stdio child') {
      const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
      expect(hello.agentVersion).toBe(pkg.version);
    }
  });

  it('hello with another protocol version is refused with protocol-version', async () => {
    const err = await agentError(h.client.call('hello', { protocolVersion: 99, client: 'future-ui' }));
    expect(err.code).toBe('protocol-version');
    expect(err.message).toMatch(
      /future-ui speaks protocol 99, this agent .* 1: install the same tierscope version/,
    );
  });

  it('topology: the nodes sysfs lists', async () => {
    const topo = Topology.parse(await h.client.call('topology', {}));
    const online = readFileSync('/sys/devices/system/node/online', 'utf8').trim();
    const ids = online.split(',').flatMap((r) => {
      const [a, b] = r.split('-').map(Number);
      return Array.from({ length: (b ?? a ?? 0) - (a ?? 0) + 1 }, (_, i) => (a ?? 0) + i);
    });
    expect(topo.nodes.map((n) => n.id)).toEqual(ids);
    expect(topo.distances.length).toBe(topo.nodes.length);
    const memTotalKb = /Node 0 MemTotal:\s+(\d+) kB/.exec(
      readFileSync('/sys/devices/system/node/node0/meminfo', 'utf8'),
    )?.[1];
    expect(topo.nodes[0]?.memTotalBytes).toBe(Number(memTotalKb) * 1024);
  });

  it('capabilities: the running kernel, judged for a given process', async () => {
    const caps = await h.client.call('capabilities', { pid: quiet.pid });
    expect(caps.kernelRelease).toBe(readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
    expect(caps.sources.map((s) => s.id)).toEqual(['idle_pages', 'page_idle', 'damon', 'refs']);
    expect(caps.sources.find((s) => s.id === 'idle_pages')?.reason).toContain(
      `/proc/${quiet.pid}/idle_pages`,
    );
    const dead = await deadPid();
    const err = await agentError(h.client.call('capabilities', { pid: dead }));
    expect(err.code).toBe('process-gone');
  });

  it('listProcesses: includes the test workload with its identity', async () => {
    const list = await h.client.call('listProcesses', {});
    const row = list.find((p) => p.pid === quiet.pid);
    expect(row?.comm).toBe('python3');
    expect(row?.hasUserMemory).toBe(true);
    expect(row?.startTimeTicks).toBe((await readProcStat(quiet.pid)).startTimeTicks);
    expect(row?.rssBytes).toBeGreaterThan(QUIET_MIB << 20);
  });

  it('processNodes: per-node pages as numa_maps says; dead PIDs left out', async () => {
    const dead = await deadPid();
    const res = await h.client.call('processNodes', { pids: [quiet.pid, dead] });
    expect(res.pageSizeBytes).toBe(PAGE);
    expect(res.processes.map((p) => p.pid)).toEqual([quiet.pid]);
    const [row] = res.processes;
    // The sleeper is quiescent: its numa_maps does not change between the two reads.
    expect(row?.pagesByNode).toEqual(numaMapsPages(quiet.pid));
    expect(sum(row?.pagesByNode ?? {}) * PAGE).toBeGreaterThan(QUIET_MIB << 20);
    expect(row?.startTimeTicks).toBe((await readProcStat(quiet.pid)).startTimeTicks);
  });

  it('snapshot: per-VMA pages per node of a live process', async () => {
    const snap = Snapshot.parse(await h.client.call('snapshot', { pid: quiet.pid }));
    expect(snap.pid).toBe(quiet.pid);
    expect(snap.comm).toBe('python3');
    expect(snap.totals.pagesByNode).toEqual(numaMapsPages(quiet.pid));
  });

  it('snapshot of a dead PID: process-gone with a one-line message', async () => {
    const pid = await deadPid();
    const err = await agentError(h.client.call('snapshot', { pid }));
    expect(err.code).toBe('process-gone');
    expect(err.message).toBe(`process ${pid} does not exist`);
  });

  it('snapshot pinned to another start time: process-gone, the PID was reused', async () => {
    const { startTimeTicks } = await readProcStat(quiet.pid);
    const err = await agentError(
      h.client.call('snapshot', { pid: quiet.pid, startTimeTicks: startTimeTicks + 1 }),
    );
    expect(err.code).toBe('process-gone');
    expect(err.message).toMatch(new RegExp(`^process ${quiet.pid} was replaced: PID reused`));
    expect(err.message).not.toContain('\n');
  });

  it('attach: snapshot events until the process exits, then detached', async () => {
    const target = await startQuietChild(4);
    try {
      const sub = await h.client.call('attach', { pid: target.pid, intervalMs: 100 });
      expect(sub.pid).toBe(target.pid);
      expect(sub.startTimeTicks).toBe((await readProcStat(target.pid)).startTimeTicks);
      // Two events: the first (taken before the answer) and one from the timer.
      let events = 0;
      await nextEvent(h.client, 'snapshot', (d) => {
        if (d.subscription !== sub.subscription) return false;
        expect(d.snapshot.pid).toBe(target.pid);
        return ++events === 2;
      });
      const detached = nextEvent(h.client, 'detached', (d) => d.subscription === sub.subscription);
      await target.kill();
      const end = await detached;
      expect(end).toEqual({
        subscription: sub.subscription,
        code: 'process-gone',
        reason: `process ${target.pid} (python3) exited`,
      });
      // Gone from the connection too.
      expect((await agentError(h.client.call('detach', { subscription: sub.subscription }))).code).toBe(
        'not-found',
      );
    } finally {
      await target.kill();
    }
  });

  it('attach to a dead PID fails at once; detach stops a live subscription', async () => {
    const pid = await deadPid();
    expect((await agentError(h.client.call('attach', { pid, intervalMs: 100 }))).code).toBe('process-gone');
    const sub = await h.client.call('attach', { pid: quiet.pid, intervalMs: 60_000 });
    await expect(h.client.call('detach', { subscription: sub.subscription })).resolves.toEqual({});
    const again = await agentError(h.client.call('detach', { subscription: sub.subscription }));
    expect(again.code).toBe('not-found');
  });

  it('launch: starts argv without a shell and returns its identity; attachable', async () => {
    // A shell would expand `$HOME` and `;`: without one, python receives them literally as argv[1..].
    const res = await h.client.call('launch', {
      argv: [realPython, '-c', pythonSleeper, '$HOME;', 'x y'],
      cwd: '/tmp',
    });
    try {
      const st = await readProcStat(res.pid);
      expect(st.startTimeTicks).toBe(res.startTimeTicks);
      const cmdline = readFileSync(`/proc/${res.pid}/cmdline`, 'utf8').split('\0');
      expect(cmdline.slice(-3)).toEqual(['$HOME;', 'x y', '']);
      expect(readlinkSync(`/proc/${res.pid}/cwd`)).toBe('/tmp');
      const sub = await h.client.call('attach', {
        pid: res.pid,
        intervalMs: 100,
        startTimeTicks: res.startTimeTicks,
      });
      const detached = nextEvent(h.client, 'detached', (d) => d.subscription === sub.subscription);
      process.kill(res.pid, 'SIGKILL');
      expect((await detached).code).toBe('process-gone');
    } finally {
      try {
        process.kill(res.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  it('launch errors: missing command, missing cwd', async () => {
    const missing = await agentError(h.client.call('launch', { argv: ['/nonexistent/tierscope-test-cmd'] }));
    expect(missing.code).toBe('not-found');
    expect(missing.message).toBe(
      'cannot launch "/nonexistent/tierscope-test-cmd": no such command (not found in the agent\'s PATH): give its full path',
    );
    const cwd = await agentError(h.client.call('launch', { argv: ['true'], cwd: '/nonexistent-dir' }));
    expect(cwd.code).toBe('not-found');
    expect(cwd.message).toContain('working directory "/nonexistent-dir" does not exist');
  });

  it('raw requests: unknown method, bad params and non-requests are answered or dropped', async () => {
    const raw = await h.raw();
    try {
      raw.transport.send(JSON.stringify({ id: 7, method: 'formatDisk', params: {} }));
      raw.transport.send(JSON.stringify({ id: 8, method: 'snapshot', params: { pid: 'one' } }));
      raw.transport.send(JSON.stringify({ id: 9, method: 'snapshot' }));
      raw.transport.send('{"method":"hello"}'); // no id: nothing to answer, dropped
      raw.transport.send(
        JSON.stringify({ id: 10, method: 'hello', params: { protocolVersion: 1, client: 'raw' } }),
      );
      await raw.receivedCount(4);
      const answers = new Map(
        raw.received.map((t) => {
          const r = Response.parse(JSON.parse(t));
          return [r.id, r] as const;
        }),
      );
      expect(answers.get(7)).toEqual({
        id: 7,
        ok: false,
        error: {
          code: 'unknown-method',
          message: expect.stringMatching(
            /^unknown method "formatDisk": this agent .* knows hello, topology/,
          ) as unknown,
        },
      });
      expect(answers.get(8)).toEqual({
        id: 8,
        ok: false,
        error: {
          code: 'bad-request',
          message: 'snapshot: pid: Invalid input: expected number, received string',
        },
      });
      expect(answers.get(9)).toMatchObject({ ok: false, error: { code: 'bad-request' } });
      expect(answers.get(10)).toMatchObject({ ok: true });
    } finally {
      await raw.close();
    }
  });
});
