import type { CountByNode, ProcessInfo } from '../../../electron/contract/index.js';
import { compareNumbers, compareStrings, sortBy, type SortDirection, type SortSpec } from './sort.js';

/** pid + start time: a process identity that survives PID reuse. */
export type ProcessKey = `${number}:${number}`;

export function processKey(p: { pid: number; startTimeTicks: number }): ProcessKey {
  return `${p.pid}:${p.startTimeTicks}`;
}

/** Per-node resident pages of one process, filled lazily (the process list itself has no per-node data). */
export type NodePagesEntry =
  | { status: 'pending' }
  | { status: 'ready'; pagesByNode: CountByNode; pageSizeBytes: number }
  | { status: 'error'; code: string; message: string };

export type ProcessSortKey = 'pid' | 'user' | 'command' | 'startTime' | 'rss' | `node:${number}`;

export const PROCESS_SORT_NATURAL: Record<'pid' | 'user' | 'command' | 'startTime' | 'rss', SortDirection> = {
  pid: 'asc',
  user: 'asc',
  command: 'asc',
  startTime: 'desc',
  rss: 'desc',
};

export function naturalProcessDirection(key: ProcessSortKey): SortDirection {
  return key.startsWith('node:') ? 'desc' : PROCESS_SORT_NATURAL[key as keyof typeof PROCESS_SORT_NATURAL];
}

export interface ProcessQuery {
  text: string;
  showKernelThreads: boolean;
}

/**
 * Free-text filter: every whitespace-separated term must match. `user:NAME` matches the user exactly,
 * `pid:N` the pid exactly; other terms match pid, user, comm or command line as case-insensitive
 * substrings.
 */
export function filterProcesses(list: readonly ProcessInfo[], query: ProcessQuery): ProcessInfo[] {
  const terms = query.text.toLowerCase().split(/\s+/).filter(Boolean);
  return list.filter((p) => {
    if (!query.showKernelThreads && !p.hasUserMemory) return false;
    return terms.every((term) => matchTerm(p, term));
  });
}

function matchTerm(p: ProcessInfo, term: string): boolean {
  if (term.startsWith('user:')) return p.user.toLowerCase() === term.slice(5);
  if (term.startsWith('pid:')) return String(p.pid) === term.slice(4);
  return (
    String(p.pid).includes(term) ||
    p.user.toLowerCase().includes(term) ||
    p.comm.toLowerCase().includes(term) ||
    p.cmdline.toLowerCase().includes(term)
  );
}

/** Resident bytes of `p` on `node` when known, else null (pending, failed or never asked). */
export function nodeBytesOf(entry: NodePagesEntry | undefined, node: number): number | null {
  if (entry?.status !== 'ready') return null;
  return (entry.pagesByNode[String(node)] ?? 0) * entry.pageSizeBytes;
}

export function sortProcesses(
  list: readonly ProcessInfo[],
  sort: SortSpec<ProcessSortKey>,
  nodePages: Readonly<Record<string, NodePagesEntry>>,
): ProcessInfo[] {
  const byPid = (a: ProcessInfo, b: ProcessInfo): number => a.pid - b.pid;
  const key = sort.key;
  if (key.startsWith('node:')) {
    const node = Number(key.slice(5));
    // Unknown values sort last in both directions: they are not small, they are missing.
    const known = list.filter((p) => nodeBytesOf(nodePages[processKey(p)], node) !== null);
    const unknown = list.filter((p) => nodeBytesOf(nodePages[processKey(p)], node) === null);
    const value = (p: ProcessInfo): number => nodeBytesOf(nodePages[processKey(p)], node) ?? 0;
    return [
      ...sortBy(known, (a, b) => compareNumbers(value(a), value(b)), sort.direction, byPid),
      ...[...unknown].sort(byPid),
    ];
  }
  const compare = ((): ((a: ProcessInfo, b: ProcessInfo) => number) => {
    switch (key) {
      case 'pid':
        return byPid;
      case 'user':
        return (a, b) => compareStrings(a.user, b.user);
      case 'command':
        return (a, b) => compareStrings(a.comm.toLowerCase(), b.comm.toLowerCase());
      case 'startTime':
        return (a, b) => compareNumbers(a.startTimeTicks, b.startTimeTicks);
      case 'rss':
        return (a, b) => compareNumbers(a.rssBytes, b.rssBytes);
      default:
        return byPid;
    }
  })();
  return sortBy(list, compare, sort.direction, byPid);
}
