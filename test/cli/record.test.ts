import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Report } from '../../electron/contract/index.js';
import { run } from '../../electron/cli/main.js';
import { waitForLine, wrap, type Child } from '../helpers/children.js';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

/**
 * A Python child with one hot mapping (rewritten every 20 ms) and three idle ones, each its own VMA
 * (anonymous mmaps of different sizes, so the kernel cannot merge them). Prints READY and the hot
 * mapping's address. With `exitAfterS` it exits by itself.
 */
async function startHotIdleChild(exitAfterS = 600): Promise<{ child: Child; hotStart: string }> {
  const code = `
import mmap, time, ctypes
hot = mmap.mmap(-1, 24 << 20)
idle = [mmap.mmap(-1, (8 + i) << 20) for i in range(3)]
for m in idle + [hot]:
    for i in range(0, len(m), 4096): m[i] = 1
addr = ctypes.addressof(ctypes.c_char.from_buffer(hot))
print("READY %x" % addr, flush=True)
end = time.time() + ${exitAfterS}
v = 0
while time.time() < end:
    v = (v + 1) & 255
    for i in range(0, len(hot), 4096): hot[i] = v
    time.sleep(0.02)
`;
  const proc = spawn('python3', ['-c', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await waitForLine(proc, 'READY');
  return { child: wrap(proc), hotStart: (line.split(' ')[1] ?? '').padStart(8, '0') };
}

const dir = mkdtempSync(join(tmpdir(), 'tierscope-record-'));
let n = 0;
const sessionPath = (): string => join(dir, `s${n++}.tierscope`);
let children: Child[] = [];
afterEach(async () => {
  await Promise.all(children.map((c) => c.kill()));
  children = [];
});

describe('tierscope record + report (refs source, unprivileged path)', () => {
  it('records for the duration and ranks the hot VMA first', async () => {
    const { child, hotStart } = await startHotIdleChild();
    children.push(child);
    const out = sessionPath();
    const rec = await cli(
      'record',
      '--pid',
      String(child.pid),
      '--out',
      out,
      '--source',
      'refs',
      '--interval',
      '300ms',
      '--scans',
      '3',
      '--duration',
      '2.1s',
    );
    expect(rec.err).toMatch(/recorded \d+ intervals of process \d+ \(python3\) with refs: duration-reached/);
    expect(rec.code).toBe(0);

    const res = await cli('report', out, '--json');
    expect(res.code).toBe(0);
    const report = Report.parse(JSON.parse(res.out));
    expect(report.source).toBe('refs');
    expect(report.end).toMatchObject({ reason: 'duration-reached', recorded: true });
    expect(report.intervals).toBeGreaterThanOrEqual(6);
    expect(report.window.complete).toBe(true);
    const top = report.vmas[0];
    expect(top?.start).toBe(hotStart);
    // 24 MiB touched every 20 ms: referenced in every scan. clear_refs does not flush the TLB, so allow
    // a little undercount (the refs source's documented limit), but it must dominate.
    expect(top?.hotBytes).toBeGreaterThan(20 << 20);
    for (const v of report.vmas.slice(1)) expect(v.hotBytes).toBeLessThan((top?.hotBytes ?? 0) / 4);
    expect(report.misplacement).toBeNull();
  });

  it('a target that exits mid-record ends the session as process-exited, intervals kept', async () => {
    const { child } = await startHotIdleChild(1.2);
    children.push(child);
    const out = sessionPath();
    const rec = await cli(
      'record',
      '--pid',
      String(child.pid),
      '--out',
      out,
      '--source',
      'refs',
      '--interval',
      '200ms',
      '--duration',
      '20s',
    );
    expect(rec.code).toBe(0);
    expect(rec.err).toMatch(/process-exited/);
    const report = Report.parse(JSON.parse((await cli('report', out, '--json')).out));
    expect(report.end.reason).toBe('process-exited');
    expect(report.intervals).toBeGreaterThanOrEqual(2);
  });

  /**
   * Starts `tierscope record` (the built bin) on a fresh hot/idle child and resolves once the first
   * interval was reported plus `settleMs`; `stderr()` returns everything it printed so far.
   */
  async function startRecorder(
    out: string,
    settleMs: number,
  ): Promise<{ recorder: ChildProcess; stderr: () => string }> {
    const { child } = await startHotIdleChild();
    children.push(child);
    const bin = new URL('../../scripts/tierscope.mjs', import.meta.url).pathname;
    const recorder = spawn(
      process.execPath,
      [bin, 'record', '--pid', String(child.pid), '--out', out, '--source', 'refs', '--interval', '200ms'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    recorder.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (/recording \d+ s, 1 intervals/.test(err)) {
          clearInterval(poll);
          setTimeout(resolve, settleMs);
        }
      }, 20);
    });
    return { recorder, stderr: () => err };
  }

  it('a recorder killed with SIGKILL leaves a session report can read', async () => {
    const out = sessionPath();
    const { recorder } = await startRecorder(out, 500);
    const exited = once(recorder, 'exit');
    recorder.kill('SIGKILL');
    await exited;
    const res = await cli('report', out, '--json');
    expect(res.code).toBe(0);
    const report = Report.parse(JSON.parse(res.out));
    expect(report.end).toMatchObject({ reason: 'recorder-killed', recorded: false });
    expect(report.intervals).toBeGreaterThanOrEqual(2);
  });

  it('SIGINT stops cleanly: end record "stopped", file compacted', async () => {
    const out = sessionPath();
    const { recorder, stderr } = await startRecorder(out, 300);
    const exited = once(recorder, 'exit');
    recorder.kill('SIGINT');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    expect(stderr()).toMatch(/stopped \(stopped by the user\)/);
    const report = Report.parse(JSON.parse((await cli('report', out, '--json')).out));
    expect(report.end).toMatchObject({ reason: 'stopped', recorded: true });
  });

  it('bad input: dead pid, kernel thread, forced unavailable source, existing file, garbage session', async () => {
    const dead = await cli('record', '--pid', '999999', '--out', sessionPath());
    expect(dead).toMatchObject({ code: 1, err: 'tierscope record: process 999999 does not exist\n' });
    const kthread = await cli('record', '--pid', '2', '--out', sessionPath());
    expect(kthread.err).toMatch(/kernel thread: it has no user memory/);
    const forced = await cli(
      'record',
      '--pid',
      String(process.pid),
      '--out',
      sessionPath(),
      '--source',
      'page_idle',
    );
    expect(forced.code).toBe(1);
    expect(forced.err).toMatch(/access source page_idle is not usable here: .*CONFIG_IDLE_PAGE_TRACKING/);
    const badSource = await cli('record', '--pid', '1', '--out', sessionPath(), '--source', 'magic');
    expect(badSource.code).toBe(2);

    const garbage = join(dir, 'garbage.tierscope');
    spawnSync('sh', ['-c', `head -c 4096 /dev/urandom > ${garbage}`]);
    const rep = await cli('report', garbage);
    expect(rep.code).toBe(1);
    expect(rep.err).toMatch(/is not a Tierscope session/);
    expect(rep.err.trim().split('\n')).toHaveLength(1);
  });
});
