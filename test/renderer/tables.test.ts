import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  filterProcesses,
  nodeBytesOf,
  processKey,
  sortProcesses,
  type NodePagesEntry,
} from '../../renderer/src/logic/processes.js';
import {
  buildVmaRows,
  filterVmaRows,
  nodeBytes,
  sortVmaRows,
  summarizeByKind,
  summarizeByPolicy,
} from '../../renderer/src/logic/vmas.js';
import { proc, threeNodeSnapshot, vma } from './fixtures.js';

describe('process filter', () => {
  const list = [
    proc({ pid: 1, comm: 'systemd', user: 'root', uid: 0, cmdline: '/sbin/init' }),
    proc({ pid: 42, comm: 'memhog', cmdline: '/opt/bin/memhog --size 64' }),
    proc({ pid: 420, comm: 'postgres', user: 'postgres', cmdline: 'postgres: checkpointer' }),
    proc({ pid: 2, comm: 'kthreadd', user: 'root', uid: 0, hasUserMemory: false }),
  ];
  const pids = (text: string, showKernelThreads = false): number[] =>
    filterProcesses(list, { text, showKernelThreads }).map((p) => p.pid);

  it('matches pid, user, comm and command line, every term', () => {
    expect(pids('')).toEqual([1, 42, 420]);
    expect(pids('42')).toEqual([42, 420]);
    expect(pids('MEMHOG')).toEqual([42]);
    expect(pids('--size')).toEqual([42]);
    expect(pids('postgres checkpointer')).toEqual([420]);
    expect(pids('postgres memhog')).toEqual([]);
  });

  it('has exact user: and pid: terms', () => {
    expect(pids('user:root')).toEqual([1]);
    expect(pids('pid:42')).toEqual([42]);
  });

  it('hides kernel threads unless asked', () => {
    expect(pids('kthreadd')).toEqual([]);
    expect(pids('kthreadd', true)).toEqual([2]);
  });
});

describe('process sort', () => {
  const a = proc({ pid: 10, rssBytes: 300, startTimeTicks: 5, comm: 'b' });
  const b = proc({ pid: 11, rssBytes: 100, startTimeTicks: 9, comm: 'A' });
  const c = proc({ pid: 12, rssBytes: 300, startTimeTicks: 1, comm: 'c' });
  const pages: Record<string, NodePagesEntry> = {
    [processKey(a)]: { status: 'ready', pagesByNode: { '0': 1, '2': 50 }, pageSizeBytes: 4096 },
    [processKey(b)]: { status: 'ready', pagesByNode: { '2': 10 }, pageSizeBytes: 4096 },
    [processKey(c)]: { status: 'error', code: 'permission', message: 'no' },
  };

  it('sorts by RSS with pid as the tie-break in both directions', () => {
    expect(sortProcesses([a, b, c], { key: 'rss', direction: 'desc' }, {}).map((p) => p.pid)).toEqual([
      10, 12, 11,
    ]);
    expect(sortProcesses([a, b, c], { key: 'rss', direction: 'asc' }, {}).map((p) => p.pid)).toEqual([
      11, 10, 12,
    ]);
  });

  it('sorts by start time and case-insensitive command', () => {
    expect(sortProcesses([a, b, c], { key: 'startTime', direction: 'desc' }, {}).map((p) => p.pid)).toEqual([
      11, 10, 12,
    ]);
    expect(sortProcesses([a, b, c], { key: 'command', direction: 'asc' }, {}).map((p) => p.pid)).toEqual([
      11, 10, 12,
    ]);
  });

  it('sorts by a node column, unknown values last in either direction', () => {
    expect(sortProcesses([a, b, c], { key: 'node:2', direction: 'desc' }, pages).map((p) => p.pid)).toEqual([
      10, 11, 12,
    ]);
    expect(sortProcesses([a, b, c], { key: 'node:2', direction: 'asc' }, pages).map((p) => p.pid)).toEqual([
      11, 10, 12,
    ]);
    expect(nodeBytesOf(pages[processKey(a)], 2)).toBe(50 * 4096);
    expect(nodeBytesOf(pages[processKey(b)], 0)).toBe(0);
    expect(nodeBytesOf(pages[processKey(c)], 0)).toBeNull();
  });
});

describe('VMA rows', () => {
  const snap = threeNodeSnapshot();
  const rows = buildVmaRows(snap);

  it('aligns per-node pages with the snapshot nodes', () => {
    const anon = rows.find((r) => r.kind === 'anon');
    expect(anon?.pages).toEqual([8192, 4096, 4096]);
    expect(anon?.nodePagesTotal).toBe(16_384);
    expect(rows.find((r) => r.kind === 'file')?.pages).toEqual([0, 1, 0]);
  });

  it('sorts by address numerically, not by string length', () => {
    const sorted = sortVmaRows(rows, { key: 'address', direction: 'asc' }, snap.nodes).map((r) => r.start);
    expect(sorted).toEqual(['400000', '1000000', '7f0000000000', '7ffc00000000', '7ffc00100000']);
  });

  it('sorts by a node column and by RSS', () => {
    const byN1 = sortVmaRows(rows, { key: 'node:1', direction: 'desc' }, snap.nodes).map((r) => r.kind);
    expect(byN1.slice(0, 2)).toEqual(['anon', 'file']);
    const byRss = sortVmaRows(rows, { key: 'rss', direction: 'asc' }, snap.nodes).map((r) => r.kind);
    expect(byRss).toEqual(['vdso', 'file', 'heap', 'stack', 'anon']);
  });

  it('filters by text, kind, resident-only and containing address', () => {
    const ids = (f: Partial<Parameters<typeof filterVmaRows>[1]>): string[] =>
      filterVmaRows(rows, { text: '', kinds: [], residentOnly: false, ...f }).map((r) => r.start);
    expect(ids({ residentOnly: true })).not.toContain('7ffc00100000');
    expect(ids({ kinds: ['heap', 'stack'] })).toEqual(['1000000', '7ffc00000000']);
    expect(ids({ text: 'memhog' })).toEqual(['400000']);
    expect(ids({ text: 'interleave' })).toEqual(['7f0000000000']);
    expect(ids({ text: '0x7f0001234567' })).toEqual(['7f0000000000']); // inside the anon region
    expect(ids({ text: '7ffc' })).toEqual(['7ffc00000000', '7ffc00100000']);
    expect(ids({ text: 'r-xp' })).toEqual(['400000', '7ffc00100000']);
  });

  it('summarizes by kind and by policy', () => {
    const kinds = summarizeByKind(snap);
    expect(kinds.map((k) => k.kind)).toEqual(['anon', 'stack', 'heap', 'file']);
    expect(kinds[0]?.bytes).toEqual([8192 * 4096, 4096 * 4096, 4096 * 4096]);
    const policies = summarizeByPolicy(snap);
    expect(policies[0]).toEqual({ policy: 'interleave:0-2', vmas: 1, residentBytes: 64 << 20 });
    expect(policies.find((p) => p.policy === '—')?.vmas).toBe(1);
    expect(nodeBytes(snap)).toEqual([8197 * 4096, 4097 * 4096, 4096 * 4096]);
  });

  it('sorting is a stable permutation for any rows (property)', () => {
    const arbVma = fc
      .record({
        start: fc.integer({ min: 1, max: 2 ** 40 }),
        pages: fc.array(fc.nat(1000), { minLength: 3, maxLength: 3 }),
      })
      .map(({ start, pages }) =>
        vma({
          start: start.toString(16),
          end: (start + 4096).toString(16),
          rssBytes: pages.reduce((x, y) => x + y, 0) * 4096,
          pagesByNode: { '0': pages[0] ?? 0, '1': pages[1] ?? 0, '2': pages[2] ?? 0 },
        }),
      );
    fc.assert(
      fc.property(
        fc.uniqueArray(arbVma, { selector: (v) => v.start, maxLength: 40 }),
        fc.boolean(),
        (vmas, asc) => {
          const r = buildVmaRows({ ...threeNodeSnapshot(), vmas });
          const sorted = sortVmaRows(r, { key: 'node:1', direction: asc ? 'asc' : 'desc' }, [0, 1, 2]);
          expect(sorted.map((x) => x.id).sort()).toEqual(r.map((x) => x.id).sort());
          for (let i = 1; i < sorted.length; i++) {
            const prev = sorted[i - 1]?.pages[1] ?? 0;
            const cur = sorted[i]?.pages[1] ?? 0;
            expect(asc ? prev <= cur : prev >= cur).toBe(true);
            if (prev === cur)
              expect((sorted[i - 1]?.sortAddress ?? '') < (sorted[i]?.sortAddress ?? '')).toBe(true);
          }
        },
      ),
    );
  });
});
