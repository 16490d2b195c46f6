// Shared helpers of the lab suite (run inside the NUMA lab guest by test/lab/run; see ../README.md):
// starting memhog (../../workloads/README.md) and talking to it, and reading a region's per-node pages
// from numa_maps.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Vma } from '../../../electron/contract/index.js';
import { readVmas } from '../../../electron/engine/procfs/vmas.js';
import { pageSizeBytes } from '../../../native-bridge/index.js';

export const PAGE = pageSizeBytes();
export const MiB = 1 << 20;

/** Throws unless running inside the lab guest: these tests reconfigure the kernel they run on. */
export function labBin(name: string): string {
  const bin = process.env.TIERSCOPE_LAB_BIN;
  if (process.env.TIERSCOPE_LAB !== '1' || !bin) {
    throw new Error(
      'the lab suite runs only inside the NUMA lab guest: test/lab/run npx vitest run --config test/lab/vitest.config.ts',
    );
  }
  return path.join(bin, name);
}

/** Lines of a child's stdout, consumed in order; the pipe is drained for the child's whole life. */
class LineReader {
  private readonly lines: string[] = [];
  private waiter: (() => void) | null = null;
  private ended = false;

  constructor(private readonly proc: ChildProcess) {
    const stdout = proc.stdout;
    if (!stdout) throw new Error('child has no stdout pipe');
    const rl = createInterface({ input: stdout });
    rl.on('line', (line) => {
      this.lines.push(line);
      this.waiter?.();
    });
    rl.on('close', () => {
      this.ended = true;
      this.waiter?.();
    });
  }

  /** The next line starting with `prefix` (earlier other lines are skipped), within `timeoutMs`. */
  async next(prefix: string, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.lines.findIndex((l) => l.startsWith(prefix));
      if (i >= 0) {
        const [line] = this.lines.splice(0, i + 1).slice(-1);
        if (line !== undefined) return line;
      }
      if (this.ended) throw new Error(`memhog ${this.proc.pid} ended before printing ${prefix}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`memhog ${this.proc.pid} did not print ${prefix} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = null;
    }
  }
}

export interface HotRange {
  start: bigint;
  bytes: number;
}

export interface Memhog {
  pid: number;
  proc: ChildProcess;
  /** Start of the 2 MiB-aligned region. */
  base: bigint;
  sizeBytes: number;
  pages: number;
  hotPages: number;
  /** Only with --print-hot. */
  hotRanges: HotRange[];
  /** SIGUSR1 → the region's checksum against the pattern. */
  checksum(): Promise<{ ok: boolean; line: string }>;
  /** SIGUSR2 → memhog's own move_pages query: node id → pages, plus unmapped. */
  nodes(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/** Replies to signals come within one pass; a pass in TCG over a few thousand pages takes well under a second. */
const REPLY_MS = 60_000;

/** Starts memhog with `options`, e.g. '--size 64 --cpu 0', and waits for its READY line. */
export async function startMemhog(options: string): Promise<Memhog> {
  const proc = spawn(labBin('memhog'), options.trim().split(/\s+/), { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = proc.pid;
  if (pid === undefined) throw new Error('memhog did not start');
  const reader = new LineReader(proc);
  const header = await reader.next('MEMHOG ', REPLY_MS);
  const field = (name: string): number => {
    const m = new RegExp(`\\b${name}=(\\d+)`).exec(header);
    if (!m?.[1]) throw new Error(`no ${name}= in ${header}`);
    return Number(m[1]);
  };
  const hotRanges: HotRange[] = [];
  let ready: string;
  for (;;) {
    const line = await reader.next('', REPLY_MS);
    if (line.startsWith('HOT ')) {
      const [, start, bytes] = line.split(' ');
      hotRanges.push({ start: BigInt(`0x${start ?? ''}`), bytes: Number(bytes) });
    } else if (line.startsWith('READY ')) {
      ready = line;
      break;
    }
  }
  const [, baseHex, size] = ready.split(' ');
  let stopped = false;
  return {
    pid,
    proc,
    base: BigInt(`0x${baseHex ?? ''}`),
    sizeBytes: Number(size),
    pages: field('pages'),
    hotPages: field('hot_pages'),
    hotRanges,
    async checksum() {
      proc.kill('SIGUSR1');
      const line = await reader.next('CHECKSUM ', REPLY_MS);
      return { ok: line.endsWith(' OK'), line };
    },
    async nodes() {
      proc.kill('SIGUSR2');
      const line = await reader.next('NODES', REPLY_MS);
      const counts: Record<string, number> = {};
      for (const part of line.split(' ').slice(1)) {
        const [k, v] = part.split('=');
        if (k !== undefined && v !== undefined) counts[k] = Number(v);
      }
      return counts;
    },
    async stop() {
      if (stopped || proc.exitCode !== null || proc.signalCode !== null) return;
      stopped = true;
      const exited = once(proc, 'exit');
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * A tiny memhog on `cpu` that wakes every millisecond. Why: TCG caches guest translations in its software
 * TLB until the guest switches address space (CR3) or flushes, and accessed-bit sampling (DAMON's mkold,
 * page_idle's marking) clears PTE accessed bits *without* a flush, as the kernel does on x86. A workload
 * spinning alone on a vCPU then never walks its page tables again, so its accesses never set the bits
 * back. On real hardware the TLB's small size and other processes evict entries constantly; here this
 * neighbour on the same CPU forces an address-space switch (a full TCG TLB flush) about every millisecond.
 */
export function startTlbTicker(cpu: number): Promise<Memhog> {
  return startMemhog(`--size 1 --hot-fraction 0.002 --cpu ${cpu} --interval-ms 1`);
}

/** The VMA starting exactly at `start`; throws if the region was merged with a neighbour or is missing. */
export async function regionVma(pid: number, start: bigint, sizeBytes: number): Promise<Vma> {
  const vmas = await readVmas(pid, { pageSizeBytes: PAGE });
  const startHex = start.toString(16);
  const endHex = (start + BigInt(sizeBytes)).toString(16);
  const vma = vmas.find((v) => v.start === startHex);
  if (!vma || vma.end !== endHex) {
    const around = vmas.filter(
      (v) => BigInt(`0x${v.end}`) > start && BigInt(`0x${v.start}`) < start + BigInt(sizeBytes),
    );
    throw new Error(
      `no VMA exactly ${startHex}-${endHex} in process ${pid}; overlapping: ${around.map((v) => `${v.start}-${v.end}`).join(', ')}`,
    );
  }
  return vma;
}

/** Polls `probe` until it returns a value `done` accepts or `timeoutMs` passes; returns the last value. */
export async function pollUntil<T>(
  probe: () => Promise<T> | T,
  done: (value: T) => boolean,
  { timeoutMs, intervalMs }: { timeoutMs: number; intervalMs: number },
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() >= deadline) return value;
    await sleep(intervalMs);
  }
}
