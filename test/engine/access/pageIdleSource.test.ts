// The page_idle source against a simulated kernel (fakePageIdleKernel.ts: the host has no page_idle), and
// its kpageflags reader and classification against this host's real /proc/kpageflags and pagemap. The
// real bitmap is covered in the lab (test/lab/suite/recordPageIdle.lab.test.ts).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { HotnessModel, hotColdRanges } from '../../../electron/engine/access/hotness.js';
import {
  KPF_COMPOUND_HEAD,
  KPF_COMPOUND_TAIL,
  KPF_LRU,
  KPF_NOPAGE,
  KPF_THP,
  KPF_ZERO_PAGE,
  KPageFlagsReader,
} from '../../../electron/engine/access/kpageflags.js';
import { PagemapReader } from '../../../electron/engine/access/pagemap.js';
import {
  PAGE_IDLE_LIMITS,
  PageIdleSource,
  type PageIdleFiles,
} from '../../../electron/engine/access/pageIdleSource.js';
import {
  PAGE_ACCESSED,
  PAGE_IDLE,
  PAGE_UNKNOWN,
  type ScanResult,
  type ScanVma,
} from '../../../electron/engine/access/source.js';
import { TierscopeError } from '../../../electron/engine/errors.js';
import { waitForLine } from '../../helpers/children.js';
import { FakePageIdleKernel, PAGE } from './fakePageIdleKernel.js';

const P = BigInt(PAGE);
const BASE = 0x7f00_0000_0000n; // 2 MiB aligned
const at = (page: number): bigint => BASE + BigInt(page) * P;

function vma(id: number, firstPage: number, pages: number): ScanVma {
  return { id, start: at(firstPage), end: at(firstPage + pages) };
}

function source(kernel: FakePageIdleKernel, options: { batchPages?: number; maxPagesPerVma?: number } = {}) {
  return new PageIdleSource(4242, { pageSizeBytes: PAGE, openFiles: () => kernel.files(), ...options });
}

function pageFlags(result: ScanResult, vmaId: number): Uint8Array {
  const a = result.accesses.find((x) => x.vmaId === vmaId);
  if (a?.granularity !== 'page') throw new Error(`no page record for VMA ${vmaId}`);
  return a.flags;
}

/** Indices of pages with `flag`. */
function where(flags: Uint8Array, flag: number): number[] {
  const out: number[] = [];
  flags.forEach((f, i) => {
    if (f === flag) out.push(i);
  });
  return out;
}

async function rejection(p: Promise<unknown>): Promise<TierscopeError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(TierscopeError);
    return err as TierscopeError;
  }
  throw new Error('expected a rejection');
}

describe('PageIdleSource on a simulated kernel', () => {
  it('reports exactly the pages accessed since the previous scan, and re-arms', async () => {
    const k = new FakePageIdleKernel();
    k.fault(at(0), 64);
    const v = vma(1, 0, 80); // pages 64..79 never faulted
    const s = source(k);
    await s.start([v]);
    k.kpageflagsAsked.length = 0;
    for (const p of [3, 10, 63]) k.access(at(p));
    const first = await s.scan([v]);
    const flags = pageFlags(first, 1);
    expect(flags.length).toBe(80);
    expect(where(flags, PAGE_ACCESSED)).toEqual([3, 10, 63]);
    expect(where(flags, PAGE_IDLE).length).toBe(61);
    expect(where(flags, PAGE_UNKNOWN)).toEqual(Array.from({ length: 16 }, (_, i) => 64 + i));
    expect(first.pagesScanned).toBe(64);
    // Only the frames that did not read idle are looked up in kpageflags.
    expect(k.kpageflagsAsked).toEqual([3, 10, 63].map((p) => k.pfnOf(at(p))));

    const second = await s.scan([v]);
    expect(where(pageFlags(second, 1), PAGE_ACCESSED)).toEqual([]);
    k.access(at(10));
    expect(where(pageFlags(await s.scan([v]), 1), PAGE_ACCESSED)).toEqual([10]);
    await s.stop();
  });

  it('reads a page faulted since the last scan as accessed, and a migrated page by its new frame', async () => {
    const k = new FakePageIdleKernel();
    k.fault(at(0), 8);
    const v = vma(1, 0, 16);
    const s = source(k);
    await s.start([v]);
    k.fault(at(8), 2); // new pages: a fault is an access
    const oldPfn = k.pfnOf(at(2));
    expect(k.migrate(at(2))).not.toBe(oldPfn); // idle page migrated: keeps its idle flag
    k.access(at(5));
    k.migrate(at(5)); // accessed page migrated: the young bit goes with it
    const flags = pageFlags(await s.scan([v]), 1);
    expect(where(flags, PAGE_ACCESSED)).toEqual([5, 8, 9]);
    expect(flags[2]).toBe(PAGE_IDLE);
    expect(where(pageFlags(await s.scan([v]), 1), PAGE_ACCESSED)).toEqual([]);
  });

  it('tracks a huge page as one folio: one access marks all 512 pages, an idle head makes its tails idle', async () => {
    const k = new FakePageIdleKernel();
    k.fault(at(0), 16);
    k.faultLarge(at(512), 512);
    const v = vma(1, 0, 1024);
    const s = source(k);
    await s.start([v]);
    k.access(at(512 + 300)); // a tail page
    let flags = pageFlags(await s.scan([v]), 1);
    expect(where(flags, PAGE_ACCESSED)).toEqual(Array.from({ length: 512 }, (_, i) => 512 + i));
    expect(where(flags, PAGE_IDLE)).toEqual(Array.from({ length: 16 }, (_, i) => i));

    k.kpageflagsAsked.length = 0;
    flags = pageFlags(await s.scan([v]), 1);
    expect(where(flags, PAGE_ACCESSED)).toEqual([]);
    expect(where(flags, PAGE_IDLE).length).toBe(16 + 512);
    // The idle head needs no lookup; the 511 tails always read "not idle" and are looked up.
    expect(k.kpageflagsAsked.length).toBe(511);
  });

  it('reports frames page_idle cannot track as unknown, never as accessed', async () => {
    const k = new FakePageIdleKernel();
    k.mapZero(at(0)); // read fault on fresh anonymous memory
    k.faultLarge(at(512), 512, 'hugetlb');
    k.fault(at(4), 1);
    k.faultLarge(at(1024), 512);
    k.unmap(at(1024), 10); // a partly unmapped huge page: its head is gone from this process
    const v = vma(1, 0, 1536);
    const s = source(k);
    k.setLru(at(4), false); // isolated (e.g. being migrated, or in a per-CPU batch) while we mark and read
    await s.start([v]);
    k.access(at(1024 + 100));
    let flags = pageFlags(await s.scan([v]), 1);
    expect(where(flags, PAGE_ACCESSED)).toEqual([]);
    expect(where(flags, PAGE_IDLE)).toEqual([]);
    expect(flags[0]).toBe(PAGE_UNKNOWN);
    expect(flags[4]).toBe(PAGE_UNKNOWN);
    expect(flags.subarray(512, 1024).every((f) => f === PAGE_UNKNOWN)).toBe(true);
    expect(flags.subarray(1024, 1536).every((f) => f === PAGE_UNKNOWN)).toBe(true);

    // Back on the LRU: the last mark could not reach it, so its "not idle" means nothing: unknown once
    // more (not a false "accessed"), then idle or accessed as it really is.
    k.setLru(at(4), true);
    flags = pageFlags(await s.scan([v]), 1);
    expect(flags[4]).toBe(PAGE_UNKNOWN);
    flags = pageFlags(await s.scan([v]), 1);
    expect(flags[4]).toBe(PAGE_IDLE);
    k.access(at(4));
    flags = pageFlags(await s.scan([v]), 1);
    expect(flags[4]).toBe(PAGE_ACCESSED);
  });

  it('follows a folio across batch boundaries and into the adjacent VMA, but not across a gap', async () => {
    const k = new FakePageIdleKernel();
    k.faultLarge(at(512), 512);
    k.faultLarge(at(2048), 512);
    // VMA 1 ends inside the first folio, VMA 2 continues it (mprotect split); VMA 3 starts inside the
    // second folio after a page that is not mapped by any scanned VMA.
    const v1 = vma(1, 0, 700);
    const v2 = vma(2, 700, 500);
    const v3 = vma(3, 2049, 511);
    const s = source(k, { batchPages: 100 });
    await s.start([v2, v3, v1]); // any order
    k.access(at(512 + 400));
    k.access(at(2048 + 400));
    const result = await s.scan([v3, v1, v2]);
    const f1 = pageFlags(result, 1);
    const f2 = pageFlags(result, 2);
    const f3 = pageFlags(result, 3);
    expect(where(f1, PAGE_ACCESSED)).toEqual(Array.from({ length: 700 - 512 }, (_, i) => 512 + i));
    expect(where(f2, PAGE_ACCESSED)).toEqual(Array.from({ length: 1024 - 700 }, (_, i) => i));
    expect(f3.every((f) => f === PAGE_UNKNOWN)).toBe(true); // head at page 2048 is outside every VMA
    expect(result.pagesScanned).toBe(512 + 511);
  });

  it('leaves VMAs over the page cap without a record, and counts only present pages', async () => {
    const k = new FakePageIdleKernel();
    k.fault(at(0), 10);
    k.fault(at(100), 3);
    const s = source(k, { maxPagesPerVma: 50 });
    await s.start([vma(1, 0, 50), vma(2, 50, 60)]);
    const result = await s.scan([vma(1, 0, 50), vma(2, 50, 60)]);
    expect(result.accesses.map((a) => a.vmaId)).toEqual([1]);
    expect(result.pagesScanned).toBe(10);
  });

  it('turns hidden PFNs, misuse and misaligned VMAs into typed errors and closes what it opened', async () => {
    const k = new FakePageIdleKernel();
    k.fault(at(0), 4);
    k.hidePfns = true;
    const s = source(k);
    const hidden = await rejection(s.start([vma(1, 0, 4)]));
    expect(hidden.code).toBe('permission');
    expect(hidden.message).toMatch(/CAP_SYS_ADMIN.*run Tierscope as root/);
    expect(k.closed).toBe(3);

    k.hidePfns = false;
    const fresh = source(k);
    expect((await rejection(fresh.scan([vma(1, 0, 4)]))).message).toMatch(/scan\(\) before start\(\)/);
    await fresh.start([vma(1, 0, 4)]);
    const bad = await rejection(fresh.scan([{ id: 1, start: BASE + 10n, end: at(4) }]));
    expect(bad.code).toBe('invalid-argument');
    await fresh.stop();
    await fresh.stop();
    expect(k.closed).toBe(6);
    expect((await rejection(fresh.scan([vma(1, 0, 4)]))).code).toBe('invalid-argument');
    expect(() => new PageIdleSource(0)).toThrow(TierscopeError);
    expect(PAGE_IDLE_LIMITS).toMatch(/TLB/);
  });

  it('feeds the hotness model: five scans give the exact hot, warm and cold pages', async () => {
    const k = new FakePageIdleKernel();
    k.fault(at(0), 100);
    const v = vma(1, 0, 100);
    const s = source(k);
    const model = new HotnessModel({ scansPerWindow: 5, heatBucketsPerVma: 4, pageSizeBytes: PAGE });
    await s.start([v]);
    const hot = [0, 1, 2, 50, 99];
    for (let scan = 0; scan < 5; scan++) {
      for (const p of hot) k.access(at(p));
      if (scan % 2 === 0) k.access(at(20)); // warm
      const r = await s.scan([v]);
      model.update([v], r.accesses);
    }
    const h = model.get(1);
    expect(h).toMatchObject({ hotPages: 5, warmPages: 1, coldPages: 94, knownPages: 100 });
    const ranges = hotColdRanges(model.countRuns(1), 5);
    expect(ranges.hot).toEqual([
      { start: at(0).toString(16), end: at(3).toString(16) },
      { start: at(50).toString(16), end: at(51).toString(16) },
      { start: at(99).toString(16), end: at(100).toString(16) },
    ]);
  });
});

// --- this host's real kernel files ---------------------------------------------------------------------

const isRoot = process.geteuid?.() === 0;
const PY_REGION = `
import mmap, sys
size = 8 << 20
m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
m.madvise(mmap.MADV_NOHUGEPAGE)
# First 4 MiB: one read per page (maps the shared zero page); last 4 MiB: written (own frames).
for i in range(0, 4 << 20, 4096): m[i]
for i in range(4 << 20, size, 4096): m[i] = 1
t = mmap.mmap(-1, 8 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
t.madvise(mmap.MADV_HUGEPAGE)
for i in range(0, 8 << 20, 4096): t[i] = 1
import ctypes
addr = lambda mm: ctypes.addressof(ctypes.c_char.from_buffer(mm))
print("READY %x %x" % (addr(m), addr(t)), flush=True)
sys.stdin.read()
`;

describe.skipIf(!isRoot)('page flags on this host (real pagemap and /proc/kpageflags)', () => {
  let child: ReturnType<typeof spawn> | null = null;
  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    child = null;
  });

  it('tells the zero page, base pages and huge pages apart, and classifies them as the source does', async () => {
    child = spawn('python3', ['-c', PY_REGION], { stdio: ['pipe', 'pipe', 'inherit'] });
    const [, mHex, tHex] = (await waitForLine(child, 'READY')).split(' ');
    const pid = child.pid ?? 0;
    const m = BigInt(`0x${mHex ?? ''}`);
    const t = BigInt(`0x${tHex ?? ''}`);
    const pm = PagemapReader.open(pid, { pageSizeBytes: PAGE });
    const kf = KPageFlagsReader.open();
    try {
      const region = pm.read(m, m + (8n << 20n));
      const flags = kf.read(region.pfns);
      const pages = region.pfns.length;
      const zero = flags.subarray(0, pages / 2);
      const own = flags.subarray(pages / 2);
      expect(zero.every((f) => (f & (1 << KPF_ZERO_PAGE)) !== 0)).toBe(true);
      expect(new Set(region.pfns.subarray(0, pages / 2)).size).toBe(1); // one shared frame
      expect(own.every((f) => (f & ((1 << KPF_ZERO_PAGE) | (1 << KPF_COMPOUND_TAIL))) === 0)).toBe(true);
      expect(kf.read([2 ** 40])[0]).toBe(1 << KPF_NOPAGE); // far past the end of RAM

      // The huge-page region: when the kernel gave us THPs (it may not, under fragmentation), each has a
      // head followed by tails whose PFNs continue it, all flagged THP.
      const thp = pm.read(t, t + (8n << 20n));
      const tf = kf.read(thp.pfns);
      const heads = [...tf].flatMap((f, i) => ((f & (1 << KPF_COMPOUND_HEAD)) !== 0 ? [i] : []));
      for (const h of heads) {
        expect(tf[h] ?? 0).toSatisfy((f: number) => (f & (1 << KPF_THP)) !== 0);
        const tail = h + 1;
        expect((tf[tail] ?? 0) & (1 << KPF_COMPOUND_TAIL)).not.toBe(0);
        expect(thp.pfns[tail]).toBe((thp.pfns[h] ?? 0) + 1);
      }

      // The source's classification over the real files, with a bitmap that reads every frame "not idle"
      // (as a kernel without page_idle would): zero pages unknown, base pages accessed (if on the LRU),
      // huge pages accessed as a whole folio.
      const files: PageIdleFiles = {
        pagemap: pm,
        pageFlags: kf,
        bitmap: {
          readIdle: (pfns: ArrayLike<number>) => new Uint8Array(pfns.length).fill(1),
          markIdle: () => undefined,
          close: () => undefined,
        },
      };
      const s = new PageIdleSource(pid, { pageSizeBytes: PAGE, openFiles: () => files });
      const vmas = [
        { id: 1, start: m, end: m + (8n << 20n) },
        { id: 2, start: t, end: t + (8n << 20n) },
      ];
      await s.start(vmas);
      const r = await s.scan(vmas);
      const mf = pageFlags(r, 1);
      expect(where(mf.subarray(0, pages / 2), PAGE_UNKNOWN).length).toBe(pages / 2);
      const lru = own.map((f) => ((f & (1 << KPF_LRU)) !== 0 ? 1 : 0));
      expect(where(mf.subarray(pages / 2), PAGE_ACCESSED).length).toBe(lru.reduce((a, b) => a + b, 0));
      const thpFlags = pageFlags(r, 2);
      for (const h of heads) {
        const folio = thpFlags.subarray(h, h + 512);
        expect(new Set(folio).size).toBe(1); // the whole folio shares its head's reading
      }
      await s.stop();
    } finally {
      pm.close();
      kf.close();
    }
  });

  it('names a missing kpageflags and rejects bad input', () => {
    expect(() => KPageFlagsReader.open({ procRoot: '/nonexistent' })).toThrow(TierscopeError);
    const kf = KPageFlagsReader.open();
    try {
      expect(() => kf.read([-1])).toThrow(/not a non-negative integer/);
      expect(() => kf.read([1, 2], new Uint32Array(1))).toThrow(/slots/);
      expect(kf.read([])).toEqual(new Uint32Array(0));
    } finally {
      kf.close();
    }
    expect(() => kf.read([1])).toThrow(/already closed/);
  });
});
