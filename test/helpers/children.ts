import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface Child {
  pid: number;
  proc: ChildProcess;
  /** Ends the child and waits until it is reaped. */
  kill(): Promise<void>;
}

/**
 * Starts a Python process that allocates and touches `mib` MiB of anonymous memory, prints READY and
 * then sleeps: quiescent, so its numa_maps does not change while a test compares two readings.
 */
export async function startQuietChild(mib = 32): Promise<Child> {
  const code = `a = bytearray(${mib} << 20)\nfor i in range(0, len(a), 4096): a[i] = 1\nprint("READY", flush=True)\nimport time\ntime.sleep(600)\n`;
  const proc = spawn('python3', ['-c', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await waitForLine(proc, 'READY');
  return wrap(proc);
}

/**
 * Resolves with the first stdout line starting with `marker`. The pipe stays open and drained for the
 * child's whole life: closing it would make the child's next write raise EPIPE and end it mid-test.
 */
export function waitForLine(proc: ChildProcess, marker: string): Promise<string> {
  const stdout = proc.stdout;
  if (!stdout) return Promise.reject(new Error('child has no stdout pipe'));
  return new Promise<string>((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString();
      const line = buffered.split('\n').find((l, i, all) => i < all.length - 1 && l.startsWith(marker));
      if (line !== undefined) {
        proc.off('exit', onExit);
        resolve(line);
      }
    };
    const onExit = (code: number | null, signal: string | null): void => {
      reject(new Error(`child exited (${String(code ?? signal)}) before printing ${marker}`));
    };
    stdout.on('data', onData);
    proc.once('exit', onExit);
  });
}

export function wrap(proc: ChildProcess): Child {
  const pid = proc.pid;
  if (pid === undefined) throw new Error('child did not start');
  return {
    pid,
    proc,
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill('SIGKILL');
      await exited;
    },
  };
}
