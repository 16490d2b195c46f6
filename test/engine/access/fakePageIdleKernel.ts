// A simulated kernel behind the page_idle source's three files (pagemap, page_idle/bitmap, kpageflags) for
// host tests: the development host has no CONFIG_IDLE_PAGE_TRACKING. It models what mm/page_idle.c (6.12)
// does with folios: one idle flag per folio on its head; the bitmap reads and marks only heads of folios on
// an LRU list (tails and untracked frames read "not idle", marking them does nothing); reading an idle
// folio walks its mappings, and a young PTE of any of its pages clears the young bit and the idle flag;
// marking clears the young bits and sets the flag. Migration copies the idle flag, as migrate.c does.
import {
  KPF_COMPOUND_HEAD,
  KPF_COMPOUND_TAIL,
  KPF_HUGE,
  KPF_LRU,
  KPF_NOPAGE,
  KPF_THP,
  KPF_ZERO_PAGE,
} from '../../../electron/engine/access/kpageflags.js';
import type { PageIdleFiles } from '../../../electron/engine/access/pageIdleSource.js';

export const PAGE = 4096;

type FolioKind = 'anon' | 'zero' | 'hugetlb';

interface Folio {
  head: number;
  nr: number;
  kind: FolioKind;
  lru: boolean;
  idle: boolean;
}

interface Pte {
  pfn: number;
  young: boolean;
}

export class FakePageIdleKernel {
  /** Frame → its folio. */
  private readonly frames = new Map<number, Folio>();
  /** Virtual page number → PTE. */
  private readonly ptes = new Map<number, Pte>();
  private nextPfn = 0x10000;
  readonly zeroPfn: number;
  /** Calls per file, for cost checks. */
  readonly calls = { pagemap: 0, readIdle: 0, markIdle: 0, kpageflags: 0 };
  /** PFNs passed to kpageflags reads, in order. */
  readonly kpageflagsAsked: number[] = [];
  /** When true, pagemap hides PFNs (an opener without CAP_SYS_ADMIN). */
  hidePfns = false;
  closed = 0;

  constructor() {
    this.zeroPfn = this.allocFolio(1, 'zero', false);
  }

  private allocFolio(nr: number, kind: FolioKind, lru: boolean): number {
    // Large folios are naturally aligned in physical memory.
    const head = Math.ceil(this.nextPfn / nr) * nr;
    this.nextPfn = head + nr;
    const folio: Folio = { head, nr, kind, lru, idle: false };
    for (let i = 0; i < nr; i++) this.frames.set(head + i, folio);
    return head;
  }

  /** Faults in `pages` base pages at `address` (a page-aligned address), each its own frame. */
  fault(address: bigint, pages = 1): void {
    const vpage = Number(address / BigInt(PAGE));
    for (let i = 0; i < pages; i++)
      this.ptes.set(vpage + i, { pfn: this.allocFolio(1, 'anon', true), young: true });
  }

  /** Maps one large folio of `nr` pages at `address` (a THP when nr = 512), contiguous in both spaces. */
  faultLarge(address: bigint, nr: number, kind: FolioKind = 'anon'): number {
    const vpage = Number(address / BigInt(PAGE));
    const head = this.allocFolio(nr, kind, kind === 'anon');
    for (let i = 0; i < nr; i++) this.ptes.set(vpage + i, { pfn: head + i, young: true });
    return head;
  }

  /** A read fault on never-written anonymous memory: the shared zero page. */
  mapZero(address: bigint): void {
    this.ptes.set(Number(address / BigInt(PAGE)), { pfn: this.zeroPfn, young: true });
  }

  unmap(address: bigint, pages = 1): void {
    const vpage = Number(address / BigInt(PAGE));
    for (let i = 0; i < pages; i++) this.ptes.delete(vpage + i);
  }

  /** The process touches the page at `address` (sets the PTE's accessed bit). */
  access(address: bigint): void {
    const pte = this.ptes.get(Number(address / BigInt(PAGE)));
    if (!pte) throw new Error(`access to unmapped ${address.toString(16)}`);
    pte.young = true;
  }

  /** The kernel migrates the page at `address` to a new frame (idle flag and young bit copied). */
  migrate(address: bigint): number {
    const pte = this.ptes.get(Number(address / BigInt(PAGE)));
    const old = pte ? this.frames.get(pte.pfn) : undefined;
    if (!pte || !old || old.nr !== 1) throw new Error('migrate: only mapped base pages');
    const pfn = this.allocFolio(1, 'anon', true);
    const folio = this.frames.get(pfn);
    if (folio) folio.idle = old.idle;
    pte.pfn = pfn;
    return pfn;
  }

  /** Takes the folio of the page at `address` off (or back onto) the LRU, as isolation does. */
  setLru(address: bigint, lru: boolean): void {
    const pte = this.ptes.get(Number(address / BigInt(PAGE)));
    const folio = pte ? this.frames.get(pte.pfn) : undefined;
    if (!folio) throw new Error('setLru: unmapped');
    folio.lru = lru;
  }

  pfnOf(address: bigint): number | undefined {
    return this.ptes.get(Number(address / BigInt(PAGE)))?.pfn;
  }

  /** A folio the bitmap can act on: on an LRU list, addressed by its head frame. */
  private trackable(pfn: number): Folio | null {
    const folio = this.frames.get(pfn);
    if (!folio || folio.head !== pfn || !folio.lru) return null;
    return folio;
  }

  /** page_idle_clear_pte_refs: clears the young bits of every PTE mapping the folio; true if one was set. */
  private clearRefs(folio: Folio): boolean {
    let referenced = false;
    for (const pte of this.ptes.values()) {
      if (pte.pfn >= folio.head && pte.pfn < folio.head + folio.nr && pte.young) {
        pte.young = false;
        referenced = true;
      }
    }
    return referenced;
  }

  files(): PageIdleFiles {
    return {
      pagemap: {
        readRaw: (start: bigint, end: bigint, out?: BigUint64Array) => {
          this.calls.pagemap++;
          const first = Number(start / BigInt(PAGE));
          const n = Number((end - start) / BigInt(PAGE));
          const entries = out ?? new BigUint64Array(n);
          if (entries.length !== n) throw new Error('pagemap: output length mismatch');
          for (let i = 0; i < n; i++) {
            const pte = this.ptes.get(first + i);
            entries[i] = pte ? (1n << 63n) | BigInt(this.hidePfns ? 0 : pte.pfn) : 0n;
          }
          return entries;
        },
        close: () => {
          this.closed++;
        },
      },
      bitmap: {
        readIdle: (pfns: ArrayLike<number>, out?: Uint8Array) => {
          this.calls.readIdle++;
          const accessed = out ?? new Uint8Array(pfns.length);
          for (let i = 0; i < pfns.length; i++) {
            const folio = this.trackable(pfns[i] ?? 0);
            let idle = false;
            if (folio?.idle) {
              if (this.clearRefs(folio)) folio.idle = false;
              idle = folio.idle;
            }
            accessed[i] = idle ? 0 : 1;
          }
          return accessed;
        },
        markIdle: (pfns: ArrayLike<number>) => {
          this.calls.markIdle++;
          for (let i = 0; i < pfns.length; i++) {
            const folio = this.trackable(pfns[i] ?? 0);
            if (!folio) continue;
            this.clearRefs(folio);
            folio.idle = true;
          }
        },
        close: () => {
          this.closed++;
        },
      },
      pageFlags: {
        read: (pfns: ArrayLike<number>, out?: Uint32Array) => {
          this.calls.kpageflags++;
          const flags = out ?? new Uint32Array(pfns.length);
          for (let i = 0; i < pfns.length; i++) {
            const pfn = pfns[i] ?? 0;
            this.kpageflagsAsked.push(pfn);
            const folio = this.frames.get(pfn);
            if (!folio) {
              flags[i] = 1 << KPF_NOPAGE;
              continue;
            }
            let f = 0;
            if (folio.lru) f |= 1 << KPF_LRU;
            if (folio.nr > 1) f |= pfn === folio.head ? 1 << KPF_COMPOUND_HEAD : 1 << KPF_COMPOUND_TAIL;
            if (folio.kind === 'hugetlb') f |= 1 << KPF_HUGE;
            else if (folio.kind === 'zero') f |= 1 << KPF_ZERO_PAGE;
            else if (folio.nr > 1) f |= 1 << KPF_THP;
            flags[i] = f;
          }
          return flags;
        },
        close: () => {
          this.closed++;
        },
      },
    };
  }
}
