import { z } from 'zod';
import { Bytes } from './common.js';

export const NumaNode = z.object({
  id: z.number().int().nonnegative(),
  cpus: z.array(z.number().int().nonnegative()),
  /** True for memory-only nodes (CXL, PMEM via dax/kmem, HBM): the far tiers Tierscope cares about. */
  cpuLess: z.boolean(),
  memTotalBytes: Bytes,
  memFreeBytes: Bytes,
  /** Memory tier id from /sys/devices/virtual/memory_tiering (lower id = faster tier), null if unknown. */
  memoryTier: z.number().int().nonnegative().nullable(),
});
export type NumaNode = z.infer<typeof NumaNode>;

export const MemoryTier = z.object({
  id: z.number().int().nonnegative(),
  nodes: z.array(z.number().int().nonnegative()),
});
export type MemoryTier = z.infer<typeof MemoryTier>;

export const NumaBalancingMode = z.enum(['disabled', 'normal', 'memory-tiering', 'normal+memory-tiering']);
export type NumaBalancingMode = z.infer<typeof NumaBalancingMode>;

export const Topology = z.object({
  /** Online nodes with memory or CPUs, ascending by id. */
  nodes: z.array(NumaNode),
  /** distance[i][j] between nodes[i] and nodes[j] (same order as `nodes`), from nodeN/distance. */
  distances: z.array(z.array(z.number().int().nonnegative())),
  /** Tiers ascending by id; empty when the kernel has no memory_tiering sysfs. */
  tiers: z.array(MemoryTier),
  /** /sys/kernel/mm/numa/demotion_enabled; null when the file does not exist. */
  demotionEnabled: z.boolean().nullable(),
  /** /proc/sys/kernel/numa_balancing decoded; null when the kernel has no NUMA balancing. */
  numaBalancing: z.object({ raw: z.number().int().nonnegative(), mode: NumaBalancingMode }).nullable(),
});
export type Topology = z.infer<typeof Topology>;
