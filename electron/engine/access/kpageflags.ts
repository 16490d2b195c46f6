/**
 * /proc/kpageflags (Documentation/admin-guide/mm/pagemap.rst): one 64-bit word of flags per page frame,
 * at byte offset PFN × 8. The page_idle source needs it because the idle bitmap answers "accessed" both
 * for frames that were accessed and for frames the kernel cannot track (tail pages of a huge page, the
 * zero page, hugetlb, pages off the LRU); these flags tell the two apart. For a tail page the kernel
 * reports the flags of its folio (LRU, idle, …) plus COMPOUND_TAIL.
 *
 * PFNs are sorted and grouped into runs (neighbours closer than `maxGapEntries` share one pread), read
 * on an fd opened once. Root only (mode 0400). Synchronous, for the reason pagemap.ts gives.
 */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import path from 'node:path';
import { TierscopeError } from '../errors.js';
import { isErrno } from '../sysfs/files.js';

/** Bit numbers of include/uapi/linux/kernel-page-flags.h that Tierscope reads (all below 32). */
export const KPF_LRU = 5;
export const KPF_COMPOUND_HEAD = 15;
export const KPF_COMPOUND_TAIL = 16;
/** hugetlb page (never on an LRU list). */
export const KPF_HUGE = 17;
/** No struct page for the frame (a hole in physical memory). */
export const KPF_NOPAGE = 20;
/** Any large anonymous or file folio, not only PMD-sized ones. */
export const KPF_THP = 22;
export const KPF_ZERO_PAGE = 24;
export const KPF_IDLE = 25;

export const KPAGEFLAGS_ENTRY_BYTES = 8;
/** Runs of wanted entries closer than this share a read (the gap entries are read and ignored). */
export const DEFAULT_KPAGEFLAGS_MAX_GAP_ENTRIES = 16;
/** Bytes asked for per pread. */
export const DEFAULT_KPAGEFLAGS_MAX_IO_BYTES = 64 * 1024;

const LOW = endianness() === 'LE' ? 0 : 1;

export interface KPageFlagsOptions {
  procRoot?: string;
  maxGapEntries?: number;
  maxIoBytes?: number;
}

export class KPageFlagsReader {
  readonly file: string;
  /** pread calls made so far (cost accounting and tests). */
  calls = 0;
  private fd: number | null;
  private readonly maxGapEntries: number;
  private readonly maxIoBytes: number;

  private constructor(file: string, fd: number, maxGapEntries: number, maxIoBytes: number) {
    this.file = file;
    this.fd = fd;
    this.maxGapEntries = maxGapEntries;
    this.maxIoBytes = maxIoBytes;
  }

  static open(options: KPageFlagsOptions = {}): KPageFlagsReader {
    const maxGapEntries = options.maxGapEntries ?? DEFAULT_KPAGEFLAGS_MAX_GAP_ENTRIES;
    const maxIoBytes = options.maxIoBytes ?? DEFAULT_KPAGEFLAGS_MAX_IO_BYTES;
    if (!Number.isSafeInteger(maxGapEntries) || maxGapEntries < 0)
      throw new TierscopeError(
        'invalid-argument',
        `maxGapEntries ${String(maxGapEntries)} is not a non-negative integer`,
      );
    if (
      !Number.isSafeInteger(maxIoBytes) ||
      maxIoBytes < KPAGEFLAGS_ENTRY_BYTES ||
      maxIoBytes % KPAGEFLAGS_ENTRY_BYTES !== 0
    )
      throw new TierscopeError(
        'invalid-argument',
        `maxIoBytes ${String(maxIoBytes)} is not a positive multiple of 8: /proc/kpageflags is read in whole 64-bit entries`,
      );
    const procRoot = options.procRoot ?? '/proc';
    const file = path.join(procRoot, 'kpageflags');
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (err) {
      if (isErrno(err, 'ENOENT') && existsSync(path.join(procRoot, 'self'))) {
        throw new TierscopeError(
          'unsupported',
          `${file} does not exist: the kernel was built without CONFIG_PROC_PAGE_MONITOR; boot a kernel with it, or use another access source`,
          { cause: err },
        );
      }
      if (isErrno(err, 'EACCES', 'EPERM')) {
        throw new TierscopeError(
          'permission',
          `no permission to read ${file}: page flags are readable only by root; run Tierscope as root`,
          { cause: err },
        );
      }
      throw new TierscopeError('not-found', `cannot open ${file}: ${String(err)}`, { cause: err });
    }
    return new KPageFlagsReader(file, fd, maxGapEntries, maxIoBytes);
  }

  /**
   * The low 32 bits of the flags of each PFN in `pfns` (every KPF_* above is below bit 32). Frames past
   * the end of physical memory read as KPF_NOPAGE, like holes.
   */
  read(pfns: ArrayLike<number>, out?: Uint32Array): Uint32Array {
    const fd = this.fd;
    if (fd === null)
      throw new TierscopeError(
        'invalid-argument',
        `${this.file} was already closed; open a new KPageFlagsReader`,
      );
    const result = out ?? new Uint32Array(pfns.length);
    if (result.length !== pfns.length)
      throw new TierscopeError(
        'invalid-argument',
        `output array has ${result.length} slots for ${pfns.length} PFNs; pass an array of that length`,
      );
    if (pfns.length === 0) return result;
    const sorted = new Float64Array(pfns.length);
    for (let i = 0; i < pfns.length; i++) {
      const pfn = pfns[i] ?? -1;
      if (!Number.isSafeInteger(pfn) || pfn < 0)
        throw new TierscopeError(
          'invalid-argument',
          `PFN ${String(pfn)} at index ${i} is not a non-negative integer; pass page frame numbers from pagemap`,
        );
      sorted[i] = pfn;
    }
    sorted.sort();

    // Runs of entries: [runFirst[r], runFirst[r] + runLength[r]) stored at runOffset[r] in `buffer`.
    const runFirst: number[] = [];
    const runLength: number[] = [];
    const runOffset: number[] = [];
    let total = 0;
    for (let i = 0; i < sorted.length; i++) {
      const pfn = sorted[i] ?? 0;
      const last = runFirst.length - 1;
      const lastEnd = last >= 0 ? (runFirst[last] ?? 0) + (runLength[last] ?? 0) : -Infinity;
      if (pfn < lastEnd) continue;
      if (pfn - lastEnd <= this.maxGapEntries) {
        total += pfn + 1 - lastEnd;
        runLength[last] = pfn + 1 - (runFirst[last] ?? 0);
      } else {
        runFirst.push(pfn);
        runLength.push(1);
        runOffset.push(total);
        total += 1;
      }
    }

    const bytes = new Uint8Array(total * KPAGEFLAGS_ENTRY_BYTES);
    for (let r = 0; r < runFirst.length; r++) {
      const runBytes = (runLength[r] ?? 0) * KPAGEFLAGS_ENTRY_BYTES;
      const at = (runOffset[r] ?? 0) * KPAGEFLAGS_ENTRY_BYTES;
      const position = (runFirst[r] ?? 0) * KPAGEFLAGS_ENTRY_BYTES;
      let done = 0;
      while (done < runBytes) {
        const want = Math.min(this.maxIoBytes, runBytes - done);
        let got: number;
        try {
          got = readSync(fd, bytes, at + done, want, position + done);
        } catch (err) {
          if (isErrno(err, 'EACCES', 'EPERM'))
            throw new TierscopeError(
              'permission',
              `no permission to read ${this.file}: run Tierscope as root`,
              {
                cause: err,
              },
            );
          throw new TierscopeError(
            'not-found',
            `cannot read ${this.file} at offset ${position + done}: ${String(err)}`,
            {
              cause: err,
            },
          );
        }
        this.calls++;
        if (got <= 0) {
          // Past the last frame: mark the rest as holes.
          const halves = new Uint32Array(bytes.buffer, at + done, (runBytes - done) / 4);
          for (let h = LOW; h < halves.length; h += 2) halves[h] = 1 << KPF_NOPAGE;
          break;
        }
        done += got - (got % KPAGEFLAGS_ENTRY_BYTES);
      }
    }

    const halves = new Uint32Array(bytes.buffer);
    for (let i = 0; i < pfns.length; i++) {
      const pfn = pfns[i] ?? 0;
      let lo = 0;
      let hi = runFirst.length - 1;
      let entry = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const first = runFirst[mid] ?? 0;
        if (pfn < first) hi = mid - 1;
        else if (pfn >= first + (runLength[mid] ?? 0)) lo = mid + 1;
        else {
          entry = (runOffset[mid] ?? 0) + (pfn - first);
          break;
        }
      }
      result[i] = entry < 0 ? 1 << KPF_NOPAGE : (halves[2 * entry + LOW] ?? 0);
    }
    return result;
  }

  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    closeSync(fd);
  }
}
