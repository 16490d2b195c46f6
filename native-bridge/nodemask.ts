/**
 * Node masks as the kernel's mempolicy calls read and write them: arrays of unsigned long (64-bit on every
 * architecture the bridge supports), bit n = node n.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Upper bound of MAX_NUMNODES over all kernel configs (NODES_SHIFT ≤ 10). */
export const MAX_NODE_ID_EXCLUSIVE = 1024;
const BITS_PER_WORD = 64;

export interface Nodemask {
  mask: BigUint64Array;
  /**
   * What to pass as `maxnode`: the kernel's get_nodes() decrements it before use (the historic
   * off-by-one that libnuma also compensates), so it is the mask's bit count + 1. Passing the bit count
   * alone would silently drop the highest node.
   */
  maxnode: number;
}

/** Bitmap of `nodes` (any order, duplicates allowed) in the smallest whole number of 64-bit words. */
export function buildNodemask(nodes: readonly number[]): Nodemask {
  let highest = -1;
  for (const node of nodes) {
    if (!Number.isInteger(node) || node < 0 || node >= MAX_NODE_ID_EXCLUSIVE) {
      throw new RangeError(`node id ${String(node)} is not an integer in [0, ${MAX_NODE_ID_EXCLUSIVE})`);
    }
    if (node > highest) highest = node;
  }
  const words = Math.max(1, Math.ceil((highest + 1) / BITS_PER_WORD));
  const mask = new BigUint64Array(words);
  for (const node of nodes) {
    const word = Math.floor(node / BITS_PER_WORD);
    mask[word] = (mask[word] ?? 0n) | (1n << BigInt(node % BITS_PER_WORD));
  }
  return { mask, maxnode: words * BITS_PER_WORD + 1 };
}

/** Node ids set in a mask, ascending. */
export function nodemaskToList(mask: BigUint64Array): number[] {
  const nodes: number[] = [];
  for (let word = 0; word < mask.length; word++) {
    let bits = mask[word] ?? 0n;
    for (let bit = 0; bits !== 0n; bit++, bits >>= 1n) {
      if ((bits & 1n) === 1n) nodes.push(word * BITS_PER_WORD + bit);
    }
  }
  return nodes;
}

/** Parses a kernel node list ("0-2,4", "" for none) as sysfs prints it. Throws on anything else. */
export function parseNodeList(text: string): number[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const nodes: number[] = [];
  for (const part of trimmed.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m?.[1]) throw new RangeError(`not a node list: "${trimmed}"`);
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    if (last < first) throw new RangeError(`not a node list: "${trimmed}"`);
    for (let n = first; n <= last; n++) nodes.push(n);
  }
  return nodes;
}

/**
 * Nodes that have memory (sysfs `has_memory`), or null when that file cannot be read (e.g. a kernel
 * without CONFIG_NUMA): callers then cannot tell which node was refused and say so.
 */
export function readNodesWithMemory(sysRoot = '/sys'): number[] | null {
  try {
    return parseNodeList(readFileSync(join(sysRoot, 'devices/system/node/has_memory'), 'utf8'));
  } catch {
    return null;
  }
}
