// The guest's memory topology as Tierscope's readers see it: three nodes, node 2 CPU-less memory in a
// lower (higher-numbered) memory tier, the SLIT distances test/lab/run configures, and the access-tracking
// sources the lab kernel provides.
import { describe, expect, it } from 'vitest';
import { probeCapabilities } from '../../../electron/engine/caps.js';
import { readTopology } from '../../../electron/engine/sysfs/topology.js';
import { getMemsAllowed, readNodesWithMemory } from '../../../native-bridge/index.js';

describe('lab topology', () => {
  it('has nodes 0 and 1 with one CPU each and CPU-less node 2, each with memory', async () => {
    const topo = await readTopology();
    expect(topo.nodes.map((n) => [n.id, n.cpus, n.cpuLess])).toEqual([
      [0, [0], false],
      [1, [1], false],
      [2, [], true],
    ]);
    for (const n of topo.nodes) {
      // 1 GiB per node, minus what the kernel reserves at boot.
      expect(n.memTotalBytes).toBeGreaterThan(900 * 2 ** 20);
      expect(n.memTotalBytes).toBeLessThanOrEqual(2 ** 30);
    }
    expect(readNodesWithMemory()).toEqual([0, 1, 2]);
    expect(getMemsAllowed()).toEqual([0, 1, 2]);
  });

  it('puts node 2 in a lower (higher-numbered) memory tier than nodes 0 and 1', async () => {
    const topo = await readTopology();
    const tierOf = (id: number): number | null => topo.nodes.find((n) => n.id === id)?.memoryTier ?? null;
    const dram = tierOf(0);
    const slow = tierOf(2);
    expect(dram).not.toBeNull();
    expect(tierOf(1)).toBe(dram);
    expect(slow).not.toBeNull();
    expect(slow ?? 0).toBeGreaterThan(dram ?? Infinity);
    expect(topo.tiers).toEqual([
      { id: dram, nodes: [0, 1] },
      { id: slow, nodes: [2] },
    ]);
  });

  it('has the configured distances, and the switches as the suite set them', async () => {
    const topo = await readTopology();
    expect(topo.distances).toEqual([
      [10, 21, 40],
      [21, 10, 40],
      [40, 40, 10],
    ]);
    // globalSetup turned NUMA balancing off; demotion is off by default.
    expect(topo.numaBalancing).toEqual({ raw: 0, mode: 'disabled' });
    expect(topo.demotionEnabled).toBe(false);
  });

  it('offers page_idle and DAMON to root, with no kdamond in use', async () => {
    const caps = await probeCapabilities();
    expect(caps.capSysAdmin).toBe(true);
    expect(caps.damon).toEqual({ kdamonds: 0, kdamondsRunning: 0 });
    const available = Object.fromEntries(caps.sources.map((s) => [s.id, s.available]));
    expect(available).toMatchObject({ page_idle: true, damon: true, refs: true });
  });
});
