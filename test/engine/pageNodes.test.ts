// Live on this machine (one NUMA node, node 0); touches only this process and children it starts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import koffi from 'koffi';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { countPages, pageNodesError, queryRangePageNodes } from '../../electron/engine/pageNodes.js';
import { TierscopeError } from '../../electron/engine/errors.js';
import {
  NumaInvalidArgumentError,
  NumaNoMemoryError,
  NumaNodeUnavailableError,
  NumaPermissionError,
  NumaProcessGoneError,
  pageSizeBytes,
} from '../../native-bridge/index.js';
import { startQuietChild, type Child } from '../helpers/children.js';

const E = constants.errno;
const PAGE = pageSizeBytes();

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('queryRangePageNodes on this process', () => {
  it('finds every page of a written buffer on node 0', () => {
    const buf = Buffer.alloc(64 * PAGE + 100, 1);
    const start = koffi.address(buf);
    const end = start + BigInt(buf.length);
    const r = queryRangePageNodes(process.pid, start, end);
    // Widened to whole pages; every page of it holds written bytes of the buffer.
    expect(r.startAddress % BigInt(PAGE)).toBe(0n);
    expect(r.endAddress % BigInt(PAGE)).toBe(0n);
    expect(r.startAddress <= start && r.endAddress >= end).toBe(true);
    const pages = Number((r.endAddress - r.startAddress) / BigInt(PAGE));
    expect(r.status.length).toBe(pages);
    expect(r.pagesByNode).toEqual({ '0': pages });
    expect([r.notPresentPages, r.unmappedPages, r.otherPages]).toEqual([0, 0, 0]);
    expect(r.pageSizeBytes).toBe(PAGE);
  });

  it('gives the same per-page answer with tiny batches', () => {
    const buf = Buffer.alloc(20 * PAGE, 1);
    const start = koffi.address(buf);
    const a = queryRangePageNodes(process.pid, start, start + BigInt(buf.length));
    const b = queryRangePageNodes(process.pid, start, start + BigInt(buf.length), { batchPages: 3 });
    expect([...b.status]).toEqual([...a.status]);
  });

  it('counts pages with no mapping as unmapped, including above 2^53', () => {
    const low = queryRangePageNodes(process.pid, 0x1000n, 0x4000n);
    expect(low.unmappedPages).toBe(3);
    expect(low.pagesByNode).toEqual({});
    const high = 2n ** 60n;
    const r = queryRangePageNodes(process.pid, high, high + BigInt(3 * PAGE));
    expect(r.startAddress).toBe(high);
    expect([...r.status]).toEqual([-E.EFAULT, -E.EFAULT, -E.EFAULT]);
  });

  it('refuses bad input with invalid-argument errors that say what to pass', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => queryRangePageNodes(0, 0x1000n, 0x2000n), /not a process id/],
      [() => queryRangePageNodes(process.pid, 0x2000n, 0x2000n), /empty/],
      [() => queryRangePageNodes(process.pid, 0x1000n, 2n ** 64n + 1n), /outside/],
      [() => queryRangePageNodes(process.pid, 0n, 2n ** 40n, { maxPages: 1000 }), /query it in parts/],
      [() => queryRangePageNodes(process.pid, 0x1000n, 0x2000n, { batchPages: 0 }), /batchPages 0/],
      [() => queryRangePageNodes(process.pid, 0x1000n, 0x2000n, { pageSizeBytes: 3000 }), /power of two/],
    ];
    for (const [fn, message] of cases) {
      const err = thrown(fn);
      expect(err).toBeInstanceOf(TierscopeError);
      expect((err as TierscopeError).code).toBe('invalid-argument');
      expect((err as TierscopeError).message).toMatch(message);
    }
  });
});

describe('queryRangePageNodes on a child process', () => {
  let child: Child;
  beforeAll(async () => {
    child = await startQuietChild(8);
  });
  afterAll(async () => {
    await child.kill();
  });

  it('reads the per-page nodes of its 8 MiB written buffer, agreeing with numa_maps', () => {
    const maps = readFileSync(`/proc/${child.pid}/maps`, 'utf8');
    const vma = maps
      .split('\n')
      .map((l) => /^([0-9a-f]+)-([0-9a-f]+) rw-p \S+ 00:00 0\s*$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [BigInt(`0x${m[1] ?? ''}`), BigInt(`0x${m[2] ?? ''}`)] as const)
      .sort((a, b) => Number(b[1] - b[0] - (a[1] - a[0])))[0];
    if (!vma) throw new Error('child has no anonymous mapping');
    const r = queryRangePageNodes(child.pid, vma[0], vma[1]);
    const total = Number((vma[1] - vma[0]) / BigInt(PAGE));
    expect(r.pagesByNode['0'] ?? 0).toBeGreaterThanOrEqual((8 << 20) / PAGE);
    expect((r.pagesByNode['0'] ?? 0) + r.notPresentPages).toBe(total);

    // numa_maps counts the same VMA's resident pages per node.
    const line = readFileSync(`/proc/${child.pid}/numa_maps`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${vma[0].toString(16)} `));
    expect(Number(/ N0=(\d+)/.exec(line ?? '')?.[1])).toBe(r.pagesByNode['0']);
  });
});

describe('errors', () => {
  it('a dead process is a process-gone TierscopeError caused by the bridge error', async () => {
    const child = await startQuietChild(1);
    const pid = child.pid;
    await child.kill();
    const err = thrown(() => queryRangePageNodes(pid, 0x10000n, 0x20000n));
    expect(err).toBeInstanceOf(TierscopeError);
    expect((err as TierscopeError).code).toBe('process-gone');
    expect((err as TierscopeError).message).toContain(`process ${pid} does not exist`);
    expect((err as TierscopeError).cause).toBeInstanceOf(NumaProcessGoneError);
  });

  it('maps bridge errors with a matching code and passes the others through typed', () => {
    const details = { syscall: 'move_pages', errno: 0, pid: 77 } as const;
    const perm = pageNodesError(new NumaPermissionError({ ...details, errno: E.EPERM }, 'no'), 77);
    expect(perm).toBeInstanceOf(TierscopeError);
    expect((perm as TierscopeError).code).toBe('permission');
    // move_pages with flags 0 refuses only a process without an mm with EINVAL.
    const kthread = pageNodesError(new NumaInvalidArgumentError({ ...details, errno: E.EINVAL }, 'x'), 2);
    expect((kthread as TierscopeError).code).toBe('kernel-thread');
    expect((kthread as TierscopeError).message).toBe(
      'process 2 is a kernel thread: it has no user memory to query',
    );
    const node = pageNodesError(new NumaNodeUnavailableError({ ...details, errno: E.ENODEV }, 'n', [2]), 77);
    expect((node as TierscopeError).code).toBe('unknown-node');
    const nomem = new NumaNoMemoryError({ ...details, errno: E.ENOMEM }, 'm');
    expect(pageNodesError(nomem, 77)).toBe(nomem);
    const plain = new Error('not ours');
    expect(pageNodesError(plain, 77)).toBe(plain);
  });
});

describe('countPages', () => {
  it('tallies nodes and non-resident kinds', () => {
    const status = new Int32Array([0, 1, 1, 3, -E.ENOENT, -E.EFAULT, -E.EFAULT, -E.EBUSY]);
    expect(countPages(status)).toEqual({
      pagesByNode: { '0': 1, '1': 2, '3': 1 },
      notPresentPages: 1,
      unmappedPages: 2,
      otherPages: 1,
    });
  });
});
