import { describe, expect, test } from 'vitest';
import { parseNumaMaps } from '../../../electron/engine/procfs/numaMaps.js';
import { parseSmaps } from '../../../electron/engine/procfs/smaps.js';
import { expectParseError, fixture, sum } from './fixtures.js';

describe('parseNumaMaps on real captures', () => {
  const zoo = parseNumaMaps(fixture('zoo', 'numa_maps'));
  const at = (start: bigint) => zoo.find((e) => e.start === start);

  test('42 lines: one per VMA except [vsyscall] (the gate VMA has no mm, show_numa_map skips it)', () => {
    expect(zoo).toHaveLength(42);
    expect(zoo.some((e) => e.start === 0xffffffffff600000n)).toBe(false);
  });

  test('every policy mode as the kernel printed it, including the two with a space', () => {
    expect(
      zoo.filter((e) => e.start >= 0x7fbfd7000000n && e.start <= 0x7fbfdc000000n).map((e) => e.policy),
    ).toEqual([
      'bind:0',
      'interleave:0',
      'prefer:0',
      'prefer (many):0',
      'weighted interleave:0',
      'bind=static:0',
    ]);
    expect(at(0x7fbfda000000n)).toMatchObject({
      anon: 3,
      dirty: 3,
      active: 0,
      kernelPagesByNode: { '0': 3 },
    });
  });

  test('hugetlb line: "huge", one count per 2 MiB page, no active=', () => {
    expect(at(0x7fbfdd000000n)).toEqual({
      start: 0x7fbfdd000000n,
      policy: 'default',
      file: '/anon_hugepage (deleted)',
      heap: false,
      stack: false,
      huge: true,
      anon: 1,
      dirty: 1,
      mapped: null,
      mapmax: null,
      swapcache: null,
      active: null,
      writeback: null,
      kernelPagesByNode: { '0': 1 },
      kernelPages: 1,
      kernelPageSizeKB: 2048,
      unknownTokens: [],
    });
  });

  test('THP line: 4 MiB of huge pages is counted as 1024 base pages', () => {
    expect(at(0x7fbfd3000000n)).toMatchObject({
      anon: 1024,
      kernelPages: 1024,
      kernelPageSizeKB: 4,
      huge: false,
    });
  });

  test('file= is unescaped (\\040 space, \\075 "=") to the form maps prints; \\012 stays as in maps', () => {
    expect(at(0x7fbfde000000n)?.file).toBe('/tmp/tierscope fixture/mapped file=1.bin');
    expect(at(0x7fbfe0000000n)?.file).toBe('/tmp/tierscope fixture/odd\\012name.bin');
    expect(at(0x7fbfd5000000n)?.file).toBe('/dev/zero (deleted)');
    expect(at(0x7fbfe4000000n)?.file).toBe('/memfd:tierscope memfd (deleted)');
  });

  test('heap and stack markers; lines with nothing resident ([vvar], [vdso]) carry only the policy', () => {
    expect(zoo.filter((e) => e.heap).map((e) => e.start)).toEqual([0x555e555a0000n]);
    expect(zoo.filter((e) => e.stack).map((e) => e.start)).toEqual([0x7fff558b1000n]);
    const vvar = at(0x7fbff2c7e000n);
    expect(vvar).toMatchObject({ policy: 'default', file: null, kernelPages: 0, kernelPageSizeKB: null });
    expect(vvar?.kernelPagesByNode).toEqual({});
  });

  test('shared libraries: mapped= and mapmax=', () => {
    expect(at(0x7fbff2ab3000n)).toMatchObject({
      file: '/usr/lib/x86_64-linux-gnu/libc.so.6',
      mapped: 189,
      mapmax: 19,
      anon: null,
      kernelPagesByNode: { '0': 189 },
    });
  });

  test('N0 sums agree with smaps Rss where both count the same pages', () => {
    // Hand check (awk over the files): sleep N0 = 459 pages = 1836 kB; smaps Rss = 1840 kB. The 4 kB
    // difference is [vdso]: smaps counts its page, numa_maps skips PageReserved pages. node: 10063 pages
    // = 40252 kB vs Rss 40256 kB, same [vdso] page.
    for (const [name, n0Pages, rssKB] of [
      ['sleep', 459, 1840],
      ['node', 10063, 40256],
    ] as const) {
      const numa = parseNumaMaps(fixture(name, 'numa_maps'));
      const smaps = parseSmaps(fixture(name, 'smaps'));
      expect(sum(numa.map((e) => e.kernelPagesByNode['0'] ?? 0))).toBe(n0Pages);
      expect(sum(smaps.map((e) => e.fieldsKB.Rss ?? 0))).toBe(rssKB);
      const vdso = smaps.find((e) => e.path === '[vdso]');
      expect(vdso?.fieldsKB.Rss).toBe(4);
      expect(numa.find((e) => e.start === vdso?.start)?.kernelPages).toBe(0);
      // Per VMA: every other line's N0 × 4 kB is exactly that VMA's Rss.
      for (const n of numa) {
        const s = smaps.find((e) => e.start === n.start);
        if (s?.path !== '[vdso]') expect(n.kernelPages * 4).toBe(s?.fieldsKB.Rss);
      }
    }
  });

  test('a kernel thread has empty numa_maps', () => {
    expect(parseNumaMaps(fixture('kthread', 'numa_maps'))).toEqual([]);
  });
});

describe('parseNumaMaps on hand-written lines', () => {
  test('three nodes, counts, unknown tokens tolerated and kept', () => {
    const [e] = parseNumaMaps(
      '7f0006000000 weighted interleave:0-2 anon=12 dirty=12 N0=4 N1=4 N2=4 kernelpagesize_kB=4 future_token=3 shiny\n',
    );
    expect(e).toMatchObject({
      policy: 'weighted interleave:0-2',
      kernelPagesByNode: { '0': 4, '1': 4, '2': 4 },
      kernelPages: 12,
      unknownTokens: ['future_token=3', 'shiny'],
    });
  });

  test.each([
    ['7f00 prefer (many)', 'prefer (many)'],
    ['7f00 prefer (many)=static:1-2 N1=1', 'prefer (many)=static:1-2'],
    ['7f00 weighted interleave=relative:0,2', 'weighted interleave=relative:0,2'],
    ['7f00 interleave=static|balancing:0-3 N3=2', 'interleave=static|balancing:0-3'],
    ['7f00 local', 'local'],
    ['7f00 prefer:2 stack anon=1', 'prefer:2'],
  ])('policy of %j is %j', (line, policy) => {
    expect(parseNumaMaps(line)[0]?.policy).toBe(policy);
  });

  test('swapcache= and writeback= are read; a tab escape in file= is decoded', () => {
    const [e] = parseNumaMaps(
      '1000 default file=/a\\011b\\075c swapcache=3 writeback=2 N1=5 kernelpagesize_kB=4',
    );
    expect(e).toMatchObject({ file: '/a\tb=c', swapcache: 3, writeback: 2, kernelPagesByNode: { '1': 5 } });
  });

  test.each([
    ['expected "<start address> <policy>', 'default N0=1'],
    ['expected "<start address> <policy>', 'zz00 default'],
    ['missing policy', '1000  N0=1'],
    ['bad N0= count', '1000 default N0=x'],
    ['bad anon= count', '1000 default anon=-1'],
    ['duplicate N0=', '1000 default N0=1 N0=2'],
    ['duplicate dirty=', '1000 default dirty=1 dirty=2'],
    ['kernelpagesize_kB=0', '1000 default N0=1 kernelpagesize_kB=0'],
    ['duplicate file=', '1000 default file=/a file=/b'],
  ])('%s', (what, line) => {
    expectParseError(
      () => parseNumaMaps(`1000 default\n${line}\n`, '/proc/9/numa_maps'),
      '/proc/9/numa_maps line 2',
      what,
    );
  });
});
