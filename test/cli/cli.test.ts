import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Snapshot } from '../../electron/contract/index.js';
import { run } from '../../electron/cli/main.js';
import { startQuietChild, type Child } from '../helpers/children.js';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}
// `npm test` installs numactl first and sets this, so there a missing numastat fails instead of skipping.
const requireSystemDeps = process.env['TIERSCOPE_REQUIRE_SYSTEM_DEPS'] === '1';
const haveNumastat = hasCommand('numastat');

let child: Child;
beforeAll(async () => {
  child = await startQuietChild(48);
});
afterAll(async () => {
  await child.kill();
});

describe('tierscope snapshot', () => {
  it('--json is a valid Snapshot whose VMAs match numa_maps line by line', async () => {
    const res = await cli('snapshot', '--pid', String(child.pid), '--json');
    expect(res.err).toBe('');
    expect(res.code).toBe(0);
    const snap = Snapshot.parse(JSON.parse(res.out));
    expect(snap.pid).toBe(child.pid);
    expect(snap.comm).toBe('python3');
    expect(snap.nodes).toContain(0);

    // Independent reading of numa_maps: start address → N<node>= counts (base pages on this machine,
    // which has no hugetlb mappings in a python process).
    const expected = new Map<string, Record<string, number>>();
    for (const line of readFileSync(`/proc/${child.pid}/numa_maps`, 'utf8').trim().split('\n')) {
      const [start, ...tokens] = line.split(' ');
      const counts: Record<string, number> = {};
      for (const t of tokens) {
        const m = /^N(\d+)=(\d+)$/.exec(t);
        if (m?.[1] !== undefined && m[2] !== undefined) counts[m[1]] = Number(m[2]);
      }
      expected.set(start ?? '', counts);
    }
    // numa_maps skips [vsyscall] (a kernel page, no VMA policy); every other VMA must match exactly.
    const withoutNumaMaps = snap.vmas.filter((v) => !expected.has(v.start));
    expect(withoutNumaMaps.map((v) => v.kind)).toEqual(withoutNumaMaps.length ? ['vsyscall'] : []);
    expect(snap.vmas.length - withoutNumaMaps.length).toBe(expected.size);
    for (const vma of snap.vmas) {
      if (expected.has(vma.start)) expect(vma.pagesByNode, vma.start).toEqual(expected.get(vma.start));
      else expect([vma.policy, vma.pagesByNode]).toEqual([null, {}]);
    }

    const totalPages = Object.values(snap.totals.pagesByNode).reduce((a, b) => a + b, 0);
    // 48 MiB were touched; the interpreter adds its own few MiB.
    expect(totalPages * snap.pageSizeBytes).toBeGreaterThan(48 << 20);
    expect(snap.vmas.some((v) => v.kind === 'heap' || v.kind === 'anon')).toBe(true);
  });

  it.skipIf(!haveNumastat && !requireSystemDeps)('agrees with numastat -p per node within 1%', async () => {
    const res = await cli('snapshot', '--pid', String(child.pid), '--json');
    const snap = Snapshot.parse(JSON.parse(res.out));
    const table = execFileSync('numastat', ['-p', String(child.pid)], { encoding: 'utf8' });
    const total = table.split('\n').find((l) => l.startsWith('Total'));
    expect(total, table).toBeDefined();
    const perNodeMb = (total ?? '').trim().split(/\s+/).slice(1, -1).map(Number);
    expect(perNodeMb.length).toBe(snap.nodes.length);
    snap.nodes.forEach((node, i) => {
      const ours = (snap.totals.bytesByNode[String(node)] ?? 0) / 1024 / 1024;
      const theirs = perNodeMb[i] ?? NaN;
      expect(Math.abs(ours - theirs)).toBeLessThanOrEqual(Math.max(0.01 * theirs, 0.01));
    });
  });

  it('prints a numastat-like table with one column per node and a total row', async () => {
    const res = await cli('snapshot', '--pid', String(child.pid));
    expect(res.code).toBe(0);
    const lines = res.out.split('\n');
    expect(lines[0]).toContain(`process ${child.pid} (python3)`);
    expect(lines.find((l) => l.includes('start-end'))).toMatch(/node0/);
    expect(lines.some((l) => l.startsWith('total'))).toBe(true);
  });

  it('a dead PID is one clear line and exit 1', async () => {
    const res = await cli('snapshot', '--pid', '999999');
    expect(res.code).toBe(1);
    expect(res.out).toBe('');
    expect(res.err).toBe('tierscope snapshot: process 999999 does not exist\n');
  });

  it('a kernel thread has no user memory', async () => {
    const res = await cli('snapshot', '--pid', '2');
    expect(res.code).toBe(1);
    expect(res.err).toMatch(
      /^tierscope snapshot: process 2 \(kthreadd\) is a kernel thread: it has no user memory/,
    );
    expect(res.err.trim().split('\n')).toHaveLength(1);
  });

  it('bad flags are usage errors (exit 2)', async () => {
    expect((await cli('snapshot')).code).toBe(2);
    expect((await cli('snapshot', '--pid', 'abc')).err).toMatch(/--pid expects a non-negative integer/);
    expect((await cli('snapshot', '--pid', '1', '--bogus')).code).toBe(2);
    expect((await cli('frobnicate')).code).toBe(2);
  });
});

describe('the built bin', () => {
  const bin = new URL('../../scripts/tierscope.mjs', import.meta.url).pathname;

  it('runs end to end and exits non-zero with one line for a dead PID', () => {
    const res = spawnSync(process.execPath, [bin, 'snapshot', '--pid', '999999'], { encoding: 'utf8' });
    expect(res.status).toBe(1);
    expect(res.stderr).toBe('tierscope snapshot: process 999999 does not exist\n');
  });

  it.skipIf(process.getuid?.() !== 0)('names the missing permission for another user’s process', () => {
    // Root runs the CLI as `nobody` against the root-owned child: smaps needs ptrace-read access.
    const res = spawnSync(
      'runuser',
      ['-u', 'nobody', '--', process.execPath, bin, 'snapshot', '--pid', String(child.pid)],
      {
        encoding: 'utf8',
      },
    );
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/no permission to read .* of process \d+: it belongs to another user/);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('topology --json names node 0 on this machine', () => {
    const res = spawnSync(process.execPath, [bin, 'topology', '--json'], { encoding: 'utf8' });
    expect(res.status).toBe(0);
    const topo = JSON.parse(res.stdout) as { nodes: { id: number }[] };
    expect(topo.nodes.map((n) => n.id)).toContain(0);
  });
});

describe('a zombie', () => {
  it('is a process that has exited, not a kernel thread', async () => {
    // sh starts a child that exits at once, then execs into sleep, which never reaps it: a zombie for 30 s.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const [chunk] = (await once(parent.stdout, 'data')) as [Buffer];
      const zombiePid = Number(chunk.toString().trim());
      for (let i = 0; i < 100 && !/\) Z /.test(readFileSync(`/proc/${zombiePid}/stat`, 'utf8')); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const res = await cli('snapshot', '--pid', String(zombiePid));
      expect(res.code).toBe(1);
      expect(res.err).toBe(
        `tierscope snapshot: process ${zombiePid} (sleep) has exited (a zombie waiting for its parent to reap it): it has no memory left to profile\n`,
      );
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
