/**
 * /proc/PID/pagemap: one 64-bit entry per virtual page (Documentation/admin-guide/mm/pagemap.rst).
 * Access samplers read it to learn which physical frame (PFN) backs each page, because the page_idle
 * bitmap is indexed by PFN, not by virtual address.
 *
 * The reader keeps one fd open and reads large batches with pread at offset (page index × 8), so a
 * sampler re-reading the same range every period pays one open per session, not per sample. Reads are
 * synchronous on purpose: a range is read in a few large preads that the kernel answers from page tables
 * without blocking on I/O, and a thread-pool hop per call would cost more than the call; samplers that
 * must not block run in a worker.
 */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import path from 'node:path';
import { TierscopeError, procfsError } from '../errors.js';
import { isErrno } from '../sysfs/files.js';

export const PAGEMAP_ENTRY_BYTES = 8;

/** Bits of the decoded per-page flags byte (not the kernel's bit positions: see decodePagemap). */
export const PAGE_PRESENT = 1 << 0; // entry bit 63: resident in RAM
export const PAGE_SWAPPED = 1 << 1; // entry bit 62: in swap
export const PAGE_FILE_OR_SHARED_ANON = 1 << 2; // entry bit 61: page cache or shared anonymous memory
export const PAGE_EXCLUSIVE = 1 << 3; // entry bit 56: mapped by exactly one process
export const PAGE_SOFT_DIRTY = 1 << 4; // entry bit 55: written since the last `echo 4 > clear_refs`
export const PAGE_UFFD_WP = 1 << 5; // entry bit 57: userfaultfd write-protected

/** Default batch: 65 536 entries = 512 KiB per pread (256 MiB of address space with 4 KiB pages). */
export const DEFAULT_PAGEMAP_BATCH_PAGES = 65_536;
/** Default cap on one request: 2^26 pages (256 GiB of 4 KiB pages) → a 512 MiB entry array. */
export const DEFAULT_PAGEMAP_MAX_PAGES = 2 ** 26;

export interface PagemapOptions {
  procRoot?: string;
  /** The machine's base page size (getconf PAGESIZE): pagemap has one entry per base page. */
  pageSizeBytes: number;
  /** Entries per pread (default DEFAULT_PAGEMAP_BATCH_PAGES). */
  batchPages?: number;
  /** Refuse ranges with more pages than this (default DEFAULT_PAGEMAP_MAX_PAGES). */
  maxPages?: number;
}

export interface DecodedPagemap {
  /** Page frame number per page; 0 when the page is not present (or the PFN is hidden from us). */
  pfns: Float64Array;
  /** PAGE_* bits per page. */
  flags: Uint8Array;
  presentPages: number;
  swappedPages: number;
}

export interface PagemapPages extends DecodedPagemap {
  pid: number;
  /** The range actually read: the requested one widened to whole pages. */
  startAddress: bigint;
  endAddress: bigint;
  pageSizeBytes: number;
  /** The kernel's entries as read. */
  raw: BigUint64Array;
}

const LOW = endianness() === 'LE' ? 0 : 1;
const HIGH = 1 - LOW;
const TWO_32 = 2 ** 32;

/**
 * Splits raw entries into PFNs and flag bytes. Works on 32-bit halves (no BigInt per page): PFN = bits
 * 0-54 (exact in a double: 2^55 frames would be 128 EiB of RAM), flags from bits 55-63. For swapped
 * pages bits 0-54 hold the swap type and offset, not a PFN: pfns[i] is then 0.
 */
export function decodePagemap(raw: BigUint64Array): DecodedPagemap {
  const halves = new Uint32Array(raw.buffer, raw.byteOffset, raw.length * 2);
  const pfns = new Float64Array(raw.length);
  const flags = new Uint8Array(raw.length);
  let presentPages = 0;
  let swappedPages = 0;
  for (let i = 0; i < raw.length; i++) {
    const lo = halves[2 * i + LOW] ?? 0;
    const hi = halves[2 * i + HIGH] ?? 0;
    let f = 0;
    if (hi >>> 31 !== 0) f |= PAGE_PRESENT;
    if ((hi >>> 30) & 1) f |= PAGE_SWAPPED;
    if ((hi >>> 29) & 1) f |= PAGE_FILE_OR_SHARED_ANON;
    if ((hi >>> 25) & 1) f |= PAGE_UFFD_WP;
    if ((hi >>> 24) & 1) f |= PAGE_EXCLUSIVE;
    if ((hi >>> 23) & 1) f |= PAGE_SOFT_DIRTY;
    flags[i] = f;
    if ((f & PAGE_PRESENT) !== 0) {
      presentPages++;
      pfns[i] = lo + (hi & 0x7f_ffff) * TWO_32;
    } else if ((f & PAGE_SWAPPED) !== 0) {
      swappedPages++;
    }
  }
  return { pfns, flags, presentPages, swappedPages };
}

/**
 * True when present pages exist but every one reads PFN 0: the kernel zeroes PFNs (and swap entries) for
 * openers without CAP_SYS_ADMIN since Linux 4.2. No user page lives in frame 0 in practice (it is reserved
 * on x86 and firmware-owned elsewhere), so a real reading always has a non-zero PFN somewhere.
 */
export function pfnsHidden(decoded: DecodedPagemap): boolean {
  if (decoded.presentPages === 0) return false;
  for (let i = 0; i < decoded.pfns.length; i++) if ((decoded.pfns[i] ?? 0) !== 0) return false;
  return true;
}

function checkPositiveInt(value: number, what: string, example: string): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new TierscopeError(
      'invalid-argument',
      `${what} ${String(value)} is not a positive integer; pass e.g. ${example}`,
    );
  }
}

/** A /proc/PID/pagemap opened once and read at offsets. Call close() when done. */
export class PagemapReader {
  readonly pid: number;
  readonly pageSizeBytes: number;
  readonly file: string;
  private readonly batchPages: number;
  private readonly maxPages: number;
  private readonly procRoot: string;
  private fd: number | null;

  private constructor(pid: number, fd: number, file: string, procRoot: string, options: PagemapOptions) {
    this.pid = pid;
    this.fd = fd;
    this.file = file;
    this.procRoot = procRoot;
    this.pageSizeBytes = options.pageSizeBytes;
    this.batchPages = options.batchPages ?? DEFAULT_PAGEMAP_BATCH_PAGES;
    this.maxPages = options.maxPages ?? DEFAULT_PAGEMAP_MAX_PAGES;
  }

  /**
   * Opens /proc/PID/pagemap. The kernel decides at open time, from the opener's credentials, whether
   * reads show PFNs (CAP_SYS_ADMIN) and whether we may read at all (ptrace read access to PID).
   */
  static open(pid: number, options: PagemapOptions): PagemapReader {
    if (!Number.isSafeInteger(pid) || pid <= 0) {
      throw new TierscopeError(
        'invalid-argument',
        `${String(pid)} is not a process id; pass a positive integer PID`,
      );
    }
    const { pageSizeBytes } = options;
    if (
      !Number.isSafeInteger(pageSizeBytes) ||
      pageSizeBytes < 1024 ||
      (pageSizeBytes & (pageSizeBytes - 1)) !== 0
    ) {
      throw new TierscopeError(
        'invalid-argument',
        `page size ${String(pageSizeBytes)} bytes is not a power of two of at least 1024; pass the base page size (getconf PAGESIZE)`,
      );
    }
    checkPositiveInt(options.batchPages ?? 1, 'batchPages', String(DEFAULT_PAGEMAP_BATCH_PAGES));
    checkPositiveInt(options.maxPages ?? 1, 'maxPages', String(DEFAULT_PAGEMAP_MAX_PAGES));
    const procRoot = options.procRoot ?? '/proc';
    const file = path.join(procRoot, String(pid), 'pagemap');
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (err) {
      if (isErrno(err, 'ENOENT') && existsSync(path.join(procRoot, String(pid)))) {
        throw new TierscopeError(
          'unsupported',
          `${file} does not exist: the kernel was built without CONFIG_PROC_PAGE_MONITOR; boot a kernel with it to map pages to physical frames`,
          { cause: err },
        );
      }
      throw procfsError(err, pid, 'pagemap');
    }
    return new PagemapReader(pid, fd, file, procRoot, options);
  }

  /** Page-aligned [start, end) and page count, or a typed error for an empty or oversized range. */
  private pageRange(startAddress: bigint, endAddress: bigint): { start: bigint; end: bigint; pages: number } {
    const size = BigInt(this.pageSizeBytes);
    if (startAddress < 0n || endAddress > 2n ** 64n || startAddress >= endAddress) {
      throw new TierscopeError(
        'invalid-argument',
        `address range 0x${startAddress.toString(16)}-0x${endAddress.toString(16)} is empty or outside 0..2^64; pass start < end`,
      );
    }
    const start = startAddress - (startAddress % size);
    const end = endAddress + ((size - (endAddress % size)) % size);
    const pages = (end - start) / size;
    if (pages > BigInt(this.maxPages)) {
      throw new TierscopeError(
        'invalid-argument',
        `address range 0x${start.toString(16)}-0x${end.toString(16)} has ${pages} pages, more than the limit ${this.maxPages}; read it in parts`,
      );
    }
    return { start, end, pages: Number(pages) };
  }

  /**
   * The raw entries for [startAddress, endAddress) widened to whole pages, written into `out` when given
   * (its length must be the page count) or a new array.
   */
  readRaw(startAddress: bigint, endAddress: bigint, out?: BigUint64Array): BigUint64Array {
    const fd = this.fd;
    if (fd === null) {
      throw new TierscopeError(
        'invalid-argument',
        `${this.file} was already closed; open a new PagemapReader`,
      );
    }
    const { start, pages } = this.pageRange(startAddress, endAddress);
    const entries = out ?? new BigUint64Array(pages);
    if (entries.length !== pages) {
      throw new TierscopeError(
        'invalid-argument',
        `output array has ${entries.length} entries but the range has ${pages} pages; pass an array of that length`,
      );
    }
    const bytes = new Uint8Array(entries.buffer, entries.byteOffset, entries.byteLength);
    const firstOffset = (start / BigInt(this.pageSizeBytes)) * BigInt(PAGEMAP_ENTRY_BYTES);
    const batchBytes = this.batchPages * PAGEMAP_ENTRY_BYTES;
    let done = 0;
    while (done < bytes.length) {
      const want = Math.min(batchBytes, bytes.length - done);
      let got: number;
      try {
        got = readSync(fd, bytes, done, want, firstOffset + BigInt(done));
      } catch (err) {
        throw this.readError(err);
      }
      if (got === 0) throw this.endOfData(start + BigInt((done / PAGEMAP_ENTRY_BYTES) * this.pageSizeBytes));
      // The kernel only returns whole entries; a partial one would be a kernel bug, but do not misalign.
      done += got - (got % PAGEMAP_ENTRY_BYTES);
    }
    return entries;
  }

  /**
   * Decoded entries for [startAddress, endAddress). Throws TierscopeError('permission') when the kernel
   * hid the PFNs (no CAP_SYS_ADMIN): the flags alone would still be readable with readRaw/decodePagemap.
   */
  read(startAddress: bigint, endAddress: bigint): PagemapPages {
    const raw = this.readRaw(startAddress, endAddress);
    const decoded = decodePagemap(raw);
    if (pfnsHidden(decoded)) {
      throw new TierscopeError(
        'permission',
        `page frame numbers of process ${this.pid} are hidden: ${this.file} shows PFNs only to readers with CAP_SYS_ADMIN (every present page read as PFN 0), and page_idle tracking needs them; run Tierscope as root`,
      );
    }
    const { start, end } = this.pageRange(startAddress, endAddress);
    return {
      pid: this.pid,
      startAddress: start,
      endAddress: end,
      pageSizeBytes: this.pageSizeBytes,
      raw,
      ...decoded,
    };
  }

  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    closeSync(fd);
  }

  private readError(err: unknown): TierscopeError {
    if (isErrno(err, 'ESRCH')) return procfsError(err, this.pid, 'pagemap');
    if (isErrno(err, 'EACCES', 'EPERM')) return procfsError(err, this.pid, 'pagemap');
    return new TierscopeError('not-found', `cannot read ${this.file}: ${String(err)}`, { cause: err });
  }

  /** A zero-byte read: the process has exited (its mm is gone), or the range is past the user address space. */
  private endOfData(address: bigint): TierscopeError {
    if (!existsSync(path.join(this.procRoot, String(this.pid)))) {
      return new TierscopeError(
        'process-gone',
        `process ${this.pid} does not exist: it exited while its pagemap was being read`,
      );
    }
    return new TierscopeError(
      'invalid-argument',
      `${this.file} has no entries from 0x${address.toString(16)} on: the address is beyond the process's user address space (or the process is exiting); pass a range inside its mappings`,
    );
  }
}

/** One-shot: open, read [startAddress, endAddress), close. */
export function readPagemap(
  pid: number,
  startAddress: bigint,
  endAddress: bigint,
  options: PagemapOptions,
): PagemapPages {
  const reader = PagemapReader.open(pid, options);
  try {
    return reader.read(startAddress, endAddress);
  } finally {
    reader.close();
  }
}
