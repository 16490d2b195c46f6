/**
 * The idle page bitmap, /sys/kernel/mm/page_idle/bitmap (Documentation/admin-guide/mm/idle_page_tracking.rst):
 * one bit per page frame, bit (pfn % 64) of the 64-bit word at byte offset (pfn / 64) × 8. Writing a 1
 * bit marks that frame idle (and clears its accessed bits in the page tables); reading returns 1 for
 * frames still idle, i.e. not accessed since they were marked.
 *
 * The kernel accepts only 8-byte aligned offsets and lengths in multiples of 8, and kernfs moves at most
 * one page (4 KiB = 32 768 frames) per read or write call. So PFNs are grouped by word (each word is read
 * or written once per call, whatever the number of PFNs in it), consecutive words become runs, and each
 * run is one pread/pwrite (repeated while the kernel returns short counts) on an fd opened once.
 * Synchronous for the reason pagemap.ts gives: many small calls, each answered without I/O.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';
import path from 'node:path';
import { TierscopeError } from '../errors.js';
import { isErrno } from '../sysfs/files.js';

export const PAGE_IDLE_WORD_BYTES = 8;
const WORD_BITS = 64;

/** Merge runs separated by at most this many unused words (default): fewer calls, still cheap words. */
export const DEFAULT_MAX_GAP_WORDS = 8;
/** Bytes asked for per call; kernfs answers at most one page of it, the loop asks again for the rest. */
export const DEFAULT_MAX_IO_BYTES = 64 * 1024;

export interface PageIdleOptions {
  sysRoot?: string;
  /**
   * Runs of needed words closer than this are merged into one call (default DEFAULT_MAX_GAP_WORDS).
   * Gap words are written as 0 (no effect: only 1 bits mark) and read but ignored; reading a word only
   * re-checks frames already marked idle, which any reader of the bitmap does.
   */
  maxGapWords?: number;
  maxIoBytes?: number;
}

/** Cumulative counters, for tests and for the sampler's own overhead accounting. */
export interface PageIdleIoCounters {
  /** pread/pwrite calls made. */
  calls: number;
  wordsRead: number;
  wordsWritten: number;
}

const LOW = endianness() === 'LE' ? 0 : 1;
const HIGH = 1 - LOW;

/** Sorted distinct words grouped into runs; `wordIndexOf` locates a PFN's word in the run buffer. */
interface WordPlan {
  /** First word of each run. */
  runFirst: Float64Array;
  /** Words in each run (gap words included). */
  runWords: Float64Array;
  /** Offset of each run's first word in the plan's buffer, in words. */
  runOffset: Float64Array;
  totalWords: number;
}

function checkPfns(pfns: ArrayLike<number>): void {
  for (let i = 0; i < pfns.length; i++) {
    const pfn = pfns[i] ?? -1;
    if (!Number.isSafeInteger(pfn) || pfn < 0) {
      throw new TierscopeError(
        'invalid-argument',
        `PFN ${String(pfn)} at index ${i} is not a non-negative integer; pass page frame numbers from pagemap`,
      );
    }
  }
}

/** Plans the runs for `pfns` (PFN 0 — "no page" in pagemap terms — is left out). */
export function planWords(pfns: ArrayLike<number>, maxGapWords = DEFAULT_MAX_GAP_WORDS): WordPlan {
  const words = new Float64Array(pfns.length);
  let n = 0;
  for (let i = 0; i < pfns.length; i++) {
    const pfn = pfns[i] ?? 0;
    if (pfn !== 0) words[n++] = Math.floor(pfn / WORD_BITS);
  }
  const sorted = words.subarray(0, n).sort();
  const runFirst: number[] = [];
  const runWords: number[] = [];
  const runOffset: number[] = [];
  let total = 0;
  for (let i = 0; i < sorted.length; i++) {
    const w = sorted[i] ?? 0;
    const last = runFirst.length - 1;
    const lastEnd = last >= 0 ? (runFirst[last] ?? 0) + (runWords[last] ?? 0) : -Infinity;
    if (w < lastEnd) continue; // same word as before
    if (w - lastEnd <= maxGapWords) {
      total += w + 1 - lastEnd;
      runWords[last] = w + 1 - (runFirst[last] ?? 0);
    } else {
      runFirst.push(w);
      runWords.push(1);
      runOffset.push(total);
      total += 1;
    }
  }
  return {
    runFirst: Float64Array.from(runFirst),
    runWords: Float64Array.from(runWords),
    runOffset: Float64Array.from(runOffset),
    totalWords: total,
  };
}

/** Index of `word` in the plan's buffer (binary search over runs); -1 when it is not planned. */
function wordIndexOf(plan: WordPlan, word: number): number {
  let lo = 0;
  let hi = plan.runFirst.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const first = plan.runFirst[mid] ?? 0;
    if (word < first) hi = mid - 1;
    else if (word >= first + (plan.runWords[mid] ?? 0)) lo = mid + 1;
    else return (plan.runOffset[mid] ?? 0) + (word - first);
  }
  return -1;
}

/** Sets/tests bit `bit` (0-63) of word `index` in a buffer viewed as 32-bit halves. */
function halfIndex(index: number, bit: number): number {
  return 2 * index + (bit < 32 ? LOW : HIGH);
}

/** The page_idle bitmap, opened once (read-write). Call close() when done. */
export class PageIdleBitmap {
  readonly file: string;
  readonly counters: PageIdleIoCounters = { calls: 0, wordsRead: 0, wordsWritten: 0 };
  private fd: number | null;
  private readonly maxGapWords: number;
  private readonly maxIoBytes: number;

  private constructor(file: string, fd: number, maxGapWords: number, maxIoBytes: number) {
    this.file = file;
    this.fd = fd;
    this.maxGapWords = maxGapWords;
    this.maxIoBytes = maxIoBytes;
  }

  static open(options: PageIdleOptions = {}): PageIdleBitmap {
    const maxGapWords = options.maxGapWords ?? DEFAULT_MAX_GAP_WORDS;
    const maxIoBytes = options.maxIoBytes ?? DEFAULT_MAX_IO_BYTES;
    if (!Number.isSafeInteger(maxGapWords) || maxGapWords < 0) {
      throw new TierscopeError(
        'invalid-argument',
        `maxGapWords ${String(maxGapWords)} is not a non-negative integer`,
      );
    }
    if (
      !Number.isSafeInteger(maxIoBytes) ||
      maxIoBytes < PAGE_IDLE_WORD_BYTES ||
      maxIoBytes % PAGE_IDLE_WORD_BYTES !== 0
    ) {
      throw new TierscopeError(
        'invalid-argument',
        `maxIoBytes ${String(maxIoBytes)} is not a positive multiple of 8: the kernel accepts only whole 64-bit words`,
      );
    }
    const file = path.join(options.sysRoot ?? '/sys', 'kernel/mm/page_idle/bitmap');
    let fd: number;
    try {
      fd = openSync(file, 'r+');
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) {
        throw new TierscopeError(
          'unsupported',
          `${file} does not exist: the kernel was built without CONFIG_IDLE_PAGE_TRACKING; boot a kernel with it, or use another access source`,
          { cause: err },
        );
      }
      if (isErrno(err, 'EACCES', 'EPERM')) {
        throw new TierscopeError(
          'permission',
          `no permission to open ${file}: the idle page bitmap is readable and writable only by root (and the PFNs it is indexed by need CAP_SYS_ADMIN); run Tierscope as root`,
          { cause: err },
        );
      }
      throw new TierscopeError('not-found', `cannot open ${file}: ${String(err)}`, { cause: err });
    }
    return new PageIdleBitmap(file, fd, maxGapWords, maxIoBytes);
  }

  /**
   * Marks every frame in `pfns` idle (duplicates and order do not matter; PFN 0 is skipped). Frames the
   * kernel cannot track — not on an LRU list (kernel memory, a page still in a per-CPU LRU batch right
   * after its first fault), or tail pages of a huge page, whose head carries the flag — are left as they
   * are by the kernel, and later read as accessed.
   */
  markIdle(pfns: ArrayLike<number>): void {
    checkPfns(pfns);
    const plan = planWords(pfns, this.maxGapWords);
    const buffer = new BigUint64Array(plan.totalWords);
    const halves = new Uint32Array(buffer.buffer);
    for (let i = 0; i < pfns.length; i++) {
      const pfn = pfns[i] ?? 0;
      if (pfn === 0) continue;
      const bit = pfn % WORD_BITS;
      const h = halfIndex(wordIndexOf(plan, Math.floor(pfn / WORD_BITS)), bit);
      halves[h] = ((halves[h] ?? 0) | (1 << (bit % 32))) >>> 0;
    }
    this.transfer(plan, buffer, 'write');
  }

  /**
   * Per PFN in `pfns`: 1 if the frame was accessed since it was marked idle (its idle bit is clear), 0 if
   * it is still idle. Frames the kernel cannot track (see markIdle) read as 1. PFN 0 ("no page") reads 0.
   * Reading is not free for the kernel: it walks the reverse map of every frame still marked idle.
   */
  readIdle(pfns: ArrayLike<number>, out?: Uint8Array): Uint8Array {
    checkPfns(pfns);
    const accessed = out ?? new Uint8Array(pfns.length);
    if (accessed.length !== pfns.length) {
      throw new TierscopeError(
        'invalid-argument',
        `output array has ${accessed.length} slots for ${pfns.length} PFNs; pass an array of that length`,
      );
    }
    const plan = planWords(pfns, this.maxGapWords);
    const buffer = new BigUint64Array(plan.totalWords);
    this.transfer(plan, buffer, 'read');
    const halves = new Uint32Array(buffer.buffer);
    for (let i = 0; i < pfns.length; i++) {
      const pfn = pfns[i] ?? 0;
      if (pfn === 0) {
        accessed[i] = 0;
        continue;
      }
      const bit = pfn % WORD_BITS;
      const h = halfIndex(wordIndexOf(plan, Math.floor(pfn / WORD_BITS)), bit);
      accessed[i] = ((halves[h] ?? 0) >>> (bit % 32)) & 1 ? 0 : 1;
    }
    return accessed;
  }

  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    closeSync(fd);
  }

  /** One pread/pwrite per run (more while the kernel returns short counts). */
  private transfer(plan: WordPlan, buffer: BigUint64Array, direction: 'read' | 'write'): void {
    const fd = this.fd;
    if (fd === null) {
      throw new TierscopeError(
        'invalid-argument',
        `${this.file} was already closed; open a new PageIdleBitmap`,
      );
    }
    const bytes = new Uint8Array(buffer.buffer);
    for (let r = 0; r < plan.runFirst.length; r++) {
      const firstWord = plan.runFirst[r] ?? 0;
      const runBytes = (plan.runWords[r] ?? 0) * PAGE_IDLE_WORD_BYTES;
      const bufferStart = (plan.runOffset[r] ?? 0) * PAGE_IDLE_WORD_BYTES;
      let done = 0;
      while (done < runBytes) {
        const want = Math.min(this.maxIoBytes, runBytes - done);
        const position = firstWord * PAGE_IDLE_WORD_BYTES + done;
        let got: number;
        try {
          got =
            direction === 'read'
              ? readSync(fd, bytes, bufferStart + done, want, position)
              : writeSync(fd, bytes, bufferStart + done, want, position);
        } catch (err) {
          throw this.ioError(err, direction, position);
        }
        this.counters.calls++;
        if (got <= 0 || got % PAGE_IDLE_WORD_BYTES !== 0) throw this.beyondEnd(position);
        if (direction === 'read') this.counters.wordsRead += got / PAGE_IDLE_WORD_BYTES;
        else this.counters.wordsWritten += got / PAGE_IDLE_WORD_BYTES;
        done += got;
      }
    }
  }

  private beyondEnd(position: number): TierscopeError {
    const pfn = (position / PAGE_IDLE_WORD_BYTES) * WORD_BITS;
    return new TierscopeError(
      'invalid-argument',
      `${this.file} ends before PFN ${pfn}: the frame is beyond the last page of physical memory; pass PFNs read from pagemap`,
    );
  }

  private ioError(err: unknown, direction: 'read' | 'write', position: number): TierscopeError {
    if (isErrno(err, 'ENXIO')) return this.beyondEnd(position);
    if (isErrno(err, 'EACCES', 'EPERM')) {
      return new TierscopeError(
        'permission',
        `no permission to ${direction} ${this.file}: run Tierscope as root`,
        {
          cause: err,
        },
      );
    }
    return new TierscopeError(
      'not-found',
      `cannot ${direction} ${this.file} at offset ${position}: ${String(err)}`,
      {
        cause: err,
      },
    );
  }
}
