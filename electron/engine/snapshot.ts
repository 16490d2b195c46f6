import type { CountByNode, Snapshot, Vma } from '../contract/index.js';
import { pageSizeBytes as nativePageSizeBytes } from '../../native-bridge/index.js';
import { TierscopeError } from './errors.js';
import { assertHasUserMemory, assertSameProcess, readProcess } from './procfs/process.js';
import { readVmas } from './procfs/vmas.js';
import { parseRangeList } from './sysfs/topology.js';
import { readFile } from 'node:fs/promises';

export interface SnapshotOptions {
  procRoot?: string;
  sysRoot?: string;
  /** Defaults to the running kernel's base page size. */
  pageSizeBytes?: number;
  now?: () => Date;
}

/**
 * A per-VMA, per-node picture of one process: smaps + numa_maps merged (readVmas), stamped with the
 * process identity (pid + start time) so a reader can tell a reused PID from the process it meant.
 */
export async function takeSnapshot(pid: number, options: SnapshotOptions = {}): Promise<Snapshot> {
  const procRoot = options.procRoot ?? '/proc';
  const sysRoot = options.sysRoot ?? '/sys';
  const pageSizeBytes = options.pageSizeBytes ?? nativePageSizeBytes();
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    throw new TierscopeError(
      'invalid-argument',
      `not a process id: ${String(pid)} (expected a positive integer)`,
    );
  }

  const proc = await readProcess(pid, { procRoot });
  await assertHasUserMemory(proc, { procRoot });
  const nodes = await readOnlineNodes(sysRoot);
  const vmas = await readVmas(pid, { procRoot, pageSizeBytes });
  // The process may have exited and its PID been reused while we read; smaps of another process would
  // be silently wrong, so confirm identity after the reads.
  await assertSameProcess(pid, proc.startTimeTicks, { procRoot });
  if (vmas.length === 0) {
    throw new TierscopeError('process-gone', `process ${pid} (${proc.comm}) has no mappings: it is exiting`);
  }

  return {
    formatVersion: 1,
    pid,
    comm: proc.comm,
    startTimeTicks: proc.startTimeTicks,
    startTime: proc.startTime,
    takenAt: (options.now?.() ?? new Date()).toISOString(),
    pageSizeBytes,
    nodes,
    vmas,
    totals: totalsOf(vmas, nodes, pageSizeBytes),
  };
}

export function totalsOf(
  vmas: readonly Vma[],
  nodes: readonly number[],
  pageSizeBytes: number,
): Snapshot['totals'] {
  const pagesByNode: CountByNode = {};
  for (const n of nodes) pagesByNode[String(n)] = 0;
  let rssBytes = 0;
  for (const vma of vmas) {
    rssBytes += vma.rssBytes;
    for (const [node, pages] of Object.entries(vma.pagesByNode)) {
      pagesByNode[node] = (pagesByNode[node] ?? 0) + pages;
    }
  }
  const bytesByNode: CountByNode = {};
  for (const [node, pages] of Object.entries(pagesByNode)) bytesByNode[node] = pages * pageSizeBytes;
  return { rssBytes, pagesByNode, bytesByNode, vmaCount: vmas.length };
}

async function readOnlineNodes(sysRoot: string): Promise<number[]> {
  const path = `${sysRoot}/devices/system/node/online`;
  try {
    return parseRangeList((await readFile(path, 'utf8')).trim());
  } catch (err) {
    if (err instanceof TierscopeError) throw err;
    // A kernel without CONFIG_NUMA has no node directory: everything is node 0.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [0];
    throw new TierscopeError('not-found', `cannot read ${path}: ${String(err)}`, { cause: err });
  }
}
