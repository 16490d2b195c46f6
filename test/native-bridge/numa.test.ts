// Live tests on this machine (one NUMA node, node 0). They touch only memory of this process and of
// children they start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import koffi from 'koffi';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import {
  MPOL_MF_MOVE,
  MPOL_MF_MOVE_ALL,
  NumaInvalidArgumentError,
  NumaNodeUnavailableError,
  NumaProcessGoneError,
  describePageStatus,
  fillPageAddresses,
  getMemsAllowed,
  getMempolicy,
  getPageNodeOfAddress,
  migratePages,
  movePages,
  pageSizeBytes,
  queryPageNodes,
  reconcileMove,
} from '../../native-bridge/index.js';
import { startQuietChild, type Child } from '../helpers/children.js';

const E = constants.errno;
const PAGE = pageSizeBytes();

// Anonymous memory whose pages this test controls (a Buffer's pages may be shared with other objects).
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
const madvise = libc.func('int madvise(void *addr, size_t len, int advice)') as (
  addr: bigint,
  len: number,
  advice: number,
) => number;
const PROT_RW = 3;
const MAP_PRIVATE_ANON = 0x22;
const MADV_HUGEPAGE = 14;

function mapAnon(bytes: number): bigint {
  const p = mmap(null, bytes, PROT_RW, MAP_PRIVATE_ANON, -1, 0);
  if (p === 0n || p === 2n ** 64n - 1n) throw new Error(`mmap failed, errno ${koffi.errno()}`);
  return p;
}
const pagesFrom = (first: bigint, n: number) => fillPageAddresses(new BigUint64Array(n), first, PAGE);

/** [start, end) of the child's largest anonymous rw mapping (the python helper's touched bytearray). */
function largestAnonRange(pid: number): [bigint, bigint] {
  let best: [bigint, bigint] = [0n, 0n];
  for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) rw-p \S+ 00:00 0\s*$/.exec(line);
    if (!m?.[1] || !m[2]) continue;
    const start = BigInt(`0x${m[1]}`);
    const end = BigInt(`0x${m[2]}`);
    if (end - start > best[1] - best[0]) best = [start, end];
  }
  return best;
}

describe('pageSizeBytes', () => {
  it('is the page size the kernel reports in smaps', () => {
    const kb = /KernelPageSize:\s+(\d+) kB/.exec(readFileSync('/proc/self/smaps', 'utf8'))?.[1];
    expect(PAGE).toBe(Number(kb) * 1024);
  });
});

describe('movePages queries on this process', () => {
  const region = mapAnon(8 * PAGE);
  const bytes = new Uint8Array(koffi.view(region, 8 * PAGE));
  for (let i = 0; i < 4; i++) bytes[i * PAGE] = 1; // pages 0-3 written
  const zeroRead = bytes[4 * PAGE]; // page 4 only read: the shared zero page
  munmap(region + BigInt(6 * PAGE), PAGE); // page 6 unmapped; 5 and 7 never touched
  afterAll(() => {
    munmap(region, 6 * PAGE);
    munmap(region + BigInt(7 * PAGE), PAGE);
  });

  it('finds written pages on node 0, untouched ones not present, unmapped and zero pages fault', () => {
    expect(zeroRead).toBe(0);
    const status = queryPageNodes(process.pid, pagesFrom(region, 8));
    expect([...status]).toEqual([0, 0, 0, 0, -E.EFAULT, -E.ENOENT, -E.EFAULT, -E.ENOENT]);
    expect(describePageStatus(status[5] ?? 0)).toEqual({ kind: 'not-present' });
    expect(describePageStatus(status[6] ?? 0)).toEqual({ kind: 'fault' });
  });

  it('gives the same answer whatever the batch size, pid 0 meaning self, into a caller array', () => {
    const addresses = pagesFrom(region, 8);
    const expected = queryPageNodes(0, addresses);
    const into = new Int32Array(8);
    for (const batchPages of [1, 3, 8, 1000]) {
      expect(movePages(process.pid, addresses, null, { batchPages, status: into })).toBe(into);
      expect([...into]).toEqual([...expected]);
    }
  });

  it('answers for any address inside a page, not only its start', () => {
    const inside = new BigUint64Array([region + 123n, region + BigInt(PAGE) + BigInt(PAGE - 1)]);
    expect([...queryPageNodes(0, inside)]).toEqual([0, 0]);
  });

  it('refuses mismatched arrays and bad batch sizes before calling the kernel', () => {
    const addresses = pagesFrom(region, 4);
    expect(() => movePages(0, addresses, new Int32Array(3))).toThrow(NumaInvalidArgumentError);
    expect(() => movePages(0, addresses, null, { batchPages: 0 })).toThrow(/batchPages 0/);
    expect(() => movePages(-1, addresses, null)).toThrow(/not a process id/);
  });

  it('moving written pages to node 0, where they are, reports node 0 and reconciles as already-there', () => {
    const addresses = pagesFrom(region, 4);
    const targets = new Int32Array(4);
    const before = queryPageNodes(0, addresses);
    const moved = movePages(0, addresses, targets, { flags: MPOL_MF_MOVE, batchPages: 2 });
    expect([...moved]).toEqual([0, 0, 0, 0]);
    const r = reconcileMove(targets, moved, queryPageNodes(0, addresses), before);
    expect(r.alreadyThere).toBe(4);
    expect(r.failed).toBe(0);
  });

  it('moving to node 2 (no such node here) fails the call with ENODEV naming node 2', () => {
    const addresses = pagesFrom(region, 4);
    let error: unknown;
    try {
      movePages(0, addresses, new Int32Array(4).fill(2), { flags: MPOL_MF_MOVE });
    } catch (e) {
      error = e;
    }
    // The kernel checks the node before moving anything and fails the whole call (no per-page status).
    expect(error).toBeInstanceOf(NumaNodeUnavailableError);
    const err = error as NumaNodeUnavailableError;
    expect(err.errnoName).toBe('ENODEV');
    expect(err.syscall).toBe('move_pages');
    expect(err.nodes).toEqual([2]);
    expect(err.message).toContain('node 2 has no memory or does not exist');
    expect([...queryPageNodes(0, addresses)]).toEqual([0, 0, 0, 0]);
  });

  it('reports how many pages earlier batches handled when a later batch fails', () => {
    const addresses = pagesFrom(region, 4);
    const err = (() => {
      try {
        movePages(0, addresses, new Int32Array([0, 0, 0, 2]), { flags: MPOL_MF_MOVE, batchPages: 2 });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(NumaNodeUnavailableError);
    expect((err as NumaNodeUnavailableError).completedPages).toBe(2);
  });

  it('rejects unknown flags with EINVAL', () => {
    expect(() => movePages(0, pagesFrom(region, 1), null, { flags: 0x40 })).toThrow(/flags 0x40 are not 0/);
  });

  it('accepts MPOL_MF_MOVE_ALL as root', () => {
    expect(process.getuid?.()).toBe(0);
    expect([...movePages(0, pagesFrom(region, 2), new Int32Array(2), { flags: MPOL_MF_MOVE_ALL })]).toEqual([
      0, 0,
    ]);
  });
});

describe('transparent huge pages', () => {
  it('every subpage of a THP reports its node, and moving them all in place reconciles cleanly', () => {
    const huge = 2 * 1024 * 1024;
    const raw = mapAnon(2 * huge);
    try {
      const aligned = (raw + BigInt(huge - 1)) & ~BigInt(huge - 1);
      expect(madvise(aligned, huge, MADV_HUGEPAGE)).toBe(0);
      new Uint8Array(koffi.view(aligned, 1))[0] = 1; // one write faults in the whole huge page
      const smaps = readFileSync('/proc/self/smaps', 'utf8');
      const vma = smaps.slice(smaps.indexOf(`${aligned.toString(16)}-`));
      const anonHugeKb = Number(/AnonHugePages:\s+(\d+) kB/.exec(vma)?.[1]);
      expect(anonHugeKb).toBe(2048); // THP=madvise on this machine: the fault got a huge page

      const addresses = pagesFrom(aligned, huge / PAGE);
      const before = queryPageNodes(0, addresses);
      expect(new Set(before)).toEqual(new Set([0]));
      const targets = new Int32Array(addresses.length);
      const moved = movePages(0, addresses, targets, { flags: MPOL_MF_MOVE });
      const r = reconcileMove(targets, moved, queryPageNodes(0, addresses), before);
      expect(r.alreadyThere).toBe(addresses.length);
    } finally {
      munmap(raw, 2 * huge);
    }
  });
});

describe('another process (a child we started)', () => {
  let child: Child;
  beforeAll(async () => {
    child = await startQuietChild(8);
  });
  afterAll(async () => {
    await child.kill();
  });

  it('queries its touched pages: all on node 0', () => {
    const [start, end] = largestAnonRange(child.pid);
    const pages = Number((end - start) / BigInt(PAGE));
    expect(pages).toBeGreaterThanOrEqual((8 << 20) / PAGE);
    const status = queryPageNodes(child.pid, pagesFrom(start, pages), 1000);
    const onNode0 = status.filter((s) => s === 0).length;
    // The bytearray (8 MiB) is zero-filled and written page by page; only malloc's slack may be untouched.
    expect(onNode0).toBeGreaterThanOrEqual((8 << 20) / PAGE);
    expect(status.every((s) => s === 0 || s === -E.ENOENT)).toBe(true);
  });

  it('migratePages from [0] to [0] works and leaves nothing unmigrated', () => {
    expect(migratePages(child.pid, [0], [0])).toBe(0);
  });

  it('migratePages to node 2 (no such node here) is the named node error (kernel says EINVAL)', () => {
    let error: unknown;
    try {
      migratePages(child.pid, [0], [2]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NumaNodeUnavailableError);
    const err = error as NumaNodeUnavailableError;
    expect(err.syscall).toBe('migrate_pages');
    expect(err.errnoName).toBe('EINVAL');
    expect(err.nodes).toEqual([2]);
    expect(err.pid).toBe(child.pid);
    expect(err.message).toContain('node 2 has no memory or does not exist');
  });

  it('migratePages refuses ids that are not node ids before calling the kernel', () => {
    expect(() => migratePages(child.pid, [0], [-1])).toThrow(NumaInvalidArgumentError);
    expect(() => migratePages(child.pid, [0], [4096])).toThrow(/not a node id/);
  });

  it('moving its pages to node 2 is the ENODEV node error', () => {
    const [start] = largestAnonRange(child.pid);
    expect(() =>
      movePages(child.pid, pagesFrom(start, 4), new Int32Array(4).fill(2), { flags: MPOL_MF_MOVE }),
    ).toThrow(NumaNodeUnavailableError);
  });
});

describe('a dead process', () => {
  it('querying it or migrating it is the process-gone error', async () => {
    const child = await startQuietChild(1);
    const pid = child.pid;
    await child.kill(); // reaped: the pid no longer exists
    const addresses = new BigUint64Array([0x10000n]);
    expect(() => queryPageNodes(pid, addresses)).toThrow(NumaProcessGoneError);
    try {
      migratePages(pid, [0], [0]);
      expect.unreachable('migrate_pages on a dead pid must fail');
    } catch (e) {
      expect(e).toBeInstanceOf(NumaProcessGoneError);
      const err = e as NumaProcessGoneError;
      expect(err.errnoName).toBe('ESRCH');
      expect(err.pid).toBe(pid);
      expect(err.message).toContain(`process ${pid} does not exist`);
    }
  });
});

describe('get_mempolicy', () => {
  it('this process runs under the default policy with no nodes', () => {
    expect(getMempolicy()).toEqual({ mode: 'default', modeNumber: 0, modeFlags: [], nodes: [] });
  });

  it('the policy at an address of an ordinary mapping is default too', () => {
    const buf = Buffer.alloc(PAGE, 1);
    expect(getMempolicy({ address: koffi.address(buf) }).mode).toBe('default');
  });

  it('MPOL_F_NODE|MPOL_F_ADDR gives the node of the page at an address', () => {
    const buf = Buffer.alloc(4 * PAGE, 1);
    expect(getPageNodeOfAddress(koffi.address(buf) + BigInt(PAGE))).toBe(0);
  });

  it('an unmapped address is the named fault error', () => {
    expect(() => getPageNodeOfAddress(0x1000n)).toThrow(/address 0x1000 is not mapped/);
  });

  it('the allowed nodes are node 0', () => {
    expect(getMemsAllowed()).toEqual([0]);
  });
});
