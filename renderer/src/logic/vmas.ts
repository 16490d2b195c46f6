import type { Snapshot, VmaKind } from '../../../electron/contract/index.js';
import { addressSortKey } from './format.js';
import { compareNumbers, compareStrings, sortBy, type SortDirection, type SortSpec } from './sort.js';

/** One VMA as the table shows it: per-node pages as an array aligned with the snapshot's nodes. */
export interface VmaRow {
  /** The start address: unique within a snapshot and stable across live updates. */
  id: string;
  start: string;
  end: string;
  /** Start padded to 16 hex digits: string order = address order. */
  sortAddress: string;
  perms: string;
  kind: VmaKind;
  path: string;
  policy: string | null;
  sizeBytes: number;
  rssBytes: number;
  swapBytes: number;
  anonHugePagesBytes: number;
  /** Resident base pages per node, aligned with the snapshot's `nodes`. */
  pages: number[];
  /** Sum of `pages`: what numa_maps saw resident (may differ from RSS by a refresh's worth). */
  nodePagesTotal: number;
}

export function buildVmaRows(snapshot: Snapshot): VmaRow[] {
  const nodeKeys = snapshot.nodes.map(String);
  return snapshot.vmas.map((v) => {
    const pages = nodeKeys.map((n) => v.pagesByNode[n] ?? 0);
    return {
      id: v.start,
      start: v.start,
      end: v.end,
      sortAddress: addressSortKey(v.start),
      perms: v.perms,
      kind: v.kind,
      path: v.path,
      policy: v.policy,
      sizeBytes: v.sizeBytes,
      rssBytes: v.rssBytes,
      swapBytes: v.swapBytes,
      anonHugePagesBytes: v.anonHugePagesBytes,
      pages,
      nodePagesTotal: pages.reduce((a, b) => a + b, 0),
    };
  });
}

export type VmaSortKey =
  'address' | 'size' | 'rss' | 'swap' | 'kind' | 'policy' | 'perms' | 'path' | `node:${number}`;

export function naturalVmaDirection(key: VmaSortKey): SortDirection {
  switch (key) {
    case 'address':
    case 'kind':
    case 'policy':
    case 'perms':
    case 'path':
      return 'asc';
    default:
      return 'desc';
  }
}

/**
 * `nodeIndex` maps a node id to its column in `VmaRow.pages`; a node the snapshot does not know sorts as 0.
 */
export function sortVmaRows(
  rows: readonly VmaRow[],
  sort: SortSpec<VmaSortKey>,
  nodes: readonly number[],
): VmaRow[] {
  const byAddress = (a: VmaRow, b: VmaRow): number => compareStrings(a.sortAddress, b.sortAddress);
  const key = sort.key;
  let compare: (a: VmaRow, b: VmaRow) => number;
  if (key.startsWith('node:')) {
    const index = nodes.indexOf(Number(key.slice(5)));
    compare = (a, b) => compareNumbers(a.pages[index] ?? 0, b.pages[index] ?? 0);
  } else {
    switch (key) {
      case 'address':
        compare = byAddress;
        break;
      case 'size':
        compare = (a, b) => compareNumbers(a.sizeBytes, b.sizeBytes);
        break;
      case 'rss':
        compare = (a, b) => compareNumbers(a.rssBytes, b.rssBytes);
        break;
      case 'swap':
        compare = (a, b) => compareNumbers(a.swapBytes, b.swapBytes);
        break;
      case 'kind':
        compare = (a, b) => compareStrings(a.kind, b.kind);
        break;
      case 'policy':
        compare = (a, b) => compareStrings(a.policy ?? '', b.policy ?? '');
        break;
      case 'perms':
        compare = (a, b) => compareStrings(a.perms, b.perms);
        break;
      case 'path':
        compare = (a, b) => compareStrings(a.path, b.path);
        break;
      default:
        compare = byAddress;
    }
  }
  return sortBy(rows, compare, sort.direction, byAddress);
}

export interface VmaFilter {
  /** Terms, all of which must match path, kind, policy, perms or an address prefix. */
  text: string;
  /** Kinds to show; empty = all. */
  kinds: readonly VmaKind[];
  /** Hide VMAs with nothing resident (no RSS and no pages on any node). */
  residentOnly: boolean;
}

export function filterVmaRows(rows: readonly VmaRow[], filter: VmaFilter): VmaRow[] {
  const terms = filter.text.toLowerCase().split(/\s+/).filter(Boolean);
  const kinds = new Set(filter.kinds);
  return rows.filter((r) => {
    if (filter.residentOnly && r.rssBytes === 0 && r.nodePagesTotal === 0) return false;
    if (kinds.size > 0 && !kinds.has(r.kind)) return false;
    return terms.every((t) => matchVmaTerm(r, t));
  });
}

/**
 * A term matches path, kind, policy or perms as a substring, or, when it is hex (0x optional), an address:
 * a VMA whose start begins with it or, for 8+ digits, the VMA that contains that address.
 */
function matchVmaTerm(r: VmaRow, term: string): boolean {
  if (
    r.path.toLowerCase().includes(term) ||
    r.kind.includes(term) ||
    (r.policy ?? '').toLowerCase().includes(term) ||
    r.perms === term
  ) {
    return true;
  }
  const hex = term.replace(/^0x/, '');
  if (!/^[0-9a-f]{1,16}$/.test(hex)) return false;
  if (r.start.startsWith(hex)) return true;
  if (hex.length < 8) return false;
  const address = addressSortKey(hex);
  return r.sortAddress <= address && address < addressSortKey(r.end);
}

export interface KindNodeSummary {
  kind: VmaKind;
  /** Resident bytes per node, aligned with the snapshot's nodes. */
  bytes: number[];
  total: number;
}

/** Resident bytes per node split by mapping kind, largest kinds first; empty kinds left out. */
export function summarizeByKind(snapshot: Snapshot): KindNodeSummary[] {
  const nodeKeys = snapshot.nodes.map(String);
  const byKind = new Map<VmaKind, number[]>();
  for (const v of snapshot.vmas) {
    let acc = byKind.get(v.kind);
    if (!acc) {
      acc = nodeKeys.map(() => 0);
      byKind.set(v.kind, acc);
    }
    nodeKeys.forEach((n, i) => {
      acc[i] = (acc[i] ?? 0) + (v.pagesByNode[n] ?? 0) * snapshot.pageSizeBytes;
    });
  }
  return [...byKind.entries()]
    .map(([kind, bytes]) => ({ kind, bytes, total: bytes.reduce((a, b) => a + b, 0) }))
    .filter((k) => k.total > 0)
    .sort((a, b) => b.total - a.total || compareStrings(a.kind, b.kind));
}

export interface PolicySummary {
  policy: string;
  vmas: number;
  residentBytes: number;
}

/** Resident bytes by NUMA policy: how much of the process is bound, interleaved or left to the default. */
export function summarizeByPolicy(snapshot: Snapshot): PolicySummary[] {
  const acc = new Map<string, PolicySummary>();
  for (const v of snapshot.vmas) {
    // No numa_maps line (vdso, vvar, vsyscall): no policy to speak of.
    const policy = v.policy ?? '—';
    const entry = acc.get(policy) ?? { policy, vmas: 0, residentBytes: 0 };
    entry.vmas++;
    entry.residentBytes += Object.values(v.pagesByNode).reduce((a, b) => a + b, 0) * snapshot.pageSizeBytes;
    acc.set(policy, entry);
  }
  return [...acc.values()].sort(
    (a, b) => b.residentBytes - a.residentBytes || compareStrings(a.policy, b.policy),
  );
}

/** Per-node resident bytes of the whole process, aligned with `snapshot.nodes`. */
export function nodeBytes(snapshot: Snapshot): number[] {
  return snapshot.nodes.map((n) => (snapshot.totals.pagesByNode[String(n)] ?? 0) * snapshot.pageSizeBytes);
}
