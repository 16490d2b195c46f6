import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  Report,
  type IntervalRecord,
  type SessionMeta,
  type Topology,
} from '../../../electron/contract/index.js';
import { exportSession } from '../../../electron/engine/export.js';
import { buildReport, tierNodes } from '../../../electron/engine/report.js';
import { createSessionWriter, openSession } from '../../../electron/engine/session/index.js';

const PAGE = 4096;

/** Three nodes: 0 and 1 DRAM (tier 4), 2 CPU-less far memory (tier 22). */
const topology: Topology = {
  nodes: [
    { id: 0, cpus: [0], cpuLess: false, memTotalBytes: 1 << 30, memFreeBytes: 1 << 29, memoryTier: 4 },
    { id: 1, cpus: [1], cpuLess: false, memTotalBytes: 1 << 30, memFreeBytes: 1 << 29, memoryTier: 4 },
    { id: 2, cpus: [], cpuLess: true, memTotalBytes: 1 << 30, memFreeBytes: 1 << 29, memoryTier: 22 },
  ],
  distances: [
    [10, 21, 40],
    [21, 10, 40],
    [40, 40, 10],
  ],
  tiers: [
    { id: 4, nodes: [0, 1] },
    { id: 22, nodes: [2] },
  ],
  demotionEnabled: true,
  numaBalancing: { raw: 0, mode: 'disabled' },
};

const meta: SessionMeta = {
  formatVersion: 1,
  tierscopeVersion: 'test',
  startedAt: '2026-11-22T00:00:00.000Z',
  target: { pid: 4242, comm: 'memhog', cmdline: 'memhog --size 64', startTimeTicks: 100 },
  hostname: 'lab',
  kernelRelease: '6.12.0',
  pageSizeBytes: PAGE,
  nodes: [0, 1, 2],
  topology,
  source: 'page_idle',
  sourceReason: 'auto',
  sourceLimits: 'none worth noting in a test',
  intervalMs: 1000,
  scansPerWindow: 2,
  heatBucketsPerVma: 4,
};

/** VMA 0: 1024 pages, hot first half (on node 2: misplaced), cold second half (on node 0). VMA 1: idle heap. */
function interval(index: number): IntervalRecord {
  const closes = (index + 1) % 2 === 0;
  return {
    index,
    startMs: index * 1000,
    endMs: (index + 1) * 1000,
    samplerCpuMs: 3,
    pagesScanned: 1024 + 16,
    scansInWindow: Math.min(index + 1, 2),
    newVmas:
      index === 0
        ? [
            {
              id: 0,
              start: '7f0000000000',
              end: '7f0000400000',
              perms: 'rw-p',
              path: '',
              kind: 'anon',
              firstInterval: 0,
            },
            {
              id: 1,
              start: '00600000',
              end: '00610000',
              perms: 'rw-p',
              path: '[heap]',
              kind: 'heap',
              firstInterval: 0,
            },
          ]
        : [],
    samples: [
      {
        vmaId: 0,
        rssPages: 1024,
        pagesByNode: [512, 0, 512],
        accessedPages: 512,
        hotPages: index >= 1 ? 512 : 0,
        warmPages: index >= 1 ? 0 : 512,
        coldPages: 512,
        hotPagesByNode: closes ? [0, 0, 512] : [0, 0, 0],
        coldPagesByNode: closes ? [512, 0, 0] : [0, 0, 0],
      },
      {
        vmaId: 1,
        rssPages: 16,
        pagesByNode: [16, 0, 0],
        accessedPages: 0,
        hotPages: 0,
        warmPages: 0,
        coldPages: 16,
        hotPagesByNode: [0, 0, 0],
        coldPagesByNode: closes ? [16, 0, 0] : [0, 0, 0],
      },
    ],
    heat: [
      { vmaId: 0, buckets: [255, 255, 0, 0] },
      { vmaId: 1, buckets: [0, 0, 0, 0] },
    ],
    countRuns: closes
      ? [
          { start: '7f0000000000', end: '7f0000200000', accessedScans: 2 },
          { start: '7f0000200000', end: '7f0000400000', accessedScans: 0 },
          { start: '00600000', end: '00610000', accessedScans: 0 },
        ]
      : null,
    counters: { 'vmstat.numa_hint_faults': index * 10 },
  };
}

async function writeSession(intervals: number, close = true): Promise<string> {
  const path = join(mkdtempSync(join(tmpdir(), 'tierscope-report-')), 's.tierscope');
  const writer = await createSessionWriter(path, meta, { sync: false });
  for (let i = 0; i < intervals; i++) await writer.append(interval(i));
  if (close)
    await writer.close({ endedAt: '2026-11-22T00:00:05.000Z', reason: 'duration-reached', detail: '5 s' });
  else await writer.abort();
  return path;
}

describe('tierNodes', () => {
  it('fastest and slowest memory tier', () => {
    expect(tierNodes(topology)).toEqual({ fast: [0, 1], slow: [2] });
  });
  it('falls back to CPU vs CPU-less nodes without tiers, and to null on one kind of node', () => {
    expect(tierNodes({ ...topology, tiers: [] })).toEqual({ fast: [0, 1], slow: [2] });
    expect(tierNodes({ ...topology, tiers: [], nodes: topology.nodes.slice(0, 2) })).toBeNull();
  });
});

describe('buildReport', () => {
  it('reports the last complete window: classes, nodes, misplacement and ranges', async () => {
    const report = Report.parse(buildReport(await openSession(await writeSession(5))));
    // Intervals 0..4, N = 2: windows close at indices 1 and 3; index 4 is a half window.
    expect(report.window).toEqual({ intervalIndex: 3, scansPerWindow: 2, complete: true });
    expect(report.intervals).toBe(5);
    expect(report.end).toEqual({ reason: 'duration-reached', detail: '5 s', recorded: true });
    expect(report.vmas.map((v) => v.id)).toEqual([0, 1]); // hottest first
    expect(report.vmas[0]).toMatchObject({
      start: '7f0000000000',
      hotBytes: 512 * PAGE,
      coldBytes: 512 * PAGE,
      bytesByNode: { '0': 512 * PAGE, '1': 0, '2': 512 * PAGE },
    });
    expect(report.totals.hotBytesByNode).toEqual({ '0': 0, '1': 0, '2': 512 * PAGE });
    expect(report.totals.coldBytesByNode).toEqual({ '0': 528 * PAGE, '1': 0, '2': 0 });
    expect(report.misplacement).toEqual({
      fastNodes: [0, 1],
      slowNodes: [2],
      hotOnSlowBytes: 512 * PAGE,
      coldOnFastBytes: 528 * PAGE,
    });
    expect(report.hotRanges).toEqual([{ start: '7f0000000000', end: '7f0000200000' }]);
    expect(report.coldRanges).toEqual([
      { start: '00600000', end: '00610000' },
      { start: '7f0000200000', end: '7f0000400000' },
    ]);
  });

  it('a session whose recorder was killed reports what it has, marked as inferred', async () => {
    const report = buildReport(await openSession(await writeSession(3, false)));
    expect(report.end.recorded).toBe(false);
    expect(report.end.reason).toBe('recorder-killed');
    expect(report.window.intervalIndex).toBe(1);
  });

  it('before any window completed the classes are provisional', async () => {
    const report = buildReport(await openSession(await writeSession(1)));
    expect(report.window).toEqual({ intervalIndex: 0, scansPerWindow: 2, complete: false });
    expect(report.hotRanges).toEqual([]);
  });
});

async function exported(path: string, format: 'json' | 'csv' | 'perfetto'): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await exportSession(path, format, out);
  out.end();
  return Buffer.concat(chunks).toString('utf8');
}

describe('exportSession', () => {
  it('json: meta, VMAs and every interval as recorded', async () => {
    const path = await writeSession(3);
    const doc = JSON.parse(await exported(path, 'json')) as {
      meta: SessionMeta;
      intervals: IntervalRecord[];
    };
    expect(doc.meta.target.pid).toBe(4242);
    expect(doc.intervals).toHaveLength(3);
    expect(doc.intervals[1]?.samples[0]?.hotPagesByNode).toEqual([0, 0, 512]);
    expect(doc.intervals[2]?.counters['vmstat.numa_hint_faults']).toBe(20);
  });

  it('csv: one row per VMA per interval, in bytes', async () => {
    const lines = (await exported(await writeSession(2), 'csv')).trim().split('\n');
    expect(lines[0]).toBe(
      'interval,start_ms,end_ms,vma_id,vma_start,vma_end,kind,path,rss_bytes,accessed_bytes,hot_bytes,warm_bytes,cold_bytes,' +
        'node0_bytes,node1_bytes,node2_bytes,hot_node0_bytes,hot_node1_bytes,hot_node2_bytes,cold_node0_bytes,cold_node1_bytes,cold_node2_bytes',
    );
    expect(lines).toHaveLength(1 + 2 * 2);
    expect(lines[3]).toBe(
      `1,1000.0,2000.0,0,7f0000000000,7f0000400000,anon,,${1024 * PAGE},${512 * PAGE},${512 * PAGE},0,${512 * PAGE},` +
        `${512 * PAGE},0,${512 * PAGE},0,0,${512 * PAGE},${512 * PAGE},0,0`,
    );
  });

  it('perfetto: a Chrome JSON trace with counter tracks per node and per VMA', async () => {
    const trace = JSON.parse(await exported(await writeSession(2), 'perfetto')) as {
      traceEvents: { ph: string; name: string; ts?: number; args?: Record<string, number> }[];
    };
    const counters = trace.traceEvents.filter((e) => e.ph === 'C');
    const hotByNode = counters.filter((e) => e.name === 'hot by node (MiB)');
    expect(hotByNode.map((e) => e.ts)).toEqual([1_000_000, 2_000_000]);
    expect(hotByNode[1]?.args).toEqual({ node0: 0, node1: 0, node2: 2 });
    expect(counters.some((e) => e.name.startsWith('VMA 7f0000000000-7f0000400000'))).toBe(true);
    expect(trace.traceEvents.at(-1)).toMatchObject({ ph: 'i', name: 'end: duration-reached' });
  });
});
