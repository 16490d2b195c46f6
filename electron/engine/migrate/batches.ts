/**
 * How a move is cut into syscalls, and how fast they may follow each other.
 *
 * One move_pages call holds the target's mmap lock (read) and isolates, copies and remaps every page of
 * its batch before returning; a whole-process migrate can stall the target's page faults and mmap calls
 * for seconds. So each call gets about `targetMs` of work: the planner measures pages per millisecond of
 * the calls so far and sizes the next batch from it. The rate limiter then spaces batches so the copy
 * traffic stays under a byte rate (the memory bandwidth the workload keeps).
 */

/** Addresses in one 2 MiB block may belong to one transparent huge page: a batch never splits such a block. */
export const THP_BLOCK_BYTES = 2 * 1024 * 1024;

export interface BatchPlannerOptions {
  /** Work per syscall to aim for (default 20 ms). */
  targetMs?: number;
  /** First batch, before anything was measured (default 512 pages = 2 MiB of 4 KiB pages). */
  initialPages?: number;
  minPages?: number;
  /** Upper bound (default 16384: the bridge's own default batch). */
  maxPages?: number;
}

export const DEFAULT_TARGET_MS = 20;

/**
 * Adaptive batch size. The rate is an exponentially weighted average of pages/ms over the calls seen; a
 * batch grows at most 4x per call, so one cheap batch (pages already on the target cost almost nothing)
 * cannot make the next one huge.
 */
export class BatchPlanner {
  readonly targetMs: number;
  readonly minPages: number;
  readonly maxPages: number;
  private pages: number;
  private pagesPerMs: number | null = null;
  private cap = Infinity;

  constructor(options: BatchPlannerOptions = {}) {
    this.targetMs = options.targetMs ?? DEFAULT_TARGET_MS;
    this.minPages = options.minPages ?? 16;
    this.maxPages = options.maxPages ?? 16384;
    if (!(this.targetMs > 0)) throw new RangeError(`targetMs must be positive, got ${this.targetMs}`);
    if (!Number.isInteger(this.minPages) || this.minPages < 1 || this.maxPages < this.minPages) {
      throw new RangeError(`batch bounds ${this.minPages}..${this.maxPages} are not 1 ≤ min ≤ max`);
    }
    this.pages = this.clamp(options.initialPages ?? 512);
  }

  private clamp(pages: number): number {
    return Math.max(Math.min(this.minPages, this.cap), Math.min(this.maxPages, this.cap, Math.round(pages)));
  }

  /** Pages for the next call. */
  next(): number {
    return this.pages;
  }

  /** Measured pages per millisecond so far, or null before the first call. */
  get rate(): number | null {
    return this.pagesPerMs;
  }

  /** Records a call that handled `pages` in `ms`, and sizes the next one. */
  observe(pages: number, ms: number): void {
    if (pages <= 0) return;
    const sample = pages / Math.max(ms, 0.05);
    this.pagesPerMs = this.pagesPerMs === null ? sample : 0.5 * this.pagesPerMs + 0.5 * sample;
    const wanted = this.targetMs * this.pagesPerMs;
    this.pages = this.clamp(Math.min(wanted, this.pages * 4));
  }

  /** Caps every later batch (e.g. at what the rate limit allows in a fraction of a second). */
  capAt(pages: number): void {
    this.cap = Math.max(1, Math.floor(pages));
    this.pages = this.clamp(this.pages);
  }
}

/**
 * End index (exclusive) of the batch that starts at `from` and takes at most `maxPages` entries of the
 * ascending `addresses`. When the cut would fall inside a 2 MiB block it moves back to the block's first
 * entry, so a transparent huge page is moved by one call (its tail pages then reconcile as "moved with
 * the head", not as "already there" in the next batch). A batch always advances by at least one entry.
 */
export function batchEnd(addresses: BigUint64Array, from: number, maxPages: number): number {
  const n = addresses.length;
  const end = Math.min(n, from + Math.max(1, maxPages));
  if (end >= n) return n;
  const block = BigInt(THP_BLOCK_BYTES);
  const cutBlock = (addresses[end] ?? 0n) / block;
  if ((addresses[end - 1] ?? 0n) / block !== cutBlock) return end;
  for (let j = end - 1; j > from; j--) {
    if ((addresses[j - 1] ?? 0n) / block !== cutBlock) return j;
  }
  return end; // the whole batch lies in one block: nothing better to do
}

/** Clock and sleep, injectable so tests need no real time. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (ms <= 0 || signal?.aborted) {
        resolve();
        return;
      }
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};

/**
 * Paces work to `bytesPerSecond` on average since the first byte: after each batch, `delayMs` says how
 * long to wait so that the bytes done so far are not ahead of the rate. A pause (a slow batch) is not
 * made up for by a burst beyond `burstSeconds` of budget.
 */
export class RateLimiter {
  private startMs: number | null = null;
  private bytes = 0;

  constructor(
    readonly bytesPerSecond: number,
    private readonly clock: Pick<Clock, 'now'> = realClock,
    readonly burstSeconds = 0.25,
  ) {
    if (!(bytesPerSecond > 0) || !Number.isFinite(bytesPerSecond)) {
      throw new RangeError(`rate ${bytesPerSecond} bytes/s is not a positive number`);
    }
  }

  /** Largest batch in bytes that keeps one call within the burst budget. */
  get maxBatchBytes(): number {
    return this.bytesPerSecond * this.burstSeconds;
  }

  /** Records `bytes` just done; returns how many ms to wait before the next batch. */
  delayMs(bytes: number): number {
    const now = this.clock.now();
    if (this.startMs === null) this.startMs = now;
    // Idle time beyond the burst budget is forgotten: rebase so the budget never exceeds burstSeconds.
    const earliest = this.startMs + (this.bytes / this.bytesPerSecond) * 1000;
    if (now - earliest > this.burstSeconds * 1000) {
      this.startMs = now - this.burstSeconds * 1000 - (this.bytes / this.bytesPerSecond) * 1000;
    }
    this.bytes += bytes;
    const due = this.startMs + (this.bytes / this.bytesPerSecond) * 1000;
    return Math.max(0, due - now);
  }
}

/** "200", "200MB/s", "1.5GB/s", "512MiB/s" → bytes per second (bare numbers are MB/s, 10^6 bytes). */
export function parseRate(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*(kb|mb|gb|kib|mib|gib)?(?:\/s|ps)?$/i.exec(text.trim());
  if (!m?.[1]) return null;
  const unit = (m[2] ?? 'mb').toLowerCase();
  const scale: Record<string, number> = {
    kb: 1e3,
    mb: 1e6,
    gb: 1e9,
    kib: 2 ** 10,
    mib: 2 ** 20,
    gib: 2 ** 30,
  };
  const bytes = Number(m[1]) * (scale[unit] ?? 1e6);
  return bytes > 0 && Number.isFinite(bytes) ? Math.round(bytes) : null;
}
