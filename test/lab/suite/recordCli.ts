// Helpers of the record*.lab.test.ts files: run the real `tierscope` command (scripts/tierscope.mjs → the
// compiled CLI in dist/) as a separate process, as a user would, and parse what it prints.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Capabilities, Report } from '../../../electron/contract/index.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = path.join(REPO, 'scripts/tierscope.mjs');

/**
 * Throws unless dist/ holds a build at least as new as every compiled source: the lab runs the compiled
 * CLI, and a stale build would test old code without saying so. `npm test` builds first; after editing,
 * run `npm run build` before `npm run test:lab`.
 */
export function assertBuilt(): void {
  const stale: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(path.join(REPO, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (rel !== path.join('electron', 'main') && rel !== path.join('electron', 'preload')) walk(rel);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const js = path.join(REPO, 'dist', rel.replace(/\.ts$/, '.js'));
        if (!existsSync(js) || statSync(js).mtimeMs < statSync(path.join(REPO, rel)).mtimeMs) stale.push(rel);
      }
    }
  };
  walk('electron');
  walk('native-bridge');
  if (stale.length > 0)
    throw new Error(
      `dist/ is older than ${stale.length} source file(s) (${stale.slice(0, 3).join(', ')}…): run \`npm run build\` before the lab suite`,
    );
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, and to the first byte on stderr (for record: start-up + interval 1). */
  wallMs: number;
  firstStderrMs: number | null;
}

/** A running `tierscope` process; its output is collected while it runs. */
export interface CliRun {
  proc: ChildProcess;
  /** Resolves when it has exited. */
  done: Promise<CliResult>;
  /** Resolves once stderr has printed a line matching `pattern`, rejects if it exits first. */
  stderrLine(pattern: RegExp, timeoutMs: number): Promise<string>;
}

export function startTierscope(args: readonly string[]): CliRun {
  const proc = spawn(process.execPath, [BIN, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const t0 = performance.now();
  const timing: { firstStderrMs: number | null } = { firstStderrMs: null };
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  proc.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  proc.stderr.on('data', (c: Buffer) => {
    timing.firstStderrMs ??= performance.now() - t0;
    stderr += c.toString();
    for (const w of waiters) w();
  });
  const done = (async (): Promise<CliResult> => {
    const [code, signal] = (await once(proc, 'exit')) as [number | null, NodeJS.Signals | null];
    for (const w of waiters) w();
    const wallMs = performance.now() - t0;
    const { firstStderrMs } = timing;
    // Where the lab's time goes (CLI start-up dominates under TCG): one line per command.
    console.log(
      `tierscope ${args.slice(0, 1).join(' ')}: ${(wallMs / 1000).toFixed(1)} s wall` +
        (firstStderrMs !== null ? `, first stderr after ${(firstStderrMs / 1000).toFixed(1)} s` : ''),
    );
    return { code, signal, stdout, stderr, wallMs, firstStderrMs };
  })();
  return {
    proc,
    done,
    stderrLine(pattern, timeoutMs) {
      return new Promise<string>((resolve, reject) => {
        const check = (): void => {
          const line = stderr.split('\n').find((l) => pattern.test(l));
          if (line !== undefined) {
            finish();
            resolve(line);
          } else if (proc.exitCode !== null || proc.signalCode !== null) {
            finish();
            reject(new Error(`tierscope ${args.join(' ')} exited before printing ${pattern}:\n${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`tierscope ${args.join(' ')}: no ${pattern} within ${timeoutMs} ms:\n${stderr}`));
        }, timeoutMs);
        const finish = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Runs `tierscope args…` to completion; throws with its stderr unless it exits 0. */
export async function tierscope(args: readonly string[]): Promise<CliResult> {
  const result = await startTierscope(args).done;
  if (result.code !== 0)
    throw new Error(
      `tierscope ${args.join(' ')} exited ${String(result.code ?? result.signal)}:\n${result.stderr}`,
    );
  return result;
}

/**
 * `tierscope record args…` until it has recorded 10 intervals (its progress line on stderr, printed at
 * intervals 1, 10, 20, … when stderr is not a terminal), then Ctrl-C (SIGINT): a clean stop whatever the
 * machine's speed, so a hotness window of 5 scans has completed twice. Throws unless it exits 0.
 */
export async function recordTenIntervals(args: readonly string[]): Promise<CliResult> {
  const run = startTierscope(['record', ...args]);
  try {
    await run.stderrLine(/ 10 intervals via /, 280_000);
  } catch (err) {
    run.proc.kill('SIGKILL');
    throw err;
  }
  run.proc.kill('SIGINT');
  const result = await run.done;
  if (result.code !== 0)
    throw new Error(
      `tierscope record ${args.join(' ')} exited ${String(result.code ?? result.signal)}:\n${result.stderr}`,
    );
  return result;
}

export async function reportJson(file: string): Promise<Report> {
  return Report.parse(JSON.parse((await tierscope(['report', file, '--json'])).stdout));
}

export async function capsJson(): Promise<Capabilities> {
  return Capabilities.parse(JSON.parse((await tierscope(['caps', '--json'])).stdout));
}

/** Bytes of [start, end) covered by `ranges` (hex [start, end) as the report gives them; not overlapping). */
export function coveredBytes(
  ranges: readonly { start: string; end: string }[],
  start: bigint,
  end: bigint,
): bigint {
  let total = 0n;
  for (const r of ranges) {
    const s = BigInt(`0x${r.start}`);
    const e = BigInt(`0x${r.end}`);
    const lo = s > start ? s : start;
    const hi = e < end ? e : end;
    if (hi > lo) total += hi - lo;
  }
  return total;
}
