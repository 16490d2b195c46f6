/**
 * Which node each page of an address range lives on, by batched move_pages queries (no pages move).
 * numa_maps gives per-VMA totals; this gives the per-page picture that hot/cold maps are drawn from.
 */
import type { CountByNode } from '../contract/index.js';
import {
  DEFAULT_BATCH_PAGES,
  ERRNO,
  MAX_NODE_ID_EXCLUSIVE,
  NumaSyscallError,
  fillPageAddresses,
  movePages,
  pageSizeBytes as nativePageSizeBytes,
} from '../../native-bridge/index.js';
import { TierscopeError } from './errors.js';

/** Default cap: 2^26 pages (256 GiB of 4 KiB pages) → a 256 MiB status array. */
export const DEFAULT_MAX_PAGES = 2 ** 26;

export interface PageNodesOptions {
  /** Step between queried addresses; defaults to the base page size. Use the huge page size for hugetlb. */
  pageSizeBytes?: number;
  /** Pages per move_pages call (default 16384). */
  batchPages?: number;
  /** Refuse ranges with more pages than this (default DEFAULT_MAX_PAGES). */
  maxPages?: number;
}

export interface PageNodes {
  pid: number;
  /** The range actually queried: the requested one widened to whole pages. */
  startAddress: bigint;
  endAddress: bigint;
  pageSizeBytes: number;
  /** Per page: node id (≥ 0), or -errno (-ENOENT not resident, -EFAULT unmapped or zero page); see describePageStatus. */
  status: Int32Array;
  /** Resident pages per node (node id as a decimal string). */
  pagesByNode: CountByNode;
  /** -ENOENT: mapped but not resident (never touched, or swapped out). */
  notPresentPages: number;
  /** -EFAULT: no mapping at the address, or the shared zero page. */
  unmappedPages: number;
  /** Any other status. */
  otherPages: number;
}

/**
 * Per-page node of [startAddress, endAddress) in process `pid`. One address buffer of `batchPages` is
 * reused across batches, and each batch writes straight into its slice of the result.
 *
 * Errors: the bridge's errors that have a TierscopeError code are mapped to it (process gone, permission,
 * kernel thread, unsupported), with the bridge error as `cause`; the rest (ENOMEM, EFAULT, unexpected
 * errnos) propagate as the bridge's typed NumaSyscallError, whose message is already one line. A range
 * read in several batches spans time: a caller that identifies the process by (pid, start time) re-checks
 * it afterwards.
 */
export function queryRangePageNodes(
  pid: number,
  startAddress: bigint,
  endAddress: bigint,
  options: PageNodesOptions = {},
): PageNodes {
  const pageSizeBytes = options.pageSizeBytes ?? nativePageSizeBytes();
  const batchPages = options.batchPages ?? DEFAULT_BATCH_PAGES;
  const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid > 0x7fffffff) {
    throw new TierscopeError(
      'invalid-argument',
      `not a process id: ${String(pid)} (expected a positive integer)`,
    );
  }
  if (!Number.isInteger(pageSizeBytes) || pageSizeBytes <= 0 || (pageSizeBytes & (pageSizeBytes - 1)) !== 0) {
    throw new TierscopeError(
      'invalid-argument',
      `page size ${pageSizeBytes} is not a power of two; pass the kernel's page size`,
    );
  }
  if (!Number.isInteger(batchPages) || batchPages < 1) {
    throw new TierscopeError(
      'invalid-argument',
      `batchPages ${batchPages} is not a positive integer; pass e.g. ${DEFAULT_BATCH_PAGES}`,
    );
  }
  if (startAddress < 0n || endAddress > 2n ** 64n || startAddress >= endAddress) {
    throw new TierscopeError(
      'invalid-argument',
      `address range 0x${startAddress.toString(16)}-0x${endAddress.toString(16)} is empty or outside 0..2^64; pass start < end`,
    );
  }
  const size = BigInt(pageSizeBytes);
  const start = startAddress - (startAddress % size);
  const end = endAddress + ((size - (endAddress % size)) % size);
  const pagesBig = (end - start) / size;
  if (pagesBig > BigInt(maxPages)) {
    throw new TierscopeError(
      'invalid-argument',
      `address range 0x${start.toString(16)}-0x${end.toString(16)} has ${pagesBig} pages, more than the limit ${maxPages}; query it in parts`,
    );
  }
  const pages = Number(pagesBig);

  const status = new Int32Array(pages);
  const addresses = new BigUint64Array(Math.min(batchPages, pages));
  try {
    for (let first = 0; first < pages; first += addresses.length) {
      const n = Math.min(addresses.length, pages - first);
      const batch = addresses.subarray(0, n);
      fillPageAddresses(batch, start + BigInt(first) * size, pageSizeBytes);
      movePages(pid, batch, null, { status: status.subarray(first, first + n), batchPages: n });
    }
  } catch (err) {
    throw pageNodesError(err, pid);
  }
  return { pid, startAddress: start, endAddress: end, pageSizeBytes, status, ...countPages(status) };
}

/** Tallies a status array: resident pages per node, and the non-resident kinds. */
export function countPages(
  status: Int32Array,
): Pick<PageNodes, 'pagesByNode' | 'notPresentPages' | 'unmappedPages' | 'otherPages'> {
  const perNode = new Float64Array(MAX_NODE_ID_EXCLUSIVE);
  let notPresentPages = 0;
  let unmappedPages = 0;
  let otherPages = 0;
  for (const s of status) {
    if (s >= 0 && s < MAX_NODE_ID_EXCLUSIVE) perNode[s] = (perNode[s] ?? 0) + 1;
    else if (s === -ERRNO.ENOENT) notPresentPages++;
    else if (s === -ERRNO.EFAULT) unmappedPages++;
    else otherPages++;
  }
  const pagesByNode: CountByNode = {};
  perNode.forEach((count, node) => {
    if (count > 0) pagesByNode[String(node)] = count;
  });
  return { pagesByNode, notPresentPages, unmappedPages, otherPages };
}

/**
 * The TierscopeError for a bridge error raised by a page-node query, or the error itself when no code
 * fits (ENOMEM, EFAULT, unexpected errnos: still typed, with a one-line message).
 */
export function pageNodesError(err: unknown, pid: number): unknown {
  if (!(err instanceof NumaSyscallError)) return err;
  switch (err.code) {
    case 'process-gone':
      return new TierscopeError('process-gone', err.message, { cause: err });
    case 'permission':
      return new TierscopeError('permission', err.message, { cause: err });
    case 'invalid-argument':
      // A query with flags 0 and arguments checked above is refused only for a process without an mm.
      return new TierscopeError(
        'kernel-thread',
        `process ${pid} is a kernel thread: it has no user memory to query`,
        {
          cause: err,
        },
      );
    case 'unsupported':
      return new TierscopeError('unsupported', err.message, { cause: err });
    case 'node-unavailable':
      return new TierscopeError('unknown-node', err.message, { cause: err });
    case 'no-memory':
    case 'fault':
    case 'too-big':
    case 'other':
      return err;
  }
}
