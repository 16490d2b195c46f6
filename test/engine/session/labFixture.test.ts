// The committed real capture from the NUMA lab (test/fixtures/sessions/README.md): the reader, the report
// and the experiment chunk on a file the real recorder and `migrate --session` wrote on a 3-node kernel.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildReport } from '../../../electron/engine/report.js';
import { openSession } from '../../../electron/engine/session/index.js';

const DIR = path.resolve(import.meta.dirname, '../../fixtures/sessions');
const FILE = path.join(DIR, 'lab-memhog-page_idle.tierscope');
interface Truth {
  base: string;
  sizeBytes: number;
  hotRanges: { start: string; bytes: number }[];
}
const truth = JSON.parse(readFileSync(path.join(DIR, 'lab-memhog-page_idle.truth.json'), 'utf8')) as Truth;

function covered(ranges: readonly { start: string; end: string }[], start: bigint, end: bigint): bigint {
  let total = 0n;
  for (const r of ranges) {
    const lo = BigInt(`0x${r.start}`) > start ? BigInt(`0x${r.start}`) : start;
    const hi = BigInt(`0x${r.end}`) < end ? BigInt(`0x${r.end}`) : end;
    if (hi > lo) total += hi - lo;
  }
  return total;
}

describe('lab capture: memhog on node 2, page_idle, hot set promoted', () => {
  it('opens with its three nodes, every interval and the end the recorder wrote', async () => {
    const session = await openSession(FILE);
    expect(session.meta.source).toBe('page_idle');
    expect(session.meta.nodes).toEqual([0, 1, 2]);
    expect(session.meta.topology.nodes.find((n) => n.id === 2)?.cpus).toEqual([]);
    expect(session.intervalCount).toBe(24);
    expect(session.end.reason).toBe('duration-reached');
    expect(session.endRecorded).toBe(true);
    expect(session.recovered).toBeNull();
  });

  it("rates memhog's hot 16 MiB hot and the rest of its region cold, all of it on node 2", async () => {
    const report = buildReport(await openSession(FILE));
    const base = BigInt(`0x${truth.base}`);
    const hot = truth.hotRanges[0];
    expect(hot).toBeDefined();
    const hotStart = BigInt(`0x${hot?.start ?? '0'}`);
    const hotEnd = hotStart + BigInt(hot?.bytes ?? 0);
    const end = base + BigInt(truth.sizeBytes);
    expect(Number(covered(report.hotRanges, hotStart, hotEnd)) / (hot?.bytes ?? 1)).toBeGreaterThanOrEqual(
      0.95,
    );
    expect(covered(report.hotRanges, hotEnd, end)).toBe(0n);
    expect(Number(covered(report.coldRanges, hotEnd, end))).toBeGreaterThanOrEqual(
      0.95 * Number(end - hotEnd),
    );
    const region = report.vmas.find((v) => v.start === truth.base);
    expect(region?.hotBytesByNode).toMatchObject({ '2': 16 << 20 });
    expect(report.misplacement?.hotOnSlowBytes).toBeGreaterThanOrEqual(16 << 20);
  });

  it('holds the promotion as an experiment: the hot pages moved from node 2 to node 0', async () => {
    const [experiment, ...others] = (await openSession(FILE)).experiments;
    expect(others).toEqual([]);
    expect(experiment).toMatchObject({
      kind: 'move-pages',
      status: 'completed',
      toNodes: [0],
      dryRun: false,
    });
    expect(experiment?.selection.hotness).toBe('hot');
    expect(experiment?.histogram.moved).toBeGreaterThanOrEqual((16 << 20) / 4096);
    expect(experiment?.after?.hotBytesByNode['0']).toBeGreaterThanOrEqual(16 << 20);
  });
});
