/**
 * Before/after placement of an experiment (the contract's PlacementSnapshot): where the selected pages
 * are, and where the hot and cold pages of the ranges they were drawn from are, per node.
 */
import type { CountByNode, PlacementSnapshot } from '../../contract/index.js';
import { tallyByNode } from './histogram.js';
import { UNKNOWN_COUNT } from './measure.js';

export interface PlacementInput {
  atMs: number;
  pageSizeBytes: number;
  /** Per piece of the selection's ranges: page status (node or -errno) and counts (-1 unknown) or null. */
  pieces: readonly { status: Int32Array; counts: Int16Array | null }[];
  /** Status of each selected page now. */
  selected: Int32Array;
  /** Counts of the selected pages (for the access rate), or null. */
  selectedCounts: Int16Array | null;
  /** N of the counts, or null when no sampler measured. */
  scansPerWindow: number | null;
}

function addCount(into: CountByNode, node: number, bytes: number): void {
  const key = String(node);
  into[key] = (into[key] ?? 0) + bytes;
}

export function placementSnapshot(input: PlacementInput): PlacementSnapshot {
  const { pageSizeBytes, scansPerWindow } = input;
  const hot: CountByNode = {};
  const cold: CountByNode = {};
  if (scansPerWindow !== null) {
    for (const p of input.pieces) {
      if (!p.counts) continue;
      for (let i = 0; i < p.status.length; i++) {
        const node = p.status[i] ?? -1;
        const c = p.counts[i] ?? UNKNOWN_COUNT;
        if (node < 0 || c === UNKNOWN_COUNT) continue;
        if (c >= scansPerWindow) addCount(hot, node, pageSizeBytes);
        else if (c === 0) addCount(cold, node, pageSizeBytes);
      }
    }
  }
  let rate: number | null = null;
  if (scansPerWindow !== null && scansPerWindow > 0 && input.selectedCounts) {
    let sum = 0;
    let known = 0;
    for (const c of input.selectedCounts) {
      if (c === UNKNOWN_COUNT) continue;
      sum += Math.min(c, scansPerWindow);
      known++;
    }
    rate = known === 0 ? null : sum / (known * scansPerWindow);
  }
  return {
    atMs: Math.max(0, input.atMs),
    selectionBytesByNode: tallyByNode(input.selected, pageSizeBytes),
    hotBytesByNode: hot,
    coldBytesByNode: cold,
    selectionAccessRate: rate,
  };
}

/** Bytes per node of a numa_maps-style pages-per-node table. */
export function pagesToBytes(pages: CountByNode, pageSizeBytes: number): CountByNode {
  const out: CountByNode = {};
  for (const [node, n] of Object.entries(pages)) if (n > 0) out[node] = n * pageSizeBytes;
  return out;
}
