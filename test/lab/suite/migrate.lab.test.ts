// Page migration across the three nodes, through the native bridge: move_pages of this test process's own
// pages and of a running memhog's pages to every node, with transparent huge pages off and on, and
// migrate_pages of a whole memhog to the CPU-less node and back. Each move is checked three independent
// ways: numa_maps (readVmas), a fresh move_pages query, and memhog's own per-node count; memhog's checksum
// proves the data survived.
import koffi from 'koffi';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readVmas } from '../../../electron/engine/procfs/vmas.js';
import {
  MPOL_MF_MOVE,
  fillPageAddresses,
  migratePages,
  movePages,
  queryPageNodes,
  reconcileMove,
} from '../../../native-bridge/index.js';
import { MiB, PAGE, regionVma, startMemhog, type Memhog } from './lab.js';

const libc = koffi.load('libc.so.6');
const mmap = libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off)') as (
  addr: null,
  len: number,
  prot: number,
  flags: number,
  fd: number,
  off: number,
) => bigint;
const munmap = libc.func('int munmap(void *addr, size_t len)') as (addr: bigint, len: number) => number;
const mprotect = libc.func('int mprotect(void *addr, size_t len, int prot)') as (
  addr: bigint,
  len: number,
  prot: number,
) => number;
const madvise = libc.func('int madvise(void *addr, size_t len, int advice)') as (
  addr: bigint,
  len: number,
  advice: number,
) => number;
const PROT_NONE = 0;
const PROT_RW = 3;
const MAP_PRIVATE_ANON = 0x22;
const MADV_HUGEPAGE = 14;
const MADV_NOHUGEPAGE = 15;
const HUGE = 2 * MiB;

const pagesOf = (base: bigint, bytes: number): BigUint64Array =>
  fillPageAddresses(new BigUint64Array(bytes / PAGE), base, PAGE);

/** Histogram of a move_pages query: node (or -errno) → pages. */
function histogram(status: Int32Array): Record<string, number> {
  const h: Record<string, number> = {};
  for (const s of status) h[String(s)] = (h[String(s)] ?? 0) + 1;
  return h;
}

/**
 * Moves every page of [base, base + bytes) of `pid` (0 = this process) to `node`, and checks the result by
 * reconciliation and by a fresh query. Returns the reconciliation for further checks.
 */
function moveAll(pid: number, base: bigint, bytes: number, node: number): ReturnType<typeof reconcileMove> {
  const addrs = pagesOf(base, bytes);
  const targets = new Int32Array(addrs.length).fill(node);
  const before = queryPageNodes(pid, addrs);
  const status = movePages(pid, addrs, targets, { flags: MPOL_MF_MOVE });
  const after = queryPageNodes(pid, addrs);
  const r = reconcileMove(targets, status, after, before);
  expect(r.failed, `failures moving to node ${node}: ${JSON.stringify(r.failedByReason)}`).toBe(0);
  expect(r.moved + r.alreadyThere + r.thpTailMovedWithHead).toBe(addrs.length);
  expect(histogram(queryPageNodes(pid, addrs))).toEqual({ [String(node)]: addrs.length });
  return r;
}

describe.each([
  { thp: 'off', advice: MADV_NOHUGEPAGE },
  { thp: 'on', advice: MADV_HUGEPAGE },
])('move_pages of this process (THP $thp)', ({ thp, advice }) => {
  const bytes = 4 * MiB;
  let raw = 0n;
  const rawBytes = bytes + 2 * HUGE;
  let base = 0n;

  beforeAll(() => {
    raw = mmap(null, rawBytes, PROT_RW, MAP_PRIVATE_ANON, -1, 0);
    expect(raw === 0n || raw === 2n ** 64n - 1n).toBe(false);
    // A 2 MiB-aligned region with an inaccessible page on each side: its own VMA whatever is mapped
    // next to it, so its numa_maps line counts exactly its pages.
    base = (raw + BigInt(PAGE) + BigInt(HUGE) - 1n) & ~(BigInt(HUGE) - 1n);
    expect(mprotect(base - BigInt(PAGE), PAGE, PROT_NONE)).toBe(0);
    expect(mprotect(base + BigInt(bytes), PAGE, PROT_NONE)).toBe(0);
    expect(madvise(base, bytes, advice)).toBe(0);
    const view = new Uint8Array(koffi.view(base, bytes));
    for (let off = 0; off < bytes; off += PAGE) view[off] = (off / PAGE) & 0xff;
  });
  afterAll(() => {
    if (raw !== 0n) munmap(raw, rawBytes);
  });

  it.each([1, 2, 0])('moves all of its pages to node %i', async (node) => {
    const r = moveAll(0, base, bytes, node);
    const vma = await regionVma(process.pid, base, bytes);
    expect(vma.pagesByNode).toEqual({ [String(node)]: bytes / PAGE });
    if (thp === 'on') {
      // Migration keeps huge pages huge when the target node has free 2 MiB blocks (it does here).
      expect(vma.anonHugePagesBytes).toBe(bytes);
      if (r.moved > 0) expect(r.thpTailMovedWithHead).toBeGreaterThan(0);
    } else {
      expect(vma.anonHugePagesBytes).toBe(0);
    }
    // The data moved with the pages.
    const view = new Uint8Array(koffi.view(base, bytes));
    for (let off = 0; off < bytes; off += PAGE) expect(view[off]).toBe((off / PAGE) & 0xff);
  });
});

describe.each(['off', 'on'])('move_pages of a running memhog (THP %s)', (thp) => {
  let hog: Memhog;
  beforeAll(async () => {
    // CPU 0: first touch places the pages on node 0. The hot loop keeps running through the moves.
    hog = await startMemhog(`--size 64 --thp ${thp} --cpu 0 --hot-fraction 0.1 --interval-ms 10`);
  });
  afterAll(async () => {
    await hog.stop();
  });

  it('starts on node 0', async () => {
    expect((await regionVma(hog.pid, hog.base, hog.sizeBytes)).pagesByNode).toEqual({ '0': hog.pages });
    expect(await hog.nodes()).toEqual({ '0': hog.pages, unmapped: 0 });
  });

  it.each([1, 2, 0])('moves all of its pages to node %i, data intact', async (node) => {
    const r = moveAll(hog.pid, hog.base, hog.sizeBytes, node);
    expect(r.moved).toBeGreaterThan(0);
    const vma = await regionVma(hog.pid, hog.base, hog.sizeBytes);
    expect(vma.pagesByNode).toEqual({ [String(node)]: hog.pages });
    expect(vma.anonHugePagesBytes).toBe(thp === 'on' ? hog.sizeBytes : 0);
    expect(await hog.nodes()).toEqual({ [String(node)]: hog.pages, unmapped: 0 });
    const sum = await hog.checksum();
    expect(sum.ok, sum.line).toBe(true);
  });
});

describe('migrate_pages of a whole memhog', () => {
  let hog: Memhog;
  beforeAll(async () => {
    hog = await startMemhog('--size 64 --thp off --cpu 0 --interval-ms 10');
  });
  afterEach(async () => {
    const sum = await hog.checksum();
    expect(sum.ok, sum.line).toBe(true);
  });
  afterAll(async () => {
    await hog.stop();
  });

  /** Resident pages of the whole process per node, from numa_maps. */
  async function processPagesByNode(): Promise<Record<string, number>> {
    const total: Record<string, number> = {};
    for (const v of await readVmas(hog.pid, { pageSizeBytes: PAGE })) {
      for (const [node, pages] of Object.entries(v.pagesByNode)) total[node] = (total[node] ?? 0) + pages;
    }
    return total;
  }

  it('moves everything, wherever it is, to the CPU-less node 2', async () => {
    // The region was first touched on CPU 0 (node 0); the binary's pages and the early stack may sit on
    // node 1 if it was loaded before memhog pinned itself. migrate_pages maps every from-node onto node 2.
    const from = Object.keys(await processPagesByNode()).map(Number);
    expect(from).toContain(0);
    expect(from).not.toContain(2);
    const notMigrated = migratePages(hog.pid, from, [2]);
    expect(notMigrated).toBe(0);
    await expectAllOn(2);
  });

  it('moves it all back from node 2 to node 0', async () => {
    expect(migratePages(hog.pid, [2], [0])).toBe(0);
    await expectAllOn(0);
  });

  async function expectAllOn(node: number): Promise<void> {
    expect((await regionVma(hog.pid, hog.base, hog.sizeBytes)).pagesByNode).toEqual({
      [String(node)]: hog.pages,
    });
    // Not just the region: stack, data, and the binary's own (page cache) pages too.
    const all = await processPagesByNode();
    expect(Object.keys(all)).toEqual([String(node)]);
    expect(all[String(node)]).toBeGreaterThan(hog.pages);
    expect(await hog.nodes()).toEqual({ [String(node)]: hog.pages, unmapped: 0 });
  }
});
