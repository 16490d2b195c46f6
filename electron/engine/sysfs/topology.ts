/**
 * Machine topology from sysfs: NUMA nodes (CPUs, memory), the SLIT distance matrix, memory tiers, and the
 * kernel switches that move pages between tiers on their own (demotion, NUMA balancing).
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { MemoryTier, NumaBalancingMode, NumaNode, Topology } from '../../contract/topology.js';
import { TierscopeError } from '../errors.js';
import {
  isErrno,
  kernelFileError,
  quoteForMessage,
  readKernelFile,
  readOptionalKernelFile,
} from './files.js';

export interface TopologyOptions {
  sysRoot?: string;
  procRoot?: string;
}

/**
 * Highest id accepted in a range list. The kernel's limits are far lower (NR_CPUS ≤ 8192, MAX_NUMNODES ≤
 * 1024); the cap only stops a garbage file like "0-4294967295" from allocating gigabytes.
 */
const MAX_RANGE_ID = 65_535;

/**
 * Parses the kernel's list format for CPU and node masks ("0-2,5", "" for an empty mask) into ascending,
 * de-duplicated ids. Only the forms the kernel prints are accepted ("a" and "a-b"; not the "a-b:stride"
 * form it also parses on input). `file` names the source in the error message.
 */
export function parseRangeList(text: string, file = 'range list'): number[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const bad = (why: string): TierscopeError =>
    new TierscopeError(
      'parse',
      `cannot parse ${file}: ${quoteForMessage(trimmed)} is not a range list like "0-3,8" (${why})`,
    );
  const ids = new Set<number>();
  for (const part of trimmed.split(',')) {
    const m = /^(\d{1,6})(?:-(\d{1,6}))?$/.exec(part);
    if (!m?.[1]) throw bad(`bad element ${quoteForMessage(part, 20)}`);
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    if (last > MAX_RANGE_ID) throw bad(`id ${last} is larger than ${MAX_RANGE_ID}`);
    if (last < first) throw bad(`range ${first}-${last} runs backwards`);
    for (let id = first; id <= last; id++) ids.add(id);
  }
  return [...ids].sort((a, b) => a - b);
}

/** Decodes "Node N MemTotal: X kB" / "Node N MemFree: X kB" from nodeN/meminfo. */
export function parseNodeMeminfo(
  text: string,
  nodeId: number,
  file = `node${nodeId}/meminfo`,
): { memTotalBytes: number; memFreeBytes: number } {
  const kbByKey = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const m = /^Node\s+(\d+)\s+([A-Za-z_()]+):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (!m?.[1] || !m[2] || !m[3]) {
      throw new TierscopeError(
        'parse',
        `cannot parse ${file}: line ${quoteForMessage(line)} is not "Node ${nodeId} <Field>: <number> kB"`,
      );
    }
    if (Number(m[1]) !== nodeId) {
      throw new TierscopeError(
        'parse',
        `cannot parse ${file}: it describes node ${m[1]}, not node ${nodeId}`,
      );
    }
    kbByKey.set(m[2], Number(m[3]));
  }
  const bytesOf = (key: string): number => {
    const kb = kbByKey.get(key);
    if (kb === undefined) throw new TierscopeError('parse', `cannot parse ${file}: no "${key}" line`);
    const bytes = kb * 1024;
    if (!Number.isSafeInteger(bytes)) {
      throw new TierscopeError('parse', `cannot parse ${file}: ${key} ${kb} kB is out of range`);
    }
    return bytes;
  };
  return { memTotalBytes: bytesOf('MemTotal'), memFreeBytes: bytesOf('MemFree') };
}

/** Parses nodeN/distance: one distance per online node, in ascending order of online node id. */
export function parseDistanceLine(text: string, expectedCount: number, file = 'distance'): number[] {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== expectedCount || fields.some((f) => !/^\d{1,3}$/.test(f))) {
    throw new TierscopeError(
      'parse',
      `cannot parse ${file}: expected ${expectedCount} distances (one per online node), got ${quoteForMessage(text.trim())}`,
    );
  }
  return fields.map(Number);
}

/** Decodes /proc/sys/kernel/numa_balancing (a bit mask since 6.0: 1 = NORMAL, 2 = MEMORY_TIERING). */
export function decodeNumaBalancing(
  text: string,
  file = 'numa_balancing',
): { raw: number; mode: NumaBalancingMode } {
  const trimmed = text.trim();
  if (!/^\d{1,10}$/.test(trimmed)) {
    throw new TierscopeError('parse', `cannot parse ${file}: ${quoteForMessage(trimmed)} is not a number`);
  }
  const raw = Number(trimmed);
  const modes: readonly NumaBalancingMode[] = [
    'disabled',
    'normal',
    'memory-tiering',
    'normal+memory-tiering',
  ];
  const mode = modes[raw];
  if (mode === undefined) {
    throw new TierscopeError(
      'unsupported',
      `${file} is ${raw}, a NUMA balancing mode this version of Tierscope does not know (expected 0-3)`,
    );
  }
  return { raw, mode };
}

function parseDemotionEnabled(text: string, file: string): boolean {
  switch (text.trim()) {
    case 'true':
      return true;
    case 'false':
      return false;
    default:
      throw new TierscopeError(
        'parse',
        `cannot parse ${file}: ${quoteForMessage(text.trim())} is neither "true" nor "false"`,
      );
  }
}

async function readTiers(sysRoot: string): Promise<MemoryTier[]> {
  const dir = path.join(sysRoot, 'devices/virtual/memory_tiering');
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    // Kernels before 6.1 (or without CONFIG_NUMA) have no memory tiers at all: not an error.
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return [];
    throw kernelFileError(err, dir, '');
  }
  const tiers: MemoryTier[] = [];
  for (const entry of entries) {
    const m = /^memory_tier(\d{1,9})$/.exec(entry);
    if (!m?.[1]) continue; // also holds "power", "uevent"
    const file = path.join(dir, entry, 'nodelist');
    const text = await readKernelFile(
      file,
      'a memory tier directory without nodelist is not a layout Tierscope knows',
    );
    tiers.push({ id: Number(m[1]), nodes: parseRangeList(text, file) });
  }
  return tiers.sort((a, b) => a.id - b.id);
}

async function readNode(nodeDir: string, id: number, tiers: readonly MemoryTier[]): Promise<NumaNode> {
  const hint = `node ${id} is listed as online but its sysfs directory is incomplete (node hot-unplugged while reading?)`;
  const cpulistFile = path.join(nodeDir, 'cpulist');
  const meminfoFile = path.join(nodeDir, 'meminfo');
  const [cpulist, meminfo] = await Promise.all([
    readKernelFile(cpulistFile, hint),
    readKernelFile(meminfoFile, hint),
  ]);
  const cpus = parseRangeList(cpulist, cpulistFile);
  const mem = parseNodeMeminfo(meminfo, id, meminfoFile);
  return {
    id,
    cpus,
    cpuLess: cpus.length === 0,
    memTotalBytes: mem.memTotalBytes,
    memFreeBytes: mem.memFreeBytes,
    memoryTier: tiers.find((t) => t.nodes.includes(id))?.id ?? null,
  };
}

/**
 * Reads the NUMA topology. Nodes that are online but have neither CPUs nor memory (possible with
 * memory hot-unplug or generic initiators) are left out, and so are their rows/columns of the distance
 * matrix, as the contract lists only nodes with memory or CPUs.
 */
export async function readTopology({
  sysRoot = '/sys',
  procRoot = '/proc',
}: TopologyOptions = {}): Promise<Topology> {
  const nodeRoot = path.join(sysRoot, 'devices/system/node');
  const onlineFile = path.join(nodeRoot, 'online');
  const online = parseRangeList(
    await readKernelFile(
      onlineFile,
      'the kernel was built without CONFIG_NUMA, or sysfs is not mounted at ' + sysRoot,
    ),
    onlineFile,
  );
  if (online.length === 0) {
    throw new TierscopeError('parse', `cannot parse ${onlineFile}: it lists no online node`);
  }

  const tiers = await readTiers(sysRoot);
  const allNodes = await Promise.all(
    online.map((id) => readNode(path.join(nodeRoot, `node${id}`), id, tiers)),
  );
  const distanceRows = await Promise.all(
    online.map(async (id) => {
      const file = path.join(nodeRoot, `node${id}`, 'distance');
      const text = await readKernelFile(file, `node ${id} is listed as online but has no distance file`);
      return parseDistanceLine(text, online.length, file);
    }),
  );

  const keptIndexes = allNodes.flatMap((n, i) => (n.cpus.length > 0 || n.memTotalBytes > 0 ? [i] : []));
  const nodes = keptIndexes.map((i) => allNodes[i]).filter((n): n is NumaNode => n !== undefined);
  const distances = keptIndexes.map((i) => keptIndexes.map((j) => distanceRows[i]?.[j] ?? 0));

  const demotionFile = path.join(sysRoot, 'kernel/mm/numa/demotion_enabled');
  const demotionText = await readOptionalKernelFile(demotionFile);
  const balancingFile = path.join(procRoot, 'sys/kernel/numa_balancing');
  const balancingText = await readOptionalKernelFile(balancingFile);

  return {
    nodes,
    distances,
    tiers,
    demotionEnabled: demotionText === null ? null : parseDemotionEnabled(demotionText, demotionFile),
    numaBalancing: balancingText === null ? null : decodeNumaBalancing(balancingText, balancingFile),
  };
}
