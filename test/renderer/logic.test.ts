import { describe, expect, it } from 'vitest';
import { splitArgv } from '../../renderer/src/logic/argv.js';
import {
  formatAddress,
  formatBytes,
  formatCount,
  formatDurationMs,
  formatPercent,
  formatStartTime,
} from '../../renderer/src/logic/format.js';
import { appendHistory, historyPoint } from '../../renderer/src/logic/history.js';
import { createSelector } from '../../renderer/src/logic/memo.js';
import { toggleSort } from '../../renderer/src/logic/sort.js';
import { byteTicks } from '../../renderer/src/logic/ticks.js';
import {
  describeBalancing,
  distanceClass,
  formatCpuList,
  summarizeNodes,
} from '../../renderer/src/logic/topology.js';
import { scrollToRow, visibleWindow } from '../../renderer/src/logic/virtual.js';
import { labTopology, threeNodeSnapshot } from './fixtures.js';

describe('formatBytes', () => {
  it('uses binary units with fixed precision', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(4096)).toBe('4.00 KiB');
    expect(formatBytes(64 << 20)).toBe('64.0 MiB');
    expect(formatBytes(1.25 * 2 ** 30)).toBe('1.25 GiB');
    expect(formatBytes(700 << 20)).toBe('700 MiB');
  });

  it('moves to the next unit instead of printing 1024 of one', () => {
    expect(formatBytes(1023.9 * 2 ** 20)).toBe('1.00 GiB');
    expect(formatBytes(999.6 * 1024)).toBe('0.98 MiB');
  });

  it('says — for what is not a number', () => {
    expect(formatBytes(Number.NaN)).toBe('—');
  });
});

describe('other formats', () => {
  it('groups counts and formats shares', () => {
    expect(formatCount(16_384)).toBe('16,384');
    expect(formatPercent(0.125)).toBe('13 %');
    expect(formatPercent(0.0512)).toBe('5.1 %');
    expect(formatPercent(0)).toBe('0 %');
    expect(formatPercent(null)).toBe('—');
  });

  it('formats durations from ms to days', () => {
    expect(formatDurationMs(850)).toBe('850 ms');
    expect(formatDurationMs(2500)).toBe('2.5 s');
    expect(formatDurationMs(184_000)).toBe('3 min 04 s');
    expect(formatDurationMs(2 * 3_600_000 + 5 * 60_000)).toBe('2 h 05 min');
    expect(formatDurationMs(76 * 3_600_000)).toBe('3 d 4 h');
  });

  it('shows start times relative to now', () => {
    const now = new Date(2025, 2, 4, 15, 0, 0);
    expect(formatStartTime(new Date(2025, 2, 4, 14, 3, 22).toISOString(), now)).toBe('14:03:22');
    expect(formatStartTime(new Date(2025, 0, 9, 8, 5, 0).toISOString(), now)).toBe('Jan 09 08:05');
    expect(formatStartTime(new Date(2023, 10, 2, 1, 0, 0).toISOString(), now)).toBe('2023-11-02');
    expect(formatStartTime('not a date', now)).toBe('—');
  });

  it('pads addresses to 12 hex digits', () => {
    expect(formatAddress('400000')).toBe('000000400000');
    expect(formatAddress('7f0000000000')).toBe('7f0000000000');
  });
});

describe('byteTicks', () => {
  it('steps in powers of two up to at least the maximum', () => {
    expect(byteTicks(64.7 * 2 ** 20)).toEqual([0, 32, 64, 96].map((m) => m * 2 ** 20));
    expect(byteTicks(3 * 2 ** 30)).toEqual([0, 1, 2, 3].map((g) => g * 2 ** 30));
    expect(byteTicks(0)).toEqual([0]);
  });
});

describe('visibleWindow', () => {
  it('renders only the rows in view plus overscan', () => {
    // 10 000 rows of 22 px, viewport 440 px (20 rows), scrolled to row 500.
    const w = visibleWindow(500 * 22, 440, 22, 10_000, 8);
    expect(w).toEqual({ first: 492, end: 528, offsetPx: 492 * 22, totalPx: 220_000 });
  });

  it('clamps a scroll position past the end (the list shrank under a filter)', () => {
    const w = visibleWindow(1_000_000, 440, 22, 30, 2);
    expect(w.end).toBe(30);
    expect(w.first).toBe(8); // last full page starts at row 10, minus overscan 2
  });

  it('handles empty lists and zero-height viewports', () => {
    expect(visibleWindow(0, 440, 22, 0)).toEqual({ first: 0, end: 0, offsetPx: 0, totalPx: 0 });
    expect(visibleWindow(0, 0, 22, 100, 0)).toMatchObject({ first: 0, end: 0 });
  });

  it('scrolls the least needed to show a row', () => {
    expect(scrollToRow(5, 0, 440, 22)).toBe(0); // visible: unchanged
    expect(scrollToRow(30, 0, 440, 22)).toBe(31 * 22 - 440); // below: bottom-align
    expect(scrollToRow(2, 200, 440, 22)).toBe(44); // above: top-align
  });
});

describe('topology logic', () => {
  it('prints CPU lists like the kernel', () => {
    expect(formatCpuList([0, 1, 2, 3, 8, 10, 11])).toBe('0-3,8,10-11');
    expect(formatCpuList([5])).toBe('5');
    expect(formatCpuList([])).toBe('');
  });

  it('ranks tiers and marks the CPU-less node', () => {
    const nodes = summarizeNodes(labTopology());
    expect(nodes.map((n) => [n.id, n.cpuLess, n.tier, n.tierRank])).toEqual([
      [0, false, 4, 0],
      [1, false, 4, 0],
      [2, true, 360, 1],
    ]);
    expect(nodes[1]?.usedFraction).toBe(0.75);
    expect(nodes[2]?.cpus).toBe('');
  });

  it('classes distances', () => {
    expect([10, 21, 40].map((d) => distanceClass(d))).toEqual(['local', 'near', 'far']);
  });

  it('describes numa_balancing modes', () => {
    expect(describeBalancing(null).label).toBe('not available');
    expect(describeBalancing({ raw: 2, mode: 'memory-tiering' }).label).toBe('memory-tiering (2)');
  });
});

describe('history', () => {
  it('keeps per-node bytes, drops out-of-order points and bounds its length', () => {
    const a = historyPoint(threeNodeSnapshot('2025-03-04T10:00:00.000Z'));
    expect(a.bytesByNode).toEqual({ '0': 8197 * 4096, '1': 4097 * 4096, '2': 4096 * 4096 });
    const b = historyPoint(threeNodeSnapshot('2025-03-04T10:00:01.000Z'));
    const h1 = appendHistory([], a);
    const h2 = appendHistory(h1, b);
    expect(h2).toHaveLength(2);
    expect(appendHistory(h2, a)).toBe(h2); // older than the last: ignored, same identity
    let h: ReturnType<typeof appendHistory> = [];
    for (let i = 0; i < 10; i++) h = appendHistory(h, { ...a, atMs: i }, 4);
    expect(h.map((p) => p.atMs)).toEqual([6, 7, 8, 9]);
  });
});

describe('createSelector', () => {
  it('recomputes only when an input changes by identity', () => {
    let runs = 0;
    const select = createSelector(
      (s: { a: number[]; b: string }) => s.a,
      (a) => {
        runs++;
        return a.map((x) => x * 2);
      },
    );
    const a = [1, 2];
    const first = select({ a, b: 'x' });
    expect(select({ a, b: 'y' })).toBe(first);
    expect(runs).toBe(1);
    expect(select({ a: [1, 2], b: 'y' })).toEqual([2, 4]);
    expect(runs).toBe(2);
  });
});

describe('toggleSort', () => {
  it('flips the same column and starts a new one in its natural direction', () => {
    expect(toggleSort({ key: 'rss', direction: 'desc' }, 'rss', 'desc')).toEqual({
      key: 'rss',
      direction: 'asc',
    });
    expect(toggleSort({ key: 'rss', direction: 'asc' }, 'pid', 'asc')).toEqual({
      key: 'pid',
      direction: 'asc',
    });
  });
});

describe('splitArgv', () => {
  it('splits like a shell without expanding anything', () => {
    expect(splitArgv('numactl --interleave=all ./bench --threads 8')).toEqual([
      'numactl',
      '--interleave=all',
      './bench',
      '--threads',
      '8',
    ]);
    expect(splitArgv(`sh -c 'echo $HOME; ls "a b"'`)).toEqual(['sh', '-c', 'echo $HOME; ls "a b"']);
    expect(splitArgv('a\\ b "c \\" d" \'\'')).toEqual(['a b', 'c " d', '']);
    expect(splitArgv('   ')).toEqual([]);
  });

  it('refuses an unclosed quote', () => {
    expect(splitArgv('echo "oops')).toBeNull();
  });
});
