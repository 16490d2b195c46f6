import { readTopology } from '../../engine/sysfs/topology.js';
import { commonOptions, printJson, type Command } from '../io.js';
import { formatMiB, renderTable } from '../table.js';

export const topologyCommand: Command = {
  usage: 'usage: tierscope topology [--json]\n',
  options: commonOptions,
  async run(values, io) {
    const topo = await readTopology();
    if (values['json'] === true) {
      printJson(io, topo);
      return;
    }
    const rows = topo.nodes.map((n, i) => [
      String(n.id),
      n.cpuLess ? '(none)' : compactList(n.cpus),
      n.memoryTier === null ? '-' : String(n.memoryTier),
      formatMiB(n.memTotalBytes),
      formatMiB(n.memFreeBytes),
      (topo.distances[i] ?? []).join(' '),
    ]);
    io.out(
      renderTable(
        [
          { header: 'node', align: 'right' },
          { header: 'cpus', align: 'left' },
          { header: 'tier', align: 'right' },
          { header: 'total MiB', align: 'right' },
          { header: 'free MiB', align: 'right' },
          { header: `distances (to ${topo.nodes.map((n) => n.id).join(' ')})`, align: 'left' },
        ],
        rows,
      ),
    );
    const balancing = topo.numaBalancing
      ? `${topo.numaBalancing.mode} (${topo.numaBalancing.raw})`
      : 'not built in';
    const demotion = topo.demotionEnabled === null ? 'not supported' : String(topo.demotionEnabled);
    io.out(`\nnuma_balancing: ${balancing}\ndemotion_enabled: ${demotion}\n`);
    if (topo.tiers.length > 0) {
      io.out(
        `memory tiers: ${topo.tiers.map((t) => `tier ${t.id} = nodes ${compactList(t.nodes)}`).join('; ')}\n`,
      );
    }
  },
};

/** [0,1,2,5] → "0-2,5", the kernel's own list syntax. */
export function compactList(ids: readonly number[]): string {
  const sorted = [...ids].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] ?? 0) + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
