import { z } from 'zod';
import { Bytes, CountByNode, HexAddress, Pages } from './common.js';

export const VmaKind = z.enum([
  'heap',
  'stack',
  'anon',
  'file',
  'deleted-file',
  'shm',
  'hugetlb',
  'vdso',
  'vvar',
  'vsyscall',
  'other-special',
]);
export type VmaKind = z.infer<typeof VmaKind>;

export const Vma = z.object({
  start: HexAddress,
  end: HexAddress,
  /** maps permissions, e.g. "rw-p" (p = private, s = shared). */
  perms: z.string().regex(/^[r-][w-][x-][ps]$/),
  offset: HexAddress,
  /** "major:minor" of the backing device, "00:00" for anonymous memory. */
  dev: z.string(),
  /** Decimal string: overlayfs inode numbers can exceed 2^53. */
  inode: z.string().regex(/^\d+$/),
  /** Path or pseudo-path ("[heap]", "[stack]", "/dev/shm/x (deleted)"), "" for anonymous. */
  path: z.string(),
  kind: VmaKind,
  sizeBytes: Bytes,
  rssBytes: Bytes,
  pssBytes: Bytes,
  referencedBytes: Bytes,
  anonymousBytes: Bytes,
  anonHugePagesBytes: Bytes,
  swapBytes: Bytes,
  /** Page size the kernel maps this VMA with (4096, or the hugetlb size). */
  kernelPageSizeBytes: Bytes,
  /** NUMA policy from numa_maps ("default", "bind:1", "interleave:0-1", "prefer:2" …); null when numa_maps has no line. */
  policy: z.string().nullable(),
  /** Resident pages per node from numa_maps N<id>=, converted to base (4 KiB) pages. */
  pagesByNode: CountByNode,
});
export type Vma = z.infer<typeof Vma>;

export const SnapshotTotals = z.object({
  rssBytes: Bytes,
  pagesByNode: CountByNode,
  /** pagesByNode expressed in bytes, for numastat-style tables. */
  bytesByNode: CountByNode,
  vmaCount: Pages,
});

export const Snapshot = z.object({
  formatVersion: z.literal(1),
  pid: z.number().int().positive(),
  comm: z.string(),
  startTimeTicks: z.number().int().nonnegative(),
  startTime: z.string(),
  /** When the snapshot was taken, ISO 8601. */
  takenAt: z.string(),
  /** Base page size of the machine in bytes (the unit of every pagesByNode). */
  pageSizeBytes: Bytes,
  /** Online node ids of the machine. */
  nodes: z.array(z.number().int().nonnegative()),
  vmas: z.array(Vma),
  totals: SnapshotTotals,
});
export type Snapshot = z.infer<typeof Snapshot>;
