// The session's VMA table: the SessionVmaSummary rows, filtered by text and sorted on any column.
import type { SessionVmaSummary } from '../../../electron/contract/index.js';
import { parseHex } from './addressAxis.js';
import { addressSortKey } from './format.js';
import { compareNumbers, compareStrings, sortBy, type SortSpec } from './sort.js';

export type SessionVmaSortKey =
  'address' | 'size' | 'rss' | 'maxRss' | 'hot' | 'warm' | 'cold' | 'kind' | 'path' | `node:${number}`;

/** Sizes and hotness sort largest first on the first click; names and addresses ascending. */
export function naturalSessionVmaDirection(key: SessionVmaSortKey): 'asc' | 'desc' {
  return key === 'address' || key === 'kind' || key === 'path' ? 'asc' : 'desc';
}

export function vmaSizeBytes(v: Pick<SessionVmaSummary, 'start' | 'end'>): number {
  return Number(parseHex(v.end) - parseHex(v.start));
}

function sortValue(v: SessionVmaSummary, key: SessionVmaSortKey): number | string {
  switch (key) {
    case 'address':
      return addressSortKey(v.start);
    case 'size':
      return vmaSizeBytes(v);
    case 'rss':
      return v.rssBytes;
    case 'maxRss':
      return v.maxRssBytes;
    case 'hot':
      return v.hotBytes;
    case 'warm':
      return v.warmBytes;
    case 'cold':
      return v.coldBytes;
    case 'kind':
      return v.kind;
    case 'path':
      return v.path;
    default:
      return v.bytesByNode[key.slice('node:'.length)] ?? 0;
  }
}

/** Text filter: path, kind, or an address ("0x7f…" or bare hex) inside the VMA. */
export function filterSessionVmas(
  vmas: readonly SessionVmaSummary[],
  text: string,
): readonly SessionVmaSummary[] {
  const q = text.trim().toLowerCase();
  if (q === '') return vmas;
  const hex = /^(0x)?([0-9a-f]{4,16})$/.exec(q)?.[2];
  const address = hex === undefined ? null : parseHex(hex);
  return vmas.filter(
    (v) =>
      v.path.toLowerCase().includes(q) ||
      v.kind.includes(q) ||
      (address !== null && parseHex(v.start) <= address && address < parseHex(v.end)),
  );
}

export function sortSessionVmas(
  vmas: readonly SessionVmaSummary[],
  sort: SortSpec<SessionVmaSortKey>,
): readonly SessionVmaSummary[] {
  const byAddress = (a: SessionVmaSummary, b: SessionVmaSummary): number =>
    compareStrings(addressSortKey(a.start), addressSortKey(b.start));
  const compare = (a: SessionVmaSummary, b: SessionVmaSummary): number => {
    const x = sortValue(a, sort.key);
    const y = sortValue(b, sort.key);
    return typeof x === 'number' && typeof y === 'number'
      ? compareNumbers(x, y)
      : compareStrings(String(x), String(y));
  };
  // Ties fall back to the address, so equal rows keep a stable, meaningful order.
  return sortBy(vmas, compare, sort.direction, byAddress);
}
