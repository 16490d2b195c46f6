/**
 * The hotness model of the PMEM-node RFC ("One round of scan+migration", /work/shared/reference/000_*):
 * per base page, in how many of the last N scans it was accessed. Accessed in all N = hot, in none = cold,
 * in between = warm. Pages whose state the latest scan could not tell (not resident, or outside every
 * region the source reported) are excluded from the classes.
 *
 * Pure and incremental: per VMA a ring of N accessed-bitsets (one bit per base page per scan) and a byte
 * count per page. A scan adds its bits and subtracts the bits of the scan leaving the window, so one update
 * costs O(pages of the VMA) whatever N is.
 *
 * Granularities (VmaAccess):
 * - page: the flags as given.
 * - region (DAMON): every page of a region counts as accessed in a scan when the region's accessRatio is
 *   > 0 and ≥ `regionAccessThreshold` (default 0: any access DAMON observed). Why not 0.5: the page model
 *   calls a page accessed when it was touched at least once in the interval; DAMON's ratio is the share of
 *   its sampling checks that saw an access, so a region whose every page is touched once per 100 ms
 *   aggregation (20 checks of 5 ms) shows ≈ 0.05 — at 0.5 it would be cold where a page source says hot.
 *   Pages outside every region are unknown. DAMON cannot tell idle from not resident, so its cold pages
 *   include never-faulted ones (the DAMON source's `limits` says so).
 * - vma (clear_refs): only "how many pages of this VMA were referenced", no page identity. Classes are
 *   bounds, assuming the VMA's resident pages stay resident over the window (A_t = referenced set of scan
 *   t, R = resident pages now, S = scans in the window):
 *     hot  ≤ min_t |A_t|               (a page hot in every scan is in every A_t)   → reported hotPages
 *     hot  ≥ Σ|A_t| − (S−1)·R          (inclusion–exclusion)                      → hotPagesMin
 *     cold ≤ R − max_t |A_t|           (a cold page is in no A_t)                  → reported coldPages
 *     cold ≥ R − Σ|A_t|                                                           → coldPagesMin
 *   The reported values (the upper bounds) are exact when the VMA touches the same pages every scan, the
 *   steady working set the model is for; warm is what is left, so it is a lower bound.
 *
 * VMA identity: state is kept by ScanVma.id. A VMA missing from a scan's VMA list is dropped. A VMA in the
 * list without an access record this scan slides its window with an all-unknown scan. A VMA whose range
 * changed (mremap, brk, a neighbour merged in) is re-based by address: pages still inside keep their
 * counts and history; pages that joined start with count 0 and no history, so they cannot be hot before a
 * full window has passed with them inside (ranges are page aligned, so pages always line up). At vma
 * granularity a resize resets the window (the bounds assume an unchanged resident set), and so does
 * switching a VMA between vma granularity and page/region granularity.
 */
import type { CountRun, HeatRow, HexAddress, HotnessClass } from '../../contract/index.js';
import { TierscopeError } from '../errors.js';
import { procHex } from '../procfs/text.js';
import { PAGE_ACCESSED, PAGE_IDLE, PAGE_UNKNOWN, type ScanVma, type VmaAccess } from './source.js';

/** Counts are bytes (Uint8Array), so the window is at most 255 scans. */
export const MAX_SCANS_PER_WINDOW = 255;

/** accessRatio > 0 and ≥ this makes a region's pages accessed in a scan; 0 = any observed access. */
export const DEFAULT_REGION_ACCESS_THRESHOLD = 0;

/**
 * Default cap on per-page state: 2^26 base pages (256 GiB of 4 KiB pages, ~ 64 MiB of counts plus
 * N × 8 MiB of history). Larger VMAs (address-space reservations, sanitizer shadows) are not modelled.
 */
export const DEFAULT_MAX_PAGES_PER_VMA = 2 ** 26;

export interface HotnessOptions {
  /** N: hot = accessed in all of the last N scans. 1..255. */
  scansPerWindow: number;
  /** K: heat buckets per VMA (equal slices of its range). */
  heatBucketsPerVma: number;
  /** Base page size; default 4096. */
  pageSizeBytes?: number;
  /** See DEFAULT_REGION_ACCESS_THRESHOLD. 0..1. */
  regionAccessThreshold?: number;
  /** See DEFAULT_MAX_PAGES_PER_VMA. */
  maxPagesPerVma?: number;
}

export type HotnessGranularity = VmaAccess['granularity'];

/** One VMA after one scan. Page counts are base pages. */
export interface VmaHotness {
  vmaId: number;
  start: bigint;
  end: bigint;
  /** Base pages in [start, end). */
  pages: number;
  /** Granularity of the data behind these numbers; null if the source never reported this VMA. */
  granularity: HotnessGranularity | null;
  /** Why the VMA is not modelled (too large for per-page state), or null. */
  untracked: string | null;
  /** Scans in this VMA's window so far, capped at N; classes are final once it reaches N. */
  scansInWindow: number;
  /** Pages whose state the latest scan knew (vma granularity: resident pages). Classes cover exactly these. */
  knownPages: number;
  /** Pages accessed in the latest scan. */
  accessedPages: number;
  hotPages: number;
  warmPages: number;
  coldPages: number;
  /** Lower bounds; equal to hotPages / coldPages except at vma granularity (see the module comment). */
  hotPagesMin: number;
  coldPagesMin: number;
  /** histogram[c] = known pages accessed in exactly c scans of the window (length N+1); null at vma granularity. */
  histogram: number[] | null;
  /**
   * K buckets, equal slices of [start, end): 0..255 = share of the slice's known pages accessed in the
   * latest scan (0 also when none is known). At vma granularity every bucket holds the VMA-wide share:
   * the source cannot say where in the VMA the accesses were.
   */
  heat: number[];
}

/** [start, end) as the contract spells addresses. */
export interface HexRange {
  start: HexAddress;
  end: HexAddress;
}

interface PageState {
  kind: 'pages';
  start: bigint;
  end: bigint;
  pages: number;
  /** Bytes of one bitset: ceil(pages / 8). */
  bitsetBytes: number;
  /** N bitsets of accessed pages, slot i at i * bitsetBytes. */
  ring: Uint8Array;
  /** Bitset: pages the latest scan knew. */
  knownNow: Uint8Array;
  /** Per page: scans of the window in which it was accessed. */
  counts: Uint8Array;
  filled: number;
  /** Slot the next scan writes (and whose bits leave the window). */
  slot: number;
  result: VmaHotness;
}

interface VmaLevelState {
  kind: 'vma';
  start: bigint;
  end: bigint;
  pages: number;
  /** Per slot: referenced and resident pages; reported = 0 for a scan without a record. */
  accessed: Float64Array;
  resident: Float64Array;
  reported: Uint8Array;
  filled: number;
  slot: number;
  result: VmaHotness;
}

interface UntrackedState {
  kind: 'untracked';
  start: bigint;
  end: bigint;
  pages: number;
  result: VmaHotness;
}

type VmaState = PageState | VmaLevelState | UntrackedState;

/** Addresses in the contract are spelled as /proc prints them (zero-padded to 8 digits), everywhere. */
function hex(address: bigint): HexAddress {
  return procHex(address);
}

function invalid(message: string): TierscopeError {
  return new TierscopeError('invalid-argument', message);
}

export class HotnessModel {
  readonly scansPerWindow: number;
  readonly heatBucketsPerVma: number;
  readonly pageSizeBytes: number;
  readonly regionAccessThreshold: number;
  readonly maxPagesPerVma: number;
  private readonly pageSize: bigint;
  private readonly states = new Map<number, VmaState>();
  /** Reused flags buffer: regions expanded to pages, or an all-unknown scan. */
  private scratch = new Uint8Array(0);

  constructor(options: HotnessOptions) {
    const n = options.scansPerWindow;
    if (!Number.isInteger(n) || n < 1 || n > MAX_SCANS_PER_WINDOW)
      throw invalid(`scansPerWindow must be an integer 1..${MAX_SCANS_PER_WINDOW}, got ${String(n)}`);
    const k = options.heatBucketsPerVma;
    if (!Number.isInteger(k) || k < 1 || k > 65536)
      throw invalid(`heatBucketsPerVma must be an integer 1..65536, got ${String(k)}`);
    const ps = options.pageSizeBytes ?? 4096;
    if (!Number.isInteger(ps) || ps < 1 || (ps & (ps - 1)) !== 0)
      throw invalid(`pageSizeBytes must be a power of two, got ${String(ps)}`);
    const t = options.regionAccessThreshold ?? DEFAULT_REGION_ACCESS_THRESHOLD;
    if (!(t >= 0 && t <= 1)) throw invalid(`regionAccessThreshold must be within 0..1, got ${String(t)}`);
    const cap = options.maxPagesPerVma ?? DEFAULT_MAX_PAGES_PER_VMA;
    if (!Number.isInteger(cap) || cap < 1) throw invalid(`maxPagesPerVma must be a positive integer`);
    this.scansPerWindow = n;
    this.heatBucketsPerVma = k;
    this.pageSizeBytes = ps;
    this.pageSize = BigInt(ps);
    this.regionAccessThreshold = t;
    this.maxPagesPerVma = cap;
  }

  /**
   * Feeds one scan: `vmas` is the VMA list of this scan (VMAs not in it are forgotten), `accesses` what the
   * source reported. Returns one VmaHotness per VMA of `vmas`, in that order.
   */
  update(vmas: readonly ScanVma[], accesses: readonly VmaAccess[]): VmaHotness[] {
    const byId = new Map<number, VmaAccess>();
    for (const a of accesses) {
      if (byId.has(a.vmaId)) throw invalid(`two access records for VMA ${a.vmaId} in one scan`);
      byId.set(a.vmaId, a);
    }
    const seen = new Set<number>();
    for (const v of vmas) {
      if (seen.has(v.id)) throw invalid(`VMA id ${v.id} appears twice in one scan`);
      seen.add(v.id);
      this.checkRange(v);
    }
    for (const id of byId.keys())
      if (!seen.has(id)) throw invalid(`access record for VMA ${id}, which is not in this scan's VMA list`);
    for (const id of [...this.states.keys()]) if (!seen.has(id)) this.states.delete(id);

    const out: VmaHotness[] = [];
    for (const v of vmas) out.push(this.updateOne(v, byId.get(v.id)));
    return out;
  }

  /** The latest result for a VMA, or undefined if it is not in the model. */
  get(vmaId: number): VmaHotness | undefined {
    return this.states.get(vmaId)?.result;
  }

  /** Latest results of every VMA the model holds, in address order. */
  all(): VmaHotness[] {
    return [...this.states.values()].map((s) => s.result).sort((a, b) => (a.start < b.start ? -1 : 1));
  }

  /**
   * Per-page accessed counts of a VMA (live view, do not modify), or null at vma granularity / unknown id.
   * Pages the latest scan did not know still carry their count; `pageIndices` filters them.
   */
  counts(vmaId: number): Uint8Array | null {
    const s = this.states.get(vmaId);
    return s?.kind === 'pages' ? s.counts : null;
  }

  /** Indices (page i is at start + i × pageSizeBytes) of the VMA's known pages in a class; [] without page data. */
  pageIndices(vmaId: number, cls: HotnessClass): Uint32Array {
    const s = this.states.get(vmaId);
    if (s?.kind !== 'pages' || s.filled === 0) return new Uint32Array(0);
    const want = cls === 'hot' ? s.result.hotPages : cls === 'cold' ? s.result.coldPages : s.result.warmPages;
    const out = new Uint32Array(want);
    const full = s.filled;
    let j = 0;
    for (let i = 0; i < s.pages; i++) {
      if (((s.knownNow[i >> 3] ?? 0) & (1 << (i & 7))) === 0) continue;
      const c = s.counts[i] ?? 0;
      const pageClass: HotnessClass = c === full ? 'hot' : c === 0 ? 'cold' : 'warm';
      if (pageClass === cls) out[j++] = i;
    }
    return out;
  }

  /**
   * Hot and cold known pages of a VMA per node, from a per-page node status aligned with the VMA's pages
   * (queryRangePageNodes(pid, start, end).status: node id ≥ 0, or -errno). Arrays are aligned with `nodes`;
   * pages on a node not in `nodes` or with a negative status are not counted. Zeros without page data.
   */
  classPagesByNode(
    vmaId: number,
    status: Int32Array,
    nodes: readonly number[],
  ): { hotPagesByNode: number[]; coldPagesByNode: number[] } {
    const hot = nodes.map(() => 0);
    const cold = nodes.map(() => 0);
    const s = this.states.get(vmaId);
    if (s?.kind !== 'pages' || s.filled === 0) return { hotPagesByNode: hot, coldPagesByNode: cold };
    if (status.length !== s.pages)
      throw invalid(`node status has ${status.length} entries, VMA ${vmaId} has ${s.pages} pages`);
    const slot = new Map<number, number>();
    nodes.forEach((node, i) => slot.set(node, i));
    const full = s.filled;
    for (let i = 0; i < s.pages; i++) {
      if (((s.knownNow[i >> 3] ?? 0) & (1 << (i & 7))) === 0) continue;
      const c = s.counts[i] ?? 0;
      if (c !== 0 && c !== full) continue;
      const at = slot.get(status[i] ?? 0);
      if (at === undefined) continue;
      if (c === full) hot[at] = (hot[at] ?? 0) + 1;
      else cold[at] = (cold[at] ?? 0) + 1;
    }
    return { hotPagesByNode: hot, coldPagesByNode: cold };
  }

  /** The contract's heat row of a VMA's latest scan. */
  heatRow(vmaId: number): HeatRow | null {
    const r = this.get(vmaId);
    return r ? { vmaId, buckets: r.heat } : null;
  }

  /**
   * Runs of known pages with equal accessed count, in address order. Page/region granularity: maximal runs
   * of consecutive known pages (an unknown page ends a run). Vma granularity: one run over the whole VMA
   * only when every resident page necessarily has the same count — each scan of the window referenced
   * either none or all of an unchanged resident set — and none otherwise.
   */
  countRuns(vmaId: number): CountRun[] {
    const s = this.states.get(vmaId);
    if (!s || s.kind === 'untracked') return [];
    if (s.kind === 'vma') return this.vmaLevelRuns(s);
    const runs: CountRun[] = [];
    let runStart = -1;
    let runCount = -1;
    const address = (page: number): HexAddress => hex(s.start + BigInt(page) * this.pageSize);
    let runStartHex = '';
    // The end of a run is the start of the next one when they touch: format that address once.
    let lastEnd = '';
    let lastEndPage = -1;
    const flush = (endPage: number) => {
      if (runStart < 0) return;
      lastEnd = address(endPage);
      lastEndPage = endPage;
      runs.push({ start: runStartHex, end: lastEnd, accessedScans: runCount });
      runStart = -1;
    };
    for (let i = 0; i < s.pages; i++) {
      const known = ((s.knownNow[i >> 3] ?? 0) & (1 << (i & 7))) !== 0;
      if (!known) {
        flush(i);
        continue;
      }
      const c = s.counts[i] ?? 0;
      if (runStart >= 0 && c === runCount) continue;
      flush(i);
      runStartHex = lastEndPage === i ? lastEnd : address(i);
      runStart = i;
      runCount = c;
    }
    flush(s.pages);
    return runs;
  }

  /** countRuns of every VMA, in address order. */
  allCountRuns(): CountRun[] {
    return this.all().flatMap((r) => this.countRuns(r.vmaId));
  }

  private checkRange(v: ScanVma): void {
    if (!Number.isInteger(v.id) || v.id < 0) throw invalid(`VMA id must be a non-negative integer`);
    if (v.end <= v.start || v.start < 0n)
      throw invalid(`VMA ${v.id} has an empty or inverted range ${hex(v.start)}-${hex(v.end)}`);
    if (v.start % this.pageSize !== 0n || v.end % this.pageSize !== 0n)
      throw invalid(`VMA ${v.id} range ${hex(v.start)}-${hex(v.end)} is not page aligned`);
  }

  private emptyResult(v: ScanVma, pages: number, untracked: string | null): VmaHotness {
    return {
      vmaId: v.id,
      start: v.start,
      end: v.end,
      pages,
      granularity: null,
      untracked,
      scansInWindow: 0,
      knownPages: 0,
      accessedPages: 0,
      hotPages: 0,
      warmPages: 0,
      coldPages: 0,
      hotPagesMin: 0,
      coldPagesMin: 0,
      histogram: null,
      heat: new Array<number>(this.heatBucketsPerVma).fill(0),
    };
  }

  private updateOne(v: ScanVma, access: VmaAccess | undefined): VmaHotness {
    const pagesBig = (v.end - v.start) / this.pageSize;
    const pages = pagesBig > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(pagesBig);
    let state = this.states.get(v.id);

    if (pages > this.maxPagesPerVma) {
      const why =
        `VMA of ${pages} pages exceeds the per-VMA limit of ${this.maxPagesPerVma} pages ` +
        `(raise maxPagesPerVma to model it)`;
      const s: UntrackedState = {
        kind: 'untracked',
        start: v.start,
        end: v.end,
        pages,
        result: this.emptyResult(v, pages, why),
      };
      this.states.set(v.id, s);
      return s.result;
    }

    if (state?.kind === 'untracked') {
      this.states.delete(v.id);
      state = undefined;
    }
    if (state && (state.start !== v.start || state.end !== v.end)) {
      state = state.kind === 'pages' ? this.rebasePages(state, v, pages) : undefined;
      if (state) this.states.set(v.id, state);
      else this.states.delete(v.id);
    }

    if (!access) {
      // No record: an all-unknown scan for a VMA we already model; nothing for one we never saw data for.
      if (!state) return this.emptyResult(v, pages, null);
      if (state.kind === 'pages') return this.updatePages(state, null, state.result.granularity ?? 'page');
      return this.updateVmaLevel(state, null);
    }

    if (access.granularity === 'vma') {
      if (state?.kind !== 'vma') {
        state = this.newVmaLevel(v, pages);
        this.states.set(v.id, state);
      }
      return this.updateVmaLevel(state, access);
    }

    if (state?.kind !== 'pages') {
      state = this.newPages(v, pages);
      this.states.set(v.id, state);
    }
    if (access.granularity === 'page') {
      if (access.flags.length !== pages)
        throw invalid(`VMA ${v.id}: ${access.flags.length} page flags for a VMA of ${pages} pages`);
      return this.updatePages(state, access.flags, 'page');
    }
    return this.updatePages(state, this.regionFlags(v, pages, access.regions), 'region');
  }

  private newPages(v: ScanVma, pages: number): PageState {
    const bitsetBytes = Math.ceil(pages / 8);
    return {
      kind: 'pages',
      start: v.start,
      end: v.end,
      pages,
      bitsetBytes,
      ring: new Uint8Array(bitsetBytes * this.scansPerWindow),
      knownNow: new Uint8Array(bitsetBytes),
      counts: new Uint8Array(pages),
      filled: 0,
      slot: 0,
      result: this.emptyResult(v, pages, null),
    };
  }

  private newVmaLevel(v: ScanVma, pages: number): VmaLevelState {
    const n = this.scansPerWindow;
    return {
      kind: 'vma',
      start: v.start,
      end: v.end,
      pages,
      accessed: new Float64Array(n),
      resident: new Float64Array(n),
      reported: new Uint8Array(n),
      filled: 0,
      slot: 0,
      result: this.emptyResult(v, pages, null),
    };
  }

  /** Moves a page state to a new range of the same VMA, by address (see the module comment). */
  private rebasePages(old: PageState, v: ScanVma, pages: number): PageState {
    const next = this.newPages(v, pages);
    next.filled = old.filled;
    next.slot = old.slot;
    next.result = { ...old.result, start: v.start, end: v.end, pages };
    const lo = old.start > v.start ? old.start : v.start;
    const hi = old.end < v.end ? old.end : v.end;
    if (hi <= lo) return next;
    const len = Number((hi - lo) / this.pageSize);
    const fromOld = Number((lo - old.start) / this.pageSize);
    const fromNew = Number((lo - v.start) / this.pageSize);
    next.counts.set(old.counts.subarray(fromOld, fromOld + len), fromNew);
    const copyBits = (src: Uint8Array, srcBase: number, dst: Uint8Array, dstBase: number) => {
      for (let i = 0; i < len; i++) {
        const a = fromOld + i;
        if (((src[srcBase + (a >> 3)] ?? 0) & (1 << (a & 7))) === 0) continue;
        const b = fromNew + i;
        const at = dstBase + (b >> 3);
        dst[at] = (dst[at] ?? 0) | (1 << (b & 7));
      }
    };
    copyBits(old.knownNow, 0, next.knownNow, 0);
    for (let slot = 0; slot < this.scansPerWindow; slot++)
      copyBits(old.ring, slot * old.bitsetBytes, next.ring, slot * next.bitsetBytes);
    return next;
  }

  /** All-unknown flags (a scan without a record) in the reused scratch buffer. */
  private unknownFlags(pages: number): Uint8Array {
    if (this.scratch.length < pages) this.scratch = new Uint8Array(Math.max(pages, this.scratch.length * 2));
    return this.scratch.subarray(0, pages).fill(PAGE_UNKNOWN);
  }

  /** Region granularity → per-page flags in the reused scratch buffer. */
  private regionFlags(
    v: ScanVma,
    pages: number,
    regions: readonly { start: bigint; end: bigint; accessRatio: number }[],
  ): Uint8Array {
    if (this.scratch.length < pages) this.scratch = new Uint8Array(Math.max(pages, this.scratch.length * 2));
    const flags = this.scratch.subarray(0, pages);
    flags.fill(PAGE_UNKNOWN);
    const ps = this.pageSize;
    for (const r of regions) {
      if (!(r.accessRatio >= 0 && r.accessRatio <= 1))
        throw invalid(`VMA ${v.id}: region accessRatio ${String(r.accessRatio)} is not within 0..1`);
      const s = r.start > v.start ? r.start : v.start;
      const e = r.end < v.end ? r.end : v.end;
      if (e <= s) continue;
      // DAMON regions are page aligned; if one is not, a partly covered page belongs to it.
      const from = Number((s - v.start) / ps);
      const to = Number((e - v.start + ps - 1n) / ps);
      const accessed = r.accessRatio > 0 && r.accessRatio >= this.regionAccessThreshold;
      flags.fill(accessed ? PAGE_ACCESSED : PAGE_IDLE, from, to);
    }
    return flags;
  }

  private updatePages(s: PageState, given: Uint8Array | null, granularity: HotnessGranularity): VmaHotness {
    const n = this.scansPerWindow;
    const k = this.heatBucketsPerVma;
    const pages = s.pages;
    const flags = given ?? this.unknownFlags(pages);
    const base = s.slot * s.bitsetBytes;
    const ring = s.ring;
    const counts = s.counts;
    const knownNow = s.knownNow;
    const full = Math.min(s.filled + 1, n);
    const histogram = new Float64Array(n + 1);

    // Heat cells: min(pages, K) equal slices, expanded to K buckets at the end (a VMA smaller than K pages
    // repeats each page's value over several buckets).
    const cells = Math.min(pages, k);
    const cellKnown = new Float64Array(cells);
    const cellAccessed = new Float64Array(cells);

    let accessedNow = 0;
    let known = 0;
    // One pass, page by page; the bits of the current byte are gathered in locals and stored every 8 pages.
    let oldBits = ring[base] ?? 0;
    let accessedBits = 0;
    let knownBits = 0;
    let i = 0;
    for (let cell = 0; cell < cells; cell++) {
      const cellEnd = Math.ceil(((cell + 1) * pages) / cells);
      let cellA = 0;
      let cellK = 0;
      for (; i < cellEnd; i++) {
        const bit = i & 7;
        const f = flags[i] ?? PAGE_UNKNOWN;
        let c = (counts[i] ?? 0) - ((oldBits >> bit) & 1);
        if (f === PAGE_ACCESSED) {
          accessedBits |= 1 << bit;
          c++;
          cellA++;
        } else if (f !== PAGE_IDLE && f !== PAGE_UNKNOWN) {
          throw invalid(`page flag ${f} at page ${i} is not PAGE_IDLE, PAGE_ACCESSED or PAGE_UNKNOWN`);
        }
        counts[i] = c;
        if (f !== PAGE_UNKNOWN) {
          knownBits |= 1 << bit;
          cellK++;
          histogram[c] = (histogram[c] ?? 0) + 1;
        }
        if (bit === 7) {
          const b = i >> 3;
          ring[base + b] = accessedBits;
          knownNow[b] = knownBits;
          accessedBits = 0;
          knownBits = 0;
          oldBits = b + 1 < s.bitsetBytes ? (ring[base + b + 1] ?? 0) : 0;
        }
      }
      cellAccessed[cell] = cellA;
      cellKnown[cell] = cellK;
      accessedNow += cellA;
      known += cellK;
    }
    if ((pages & 7) !== 0) {
      const b = pages >> 3;
      ring[base + b] = accessedBits;
      knownNow[b] = knownBits;
    }
    s.slot = (s.slot + 1) % n;
    s.filled = full;

    const heat = new Array<number>(k);
    for (let b = 0; b < k; b++) {
      const c = Math.floor((b * cells) / k);
      const kn = cellKnown[c] ?? 0;
      heat[b] = kn === 0 ? 0 : Math.round((255 * (cellAccessed[c] ?? 0)) / kn);
    }
    const hot = histogram[full] ?? 0;
    const cold = histogram[0] ?? 0;
    s.result = {
      vmaId: s.result.vmaId,
      start: s.start,
      end: s.end,
      pages,
      granularity,
      untracked: null,
      scansInWindow: full,
      knownPages: known,
      accessedPages: accessedNow,
      hotPages: hot,
      warmPages: known - hot - cold,
      coldPages: cold,
      hotPagesMin: hot,
      coldPagesMin: cold,
      histogram: Array.from(histogram),
      heat,
    };
    return s.result;
  }

  private updateVmaLevel(
    s: VmaLevelState,
    access: Extract<VmaAccess, { granularity: 'vma' }> | null,
  ): VmaHotness {
    const n = this.scansPerWindow;
    let accessed = 0;
    let resident = 0;
    if (access) {
      const { accessedPages: a, residentPages: r } = access;
      if (!Number.isInteger(a) || a < 0 || !Number.isInteger(r) || r < 0)
        throw invalid(`VMA ${access.vmaId}: accessedPages and residentPages must be non-negative integers`);
      // Referenced ≤ Rss in smaps; clamp anyway so the classes below stay consistent.
      resident = Math.min(r, s.pages);
      accessed = Math.min(a, resident);
    }
    s.accessed[s.slot] = accessed;
    s.resident[s.slot] = resident;
    s.reported[s.slot] = access ? 1 : 0;
    s.slot = (s.slot + 1) % n;
    s.filled = Math.min(s.filled + 1, n);

    let minA = Infinity;
    let maxA = 0;
    let sumA = 0;
    let maxR = 0;
    for (let i = 0; i < s.filled; i++) {
      const slot = (s.slot - 1 - i + n) % n;
      const a = s.accessed[slot] ?? 0;
      minA = Math.min(minA, a);
      maxA = Math.max(maxA, a);
      sumA += a;
      maxR = Math.max(maxR, s.resident[slot] ?? 0);
    }
    const r = resident;
    const hot = Math.min(minA, r);
    const cold = Math.max(0, r - maxA);
    const hotMin = Math.min(hot, Math.max(0, sumA - (s.filled - 1) * maxR));
    const coldMin = Math.min(cold, Math.max(0, r - sumA));
    const share = r === 0 ? 0 : Math.round((255 * accessed) / r);
    s.result = {
      vmaId: s.result.vmaId,
      start: s.start,
      end: s.end,
      pages: s.pages,
      granularity: 'vma',
      untracked: null,
      scansInWindow: s.filled,
      knownPages: r,
      accessedPages: accessed,
      hotPages: hot,
      warmPages: r - hot - cold,
      coldPages: cold,
      hotPagesMin: hotMin,
      coldPagesMin: coldMin,
      histogram: null,
      heat: new Array<number>(this.heatBucketsPerVma).fill(share),
    };
    return s.result;
  }

  private vmaLevelRuns(s: VmaLevelState): CountRun[] {
    const n = this.scansPerWindow;
    if (s.filled === 0) return [];
    const latest = (s.slot - 1 + n) % n;
    const r = s.resident[latest] ?? 0;
    if (r === 0) return [];
    let accessedScans = 0;
    for (let i = 0; i < s.filled; i++) {
      const slot = (s.slot - 1 - i + n) % n;
      if (s.reported[slot] === 0 || s.resident[slot] !== r) return [];
      const a = s.accessed[slot] ?? 0;
      if (a === r) accessedScans++;
      else if (a !== 0) return [];
    }
    return [{ start: hex(s.start), end: hex(s.end), accessedScans }];
  }
}

/**
 * Hot and cold address ranges from count runs (of one or several VMAs): runs accessed in all
 * `scansPerWindow` scans (hot) or in none (cold), adjacent ones merged. Runs of VMAs younger than a window
 * never reach N, so they are never hot.
 */
export function hotColdRanges(
  runs: readonly CountRun[],
  scansPerWindow: number,
): { hot: HexRange[]; cold: HexRange[] } {
  const parsed = runs
    .map((r) => ({ start: BigInt(`0x${r.start}`), end: BigInt(`0x${r.end}`), count: r.accessedScans }))
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const merge = (want: number): HexRange[] => {
    const out: { start: bigint; end: bigint }[] = [];
    for (const r of parsed) {
      if (r.count !== want) continue;
      const last = out[out.length - 1];
      if (last && last.end === r.start) last.end = r.end;
      else out.push({ start: r.start, end: r.end });
    }
    return out.map((r) => ({ start: hex(r.start), end: hex(r.end) }));
  };
  return { hot: merge(scansPerWindow), cold: merge(0) };
}
