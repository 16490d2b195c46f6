import type { ProcessInfo, Snapshot, Topology } from '../../../electron/contract/index.js';
import { createSelector } from '../logic/memo.js';
import { filterProcesses, sortProcesses } from '../logic/processes.js';
import { summarizeNodes, type NodeSummary } from '../logic/topology.js';
import {
  buildVmaRows,
  filterVmaRows,
  nodeBytes,
  sortVmaRows,
  summarizeByKind,
  summarizeByPolicy,
  type VmaRow,
} from '../logic/vmas.js';
import type { AppState } from './state.js';

// Memoized selectors: each recomputes only when its inputs change by identity, so a live snapshot every
// second rebuilds the VMA rows once, and typing in the process search does not touch the VMA table.

const EMPTY_PROCESSES: readonly ProcessInfo[] = [];

export const selectSnapshot = (s: AppState): Snapshot | null => s.target?.snapshot ?? null;
export const selectTopology = (s: AppState): Topology | null => s.topology.data;

export const selectProcessList = (s: AppState): readonly ProcessInfo[] => s.processes.data ?? EMPTY_PROCESSES;

export const selectVisibleProcesses = createSelector(
  selectProcessList,
  (s: AppState) => s.processQuery,
  (s: AppState) => s.nodePages,
  (list, query, nodePages) => sortProcesses(filterProcesses(list, query), query.sort, nodePages),
);

/** Node ids for per-node columns: the topology's, else the snapshot's, else none yet. */
export const selectNodeIds = createSelector(
  selectTopology,
  selectSnapshot,
  (topology, snapshot): readonly number[] => topology?.nodes.map((n) => n.id) ?? snapshot?.nodes ?? [],
);

export const selectNodeSummaries = createSelector(selectTopology, (topology): readonly NodeSummary[] =>
  topology ? summarizeNodes(topology) : [],
);

export const selectCpuLessNodes = createSelector(
  selectNodeSummaries,
  (nodes): ReadonlySet<number> => new Set(nodes.filter((n) => n.cpuLess).map((n) => n.id)),
);

/**
 * Node facts (CPU-less, tier) for the open target: the agent's topology, except for a snapshot opened from
 * a file, which may come from another machine.
 */
export const selectTargetTopology = (s: AppState): Topology | null =>
  s.target?.phase === 'file' ? null : s.topology.data;

export const selectTargetCpuLessNodes = createSelector(
  selectTargetTopology,
  (topology): ReadonlySet<number> => new Set(topology?.nodes.filter((n) => n.cpuLess).map((n) => n.id) ?? []),
);

export const selectVmaRows = createSelector(selectSnapshot, (snapshot): readonly VmaRow[] =>
  snapshot ? buildVmaRows(snapshot) : [],
);

export const selectVisibleVmaRows = createSelector(
  selectVmaRows,
  (s: AppState) => s.vmaQuery,
  selectSnapshot,
  (rows, query, snapshot) => sortVmaRows(filterVmaRows(rows, query), query.sort, snapshot?.nodes ?? []),
);

export const selectKindSummary = createSelector(selectSnapshot, (snapshot) =>
  snapshot ? summarizeByKind(snapshot) : [],
);

export const selectPolicySummary = createSelector(selectSnapshot, (snapshot) =>
  snapshot ? summarizeByPolicy(snapshot) : [],
);

export const selectNodeBytes = createSelector(selectSnapshot, (snapshot): readonly number[] =>
  snapshot ? nodeBytes(snapshot) : [],
);

/** What the agent link allows right now: controls that need an agent are disabled otherwise. */
export const selectAgentUsable = (s: AppState): boolean => s.connection.status === 'connected';
