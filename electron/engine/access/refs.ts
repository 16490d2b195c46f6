/**
 * The unprivileged access source: per scan, how many pages of each VMA were referenced since the previous
 * scan, from /proc/PID/smaps "Referenced" (pages whose PTE young bit or page referenced flag is set), then
 * "1" written to /proc/PID/clear_refs to clear both for every VMA of the process. No page identity: the
 * hotness model gives bounds at this granularity (hotness.ts).
 *
 * Files stay open for the whole session (Sysprof style): smaps is re-read from offset 0 with pread, which
 * makes the kernel's seq_file restart its walk, so each scan sees fresh values without an open/close; the
 * open fd pins the original mm, so a reused PID can never be read by mistake (an exited process reads as
 * empty). clear_refs resolves its task on every write and fails with ESRCH once the process is gone.
 *
 * Soft-dirty ("4") is not used: clearing it write-protects every PTE of the target, so its next write to
 * each page takes a fault — a cost on the profiled process far beyond clearing young bits — and the writes
 * it reveals (pagemap bit 55) are per page, which a pagemap-based source reads, not this one. VmaAccess has
 * no field for writes either.
 *
 * Undercount: clear_refs "1" clears young bits without flushing the TLB (only "4" flushes), and x86 sets a
 * young bit only when it loads a translation, so a page used through a translation that stays cached reads
 * as unreferenced. Small, very hot working sets (within TLB reach, a few thousand pages) are hit hardest;
 * on the development machine a region rewritten every few ms read 64–100 % referenced at 8 MiB and
 * 98–99.6 % at 64 MiB. idle_pages flushes the TLB on close and has no such bias.
 *
 * Side effects on the target: the write takes its mmap lock for writing while every VMA is walked (page
 * faults and mmap calls wait), and reclaim sees its pages as not recently referenced (it ages them as if
 * idle since the last scan).
 */
import { constants } from 'node:fs';
import { access, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { AccessSourceId } from '../../contract/index.js';
import { pageSizeBytes as nativePageSizeBytes } from '../../../native-bridge/index.js';
import { TierscopeError, procfsError } from '../errors.js';
import { parseSmaps, type SmapsEntry } from '../procfs/smaps.js';
import type { AccessSource, ScanResult, ScanVma, VmaAccess } from './source.js';

export const REFS_LIMITS =
  'per-VMA only: counts referenced pages in each VMA, not which pages; cannot place hot pages by node; ' +
  'undercounts pages the process keeps using through cached TLB entries (clear_refs does not flush the TLB)';

/** What clear_refs is given: 1 = clear referenced bits (PTE young + page flag) of all VMAs. */
const CLEAR_REFERENCED = '1';

export interface RefsSourceOptions {
  procRoot?: string;
  /** Base page size; default: the machine's. */
  pageSizeBytes?: number;
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Per-VMA referenced and resident pages from parsed smaps. A VMA gets a record when the smaps entries
 * overlapping it all lie inside it (the same VMA, or pieces it was split into); when an entry straddles its
 * boundary the VMA changed shape since the caller listed it, and it gets no record (unknown this scan).
 */
export function refsFromSmaps(
  vmas: readonly ScanVma[],
  entries: readonly SmapsEntry[],
  pageSizeBytes: number,
  source = 'smaps',
): ScanResult {
  const kbPerPage = pageSizeBytes / 1024;
  const sorted = [...entries].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const accesses: VmaAccess[] = [];
  let pagesScanned = 0;
  for (const e of sorted) pagesScanned += Math.floor((e.fieldsKB.Rss ?? 0) / kbPerPage);

  for (const v of vmas) {
    // First entry ending after v.start (entries do not overlap each other, so ends are sorted too).
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((sorted[mid]?.end ?? v.end) <= v.start) lo = mid + 1;
      else hi = mid;
    }
    let referencedKB = 0;
    let rssKB = 0;
    let matched = 0;
    let straddles = false;
    for (let i = lo; i < sorted.length; i++) {
      const e = sorted[i];
      if (!e || e.start >= v.end) break;
      if (e.start < v.start || e.end > v.end) {
        straddles = true;
        break;
      }
      const referenced = e.fieldsKB.Referenced;
      if (referenced === undefined)
        throw new TierscopeError(
          'unsupported',
          `${source} has no Referenced field for ${e.start.toString(16)}-${e.end.toString(16)}: ` +
            `this kernel cannot report referenced pages; use another access source`,
        );
      referencedKB += referenced;
      rssKB += e.fieldsKB.Rss ?? 0;
      matched++;
    }
    if (straddles || matched === 0) continue;
    accesses.push({
      granularity: 'vma',
      vmaId: v.id,
      accessedPages: Math.floor(referencedKB / kbPerPage),
      residentPages: Math.floor(rssKB / kbPerPage),
    });
  }
  return { accesses, pagesScanned };
}

export class RefsSource implements AccessSource {
  readonly id: AccessSourceId = 'refs';
  readonly limits = REFS_LIMITS;
  readonly pageSizeBytes: number;
  private readonly dir: string;
  private smaps: FileHandle | null = null;
  private clearRefs: FileHandle | null = null;
  private buffer = Buffer.alloc(256 * 1024);

  constructor(
    readonly pid: number,
    options: RefsSourceOptions = {},
  ) {
    if (!Number.isSafeInteger(pid) || pid <= 0)
      throw new TierscopeError('invalid-argument', `${pid} is not a process id; pass a positive integer PID`);
    this.pageSizeBytes = options.pageSizeBytes ?? nativePageSizeBytes();
    if (this.pageSizeBytes < 1024 || this.pageSizeBytes % 1024 !== 0)
      throw new TierscopeError(
        'invalid-argument',
        `page size ${this.pageSizeBytes} is not a multiple of 1 KiB`,
      );
    this.dir = join(options.procRoot ?? '/proc', String(pid));
  }

  /** Opens clear_refs (first: it is the stricter permission) and smaps, and clears the referenced bits. */
  async start(_vmas: readonly ScanVma[]): Promise<void> {
    await this.stop();
    const clearPath = join(this.dir, 'clear_refs');
    try {
      this.clearRefs = await open(clearPath, constants.O_WRONLY);
    } catch (err) {
      throw await this.clearRefsError(err, 'open');
    }
    try {
      this.smaps = await open(join(this.dir, 'smaps'), constants.O_RDONLY);
    } catch (err) {
      await this.stop();
      throw procfsError(err, this.pid, 'smaps');
    }
    try {
      // Empty smaps: nothing to profile (exited, exiting, or a kernel thread); say so now, not at scan 1.
      await this.readSmaps();
      await this.clear();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async scan(vmas: readonly ScanVma[]): Promise<ScanResult> {
    if (!this.smaps || !this.clearRefs)
      throw new TierscopeError('invalid-argument', 'refs source: scan() before start() (or after stop())');
    const text = await this.readSmaps();
    // Clear right after the read: accesses between the two are lost, so keep the gap to one syscall.
    await this.clear();
    return refsFromSmaps(vmas, parseSmaps(text, join(this.dir, 'smaps')), this.pageSizeBytes, 'smaps');
  }

  async stop(): Promise<void> {
    const handles = [this.smaps, this.clearRefs];
    this.smaps = null;
    this.clearRefs = null;
    for (const h of handles) if (h) await h.close().catch(() => undefined);
  }

  private async readSmaps(): Promise<string> {
    const fh = this.smaps;
    if (!fh) throw new TierscopeError('invalid-argument', 'refs source is not started');
    let length = 0;
    try {
      for (;;) {
        if (length === this.buffer.length) {
          const bigger = Buffer.alloc(this.buffer.length * 2);
          this.buffer.copy(bigger, 0, 0, length);
          this.buffer = bigger;
        }
        // Explicit position = pread: position 0 restarts the kernel's walk, later ones continue it.
        const { bytesRead } = await fh.read(this.buffer, length, this.buffer.length - length, length);
        if (bytesRead === 0) break;
        length += bytesRead;
      }
    } catch (err) {
      throw procfsError(err, this.pid, 'smaps');
    }
    if (length === 0)
      throw new TierscopeError(
        'process-gone',
        `process ${this.pid} has no memory mappings: it exited, is exiting, or is a kernel thread`,
      );
    return this.buffer.toString('utf8', 0, length);
  }

  private async clear(): Promise<void> {
    const fh = this.clearRefs;
    if (!fh) throw new TierscopeError('invalid-argument', 'refs source is not started');
    try {
      await fh.write(CLEAR_REFERENCED);
    } catch (err) {
      throw await this.clearRefsError(err, 'write');
    }
  }

  private async clearRefsError(err: unknown, op: 'open' | 'write'): Promise<TierscopeError> {
    const path = join(this.dir, 'clear_refs');
    const code = errnoCode(err);
    switch (code) {
      case 'EACCES':
      case 'EPERM':
        return new TierscopeError(
          'permission',
          `no permission to write ${path} (the refs source clears referenced bits there between scans): ` +
            `only the process's owner, while the process is dumpable, or root may; run as that user or as root`,
          { cause: err },
        );
      case 'ESRCH':
        return new TierscopeError('process-gone', `process ${this.pid} exited while it was being profiled`, {
          cause: err,
        });
      case 'ENOENT': {
        const alive = await access(this.dir).then(
          () => true,
          () => false,
        );
        return alive
          ? new TierscopeError(
              'unsupported',
              `${path} does not exist: this kernel lacks clear_refs (CONFIG_PROC_PAGE_MONITOR); use another access source`,
              { cause: err },
            )
          : new TierscopeError('process-gone', `process ${this.pid} does not exist`, { cause: err });
      }
      default:
        return new TierscopeError('not-found', `cannot ${op} ${path}: ${String(err)}`, { cause: err });
    }
  }
}
