import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { Vma } from '../../../electron/contract/index.js';
import { TierscopeError } from '../../../electron/engine/errors.js';
import { planMove } from '../../../electron/engine/migrate/moveExperiment.js';
import {
  parseAddress,
  parseRange,
  piecesToRanges,
  resolvePieces,
  selectPages,
  type Piece,
} from '../../../electron/engine/migrate/selection.js';

const E = constants.errno;
const PAGE = 4096;

function vma(start: number, end: number, kind: Vma['kind'] = 'anon', rssBytes = 4096, path = ''): Vma {
  return {
    start: start.toString(16).padStart(8, '0'),
    end: end.toString(16).padStart(8, '0'),
    perms: 'rw-p',
    offset: '0',
    dev: '00:00',
    inode: '0',
    path,
    kind,
    sizeBytes: end - start,
    rssBytes,
    pssBytes: rssBytes,
    referencedBytes: 0,
    anonymousBytes: rssBytes,
    anonHugePagesBytes: 0,
    swapBytes: 0,
    kernelPageSizeBytes: PAGE,
    policy: 'default',
    pagesByNode: {},
  };
}

const VMAS: Vma[] = [
  vma(0x10000, 0x20000, 'heap'),
  vma(0x30000, 0x40000),
  vma(0x50000, 0x60000, 'hugetlb'),
  vma(0x70000, 0x71000, 'vdso', 4096, '[vdso]'),
  vma(0x80000, 0x90000, 'anon', 0),
];

function thrown(fn: () => unknown): TierscopeError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TierscopeError) return e;
    throw e;
  }
  throw new Error('expected a TierscopeError');
}

describe('resolvePieces', () => {
  it('--vma takes the whole mapping containing the address', () => {
    const { pieces } = resolvePieces(VMAS, { vmaAddress: 0x35000n }, PAGE);
    expect(pieces.map((p) => [p.start, p.end])).toEqual([[0x30000n, 0x40000n]]);
  });

  it('--vma names the problem: unmapped address, kernel mapping, hugetlb', () => {
    expect(thrown(() => resolvePieces(VMAS, { vmaAddress: 0x25000n }, PAGE)).message).toMatch(
      /no mapping of the process contains 00025000/,
    );
    expect(thrown(() => resolvePieces(VMAS, { vmaAddress: 0x70000n }, PAGE)).message).toMatch(
      /\[vdso\].*provided by the kernel/,
    );
    expect(thrown(() => resolvePieces(VMAS, { vmaAddress: 0x50000n }, PAGE)).message).toMatch(
      /hugetlb.*--all/,
    );
  });

  it('--range is widened to whole pages and clipped to the movable mappings it overlaps', () => {
    const { pieces, skipped } = resolvePieces(VMAS, { range: { start: 0x1f800n, end: 0x58001n } }, PAGE);
    expect(pieces.map((p) => [p.start, p.end])).toEqual([
      [0x1f000n, 0x20000n],
      [0x30000n, 0x40000n],
    ]);
    expect(skipped).toEqual([expect.stringMatching(/00050000-00060000 is a hugetlb mapping/)]);
    expect(
      thrown(() => resolvePieces(VMAS, { range: { start: 0x20000n, end: 0x30000n } }, PAGE)).message,
    ).toMatch(/covers no movable mapping/);
    expect(thrown(() => resolvePieces(VMAS, { range: { start: 5n, end: 5n } }, PAGE)).message).toMatch(
      /is empty/,
    );
    expect(
      thrown(() => resolvePieces(VMAS, { range: { start: 0n, end: 1n }, vmaAddress: 1n }, PAGE)).message,
    ).toMatch(/not both/);
  });

  it('without a range takes every movable mapping with something resident', () => {
    const { pieces } = resolvePieces(VMAS, {}, PAGE);
    expect(pieces.map((p) => p.start)).toEqual([0x10000n, 0x30000n]);
  });
});

function piece(start: bigint, status: number[], counts: number[] | null): Piece {
  return {
    vma: VMAS[0] as Vma,
    start,
    end: start + BigInt(status.length * PAGE),
    status: Int32Array.from(status),
    counts: counts ? Int16Array.from(counts) : null,
  };
}

describe('selectPages', () => {
  const N = 3;
  const a = piece(0x10000n, [2, 2, 0, -E.ENOENT, 2, 1], [3, 0, 3, -1, 1, 3]);
  const b = piece(0x30000n, [2, 2, 2], [2, 3, -1]);
  const all = (s: { addresses: BigUint64Array }): string[] => [...s.addresses].map((x) => x.toString(16));

  it('takes every page of the ranges without filters, absent ones included', () => {
    const s = selectPages(
      [a, b],
      { hotness: null, topKPages: null, fromNodes: null, scansPerWindow: N },
      PAGE,
    );
    expect(s.addresses.length).toBe(9);
    expect([...s.before]).toEqual([2, 2, 0, -E.ENOENT, 2, 1, 2, 2, 2]);
  });

  it('hot = accessed in all N scans, cold = in none; unknown pages never match', () => {
    const hot = selectPages(
      [a, b],
      { hotness: 'hot', topKPages: null, fromNodes: null, scansPerWindow: N },
      PAGE,
    );
    expect(all(hot)).toEqual(['10000', '12000', '15000', '31000']);
    const cold = selectPages(
      [a, b],
      { hotness: 'cold', topKPages: null, fromNodes: null, scansPerWindow: N },
      PAGE,
    );
    expect(all(cold)).toEqual(['11000']);
  });

  it('--from keeps only resident pages on those nodes', () => {
    const s = selectPages(
      [a, b],
      { hotness: 'hot', topKPages: null, fromNodes: [2], scansPerWindow: N },
      PAGE,
    );
    expect(all(s)).toEqual(['10000', '31000']);
    const any = selectPages(
      [a],
      { hotness: null, topKPages: null, fromNodes: [0, 1], scansPerWindow: N },
      PAGE,
    );
    expect(all(any)).toEqual(['12000', '15000']);
  });

  it('top-k takes the K highest counts, ties to the lower address, result in address order', () => {
    const s = selectPages(
      [a, b],
      { hotness: 'top-k', topKPages: 5, fromNodes: null, scansPerWindow: N },
      PAGE,
    );
    // Counts 3: 10000, 12000, 15000, 31000; then 2: 30000; then 1: 14000 (left out).
    expect(all(s)).toEqual(['10000', '12000', '15000', '30000', '31000']);
    expect([...(s.counts ?? [])]).toEqual([3, 3, 3, 2, 3]);
    const more = selectPages(
      [a, b],
      { hotness: 'top-k', topKPages: 100, fromNodes: null, scansPerWindow: N },
      PAGE,
    );
    expect(more.addresses.length).toBe(6); // never pads with cold or unknown pages
    expect(() =>
      selectPages([a], { hotness: 'top-k', topKPages: 0, fromNodes: null, scansPerWindow: N }, PAGE),
    ).toThrow(/positive/);
  });

  it('refuses a hotness filter without classes', () => {
    const bare = piece(0x10000n, [2], null);
    expect(() =>
      selectPages([bare], { hotness: 'hot', topKPages: null, fromNodes: null, scansPerWindow: N }, PAGE),
    ).toThrow(/needs page classes/);
  });

  it('planMove splits a selection into what moves (per node), what is there and what is absent', () => {
    const s = selectPages(
      [a, b],
      { hotness: null, topKPages: null, fromNodes: null, scansPerWindow: N },
      PAGE,
    );
    const { plan, moveIndices } = planMove(s, 0, PAGE);
    expect(plan).toEqual({
      pagesSelected: 9,
      toMoveByNode: { '1': 1, '2': 6 },
      bytesToMove: 7 * PAGE,
      alreadyThere: 1,
      notPresent: 1,
    });
    expect([...moveIndices]).toEqual([0, 1, 4, 5, 6, 7, 8]);
  });
});

describe('parsing and ranges', () => {
  it('parses hex ranges and addresses with or without 0x', () => {
    expect(parseRange('7f00-7f80')).toEqual({ start: 0x7f00n, end: 0x7f80n });
    expect(parseRange('0x7F00-0x7f80')).toEqual({ start: 0x7f00n, end: 0x7f80n });
    expect(parseRange('7f00')).toBeNull();
    expect(parseRange('zz-1')).toBeNull();
    expect(parseAddress('0xffffffffff600000')).toBe(0xffffffffff600000n);
    expect(parseAddress('12345678901234567')).toBeNull();
  });

  it('merges adjacent or overlapping pieces into contract ranges', () => {
    expect(
      piecesToRanges([
        { start: 0x3000n, end: 0x4000n },
        { start: 0x1000n, end: 0x2000n },
        { start: 0x2000n, end: 0x2800n },
      ]),
    ).toEqual([
      { start: '00001000', end: '00002800' },
      { start: '00003000', end: '00004000' },
    ]);
  });
});
