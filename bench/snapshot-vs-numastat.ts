// Snapshot of a process with ~10 000 VMAs: `tierscope snapshot --json` against `numastat -p`, both as
// whole commands (process start-up included, as a user runs them), printed as a ratio. Also reports
// the in-process cost of takeSnapshot(), and checks that both tools agree per node.
// Run: npm run bench:snapshot   (needs gcc and numastat: scripts/install-system-deps)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { takeSnapshot } from '../electron/engine/snapshot.js';

const VMAS = 10_000;
const RUNS = 15;

const dir = mkdtempSync(join(tmpdir(), 'tierscope-bench-'));
const exe = join(dir, 'many-vmas');
execFileSync('gcc', ['-O2', '-o', exe, new URL('./many-vmas.c', import.meta.url).pathname]);
const child = spawn(exe, [String(VMAS)], { stdio: ['pipe', 'pipe', 'inherit'] });
await new Promise<void>((resolve) => {
  child.stdout.once('data', () => {
    resolve();
  });
});
const pid = child.pid ?? 0;

function timeCommand(cmd: string, args: string[]): { medianMs: number; output: string } {
  const times: number[] = [];
  let output = '';
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    output = execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(RUNS / 2)] ?? NaN, output };
}

try {
  const snap = await takeSnapshot(pid);
  const inProcess: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await takeSnapshot(pid);
    inProcess.push(performance.now() - t0);
  }
  inProcess.sort((a, b) => a - b);

  const numastat = timeCommand('numastat', ['-p', String(pid)]);
  const tierscope = timeCommand(process.execPath, [
    new URL('../scripts/tierscope.mjs', import.meta.url).pathname,
    'snapshot',
    '--pid',
    String(pid),
    '--json',
  ]);

  // numastat -p's "Total" row is MB per node; compare with our totals.
  const totalLine = numastat.output.split('\n').find((l) => l.startsWith('Total')) ?? '';
  const numastatMb = totalLine.trim().split(/\s+/).slice(1, -1).map(Number);
  const oursMb = snap.nodes.map((n) => (snap.totals.bytesByNode[String(n)] ?? 0) / 1024 / 1024);

  console.log(`process ${pid}: ${snap.vmas.length} VMAs`);
  console.log(`numastat -p          median ${numastat.medianMs.toFixed(1)} ms over ${RUNS} runs`);
  console.log(
    `tierscope snapshot   median ${tierscope.medianMs.toFixed(1)} ms over ${RUNS} runs (node start-up included)`,
  );
  console.log(
    `takeSnapshot()       median ${(inProcess[Math.floor(RUNS / 2)] ?? NaN).toFixed(1)} ms in-process`,
  );
  console.log(`ratio tierscope/numastat: ${(tierscope.medianMs / numastat.medianMs).toFixed(2)}`);
  console.log(
    `per node MB  numastat: ${numastatMb.map((x) => x.toFixed(2)).join(' ')}  tierscope: ${oursMb.map((x) => x.toFixed(2)).join(' ')}`,
  );
} finally {
  child.stdin.end();
}
