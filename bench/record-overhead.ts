// What `tierscope record` costs the process it records: memhog's throughput (passes over its hot set per
// second, each pass one load per hot page) alone and while the real CLI records it at the default
// interval, alternating the two runs. Prints numbers, asserts nothing.
//
// Run on the host (refs):   npm run bench:record
// In the lab (page_idle):   npm run build && test/lab/run --timeout 900 node --import tsx bench/record-overhead.ts --source page_idle
// Options: --source auto|refs|page_idle|damon (default auto), --size MiB (256), --hot-fraction F (0.1),
//          --seconds S per run (20), --rounds N (3), --interval D (tierscope's default), --cpu N (0).
// memhog comes from $TIERSCOPE_LAB_BIN or .lab-out/bin (test/lab/setup, or make -C test/workloads OUT=$PWD/.lab-out/bin).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { openSession } from '../electron/engine/session/index.js';

const { values } = parseArgs({
  options: {
    source: { type: 'string', default: 'auto' },
    size: { type: 'string', default: '256' },
    'hot-fraction': { type: 'string', default: '0.1' },
    seconds: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '3' },
    interval: { type: 'string' },
    cpu: { type: 'string', default: '0' },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const cpu = values.cpu;
const repo = new URL('..', import.meta.url).pathname;
const bin = process.env['TIERSCOPE_LAB_BIN'] ?? join(repo, '.lab-out/bin');
const memhogPath = join(bin, 'memhog');
if (!existsSync(memhogPath)) {
  console.error(
    `no memhog at ${memhogPath}: run test/lab/setup (or make -C test/workloads OUT=${join(repo, '.lab-out/bin')})`,
  );
  process.exit(1);
}
const inLab = process.env['TIERSCOPE_LAB'] === '1';
const dir = mkdtempSync(join(tmpdir(), 'tierscope-bench-record-'));

interface Hog {
  proc: ChildProcess;
  readyAt: number;
  lines: string[];
}

async function startHog(args: string[]): Promise<Hog> {
  const proc = spawn(memhogPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const rl = createInterface({ input: proc.stdout as NodeJS.ReadableStream });
  let ready: (() => void) | null = null;
  rl.on('line', (l) => {
    lines.push(l);
    if (l.startsWith('READY ')) ready?.();
  });
  await new Promise<void>((resolve, reject) => {
    ready = resolve;
    proc.once('exit', () => {
      reject(new Error(`memhog ${args.join(' ')} exited before READY`));
    });
  });
  return { proc, readyAt: performance.now(), lines };
}

/** SIGTERM → "EXIT passes=N"; returns passes per second since READY. */
async function stopHog(hog: Hog): Promise<number> {
  const exited = once(hog.proc, 'exit');
  hog.proc.kill('SIGTERM');
  const stoppedAt = performance.now();
  await exited;
  const exit = hog.lines.find((l) => l.startsWith('EXIT passes='));
  if (!exit) throw new Error('memhog printed no EXIT line');
  return Number(exit.slice('EXIT passes='.length)) / ((stoppedAt - hog.readyAt) / 1000);
}

interface Recorded {
  passesPerSecond: number;
  samplerCpuPercent: number;
  pagesScannedPerSecond: number;
  intervals: number;
  source: string;
}

async function run(withRecorder: boolean, n: number): Promise<Recorded> {
  const hog = await startHog([
    '--size',
    values.size,
    '--hot-fraction',
    values['hot-fraction'],
    '--cpu',
    cpu,
    '--thp',
    'off',
  ]);
  let recorder: ChildProcess | null = null;
  let recorderStderr = '';
  const out = join(dir, `run-${n}.tierscope`);
  if (withRecorder) {
    const args = [
      join(repo, 'scripts/tierscope.mjs'),
      'record',
      '--pid',
      String(hog.proc.pid),
      '--out',
      out,
      '--source',
      values.source,
    ];
    if (values.interval !== undefined) args.push('--interval', values.interval);
    recorder = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    // Its progress lines would drown the numbers: kept, and shown only if it fails.
    recorder.stderr?.on('data', (c: Buffer) => {
      recorderStderr += c.toString();
    });
  }
  await sleep(seconds * 1000);
  const rate = await stopHog(hog);
  if (!recorder)
    return {
      passesPerSecond: rate,
      samplerCpuPercent: 0,
      pagesScannedPerSecond: 0,
      intervals: 0,
      source: '-',
    };
  const [code] = (await once(recorder, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`tierscope record exited ${String(code)}:\n${recorderStderr}`);
  const session = await openSession(out);
  const iv = session.intervals;
  let cpuMs = 0;
  let pages = 0;
  for (let i = 0; i < session.intervalCount; i++) {
    cpuMs += iv.samplerCpuMs[i] ?? 0;
    pages += iv.pagesScanned[i] ?? 0;
  }
  const spanMs = (iv.endMs[session.intervalCount - 1] ?? 0) - (iv.startMs[0] ?? 0);
  return {
    passesPerSecond: rate,
    samplerCpuPercent: spanMs > 0 ? (100 * cpuMs) / spanMs : 0,
    pagesScannedPerSecond: spanMs > 0 ? (1000 * pages) / spanMs : 0,
    intervals: session.intervalCount,
    source: session.meta.source,
  };
}

// Under TCG a workload alone on its vCPU never refills its TLB, which page_idle and DAMON depend on (see
// test/lab/README.md): the same ticker runs in both kinds of run, so it is part of the baseline.
const ticker = inLab
  ? await startHog(['--size', '1', '--hot-fraction', '0.002', '--cpu', cpu, '--interval-ms', '1'])
  : null;
const base: number[] = [];
const rec: Recorded[] = [];
try {
  for (let r = 0; r < rounds; r++) {
    base.push((await run(false, 2 * r)).passesPerSecond);
    rec.push(await run(true, 2 * r + 1));
    const last = rec[rec.length - 1];
    console.log(
      `round ${r + 1}: alone ${base[base.length - 1]?.toFixed(1)} passes/s, recorded (${last?.source}) ${last?.passesPerSecond.toFixed(1)} passes/s`,
    );
  }
} finally {
  if (ticker) await stopHog(ticker);
  rmSync(dir, { recursive: true, force: true });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};
const alone = median(base);
const recorded = median(rec.map((x) => x.passesPerSecond));
console.log(
  [
    `memhog --size ${values.size} --hot-fraction ${values['hot-fraction']} on CPU ${cpu}${inLab ? ' (lab, with the TLB ticker)' : ''}; ${seconds} s per run, ${rounds} rounds; recorder unpinned`,
    `source ${rec[0]?.source ?? '?'}, interval ${values.interval ?? 'default'}: ${median(rec.map((x) => x.intervals))} intervals per recorded run`,
    `throughput alone:     ${alone.toFixed(1)} passes/s (median)`,
    `throughput recorded:  ${recorded.toFixed(1)} passes/s (median)`,
    `slowdown:             ${((100 * (alone - recorded)) / alone).toFixed(1)} %`,
    `recorder CPU:         ${median(rec.map((x) => x.samplerCpuPercent)).toFixed(1)} % of one core (sampler, per interval)`,
    `pages scanned:        ${median(rec.map((x) => x.pagesScannedPerSecond)).toFixed(0)} per second`,
  ].join('\n'),
);
