import type { NumaBalancingMode, Topology } from '../../../electron/contract/index.js';

export interface NodeSummary {
  id: number;
  cpus: string;
  cpuLess: boolean;
  tier: number | null;
  /** 0 = fastest tier present; null when the kernel reports no tiers. */
  tierRank: number | null;
  totalBytes: number;
  freeBytes: number;
  usedFraction: number | null;
}

/** CPU list as the kernel prints it: "0-3,8,10-11". */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...cpus].sort((a, b) => a - b);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    const start = sorted[i] ?? 0;
    let end = start;
    while (i + 1 < sorted.length && sorted[i + 1] === end + 1) {
      i++;
      end = sorted[i] ?? end;
    }
    parts.push(start === end ? String(start) : `${start}-${end}`);
    i++;
  }
  return parts.join(',');
}

export function summarizeNodes(topology: Topology): NodeSummary[] {
  const tierIds = [...new Set(topology.nodes.map((n) => n.memoryTier).filter((t) => t !== null))].sort(
    (a, b) => a - b,
  );
  return topology.nodes.map((n) => ({
    id: n.id,
    cpus: n.cpus.length > 0 ? formatCpuList(n.cpus) : '',
    cpuLess: n.cpuLess,
    tier: n.memoryTier,
    tierRank: n.memoryTier === null ? null : tierIds.indexOf(n.memoryTier),
    totalBytes: n.memTotalBytes,
    freeBytes: n.memFreeBytes,
    usedFraction: n.memTotalBytes > 0 ? 1 - n.memFreeBytes / n.memTotalBytes : null,
  }));
}

/** Distance class for colouring the matrix: local (10), near (≤ 2× local), far. */
export type DistanceClass = 'local' | 'near' | 'far';

export function distanceClass(distance: number, localDistance = 10): DistanceClass {
  if (distance <= localDistance) return 'local';
  if (distance <= 2 * localDistance + 5) return 'near';
  return 'far';
}

export function describeBalancing(balancing: Topology['numaBalancing']): {
  label: string;
  detail: string;
} {
  if (balancing === null) {
    return { label: 'not available', detail: 'the kernel has no NUMA balancing (CONFIG_NUMA_BALANCING)' };
  }
  const details: Record<NumaBalancingMode, string> = {
    disabled: 'pages stay where they were first touched unless something migrates them',
    normal: 'hint faults move pages towards the CPUs that touch them',
    'memory-tiering': 'hot pages on slow tiers are promoted to fast ones',
    'normal+memory-tiering': 'both: locality and tier promotion',
  };
  return { label: `${balancing.mode} (${balancing.raw})`, detail: details[balancing.mode] };
}

export function describeDemotion(enabled: boolean | null): { label: string; detail: string } {
  if (enabled === null) return { label: 'not available', detail: 'no /sys/kernel/mm/numa/demotion_enabled' };
  return enabled
    ? { label: 'enabled', detail: 'reclaim demotes cold pages to the next slower tier' }
    : { label: 'disabled', detail: 'reclaim frees or swaps pages instead of demoting them' };
}
