import { describe, expect, test } from 'vitest';
import { parseSmaps } from '../../../electron/engine/procfs/smaps.js';
import { expectParseError, fixture, sum } from './fixtures.js';

const ZERO_FIELDS = {
  Pss_Dirty: 0,
  Shared_Clean: 0,
  Shared_Dirty: 0,
  Private_Dirty: 0,
  Anonymous: 0,
  KSM: 0,
  LazyFree: 0,
  AnonHugePages: 0,
  ShmemPmdMapped: 0,
  FilePmdMapped: 0,
  Shared_Hugetlb: 0,
  Private_Hugetlb: 0,
  Swap: 0,
  SwapPss: 0,
  Locked: 0,
};

describe('parseSmaps on real captures', () => {
  const zoo = parseSmaps(fixture('zoo', 'smaps'));

  test('the first record of sleep, every field', () => {
    const [first] = parseSmaps(fixture('sleep', 'smaps'));
    expect(first).toEqual({
      start: 0x55e86c93f000n,
      end: 0x55e86c941000n,
      perms: 'r--p',
      offset: 0n,
      dev: 'fe:00',
      inode: 260875n,
      path: '/usr/bin/sleep',
      fieldsKB: {
        Size: 8,
        KernelPageSize: 4,
        MMUPageSize: 4,
        Rss: 8,
        Pss: 8,
        Private_Clean: 8,
        Referenced: 8,
        ...ZERO_FIELDS,
      },
      thpEligible: false,
      vmFlags: ['rd', 'mr', 'mw', 'me'],
      hasVmFlags: true,
      otherFields: {},
    });
  });

  test('record counts match maps (43, 92, 37) and a kernel thread gives []', () => {
    expect(zoo).toHaveLength(43);
    expect(parseSmaps(fixture('node', 'smaps'))).toHaveLength(92);
    expect(parseSmaps(fixture('sleep', 'smaps'))).toHaveLength(37);
    expect(parseSmaps(fixture('kthread', 'smaps'))).toEqual([]);
  });

  test('THP region: 4 MiB, all of it AnonHugePages, THPeligible, VmFlags hg (MADV_HUGEPAGE)', () => {
    const thp = zoo.find((e) => e.start === 0x7fbfd3000000n);
    expect(thp?.fieldsKB).toMatchObject({ Size: 4096, Rss: 4096, Anonymous: 4096, AnonHugePages: 4096 });
    expect(thp?.thpEligible).toBe(true);
    expect(thp?.vmFlags).toContain('hg');
  });

  test('hugetlb region: 2 MiB kernel pages, Rss 0, the touched huge page in Private_Hugetlb', () => {
    const huge = zoo.find((e) => e.path === '/anon_hugepage (deleted)');
    expect(huge?.fieldsKB).toMatchObject({
      Size: 4096,
      KernelPageSize: 2048,
      MMUPageSize: 2048,
      Rss: 0,
      Private_Hugetlb: 2048,
      Shared_Hugetlb: 0,
    });
    expect(huge?.vmFlags).toEqual(['rd', 'wr', 'mr', 'mw', 'me', 'de', 'ht']);
  });

  test('totals over the zoo, summed by hand from the file (awk) and matched here', () => {
    // awk '/^Rss:/{s+=$2}' → 5736, Pss 4552, Anonymous 4384, *_Hugetlb 2048.
    expect(sum(zoo.map((e) => e.fieldsKB.Rss ?? NaN))).toBe(5736);
    expect(sum(zoo.map((e) => e.fieldsKB.Pss ?? NaN))).toBe(4552);
    expect(sum(zoo.map((e) => e.fieldsKB.Anonymous ?? NaN))).toBe(4384);
    expect(
      sum(zoo.map((e) => (e.fieldsKB.Shared_Hugetlb ?? NaN) + (e.fieldsKB.Private_Hugetlb ?? NaN))),
    ).toBe(2048);
    const node = parseSmaps(fixture('node', 'smaps'));
    expect(sum(node.map((e) => e.fieldsKB.Rss ?? NaN))).toBe(40256);
    expect(sum(node.map((e) => e.fieldsKB.Pss ?? NaN))).toBe(38061);
  });

  test('every record of every capture has Size equal to its address range', () => {
    for (const name of ['zoo', 'node', 'sleep', 'multinode'] as const) {
      for (const e of parseSmaps(fixture(name, 'smaps'))) {
        expect((e.fieldsKB.Size ?? 0) * 1024).toBe(Number(e.end - e.start));
      }
    }
  });
});

describe('parseSmaps format tolerance and errors', () => {
  const header = '7f0000000000-7f0000002000 rw-p 00000000 00:00 0 \n';

  test('unknown "Key: N kB" fields are kept; other "Key: value" fields go to otherFields', () => {
    const [e] = parseSmaps(
      `${header}Size:  8 kB\nRss:  4 kB\nPss_Future:   12 kB\nProtectionKey:         0\nTHPeligible:    1\nVmFlags: rd wr \n`,
    );
    expect(e?.fieldsKB).toEqual({ Size: 8, Rss: 4, Pss_Future: 12 });
    expect(e?.otherFields).toEqual({ ProtectionKey: '0' });
    expect(e?.thpEligible).toBe(true);
    expect(e?.vmFlags).toEqual(['rd', 'wr']);
  });

  test('without THPeligible / VmFlags lines (older kernels) those stay null / []', () => {
    const [e] = parseSmaps(`${header}Size: 8 kB\nRss: 0 kB`);
    expect(e?.thpEligible).toBeNull();
    expect(e?.vmFlags).toEqual([]);
    expect(e?.hasVmFlags).toBe(false);
  });

  test.each([
    ['field before the first VMA header', 'Rss: 4 kB\n', 'smaps line 1'],
    ['VMA record has no Rss field', `${header}Size: 8 kB\n`, 'smaps line 1'],
    ['bad Rss value', `${header}Size: 8 kB\nRss: x kB\n`, 'smaps line 3'],
    ['bad Rss value', `${header}Size: 8 kB\nRss: 99999999999999999 kB\n`, 'smaps line 3'],
    ['bad Rss value (expected "N kB")', `${header}Size: 8 kB\nRss: lots\n`, 'smaps line 3'],
    ['bad Size value (expected "N kB")', `${header}Size: 8\nRss: 4 kB\n`, 'smaps line 2'],
    ['duplicate Rss', `${header}Rss: 8 kB\nRss: 8 kB\n`, 'smaps line 3'],
    ['THPeligible is not 0 or 1', `${header}Rss: 8 kB\nTHPeligible: 2\n`, 'smaps line 3'],
    ['bad field name', `${header}rss: 8 kB\n`, 'smaps line 2'],
    ['bad field name', `${header}Rs s: 8 kB\n`, 'smaps line 2'],
    ['expected a VMA header or a "Key: value" field', `${header}Rss 8 kB\n`, 'smaps line 2'],
    ['bad permissions', '1000-2000 rwxq 00000000 00:00 0\nRss: 0 kB\n', 'smaps line 1'],
  ])('%s', (what, text, where) => {
    expectParseError(() => parseSmaps(text), where, what);
  });

  test('the record without Rss is named by its header line, even when it is not the last', () => {
    expectParseError(
      () => parseSmaps(`${header}Rss: 4 kB\n${header}Size: 8 kB\n${header}Rss: 4 kB\n`, '/proc/7/smaps'),
      '/proc/7/smaps line 3',
      'no Rss',
    );
  });
});
