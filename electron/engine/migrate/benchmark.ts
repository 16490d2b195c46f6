/**
 * The user's own figure of merit around an experiment: a shell command (a benchmark, a curl of a metrics
 * endpoint, …) whose printed number — the last one on its stdout — is recorded before and after the move.
 */
import { spawn } from 'node:child_process';

export const DEFAULT_BENCHMARK_TIMEOUT_MS = 10 * 60_000;
const MAX_OUTPUT_BYTES = 1 << 20;

export interface BenchmarkRun {
  /** The last number printed on stdout, or null when there was none or the command failed. */
  value: number | null;
  /** Why value is null, or '' when it is not. */
  problem: string;
  exitCode: number | null;
}

/** Last decimal number in `text` ("1,234.5 ops/s" → 1234.5; thousands separators are dropped). */
export function lastNumber(text: string): number | null {
  const matches = text.replace(/(\d),(?=\d{3}\b)/g, '$1').match(/[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/g);
  const last = matches?.[matches.length - 1];
  if (last === undefined) return null;
  const value = Number(last);
  return Number.isFinite(value) ? value : null;
}

/** Runs `command` with sh -c, waits for it (bounded), and reads its number. Never throws for the command's own failure. */
export function runBenchmark(
  command: string,
  options: { timeoutMs?: number; signal?: AbortSignal; cwd?: string } = {},
): Promise<BenchmarkRun> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_BENCHMARK_TIMEOUT_MS;
  return new Promise((resolve) => {
    // Its own process group, so a kill reaches what the shell started too (a `sleep` holding the pipe).
    const child = spawn('sh', ['-c', command], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    });
    let out = '';
    let err = '';
    let killedFor: string | null = null;
    const kill = (why: string): void => {
      killedFor ??= why;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    // A background process left by the command may keep the pipes open: after the shell exits, give its
    // output a moment, then stop waiting for it.
    child.once('exit', () => {
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, 1000).unref();
    });
    const timer = setTimeout(() => {
      kill(`it ran longer than ${Math.round(timeoutMs / 1000)} s and was killed`);
    }, timeoutMs);
    const onAbort = (): void => {
      kill('it was cancelled');
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      if (out.length < MAX_OUTPUT_BYTES) out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (err.length < 4096) err += chunk.toString();
    });
    const done = (run: BenchmarkRun): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve(run);
    };
    child.on('error', (e) => {
      done({ value: null, problem: `could not start sh: ${e.message}`, exitCode: null });
    });
    child.on('close', (code) => {
      if (killedFor !== null) {
        done({ value: null, problem: `the benchmark command ${killedFor}`, exitCode: code });
        return;
      }
      if (code !== 0) {
        const tail = err.trim().split('\n').pop() ?? '';
        done({
          value: null,
          problem: `the benchmark command exited with status ${String(code)}${tail ? `: ${tail}` : ''}`,
          exitCode: code,
        });
        return;
      }
      const value = lastNumber(out);
      done({
        value,
        problem: value === null ? 'the benchmark command printed no number on stdout' : '',
        exitCode: code,
      });
    });
  });
}
