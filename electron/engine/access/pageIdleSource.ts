/**
 * The page_idle access source (Documentation/admin-guide/mm/idle_page_tracking.rst): per base page, was it
 * accessed since the previous scan. The bitmap is indexed by physical frame, so each scan walks the
 * VMAs' pagemap for the frames backing their pages, reads those frames' idle bits (a set bit = not
 * accessed since it was marked), and marks them idle again right away (read → mark per batch, so the
 * blind window of a page is one syscall wide). start() makes the same pass, so every present page is
 * marked once before the first scan.
 *
 * What an "accessed" reading means (mm/page_idle.c, 6.12):
 * - The bitmap reads "not idle" both for frames accessed since the mark and for frames the kernel does
 *   not track: tail pages of a large folio (the idle flag lives on the head), and frames off the LRU
 *   (the zero page, hugetlb, pages isolated for migration or still in a per-CPU batch after their first
 *   fault). So every frame that reads "not idle" is looked up in /proc/kpageflags: untracked frames are
 *   PAGE_UNKNOWN, and a tail page takes the reading of its folio's head, found as the page just before
 *   it in both address spaces (a folio is mapped contiguously). A tail whose head is not mapped right
 *   before it (a folio partly unmapped or remapped) is unknown. Large folios (THP, mTHP) are therefore
 *   tracked per folio: one access anywhere marks all of their pages accessed.
 * - A frame off the LRU cannot be marked either. One found off the LRU stays unknown at the next read
 *   even if it is back on the LRU by then (the mark in between missed it), so the common case — a page
 *   that sat in a per-CPU batch after its first fault — never reads falsely accessed. A frame that
 *   leaves the LRU exactly between our read and our mark of it still reads accessed once.
 * - Frames change between scans. A page newly faulted, swapped in, copied on write or collapsed into a
 *   huge page sits in a frame nobody marked: it reads accessed, which for the first three is true (the
 *   fault was an access); khugepaged's collapse is the one false positive, for one scan. A page migrated
 *   by the kernel (NUMA balancing, compaction, move_pages) keeps its idle state: migration copies the
 *   idle flag to the new frame. So nothing per page is kept between scans: each scan reads the frames
 *   mapped now.
 * - Marking and reading clear the PTE accessed bits without a TLB flush (ptep_clear_young_notify), as
 *   refs does: on x86 a page used only through a translation still cached in the TLB sets no accessed
 *   bit and reads idle. Small, very hot working sets can be under-reported; under QEMU TCG (the lab) it
 *   is total unless something switches address spaces (see test/lab/README.md).
 * - The rmap walk behind a read sees every mapping: a shared or page-cache page reads accessed when any
 *   process touched it, or read()/write() did. A file page locked for I/O at read time is not walked
 *   and may read idle.
 * - Others clearing accessed bits between our scans hide accesses: DAMON (it even sets the idle flag),
 *   clear_refs, another page_idle reader, MGLRU aging.
 */
import type { AccessSourceId } from '../../contract/index.js';
import { pageSizeBytes as nativePageSizeBytes } from '../../../native-bridge/index.js';
import { TierscopeError } from '../errors.js';
import { DEFAULT_MAX_PAGES_PER_VMA } from './hotness.js';
import {
  KPF_COMPOUND_TAIL,
  KPF_HUGE,
  KPF_LRU,
  KPF_NOPAGE,
  KPF_ZERO_PAGE,
  KPageFlagsReader,
} from './kpageflags.js';
import { PageIdleBitmap } from './pageIdle.js';
import {
  DEFAULT_PAGEMAP_BATCH_PAGES,
  PAGE_PRESENT,
  PagemapReader,
  decodePagemap,
  pfnsHidden,
} from './pagemap.js';
import {
  PAGE_ACCESSED,
  PAGE_IDLE,
  PAGE_UNKNOWN,
  type AccessSource,
  type ScanResult,
  type ScanVma,
  type VmaAccess,
} from './source.js';

export const PAGE_IDLE_LIMITS =
  'needs root; per base page by physical frame, but huge pages and other large folios per folio (one ' +
  'access marks all their pages); accessed bits are cleared without a TLB flush, so pages used only ' +
  'through translations cached in the TLB read idle (small, very hot working sets can be ' +
  'under-reported); pages the kernel does not track (zero page, hugetlb, pages off the LRU) and pages ' +
  'not resident are unknown; a shared or page-cache page counts as accessed when any process touched ' +
  'it; DAMON, clear_refs or another page_idle reader on the same pages hide accesses';

/** The three kernel files, as the source uses them; tests substitute a simulated kernel. */
export interface PageIdleFiles {
  pagemap: Pick<PagemapReader, 'readRaw' | 'close'>;
  bitmap: Pick<PageIdleBitmap, 'markIdle' | 'readIdle' | 'close'>;
  pageFlags: Pick<KPageFlagsReader, 'read' | 'close'>;
}

export type OpenPageIdleFiles = (
  pid: number,
  options: { procRoot: string; sysRoot: string; pageSizeBytes: number },
) => PageIdleFiles;

/** Opens the bitmap first: it is the root-only one, so a user without root gets that error. */
export const openKernelPageIdleFiles: OpenPageIdleFiles = (pid, { procRoot, sysRoot, pageSizeBytes }) => {
  const bitmap = PageIdleBitmap.open({ sysRoot });
  let pagemap: PagemapReader | null = null;
  try {
    pagemap = PagemapReader.open(pid, { procRoot, pageSizeBytes });
    const pageFlags = KPageFlagsReader.open({ procRoot });
    return { pagemap, bitmap, pageFlags };
  } catch (err) {
    pagemap?.close();
    bitmap.close();
    throw err;
  }
};

export interface PageIdleSourceOptions {
  procRoot?: string;
  sysRoot?: string;
  /** Base page size; default: the machine's. */
  pageSizeBytes?: number;
  /** VMAs with more pages get no record (default: the hotness model's cap). */
  maxPagesPerVma?: number;
  /** Pages per pagemap read and per bitmap read/mark batch (default 65 536 = 256 MiB of 4 KiB pages). */
  batchPages?: number;
  /** How the kernel files are opened; tests pass a simulated kernel. */
  openFiles?: OpenPageIdleFiles;
}

/** The folio the previous page belonged to: a tail at `vpage` backed by `pfn` continues it. */
interface Carry {
  vpage: number;
  pfn: number;
  flag: number;
}

export class PageIdleSource implements AccessSource {
  readonly id: AccessSourceId = 'page_idle';
  readonly limits = PAGE_IDLE_LIMITS;
  readonly pageSizeBytes: number;
  private readonly procRoot: string;
  private readonly sysRoot: string;
  private readonly maxPagesPerVma: number;
  private readonly batchPages: number;
  private readonly openFiles: OpenPageIdleFiles;
  private files: PageIdleFiles | null = null;
  private raw: BigUint64Array | null = null;
  /**
   * Frames the last pass found untracked (off the LRU): the mark that followed could not set their idle
   * flag, so "not idle" at the next read says nothing about them. A handful at any time (per-CPU batches,
   * isolated pages, the zero page), hence a set.
   */
  private unmarked = new Set<number>();
  private unmarkedNext = new Set<number>();

  constructor(
    readonly pid: number,
    options: PageIdleSourceOptions = {},
  ) {
    if (!Number.isSafeInteger(pid) || pid <= 0)
      throw new TierscopeError('invalid-argument', `${pid} is not a process id; pass a positive integer PID`);
    this.pageSizeBytes = options.pageSizeBytes ?? nativePageSizeBytes();
    this.procRoot = options.procRoot ?? '/proc';
    this.sysRoot = options.sysRoot ?? '/sys';
    this.maxPagesPerVma = options.maxPagesPerVma ?? DEFAULT_MAX_PAGES_PER_VMA;
    this.batchPages = options.batchPages ?? DEFAULT_PAGEMAP_BATCH_PAGES;
    if (!Number.isSafeInteger(this.batchPages) || this.batchPages < 1)
      throw new TierscopeError('invalid-argument', `batchPages must be a positive integer`);
    if (!Number.isSafeInteger(this.maxPagesPerVma) || this.maxPagesPerVma < 1)
      throw new TierscopeError('invalid-argument', `maxPagesPerVma must be a positive integer`);
    this.openFiles = options.openFiles ?? openKernelPageIdleFiles;
  }

  /**
   * Opens pagemap, the bitmap and kpageflags (kept open until stop()) and marks every present page idle.
   * The pass also reads and classifies (discarded), to learn which frames the mark cannot reach.
   */
  start(vmas: readonly ScanVma[]): Promise<void> {
    return Promise.resolve().then(() => {
      this.close();
      this.files = this.openFiles(this.pid, {
        procRoot: this.procRoot,
        sysRoot: this.sysRoot,
        pageSizeBytes: this.pageSizeBytes,
      });
      try {
        this.walk(vmas);
      } catch (err) {
        this.close();
        throw err;
      }
    });
  }

  scan(vmas: readonly ScanVma[]): Promise<ScanResult> {
    return Promise.resolve().then(() => {
      if (!this.files)
        throw new TierscopeError(
          'invalid-argument',
          'page_idle source: scan() before start() (or after stop())',
        );
      return this.walk(vmas);
    });
  }

  stop(): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  private close(): void {
    const files = this.files;
    this.files = null;
    this.raw = null;
    this.unmarked = new Set();
    if (!files) return;
    for (const f of [files.pageFlags, files.pagemap, files.bitmap]) {
      try {
        f.close();
      } catch {
        // Closing a read-only or sysfs fd cannot lose data; keep closing the others.
      }
    }
  }

  /**
   * One pass over the VMAs in address order, batch by batch: pagemap → frames of present pages → read
   * their idle bits → mark them idle → classify. Returns the per-page flags and the present pages handled.
   */
  private walk(vmas: readonly ScanVma[]): ScanResult {
    const files = this.files;
    if (!files) throw new TierscopeError('invalid-argument', 'page_idle source is not started');
    const ps = BigInt(this.pageSizeBytes);
    const sorted = [...vmas].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    const accesses: VmaAccess[] = [];
    let pagesScanned = 0;
    const carry: Carry = { vpage: -1, pfn: -1, flag: PAGE_UNKNOWN };
    this.unmarkedNext.clear();

    for (const v of sorted) {
      if (v.end <= v.start) continue;
      if (v.start % ps !== 0n || v.end % ps !== 0n)
        throw new TierscopeError(
          'invalid-argument',
          `VMA ${v.id} range ${v.start.toString(16)}-${v.end.toString(16)} is not page aligned`,
        );
      const pagesBig = (v.end - v.start) / ps;
      if (pagesBig > BigInt(this.maxPagesPerVma)) continue; // the model does not track it either
      const pages = Number(pagesBig);
      const firstVpage = Number(v.start / ps);
      const flags = new Uint8Array(pages).fill(PAGE_UNKNOWN);

      for (let c0 = 0; c0 < pages; c0 += this.batchPages) {
        const n = Math.min(this.batchPages, pages - c0);
        if (!this.raw || this.raw.length < n)
          this.raw = new BigUint64Array(Math.min(this.batchPages, Math.max(n, 4096)));
        const raw = files.pagemap.readRaw(
          v.start + BigInt(c0) * ps,
          v.start + BigInt(c0 + n) * ps,
          this.raw.subarray(0, n),
        );
        const decoded = decodePagemap(raw);
        if (pfnsHidden(decoded))
          throw new TierscopeError(
            'permission',
            `page frame numbers of process ${this.pid} are hidden: /proc/${this.pid}/pagemap shows PFNs only to readers with CAP_SYS_ADMIN, and page_idle tracking needs them; run Tierscope as root`,
          );
        // Present pages with a frame: their index in the batch and their PFN.
        const at = new Uint32Array(decoded.presentPages);
        const pfns = new Float64Array(decoded.presentPages);
        let m = 0;
        for (let i = 0; i < n; i++) {
          const pfn = decoded.pfns[i] ?? 0;
          if (((decoded.flags[i] ?? 0) & PAGE_PRESENT) === 0 || pfn === 0) continue;
          at[m] = i;
          pfns[m++] = pfn;
        }
        const framePfns = pfns.subarray(0, m);
        pagesScanned += m;
        const notIdle = files.bitmap.readIdle(framePfns);
        files.bitmap.markIdle(framePfns);
        this.classifyBatch(files, flags, c0, firstVpage, at.subarray(0, m), framePfns, notIdle, carry);
      }
      accesses.push({ granularity: 'page', vmaId: v.id, flags });
    }
    [this.unmarked, this.unmarkedNext] = [this.unmarkedNext, this.unmarked];
    return { accesses, pagesScanned };
  }

  /** Turns the idle readings of one batch into page flags (see the module comment for the rules). */
  private classifyBatch(
    files: PageIdleFiles,
    flags: Uint8Array,
    c0: number,
    firstVpage: number,
    at: Uint32Array,
    pfns: Float64Array,
    notIdle: Uint8Array,
    carry: Carry,
  ): void {
    let suspects = 0;
    for (let k = 0; k < notIdle.length; k++) if (notIdle[k] === 1) suspects++;
    const suspectPfns = new Float64Array(suspects);
    for (let k = 0, j = 0; k < notIdle.length; k++) if (notIdle[k] === 1) suspectPfns[j++] = pfns[k] ?? 0;
    const kflags = suspects > 0 ? files.pageFlags.read(suspectPfns) : new Uint32Array(0);

    const untracked = (1 << KPF_NOPAGE) | (1 << KPF_HUGE) | (1 << KPF_ZERO_PAGE);
    let j = 0;
    for (let k = 0; k < at.length; k++) {
      const i = at[k] ?? 0;
      const vpage = firstVpage + c0 + i;
      const pfn = pfns[k] ?? 0;
      // The previous page (same address space step, same frame step) belongs to this page's folio. A page
      // not present in between, in this batch or a previous one, breaks the chain: its vpage differs.
      const continues = carry.vpage === vpage && carry.pfn === pfn;
      let flag: number;
      let keep = true;
      if (notIdle[k] !== 1) {
        flag = PAGE_IDLE; // only an LRU folio's head can read idle
      } else {
        const f = kflags[j++] ?? 1 << KPF_NOPAGE;
        if ((f & (1 << KPF_COMPOUND_TAIL)) !== 0) {
          if (continues) flag = carry.flag;
          else {
            flag = PAGE_UNKNOWN;
            keep = false;
          }
        } else if ((f & untracked) !== 0 || (f & (1 << KPF_LRU)) === 0) {
          flag = PAGE_UNKNOWN;
          this.unmarkedNext.add(pfn);
        } else if (this.unmarked.has(pfn)) {
          flag = PAGE_UNKNOWN; // back on the LRU, but the last mark missed it: its reading means nothing
        } else {
          flag = PAGE_ACCESSED;
        }
      }
      flags[c0 + i] = flag;
      if (keep) {
        carry.vpage = vpage + 1;
        carry.pfn = pfn + 1;
        carry.flag = flag;
      } else {
        carry.vpage = -1;
      }
    }
  }
}
