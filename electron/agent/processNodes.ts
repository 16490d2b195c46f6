import path from 'node:path';
import type { CountByNode, ProcessNodes } from '../contract/index.js';
import { TierscopeError, procfsError } from '../engine/errors.js';
import { parseNumaMaps } from '../engine/procfs/numaMaps.js';
import { readProcStat } from '../engine/procfs/process.js';
import { readProcText } from '../engine/procfs/procText.js';

/** numa_maps read at once: bounded so a picker refresh over thousands of PIDs cannot exhaust fds. */
const CONCURRENCY = 16;

/**
 * Resident base pages per node for each PID, from /proc/PID/numa_maps alone (numastat -p without smaps:
 * cheap enough for every row of the process picker). Processes that exit or may not be read are left out;
 * a PID whose start time changes during the read (reused) is left out too rather than mixed up.
 */
export async function readProcessNodes(
  pids: readonly number[],
  { procRoot = '/proc', pageSizeBytes }: { procRoot?: string; pageSizeBytes: number },
): Promise<ProcessNodes[]> {
  const unique = [...new Set(pids)];
  const results: (ProcessNodes | null)[] = new Array<ProcessNodes | null>(unique.length).fill(null);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < unique.length; i = next++) {
      const pid = unique[i];
      if (pid === undefined) continue;
      try {
        results[i] = await readOne(pid, procRoot, pageSizeBytes);
      } catch (err) {
        if (err instanceof TierscopeError && (err.code === 'process-gone' || err.code === 'permission'))
          continue;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, unique.length) }, worker));
  return results.filter((r): r is ProcessNodes => r !== null);
}

async function readOne(pid: number, procRoot: string, pageSizeBytes: number): Promise<ProcessNodes | null> {
  const before = await readProcStat(pid, { procRoot });
  const file = path.join(procRoot, String(pid), 'numa_maps');
  let text: string;
  try {
    text = await readProcText(file);
  } catch (err) {
    throw procfsError(err, pid, 'numa_maps');
  }
  const after = await readProcStat(pid, { procRoot });
  if (after.startTimeTicks !== before.startTimeTicks) return null;

  const pagesByNode: CountByNode = {};
  for (const entry of parseNumaMaps(text, file)) {
    if (entry.kernelPageSizeKB === null) continue; // nothing resident
    // Hugetlb counts are in huge pages; the contract counts base pages.
    const scale = Math.max(1, Math.round((entry.kernelPageSizeKB * 1024) / pageSizeBytes));
    for (const [node, pages] of Object.entries(entry.kernelPagesByNode)) {
      pagesByNode[node] = (pagesByNode[node] ?? 0) + pages * scale;
    }
  }
  return { pid, startTimeTicks: before.startTimeTicks, pagesByNode };
}
