/**
 * /proc/PID/idle_pages, the interface of the PMEM-node RFC (patch 17/21 "proc: introduce
 * /proc/PID/idle_pages", filled in by the kvm-ept-idle module; /work/shared/reference/000_*). No mainline
 * kernel has it; openEuler ships a descendant (etmem). Understood from the public module and daemon code
 * (intel/memory-optimizer kernel_module/ept_idle.{c,h}, ProcIdlePages.cc); this is an independent
 * implementation.
 *
 * Reading: the file offset is a virtual address (page aligned, else EINVAL). A read of `count` bytes walks
 * the page tables of [offset, offset + count × 8 pages) — each requested byte stands for 8 pages of address
 * space — and returns a byte stream of records; fewer bytes when its buffer fills first. `count` must be at
 * least 19 bytes. The read TEST-AND-CLEARS the accessed bit of every PTE (and huge PMD) it reports, so reading
 * is what re-arms the source, and two readers of one process steal each other's bits. Closing the file
 * flushes the process's TLB (mm_idle_release → flush_tlb_mm): without that, CPUs keep using cached
 * translations and set no accessed bit again, so the file is opened and closed once per scan, as the RFC's
 * daemon loop does ("open,read,close /proc/PID/idle_pages"). With the module unloaded the file exists but
 * every read returns 0 bytes.
 *
 * Stream: one byte per record, (type << 4) | count, count 1..15 consecutive pages of that type:
 *   0 PTE_ACCESSED   4 KiB, accessed          5 PTE_IDLE        4 KiB, not accessed
 *   1 PMD_ACCESSED   2 MiB, accessed          6 PMD_IDLE        2 MiB huge page, not accessed
 *   2 PUD_PRESENT    1 GiB, present (its accessed bit is not read)
 *   3 PTE_DIRTY      4 KiB, accessed + dirty  7 PMD_IDLE_PTES   2 MiB of 4 KiB pages, all idle
 *   4 PMD_DIRTY      2 MiB, accessed + dirty  8 PTE_HOLE        4 KiB not present
 *                                             9 PMD_HOLE        2 MiB not present
 * and one command, 0xA0 (type 10, count 0) SET_HVA, followed by a 64-bit BIG-endian address: the next
 * record starts there. The kernel emits SET_HVA at the start of each read and wherever the walk skips
 * addresses (holes at the start of a run are merged into the jump, unmapped gaps, file-backed VMAs the
 * module does not walk — only anonymous and private writable file mappings are walked); every page jumped
 * over is unknown here. A read that ends short of its range ends with SET_HVA(range end). The cursor after
 * the last record is where the kernel stopped (its new file position), so the next read starts there.
 * Within one read the module walks a 2 MiB block shared by two VMAs only for the first of them, so a
 * read that runs on into the next VMA leaves that VMA's first pages unreported; the walk below re-reads
 * them (see walk()).
 *
 * The per-page flags: accessed for types 0, 1, 3, 4; idle for 5, 6, 7; unknown for 2, 8, 9 and jumped-over
 * pages. 2 MiB records expand to 512 base pages, 1 GiB ones to 512 × 512. x86-64 only (4 KiB base pages),
 * as the module is. The later out-of-tree module's global /proc/idle_pages (selected by an ioctl) is not
 * supported: it needs an ioctl, which Node cannot issue.
 */
import { constants } from 'node:fs';
import { access, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { AccessSourceId } from '../../contract/index.js';
import { TierscopeError } from '../errors.js';
import {
  PAGE_ACCESSED,
  PAGE_IDLE,
  PAGE_UNKNOWN,
  type AccessSource,
  type ScanResult,
  type ScanVma,
  type VmaAccess,
} from './source.js';

export const IDLE_PAGES_LIMITS =
  'needs the kvm-ept-idle module (/proc/PID/idle_pages), x86-64 only; walks anonymous and private ' +
  'writable file mappings only (other file-backed pages stay unknown); 1 GiB pages are reported present ' +
  'without their accessed bit (unknown); reading clears accessed bits, so no other idle_pages reader may ' +
  'run on the process at the same time';

/** Record types (the module's enum ProcIdlePageType). */
export const IdlePageType = {
  PTE_ACCESSED: 0,
  PMD_ACCESSED: 1,
  PUD_PRESENT: 2,
  PTE_DIRTY: 3,
  PMD_DIRTY: 4,
  PTE_IDLE: 5,
  PMD_IDLE: 6,
  PMD_IDLE_PTES: 7,
  PTE_HOLE: 8,
  PMD_HOLE: 9,
  PIP_CMD: 10,
} as const;

/** (PIP_CMD << 4) | 0, followed by a big-endian u64 address. */
export const PIP_CMD_SET_HVA = 0xa0;
/** The stream counts in 4 KiB pages (x86-64). */
export const IDLE_PAGES_PAGE_BYTES = 4096;
/** The module rejects reads shorter than this (EPT_IDLE_BUF_MIN = 2 × 8 + 3). */
export const IDLE_PAGES_MIN_READ_BYTES = 19;
/** Address space one requested byte lets a read walk: 8 pages. */
export const IDLE_PAGES_PAGES_PER_READ_BYTE = 8;

/** Base pages per record unit, by type (index = type). */
const PAGES_OF_TYPE = [1, 512, 512 * 512, 1, 512, 1, 512, 512, 1, 512];
const FLAG_OF_TYPE = [
  PAGE_ACCESSED,
  PAGE_ACCESSED,
  PAGE_UNKNOWN,
  PAGE_ACCESSED,
  PAGE_ACCESSED,
  PAGE_IDLE,
  PAGE_IDLE,
  PAGE_IDLE,
  PAGE_UNKNOWN,
  PAGE_UNKNOWN,
];

const PAGE_SHIFT = 12n;
/** Highest user address + 1 with 5-level paging: nothing at or above it is readable through the file. */
const USER_ADDRESS_LIMIT = 1n << 56n;

/** Receives one decoded run: `pages` base pages starting at base page number `firstPage` (address / 4096). */
export type IdleExtentSink = (firstPage: number, pages: number, flag: number) => void;

function streamError(source: string, at: number, what: string): TierscopeError {
  return new TierscopeError(
    'parse',
    `${source}: byte ${at}: ${what}; the idle_pages stream of this kernel module is not understood, ` +
      `please report it with the module's version`,
  );
}

/**
 * Decodes the bytes of one read made at base page `fromPage` (file offset / 4096). Calls `sink` for each
 * record (holes included, as PAGE_UNKNOWN) and returns the base page number after the last record. Throws
 * TierscopeError('parse') on an unknown type, a zero count, an unknown command or a truncated address.
 */
export function decodeIdlePages(
  bytes: Uint8Array,
  fromPage: number,
  sink: IdleExtentSink,
  source = 'idle_pages',
): number {
  let page = fromPage;
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] ?? 0;
    const type = b >> 4;
    const count = b & 0xf;
    if (type === IdlePageType.PIP_CMD) {
      if (count !== 0) throw streamError(source, i, `unknown command 0x${b.toString(16)}`);
      if (i + 9 > bytes.length) throw streamError(source, i, 'SET_HVA address cut short');
      // Big-endian u64 (the module's u64_to_u8 writes the most significant byte first).
      const hi =
        (((bytes[i + 1] ?? 0) << 24) |
          ((bytes[i + 2] ?? 0) << 16) |
          ((bytes[i + 3] ?? 0) << 8) |
          (bytes[i + 4] ?? 0)) >>>
        0;
      const lo =
        (((bytes[i + 5] ?? 0) << 24) |
          ((bytes[i + 6] ?? 0) << 16) |
          ((bytes[i + 7] ?? 0) << 8) |
          (bytes[i + 8] ?? 0)) >>>
        0;
      // address / 4096 = hi × 2^20 + lo / 2^12: below 2^52, exact in a double.
      page = hi * 0x100000 + Math.floor(lo / IDLE_PAGES_PAGE_BYTES);
      i += 9;
      continue;
    }
    if (type >= IdlePageType.PIP_CMD) throw streamError(source, i, `unknown record type ${type}`);
    if (count === 0) throw streamError(source, i, `record of type ${type} with a count of 0`);
    const pages = (PAGES_OF_TYPE[type] ?? 0) * count;
    sink(page, pages, FLAG_OF_TYPE[type] ?? 0);
    page += pages;
    i++;
  }
  return page;
}

/** A VMA being filled: base pages [firstPage, firstPage + flags.length). */
interface Target {
  firstPage: number;
  endPage: number;
  flags: Uint8Array;
}

/**
 * Applies decoded runs to a sorted, non-overlapping list of targets. The first report of a page wins: a
 * page read twice in one walk reads idle the second time (the first read cleared its bit), so later reports
 * only fill pages still unknown. Holes therefore write nothing.
 */
class TargetFiller {
  private hint = 0;
  constructor(private readonly targets: readonly Target[]) {}

  readonly sink: IdleExtentSink = (firstPage, pages, flag) => {
    if (flag === PAGE_UNKNOWN) return;
    const t = this.targets;
    const end = firstPage + pages;
    let i = this.hint;
    // The stream usually moves forward: try the hint, else binary-search the first target ending after it.
    const atHint = t[i];
    const beforeHint = i > 0 ? t[i - 1] : undefined;
    if (!atHint || atHint.endPage <= firstPage || (beforeHint && beforeHint.endPage > firstPage)) {
      let lo = 0;
      let hi = t.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((t[mid]?.endPage ?? Infinity) <= firstPage) lo = mid + 1;
        else hi = mid;
      }
      i = lo;
    }
    for (; i < t.length; i++) {
      const target = t[i];
      if (!target || target.firstPage >= end) break;
      const from = Math.max(firstPage, target.firstPage) - target.firstPage;
      const to = Math.min(end, target.endPage) - target.firstPage;
      const flags = target.flags;
      for (let j = from; j < to; j++) if (flags[j] === PAGE_UNKNOWN) flags[j] = flag;
      if (target.endPage > end) break;
    }
    this.hint = Math.max(0, Math.min(i, t.length - 1));
  };
}

/**
 * Per-page flags of [start, end) from the bytes of one read made at `readOffset` (an address). Pages the
 * stream does not cover are PAGE_UNKNOWN.
 */
export function idlePagesToFlags(
  bytes: Uint8Array,
  readOffset: bigint,
  start: bigint,
  end: bigint,
): Uint8Array {
  const firstPage = Number(start >> PAGE_SHIFT);
  const endPage = Number((end + BigInt(IDLE_PAGES_PAGE_BYTES - 1)) >> PAGE_SHIFT);
  const flags = new Uint8Array(endPage - firstPage).fill(PAGE_UNKNOWN);
  const filler = new TargetFiller([{ firstPage, endPage, flags }]);
  decodeIdlePages(bytes, Number(readOffset >> PAGE_SHIFT), filler.sink);
  return flags;
}

/** Pages of [from, to) inside the sorted targets: what a read walked that we asked about. */
function pagesWithin(targets: readonly Target[], fromIndex: number, from: number, to: number): number {
  let pages = 0;
  for (let i = fromIndex; i < targets.length; i++) {
    const t = targets[i];
    if (!t || t.firstPage >= to) break;
    if (t.endPage > from) pages += Math.min(to, t.endPage) - Math.max(from, t.firstPage);
  }
  return pages;
}

/** The file, as the source uses it; tests substitute a simulated module. */
export interface IdlePagesFile {
  /** pread: bytes read into `buffer` from file offset `position` (an address). */
  read(buffer: Uint8Array, position: bigint): Promise<number>;
  close(): Promise<void>;
}

export type OpenIdlePagesFile = (path: string) => Promise<IdlePagesFile>;

const openProcFile: OpenIdlePagesFile = async (path) => {
  const fh = await open(path, constants.O_RDONLY);
  return {
    read: async (buffer, position) =>
      (await fh.read(buffer, { offset: 0, length: buffer.length, position })).bytesRead,
    close: () => fh.close(),
  };
};

export interface IdlePagesSourceOptions {
  procRoot?: string;
  /** Largest single read in bytes (default 64 KiB: at most 2 GiB of address space per read). */
  readBytes?: number;
  /** VMAs with more base pages get no record (default 2^26 = 256 GiB): a flags byte per page is the cost. */
  maxPagesPerVma?: number;
  /** How the file is opened; tests pass a simulated module. */
  openFile?: OpenIdlePagesFile;
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

export class IdlePagesSource implements AccessSource {
  readonly id: AccessSourceId = 'idle_pages';
  readonly limits = IDLE_PAGES_LIMITS;
  private readonly dir: string;
  private readonly path: string;
  private readonly readBytes: number;
  private readonly maxPagesPerVma: number;
  private readonly openFile: OpenIdlePagesFile;
  private buffer: Uint8Array;
  private started = false;

  constructor(
    readonly pid: number,
    options: IdlePagesSourceOptions = {},
  ) {
    if (!Number.isSafeInteger(pid) || pid <= 0)
      throw new TierscopeError('invalid-argument', `${pid} is not a process id; pass a positive integer PID`);
    this.readBytes = options.readBytes ?? 64 * 1024;
    if (!Number.isInteger(this.readBytes) || this.readBytes < 64)
      throw new TierscopeError('invalid-argument', `idle_pages readBytes must be an integer ≥ 64`);
    this.maxPagesPerVma = options.maxPagesPerVma ?? 2 ** 26;
    this.dir = join(options.procRoot ?? '/proc', String(pid));
    this.path = join(this.dir, 'idle_pages');
    this.openFile = options.openFile ?? openProcFile;
    this.buffer = new Uint8Array(this.readBytes);
  }

  /** One discarded walk: reading clears the accessed bits, so the first scan() sees accesses since now. */
  async start(vmas: readonly ScanVma[]): Promise<void> {
    await this.walk(vmas);
    this.started = true;
  }

  async scan(vmas: readonly ScanVma[]): Promise<ScanResult> {
    if (!this.started)
      throw new TierscopeError(
        'invalid-argument',
        'idle_pages source: scan() before start() (or after stop())',
      );
    return this.walk(vmas);
  }

  /** Nothing is held between scans (the file is closed after each walk). */
  stop(): Promise<void> {
    this.started = false;
    return Promise.resolve();
  }

  private async walk(vmas: readonly ScanVma[]): Promise<ScanResult> {
    const targets: (Target & { vmaId: number })[] = [];
    const accesses: VmaAccess[] = [];
    for (const v of [...vmas].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))) {
      if (v.start >= USER_ADDRESS_LIMIT || v.end <= v.start) continue;
      const firstPage = Number(v.start >> PAGE_SHIFT);
      const endPage = Number((v.end + BigInt(IDLE_PAGES_PAGE_BYTES - 1)) >> PAGE_SHIFT);
      if (endPage - firstPage > this.maxPagesPerVma) continue;
      const flags = new Uint8Array(endPage - firstPage).fill(PAGE_UNKNOWN);
      targets.push({ vmaId: v.id, firstPage, endPage, flags });
      accesses.push({ granularity: 'page', vmaId: v.id, flags });
    }

    const file = await this.open();
    const filler = new TargetFiller(targets);
    let pagesScanned = 0;
    let bytesEver = 0;
    try {
      for (const [index, t] of targets.entries()) {
        // Start at the first page no earlier read reported, not at where the previous read stopped: a read
        // that ran on into this VMA skipped its part of a 2 MiB block shared with the previous VMA (the
        // module walks a PMD once per read), and reading those pages now is the only way to get them.
        // Pages re-walked on the way read idle and are ignored (first report wins).
        const first = t.flags.indexOf(PAGE_UNKNOWN);
        if (first < 0) continue;
        let page = t.firstPage + first;
        while (page < t.endPage) {
          const want = Math.ceil((t.endPage - page) / IDLE_PAGES_PAGES_PER_READ_BYTE);
          const count = Math.min(this.readBytes, Math.max(64, want));
          const bytes = await this.read(file, this.buffer.subarray(0, count), page);
          if (bytes === null) break; // ENXIO: nothing more to walk in this VMA
          if (bytes === 0) {
            if (bytesEver === 0)
              throw new TierscopeError(
                'unsupported',
                `${this.path} returns no data: the kvm-ept-idle module that implements it is not loaded; ` +
                  `load it (modprobe kvm-ept-idle) or use another access source`,
              );
            break; // past the end of the address space
          }
          bytesEver += bytes;
          const next = decodeIdlePages(this.buffer.subarray(0, bytes), page, filler.sink, this.path);
          if (next <= page)
            throw new TierscopeError(
              'parse',
              `${this.path}: a read at ${(BigInt(page) << PAGE_SHIFT).toString(16)} made no progress; ` +
                `the stream of this kernel module is not understood, please report it`,
            );
          pagesScanned += pagesWithin(targets, index, page, next);
          page = next;
        }
      }
    } finally {
      // Closing flushes the TLB: accesses from now on set accessed bits again.
      await file.close().catch(() => undefined);
    }
    return { accesses, pagesScanned };
  }

  private async open(): Promise<IdlePagesFile> {
    try {
      return await this.openFile(this.path);
    } catch (err) {
      switch (errnoCode(err)) {
        case 'ENOENT': {
          const alive = await access(this.dir).then(
            () => true,
            () => false,
          );
          throw alive
            ? new TierscopeError(
                'unsupported',
                `${this.path} does not exist: this kernel lacks the /proc/PID/idle_pages patch set ` +
                  `(PMEM-node RFC, kvm-ept-idle); use page_idle, DAMON or refs instead`,
                { cause: err },
              )
            : new TierscopeError('process-gone', `process ${this.pid} does not exist`, { cause: err });
        }
        case 'ESRCH':
          throw new TierscopeError('process-gone', `process ${this.pid} exited while it was being profiled`, {
            cause: err,
          });
        case 'EACCES':
        case 'EPERM':
          throw new TierscopeError(
            'permission',
            `no permission to read ${this.path}: it needs the process's owner (mode 0600, ptrace read ` +
              `access) or root; run as that user or as root`,
            { cause: err },
          );
        default:
          throw new TierscopeError('not-found', `cannot open ${this.path}: ${String(err)}`, { cause: err });
      }
    }
  }

  /** One pread at base page `page`; null for ENXIO (no VMA left to walk there). */
  private async read(file: IdlePagesFile, into: Uint8Array, page: number): Promise<number | null> {
    try {
      return await file.read(into, BigInt(page) << PAGE_SHIFT);
    } catch (err) {
      switch (errnoCode(err)) {
        case 'ENXIO':
          return null;
        case 'ESRCH':
          throw new TierscopeError('process-gone', `process ${this.pid} exited while it was being profiled`, {
            cause: err,
          });
        case 'EINVAL':
          throw new TierscopeError(
            'unsupported',
            `${this.path} rejected a ${into.length}-byte read at ${(BigInt(page) << PAGE_SHIFT).toString(16)} ` +
              `(EINVAL): this module's read rules differ from kvm-ept-idle's; use another access source`,
            { cause: err },
          );
        default:
          throw new TierscopeError('not-found', `cannot read ${this.path}: ${String(err)}`, { cause: err });
      }
    }
  }
}
