/**
 * Which nodes can take pages. The kernel answers a move to a bad node with one errno for several causes
 * (ENODEV from move_pages, EINVAL from migrate_pages); checking sysfs first lets the message name the
 * actual cause: the node does not exist, is offline, or has no memory. A CPU-less node with memory (CXL,
 * PMEM, the lab's node 2) is a perfectly good target.
 */
import path from 'node:path';
import { TierscopeError } from '../errors.js';
import { readOptionalKernelFile } from '../sysfs/files.js';
import { parseNodeMeminfo, parseRangeList } from '../sysfs/topology.js';

export interface NodeSets {
  /** Node ids the kernel could ever bring online (sysfs `possible`). */
  possible: number[];
  online: number[];
  /** Online nodes with memory (sysfs `has_memory`): the only valid targets. */
  withMemory: number[];
}

const NODE_DIR = 'devices/system/node';

/** Reads possible/online/has_memory. A kernel without CONFIG_NUMA has none of them: that is an error here. */
export async function readNodeSets(sysRoot = '/sys'): Promise<NodeSets> {
  const dir = path.join(sysRoot, NODE_DIR);
  const read = async (name: string): Promise<number[] | null> => {
    const file = path.join(dir, name);
    const text = await readOptionalKernelFile(file);
    return text === null ? null : parseRangeList(text, file);
  };
  const [possible, online, withMemory] = await Promise.all([
    read('possible'),
    read('online'),
    read('has_memory'),
  ]);
  if (online === null || withMemory === null) {
    throw new TierscopeError(
      'unsupported',
      `${dir} has no online/has_memory lists: the kernel was built without CONFIG_NUMA, so pages cannot be moved between nodes`,
    );
  }
  return { possible: possible ?? online, online, withMemory };
}

/** "0-2,4" from ids (ascending, merged), as sysfs prints node lists. */
export function formatNodeList(nodes: readonly number[]): string {
  const sorted = [...new Set(nodes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    const first = sorted[i] ?? 0;
    let last = first;
    while (sorted[i + 1] === last + 1) last = sorted[++i] ?? last;
    parts.push(first === last ? String(first) : `${first}-${last}`);
    i++;
  }
  return parts.join(',');
}

/**
 * Throws TierscopeError('unknown-node') unless `node` can take pages, with the cause: nonexistent, offline,
 * or without memory. `role` names the option in the message ("target", "--from").
 */
export function checkTargetNode(node: number, sets: NodeSets, role = 'target'): void {
  if (!Number.isInteger(node) || node < 0) {
    throw new TierscopeError(
      'invalid-argument',
      `${role} node ${String(node)} is not a node id; pass a non-negative integer`,
    );
  }
  const pick = `pick one of the nodes with memory (${formatNodeList(sets.withMemory)})`;
  if (!sets.possible.includes(node) && !sets.online.includes(node)) {
    throw new TierscopeError(
      'unknown-node',
      `${role} node ${node} does not exist on this machine (nodes ${formatNodeList(sets.online)}); ${pick}`,
    );
  }
  if (!sets.online.includes(node)) {
    throw new TierscopeError('unknown-node', `${role} node ${node} is offline; bring it online or ${pick}`);
  }
  if (!sets.withMemory.includes(node)) {
    throw new TierscopeError(
      'unknown-node',
      `${role} node ${node} has no memory (CPUs only), so no page can live there; ${pick}`,
    );
  }
}

/**
 * Checks a --from set: every node must exist and be online (it may lack memory: then it simply holds no
 * pages, but a typo should not silently select nothing).
 */
export function checkSourceNodes(nodes: readonly number[], sets: NodeSets, role = '--from'): void {
  if (nodes.length === 0)
    throw new TierscopeError('invalid-argument', `${role} names no node; pass a list like 0,2`);
  for (const node of nodes) {
    if (!sets.online.includes(node)) {
      const why = sets.possible.includes(node) ? 'is offline' : 'does not exist on this machine';
      throw new TierscopeError(
        'unknown-node',
        `${role} node ${node} ${why} (online nodes ${formatNodeList(sets.online)}); pass online nodes`,
      );
    }
  }
}

/** MemFree of a node in bytes, or null when its meminfo cannot be read. */
export async function readNodeFreeBytes(node: number, sysRoot = '/sys'): Promise<number | null> {
  const file = path.join(sysRoot, NODE_DIR, `node${node}`, 'meminfo');
  const text = await readOptionalKernelFile(file);
  return text === null ? null : parseNodeMeminfo(text, node, file).memFreeBytes;
}

/**
 * Throws TierscopeError('busy') when `bytes` clearly cannot fit on the target: more than its free memory.
 * Reclaim could make room, but a move that runs into a full node fails page by page (ENOMEM) after having
 * pushed the node into reclaim; asking first is kinder. `force` skips the check.
 */
export async function checkTargetRoom(
  node: number,
  bytes: number,
  options: { sysRoot?: string; force?: boolean } = {},
): Promise<void> {
  if (options.force === true || bytes === 0) return;
  const free = await readNodeFreeBytes(node, options.sysRoot);
  if (free === null || bytes <= free) return;
  const mib = (b: number): string => (b / 2 ** 20).toFixed(1);
  throw new TierscopeError(
    'busy',
    `target node ${node} is too full: ${mib(free)} MiB free, the selection needs ${mib(bytes)} MiB; free memory on node ${node}, select fewer pages (e.g. --top-k), or pass --force to move what fits`,
  );
}
