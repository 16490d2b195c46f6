/**
 * Which pages a move takes: address ranges (a VMA, a brushed range, or every movable VMA of the process),
 * narrowed by hotness class (hot, cold, top-K hottest) and by the node a page is on now. The result is an
 * ascending address list with each page's node at planning time, which the executor moves in batches.
 */
import type { Vma } from '../../contract/index.js';
import { TierscopeError } from '../errors.js';
import { DEFAULT_MAX_PAGES, queryRangePageNodes } from '../pageNodes.js';
import { procHex } from '../procfs/text.js';
import { isAbsent } from './histogram.js';
import { UNKNOWN_COUNT, type PageCounts } from './measure.js';

export interface AddressRange {
  start: bigint;
  end: bigint;
}

export type HotnessFilter = 'hot' | 'cold' | 'top-k';

export interface SelectionRequest {
  /** An address inside the VMA to take (its start, as `snapshot` prints it, or any address in it). */
  vmaAddress?: bigint | null;
  /** An address range [start, end); clipped to the movable VMAs it overlaps. */
  range?: AddressRange | null;
  /**
   * Several ranges as one selection (a UI's multi-VMA or brushed selection): each is handled as `range`,
   * overlapping ones are merged. Exclusive with `range` and `vmaAddress`.
   */
  ranges?: readonly AddressRange[] | null;
  hotness?: HotnessFilter | null;
  /** top-k: at most this many pages, hottest first. */
  topKPages?: number | null;
  /** Only pages now on one of these nodes (null = any node). */
  fromNodes?: readonly number[] | null;
}

/** One VMA's part of the selection, with its pages' current nodes and (when classes were asked) counts. */
export interface Piece {
  vma: Vma;
  start: bigint;
  end: bigint;
  /** Query status per page: node id, or -errno. */
  status: Int32Array;
  /** Accessed-scan count per page (-1 unknown), or null without classes. */
  counts: Int16Array | null;
}

export interface PlannedPages {
  /** Selected pages, ascending. */
  addresses: BigUint64Array;
  /** Node (or -errno) of each selected page when planned. */
  before: Int32Array;
  /** Count of each selected page (-1 unknown), or null without classes. */
  counts: Int16Array | null;
}

/** VMA kinds whose pages a move may touch. hugetlb is refused (its pages are not base pages); the rest are the kernel's. */
const MOVABLE_KINDS = new Set<Vma['kind']>(['heap', 'stack', 'anon', 'file', 'deleted-file', 'shm']);

export function vmaRange(v: Vma): AddressRange {
  return { start: BigInt(`0x${v.start}`), end: BigInt(`0x${v.end}`) };
}

export function formatRange(r: AddressRange): string {
  return `${procHex(r.start)}-${procHex(r.end)}`;
}

function whyNotMovable(v: Vma): string | null {
  if (MOVABLE_KINDS.has(v.kind)) return null;
  if (v.kind === 'hugetlb') {
    return `${v.start}-${v.end} is a hugetlb mapping, which page-level moves do not handle; move the whole process instead (tierscope migrate --all)`;
  }
  return `${v.start}-${v.end} (${v.path || v.kind}) is provided by the kernel and cannot be moved`;
}

/**
 * The [start, end) pieces of movable VMAs a request covers, in address order, and the VMAs left out with
 * why. Throws TierscopeError('invalid-argument') when the request names nothing movable.
 */
export function resolvePieces(
  vmas: readonly Vma[],
  request: SelectionRequest,
  pageSizeBytes: number,
): { pieces: { vma: Vma; start: bigint; end: bigint }[]; skipped: string[] } {
  const size = BigInt(pageSizeBytes);
  const sorted = [...vmas].sort((a, b) => (vmaRange(a).start < vmaRange(b).start ? -1 : 1));
  const skipped: string[] = [];
  if (request.vmaAddress != null && request.range != null) {
    throw new TierscopeError('invalid-argument', 'pass either --vma or --range, not both');
  }
  if (request.ranges != null && (request.vmaAddress != null || request.range != null)) {
    throw new TierscopeError(
      'invalid-argument',
      'pass either one range or VMA, or a list of ranges, not both',
    );
  }
  if (request.vmaAddress != null) {
    const at = request.vmaAddress;
    const v = sorted.find((x) => vmaRange(x).start <= at && at < vmaRange(x).end);
    if (!v) {
      throw new TierscopeError(
        'invalid-argument',
        `no mapping of the process contains ${procHex(at)}; list its VMAs with tierscope snapshot --pid PID`,
      );
    }
    const why = whyNotMovable(v);
    if (why) throw new TierscopeError('invalid-argument', `cannot move VMA ${why}`);
    return { pieces: [{ vma: v, ...vmaRange(v) }], skipped };
  }
  const asked = request.ranges ?? (request.range != null ? [request.range] : null);
  if (asked !== null) {
    if (asked.length === 0) throw new TierscopeError('invalid-argument', 'the selection has no range');
    const widened: AddressRange[] = [];
    for (const r of asked) {
      if (r.start >= r.end) {
        throw new TierscopeError(
          'invalid-argument',
          `range ${formatRange(r)} is empty; pass START-END with START < END`,
        );
      }
      // Widen to whole pages: a page is selected when any byte of it is.
      widened.push({ start: r.start - (r.start % size), end: r.end + ((size - (r.end % size)) % size) });
    }
    // Merged, so no page is taken twice when ranges overlap.
    widened.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    const merged: AddressRange[] = [];
    for (const r of widened) {
      const last = merged[merged.length - 1];
      if (last && r.start <= last.end) {
        if (r.end > last.end) last.end = r.end;
      } else merged.push({ ...r });
    }
    const pieces: { vma: Vma; start: bigint; end: bigint }[] = [];
    const skippedOnce = new Set<string>();
    for (const { start, end } of merged) {
      for (const v of sorted) {
        const vr = vmaRange(v);
        if (vr.end <= start || vr.start >= end) continue;
        const why = whyNotMovable(v);
        if (why) {
          if (!skippedOnce.has(why)) skipped.push(why);
          skippedOnce.add(why);
          continue;
        }
        pieces.push({ vma: v, start: vr.start > start ? vr.start : start, end: vr.end < end ? vr.end : end });
      }
    }
    if (pieces.length === 0) {
      const what =
        asked.length === 1 && asked[0]
          ? `range ${formatRange(asked[0])} covers`
          : `the ${asked.length} ranges cover`;
      throw new TierscopeError(
        'invalid-argument',
        `${what} no movable mapping of the process${skipped.length ? ` (${skipped.join('; ')})` : ''}; list its VMAs with tierscope snapshot --pid PID`,
      );
    }
    return { pieces, skipped };
  }
  // The whole process: every movable VMA with something resident.
  const pieces: { vma: Vma; start: bigint; end: bigint }[] = [];
  for (const v of sorted) {
    if (v.rssBytes === 0) continue;
    if (whyNotMovable(v)) continue;
    const vr = vmaRange(v);
    if ((vr.end - vr.start) / size > BigInt(DEFAULT_MAX_PAGES)) {
      skipped.push(
        `${v.start}-${v.end} is larger than ${DEFAULT_MAX_PAGES} pages and was left out; select it with --range in parts`,
      );
      continue;
    }
    pieces.push({ vma: v, ...vr });
  }
  if (pieces.length === 0) {
    throw new TierscopeError('invalid-argument', 'the process has no resident movable memory');
  }
  return { pieces, skipped };
}

export type RangeQuery = (pid: number, start: bigint, end: bigint, pageSizeBytes: number) => Int32Array;

const nativeRangeQuery: RangeQuery = (pid, start, end, pageSizeBytes) =>
  queryRangePageNodes(pid, start, end, { pageSizeBytes }).status;

/** Queries the current node of every page of each piece, and attaches counts when classes are given. */
export function queryPieces(
  pid: number,
  pieces: readonly { vma: Vma; start: bigint; end: bigint }[],
  classes: PageCounts | null,
  pageSizeBytes: number,
  query: RangeQuery = nativeRangeQuery,
): Piece[] {
  return pieces.map((p) => {
    const status = query(pid, p.start, p.end, pageSizeBytes);
    const counts = classes ? classes.countsOf(p.start, status.length, pageSizeBytes) : null;
    return { ...p, status, counts };
  });
}

/** Does page class `count` pass the filter? (top-k candidates: accessed at least once.) */
function classMatches(filter: HotnessFilter | null, count: number, scansPerWindow: number): boolean {
  switch (filter) {
    case null:
      return true;
    case 'hot':
      return count === scansPerWindow;
    case 'cold':
      return count === 0;
    case 'top-k':
      return count > 0;
  }
}

/**
 * The pages of `pieces` that pass the filters, ascending. Without a hotness filter every page is taken
 * (absent ones too: the histogram reports them as not present) unless `fromNodes` narrows to resident
 * pages on those nodes. With a filter, pages of unknown class are never taken. top-k keeps the `topKPages`
 * pages with the highest counts, ties broken by lower address.
 */
export function selectPages(
  pieces: readonly Piece[],
  filter: {
    hotness: HotnessFilter | null;
    topKPages: number | null;
    fromNodes: readonly number[] | null;
    scansPerWindow: number;
  },
  pageSizeBytes: number,
): PlannedPages {
  const from = filter.fromNodes ? new Set(filter.fromNodes) : null;
  const hotness = filter.hotness;
  if (hotness !== null && pieces.some((p) => p.counts === null)) {
    throw new TierscopeError('invalid-argument', `--${hotness} needs page classes, and none were measured`);
  }
  let total = 0;
  for (const p of pieces) total += p.status.length;
  const pieceOf = new Uint32Array(total);
  const indexIn = new Uint32Array(total);
  let n = 0;
  pieces.forEach((p, k) => {
    for (let i = 0; i < p.status.length; i++) {
      const s = p.status[i] ?? 0;
      if (from && (isAbsent(s) || s < 0 || !from.has(s))) continue;
      const c = p.counts?.[i] ?? UNKNOWN_COUNT;
      if (hotness !== null && (c === UNKNOWN_COUNT || !classMatches(hotness, c, filter.scansPerWindow)))
        continue;
      pieceOf[n] = k;
      indexIn[n] = i;
      n++;
    }
  });
  let order: Uint32Array = Uint32Array.from({ length: n }, (_, j) => j);
  if (hotness === 'top-k') {
    const k = filter.topKPages ?? 0;
    if (!Number.isInteger(k) || k < 1)
      throw new TierscopeError(
        'invalid-argument',
        `--top-k must be a positive number of pages, got ${String(k)}`,
      );
    const countAt = (j: number): number => pieces[pieceOf[j] ?? 0]?.counts?.[indexIn[j] ?? 0] ?? 0;
    // Candidates are in address order already: a stable sort by count keeps lower addresses first on ties.
    const byHeat = Array.from(order).sort((a, b) => countAt(b) - countAt(a) || a - b);
    order = Uint32Array.from(byHeat.slice(0, k)).sort();
  }
  const size = BigInt(pageSizeBytes);
  const addresses = new BigUint64Array(order.length);
  const before = new Int32Array(order.length);
  const counts = hotness !== null || pieces.some((p) => p.counts) ? new Int16Array(order.length) : null;
  order.forEach((j, m) => {
    const p = pieces[pieceOf[j] ?? 0];
    const i = indexIn[j] ?? 0;
    if (!p) return;
    addresses[m] = p.start + BigInt(i) * size;
    before[m] = p.status[i] ?? 0;
    if (counts) counts[m] = p.counts?.[i] ?? UNKNOWN_COUNT;
  });
  return { addresses, before, counts };
}

/** Merged [start, end) ranges of the pieces, as the contract's Selection.ranges wants them. */
export function piecesToRanges(
  pieces: readonly { start: bigint; end: bigint }[],
): { start: string; end: string }[] {
  const out: AddressRange[] = [];
  for (const p of [...pieces].sort((a, b) => (a.start < b.start ? -1 : 1))) {
    const last = out[out.length - 1];
    if (last && last.end >= p.start) {
      if (p.end > last.end) last.end = p.end;
    } else out.push({ start: p.start, end: p.end });
  }
  return out.map((r) => ({ start: procHex(r.start), end: procHex(r.end) }));
}

/** "7f00-7f80" (hex, 0x optional) → range. */
export function parseRange(text: string): AddressRange | null {
  const m = /^(?:0x)?([0-9a-f]{1,16})-(?:0x)?([0-9a-f]{1,16})$/i.exec(text.trim());
  if (!m?.[1] || !m[2]) return null;
  return { start: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[2]}`) };
}

export function parseAddress(text: string): bigint | null {
  const m = /^(?:0x)?([0-9a-f]{1,16})$/i.exec(text.trim());
  return m?.[1] ? BigInt(`0x${m[1]}`) : null;
}
