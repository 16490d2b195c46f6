// The migrate, rebind and balancing commands, in-process, on a child this test starts (this machine has
// one node, node 0). Nothing here changes the kernel's balancing switches.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Experiment } from '../../../electron/contract/index.js';
import { run } from '../../../electron/cli/main.js';
import { record } from '../../../electron/engine/record/recorder.js';
import { openSession } from '../../../electron/engine/session/index.js';
import { readVmas } from '../../../electron/engine/procfs/vmas.js';
import { startQuietChild, type Child } from '../../helpers/children.js';
import { PAGE } from './fakeKernel.js';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

let child: Child;
let vmaStart: string;
let dir: string;
beforeAll(async () => {
  child = await startQuietChild(16);
  const vmas = await readVmas(child.pid, { pageSizeBytes: PAGE });
  vmaStart =
    vmas.filter((v) => v.kind === 'anon' || v.kind === 'heap').sort((a, b) => b.rssBytes - a.rssBytes)[0]
      ?.start ?? '';
  dir = mkdtempSync(path.join(tmpdir(), 'tierscope-migrate-cli-'));
  // Keep the CLI's experiment registry out of /run on this machine.
  process.env['TIERSCOPE_EXPERIMENTS_DIR'] = path.join(dir, 'experiments');
});
afterAll(async () => {
  await child.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe('tierscope migrate', () => {
  it('asks what to move, and rejects contradictory or malformed options (exit 2)', async () => {
    const none = await cli('migrate', '--pid', String(child.pid), '--to', '0');
    expect(none.code).toBe(2);
    expect(none.err).toMatch(
      /^tierscope migrate: say what to move: --vma ADDR, --range A-B, --hot, --cold, --top-k K or --all\n/,
    );
    expect((await cli('migrate', '--pid', '1', '--hot', '--cold', '--to', '0')).err).toMatch(
      /only one of --hot, --cold, --top-k/,
    );
    expect((await cli('migrate', '--pid', '1', '--all', '--hot', '--to', '0')).err).toMatch(
      /--all moves the whole process/,
    );
    expect((await cli('migrate', '--pid', '1', '--range', '5000-1000', '--to', '0')).err).toMatch(
      /--range 5000-1000 is empty/,
    );
    expect((await cli('migrate', '--pid', '1', '--range', 'x', '--to', '0')).err).toMatch(
      /--range expects hex START-END/,
    );
    expect((await cli('migrate', '--pid', '1', '--vma', '1000', '--to', '0-1')).err).toMatch(
      /--to takes one node/,
    );
    expect((await cli('migrate', '--pid', '1', '--vma', '1000', '--to', '0', '--rate', 'fast')).err).toMatch(
      /--rate expects MB\/s/,
    );
    expect((await cli('migrate', '--pid', '1', '--top-k', '0', '--to', '0')).err).toMatch(
      /--top-k expects a positive page count/,
    );
  });

  it('a dry run shows what would move per node (here: nothing, all already on node 0)', async () => {
    const res = await cli('migrate', '--pid', String(child.pid), '--vma', vmaStart, '--to', '0', '--dry-run');
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/^move-pages exp-\S+ \(dry run\): process \d+, [0-9a-f]+-[0-9a-f]+ → node 0\n/);
    expect(res.out).toMatch(
      /would move: nothing; already on target: \d+; not present: \d+; selected: \d+ pages/,
    );
    expect(res.out).toMatch(/selection before\s+\d+\.\d\d/);
  });

  it('--json prints the experiment (contract) and the plan', async () => {
    const res = await cli('migrate', '--pid', String(child.pid), '--vma', vmaStart, '--to', '0', '--json');
    expect(res.code).toBe(0);
    const body = JSON.parse(res.out) as {
      experiment: unknown;
      plan: { toMoveByNode: object };
      recordedIn: null;
    };
    const e = Experiment.parse(body.experiment);
    expect(e).toMatchObject({ kind: 'move-pages', status: 'completed', dryRun: false });
    expect(e.histogram.moved).toBe(0);
    expect(body.plan.toMoveByNode).toEqual({});
    expect(body.recordedIn).toBeNull();
  });

  it('names the node problem in one line (exit 1)', async () => {
    const res = await cli('migrate', '--pid', String(child.pid), '--vma', vmaStart, '--to', '2', '--dry-run');
    expect(res.code).toBe(1);
    expect(res.err).toBe(
      'tierscope migrate: target node 2 does not exist on this machine (nodes 0); pick one of the nodes with memory (0)\n',
    );
  });

  it('--hot without a per-page sampler says what is missing', async () => {
    const res = await cli('migrate', '--pid', String(child.pid), '--hot', '--to', '0');
    expect(res.code).toBe(1);
    expect(res.err).toMatch(
      /^tierscope migrate: selecting hot pages needs per-page access bits \(idle_pages or page_idle\)/,
    );
  });

  it('--all: nothing to do when the process is already on the targets', async () => {
    const res = await cli('migrate', '--pid', String(child.pid), '--all', '--to', '0');
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/migrate-process exp-\S+: process \d+, whole process, nodes \(none\) → 0/);
    expect(res.out).toMatch(/detail: nothing to do: the process has no pages outside nodes 0/);
  });

  it('--session: the experiment is added to the finished recording of the process; another process is refused', async () => {
    const session = path.join(dir, 'run.tierscope');
    await record({ pid: child.pid, out: session, source: 'refs', intervalMs: 100, durationMs: 400 });
    const res = await cli(
      'migrate',
      '--pid',
      String(child.pid),
      '--vma',
      vmaStart,
      '--to',
      '0',
      '--session',
      session,
    );
    expect(res.err).not.toMatch(/tierscope migrate:/);
    expect(res.code).toBe(0);
    expect(res.out).toMatch(new RegExp(`recorded in ${session.replace(/[.]/g, '\\.')}\\n$`));
    const s = await openSession(session);
    expect(s.experiments.length).toBe(1);
    expect(s.experiments[0]?.startMs).toBeGreaterThan(0);
    const other = await cli(
      'migrate',
      '--pid',
      String(process.pid),
      '--range',
      '1000-2000',
      '--to',
      '0',
      '--session',
      session,
    );
    expect(other.code).toBe(1);
    expect(other.err).toMatch(
      /run\.tierscope is a recording of process \d+ \(python3\), not of process \d+; record this process first/,
    );
    expect((await openSession(session)).experiments.length).toBe(1);
  });
});

describe('an unprivileged user', () => {
  it("is refused on another user's process in one line, and nothing moves", async () => {
    const region = async (): Promise<unknown> =>
      (await readVmas(child.pid, { pageSizeBytes: PAGE })).find((v) => v.start === vmaStart)?.pagesByNode;
    const before = await region();
    const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../electron/cli/bin.ts');
    const res = spawnSync(
      'setpriv',
      [
        '--reuid=nobody',
        '--regid=nogroup',
        '--init-groups',
        '--',
        process.execPath,
        '--import',
        'tsx',
        bin,
      ].concat(['migrate', '--pid', String(child.pid), '--vma', vmaStart, '--to', '0']),
      {
        encoding: 'utf8',
        timeout: 60_000,
        cwd: path.join(path.dirname(fileURLToPath(import.meta.url)), '../../..'),
      },
    );
    expect(res.status).toBe(1);
    expect(res.stderr).toBe(
      `tierscope migrate: no permission to read smaps of process ${child.pid}: it belongs to another user; run as that user, as root, or with CAP_SYS_PTRACE\n`,
    );
    expect(await region()).toEqual(before);
  }, 60_000);
});

describe('tierscope rebind', () => {
  it('requires --lazy and a range', async () => {
    const res = await cli('rebind', '--pid', String(child.pid), '--range', '1000-2000', '--to', '0');
    expect(res.code).toBe(2);
    expect(res.err).toMatch(/only lazy rebinds exist: pass --lazy/);
    expect((await cli('rebind', '--pid', '1', '--lazy', '--to', '0')).err).toMatch(/--range is required/);
  });

  it('refuses when no per-page sampler is available, saying why', async () => {
    const v = BigInt(`0x${vmaStart}`);
    const res = await cli(
      'rebind',
      '--pid',
      String(child.pid),
      '--range',
      `${v.toString(16)}-${(v + 4096n).toString(16)}`,
      '--to',
      '0',
      '--lazy',
    );
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/^tierscope rebind: a lazy rebind needs per-page access bits/);
  });
});

describe('tierscope balancing', () => {
  it('shows the mode and counters, as text and JSON', async () => {
    const text = await cli('balancing');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^numa_balancing: /);
    expect(text.out).toMatch(/demotion_enabled: /);
    expect(text.out).toMatch(/numa_hit\s+\d+/);
    const json = JSON.parse((await cli('balancing', '--json')).out) as { counters: Record<string, number> };
    expect(json.counters['numa_hit']).toBeGreaterThan(0);
  });

  it('will not change anything without --yes', async () => {
    const before = readFileSync('/proc/sys/kernel/numa_balancing', 'utf8');
    const res = await cli('balancing', '--numa-balancing', '1');
    expect(res.code).toBe(2);
    expect(res.err).toMatch(/affects every process on this machine: add --yes to confirm/);
    expect(readFileSync('/proc/sys/kernel/numa_balancing', 'utf8')).toBe(before);
    expect((await cli('balancing', '--numa-balancing', '7', '--yes')).err).toMatch(/expects 0-3/);
    expect(readFileSync('/proc/sys/kernel/numa_balancing', 'utf8')).toBe(before);
  });
});
