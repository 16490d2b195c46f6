import { spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { Vma } from '../../../electron/contract/index.js';
import { parseMaps } from '../../../electron/engine/procfs/maps.js';
import { parseNumaMaps } from '../../../electron/engine/procfs/numaMaps.js';
import { parseSmaps } from '../../../electron/engine/procfs/smaps.js';
import { classifyVma, mergeVmas, readVmas } from '../../../electron/engine/procfs/vmas.js';
import {
  FIXTURES,
  expectParseError,
  expectRejection,
  expectThrow,
  fixture,
  sum,
  type FixtureName,
} from './fixtures.js';

const PAGE = 4096;
const KiB = 1024;
const MiB = 1024 * KiB;

function merged(name: FixtureName, pageSizeBytes = PAGE): Vma[] {
  return mergeVmas(
    parseSmaps(fixture(name, 'smaps')),
    parseNumaMaps(fixture(name, 'numa_maps')),
    pageSizeBytes,
  );
}

function pagesOnNode(vmas: Vma[], node: string): number {
  return sum(vmas.map((v) => v.pagesByNode[node] ?? 0));
}

function totalPages(v: Vma): number {
  return sum(Object.values(v.pagesByNode));
}

describe('classifyVma', () => {
  test.each([
    ['', 'rw-p', false, 'anon'],
    ['[heap]', 'rw-p', false, 'heap'],
    ['[stack]', 'rw-p', false, 'stack'],
    ['[stack:1234]', 'rw-p', false, 'stack'],
    ['[vdso]', 'r-xp', false, 'vdso'],
    ['[vvar]', 'r--p', false, 'vvar'],
    ['[vvar_vclock]', 'r--p', false, 'vvar'],
    ['[vsyscall]', '--xp', false, 'vsyscall'],
    ['[anon:tierscope buf]', 'rw-p', false, 'anon'],
    ['[anon_shmem:ring]', 'rw-s', false, 'shm'],
    ['[uprobes]', 'r-xp', false, 'other-special'],
    ['/dev/zero (deleted)', 'rw-s', false, 'shm'],
    ['/dev/zero', 'rw-p', false, 'anon'],
    ['/SYSV0000002a (deleted)', 'rw-s', false, 'shm'],
    ['/dev/shm/ring', 'rw-s', false, 'shm'],
    ['/dev/shm/ring (deleted)', 'rw-s', false, 'shm'],
    ['/memfd:jit (deleted)', 'r-xs', false, 'shm'],
    ['/dev/dri/renderD128', 'rw-s', false, 'other-special'],
    ['/[aio] (deleted)', 'rw-s', false, 'other-special'],
    ['/usr/lib/libfoo.so.1 (deleted)', 'r-xp', false, 'deleted-file'],
    ['/tmp/a file (deleted) b', 'r--p', false, 'file'],
    ['/usr/lib/libc.so.6', 'r-xp', false, 'file'],
    ['anon_inode:[io_uring]', 'rw-s', false, 'other-special'],
    ['/anon_hugepage (deleted)', 'rw-p', true, 'hugetlb'],
    ['/SYSV00000000 (deleted)', 'rw-s', true, 'hugetlb'],
    ['/memfd:huge (deleted)', 'rw-s', true, 'hugetlb'],
    ['/mnt/huge/db', 'rw-s', true, 'hugetlb'],
  ] as const)('%j %s hugetlb=%s → %s', (path, perms, hugetlb, kind) => {
    expect(classifyVma(path, perms, hugetlb)).toBe(kind);
  });
});

describe('mergeVmas on the hand-written 3-node fixture', () => {
  const vmas = merged('multinode');
  const at = (start: string) => vmas.find((v) => v.start === start);

  test('one Vma per smaps record (14), all valid against the contract', () => {
    expect(vmas).toHaveLength(14);
    expect(() => z.array(Vma).parse(vmas)).not.toThrow();
  });

  test('executable mapping: addresses and offset padded as /proc prints them, pages on N0 and N1', () => {
    expect(at('00400000')).toEqual({
      start: '00400000',
      end: '00452000',
      perms: 'r-xp',
      offset: '00000000',
      dev: 'fd:01',
      inode: '131073',
      path: '/usr/bin/app',
      kind: 'file',
      sizeBytes: 328 * KiB, // 0x52000
      rssBytes: 200 * KiB,
      pssBytes: 80 * KiB,
      referencedBytes: 200 * KiB,
      anonymousBytes: 0,
      anonHugePagesBytes: 0,
      swapBytes: 0,
      kernelPageSizeBytes: PAGE,
      policy: 'default',
      pagesByNode: { '0': 30, '1': 20 }, // mapped=50 → 200 kB = Rss
    });
  });

  test('THP under bind:1: numa_maps already counts the two 2 MiB pages as 1024 base pages', () => {
    expect(at('7f0000000000')).toEqual({
      start: '7f0000000000',
      end: '7f0000400000',
      perms: 'rw-p',
      offset: '00000000',
      dev: '00:00',
      inode: '0',
      path: '',
      kind: 'anon',
      sizeBytes: 4 * MiB,
      rssBytes: 4 * MiB,
      pssBytes: 4 * MiB,
      referencedBytes: 4 * MiB,
      anonymousBytes: 4 * MiB,
      anonHugePagesBytes: 4 * MiB,
      swapBytes: 0,
      kernelPageSizeBytes: PAGE,
      policy: 'bind:1',
      pagesByNode: { '1': 1024 }, // not scaled: 1024 × 4 KiB = 4 MiB = AnonHugePages
    });
  });

  test('2 MiB hugetlb: N0=1 N2=1 huge pages become 512 base pages each; rssBytes includes Private_Hugetlb', () => {
    expect(at('7f0040000000')).toEqual({
      start: '7f0040000000',
      end: '7f0040600000',
      perms: 'rw-p',
      offset: '00000000',
      dev: '00:10',
      inode: '70001',
      path: '/anon_hugepage (deleted)',
      kind: 'hugetlb',
      sizeBytes: 6 * MiB,
      rssBytes: 4 * MiB, // smaps Rss is 0 for hugetlb; Private_Hugetlb 4096 kB
      pssBytes: 0,
      referencedBytes: 0,
      anonymousBytes: 0,
      anonHugePagesBytes: 0,
      swapBytes: 0,
      kernelPageSizeBytes: 2 * MiB,
      policy: 'bind=static:0,2',
      pagesByNode: { '0': 512, '2': 512 }, // 2 MiB / 4 KiB = 512 per huge page
    });
  });

  test('1 GiB hugetlbfs file: N1=1 becomes 262144 base pages', () => {
    expect(at('7f0080000000')).toMatchObject({
      kind: 'hugetlb',
      path: '/mnt/huge1g/db',
      sizeBytes: 1024 * MiB,
      rssBytes: 1024 * MiB, // Shared_Hugetlb
      kernelPageSizeBytes: 1024 * MiB,
      policy: 'interleave:1-2',
      pagesByNode: { '1': 262144 }, // 1 GiB / 4 KiB
    });
  });

  test('interleave, prefer with swap, weighted interleave, shm with a space in its path, heap, stack', () => {
    expect(at('7f0000400000')).toMatchObject({
      policy: 'interleave:0-2',
      pagesByNode: { '0': 16, '1': 16, '2': 16 },
    });
    expect(at('7f0001000000')).toMatchObject({
      policy: 'prefer:2',
      rssBytes: 512 * KiB,
      swapBytes: 64 * KiB,
      pagesByNode: { '0': 28, '2': 100 },
    });
    expect(at('7f0006000000')).toMatchObject({
      policy: 'weighted interleave:0-2',
      pagesByNode: { '0': 4, '1': 4, '2': 4 },
    });
    expect(at('7f0007000000')).toMatchObject({
      kind: 'shm',
      path: '/dev/shm/ring buffer',
      pagesByNode: { '2': 8 },
    });
    expect(at('01000000')).toMatchObject({ kind: 'heap', pagesByNode: { '0': 100, '1': 100, '2': 56 } });
    expect(at('7ffc00000000')).toMatchObject({ kind: 'stack', pagesByNode: { '0': 10 } });
  });

  test('untouched VMA under "prefer (many)": policy known, nothing resident', () => {
    expect(at('7f0005000000')).toMatchObject({ policy: 'prefer (many):1-2', rssBytes: 0, pagesByNode: {} });
  });

  test('races: VMA missing from numa_maps, and an address reused by another file → policy null, {}', () => {
    expect(at('7f0002000000')).toMatchObject({ policy: null, pagesByNode: {}, rssBytes: 16 * KiB });
    expect(at('7f0004000000')).toMatchObject({ path: '/usr/lib/libnew.so', policy: null, pagesByNode: {} });
    // numa_maps' 7f0003000000 has no smaps record: dropped.
    expect(at('7f0003000000')).toBeUndefined();
  });

  test('[vsyscall]: above 2^53, never in numa_maps', () => {
    expect(at('ffffffffff600000')).toMatchObject({ end: 'ffffffffff601000', kind: 'vsyscall', policy: null });
  });

  test('per-node totals, worked out by hand', () => {
    // N0: app 30 + heap 100 + interleave 16 + prefer 28 + weighted 4 + hugetlb 512 + stack 10 = 700
    // N1: app 20 + heap 100 + THP 1024 + interleave 16 + weighted 4 + 1 GiB hugetlb 262144 = 263308
    // N2: heap 56 + interleave 16 + prefer 100 + weighted 4 + shm 8 + hugetlb 512 = 696
    expect(pagesOnNode(vmas, '0')).toBe(700);
    expect(pagesOnNode(vmas, '1')).toBe(263308);
    expect(pagesOnNode(vmas, '2')).toBe(696);
    // Rss incl. hugetlb, kB: 200+1024+4096+192+512+16+64+0+48+32+4096+1048576+40+0 = 1058896. Without the two
    // raced VMAs (16 + 64 kB) that is 1058816 kB = 264704 pages = 700 + 263308 + 696.
    expect(sum(vmas.map((v) => v.rssBytes))).toBe(1058896 * KiB);
    const withPolicy = vmas.filter((v) => v.policy !== null);
    expect(sum(withPolicy.map((v) => v.rssBytes))).toBe((700 + 263308 + 696) * PAGE);
  });
});

describe('mergeVmas on real captures', () => {
  test('zoo: kind of every VMA the zoo made', () => {
    const zoo = merged('zoo');
    const kinds = Object.fromEntries(zoo.map((v) => [v.start, [v.kind, v.policy]]));
    expect(kinds).toMatchObject({
      '555e555a0000': ['heap', 'default'],
      '7fbfd2000000': ['anon', 'default'],
      '7fbfd3000000': ['anon', 'default'],
      '7fbfd5000000': ['shm', 'default'], // shared anon (naming unsupported by this kernel) = /dev/zero (deleted)
      '7fbfd6000000': ['shm', 'default'],
      '7fbfd7000000': ['anon', 'bind:0'],
      '7fbfd8000000': ['anon', 'interleave:0'],
      '7fbfd9000000': ['anon', 'prefer:0'],
      '7fbfda000000': ['anon', 'prefer (many):0'],
      '7fbfdb000000': ['anon', 'weighted interleave:0'],
      '7fbfdc000000': ['anon', 'bind=static:0'],
      '7fbfdd000000': ['hugetlb', 'default'],
      '7fbfde000000': ['file', 'default'],
      '7fbfdf000000': ['deleted-file', 'default'],
      '7fbfe0000000': ['file', 'default'],
      '7fbfe1000000': ['shm', 'default'],
      '7fbfe2000000': ['shm', 'default'],
      '7fbfe3000000': ['shm', 'default'],
      '7fbfe4000000': ['shm', 'default'],
      '7fbff2c7e000': ['vvar', 'default'],
      '7fbff2c82000': ['vvar', 'default'],
      '7fbff2c84000': ['vdso', 'default'],
      '7fff558b1000': ['stack', 'default'],
      ffffffffff600000: ['vsyscall', null],
    });
  });

  test('zoo: the real hugetlb page (N0=1, kernelpagesize_kB=2048) is 512 base pages = Private_Hugetlb', () => {
    const huge = merged('zoo').find((v) => v.kind === 'hugetlb');
    expect(huge).toMatchObject({
      rssBytes: 2 * MiB,
      kernelPageSizeBytes: 2 * MiB,
      pagesByNode: { '0': 512 },
    });
    const thp = merged('zoo').find((v) => v.start === '7fbfd3000000');
    expect(thp).toMatchObject({ anonHugePagesBytes: 4 * MiB, pagesByNode: { '0': 1024 } });
  });

  test('every VMA of every capture: pages × 4 KiB = rssBytes, except [vdso] (PageReserved, skipped by numa_maps)', () => {
    for (const name of ['zoo', 'sleep', 'node'] as const) {
      const vmas = merged(name);
      expect(() => z.array(Vma).parse(vmas)).not.toThrow();
      for (const v of vmas) {
        if (v.kind === 'vdso') expect([v.rssBytes, totalPages(v)]).toEqual([PAGE, 0]);
        else expect(totalPages(v) * PAGE).toBe(v.rssBytes);
      }
    }
    // zoo by hand: numa_maps N0 sums to 1434 kernel pages; the hugetlb line's 1 is 512 base pages, so
    // 1434 − 1 + 512 = 1945 pages = 7780 kB = smaps Rss 5736 + Private_Hugetlb 2048 − [vdso] 4.
    const zoo = merged('zoo');
    expect(pagesOnNode(zoo, '0')).toBe(1945);
    expect(sum(zoo.map((v) => v.rssBytes))).toBe((5736 + 2048) * KiB);
  });

  test('node: first VMA keeps the 8-digit padding, offsets as printed', () => {
    const node = merged('node');
    expect(node[0]).toMatchObject({ start: '00400000', end: '00b6f000', offset: '00000000' });
    expect(node[1]).toMatchObject({ start: '00b6f000', offset: '0076f000' });
  });

  test('kernel thread: []', () => {
    expect(merged('kthread')).toEqual([]);
  });
});

describe('mergeVmas edge cases', () => {
  const hugeSmaps = (start: string, end: string, kernelPageKB: number, hugetlbKB: number) =>
    `${start}-${end} rw-p 00000000 00:0f 100                        /anon_hugepage (deleted)\n` +
    `Size: ${(parseInt(end, 16) - parseInt(start, 16)) / 1024} kB\nKernelPageSize: ${kernelPageKB} kB\n` +
    `MMUPageSize: ${kernelPageKB} kB\nRss: 0 kB\nPrivate_Hugetlb: ${hugetlbKB} kB\nVmFlags: rd wr mr mw me de ht \n`;

  test('64 KiB base pages (ppc64): a 16 MiB huge page is 256 base pages, normal counts are not scaled', () => {
    const smaps = parseSmaps(
      hugeSmaps('7fff00000000', '7fff02000000', 16384, 16384) +
        '7fff10000000-7fff10100000 rw-p 00000000 00:00 0 \nSize: 1024 kB\nKernelPageSize: 64 kB\nRss: 192 kB\n',
    );
    const numa = parseNumaMaps(
      '7fff00000000 default file=/anon_hugepage\\040(deleted) huge dirty=1 N1=1 kernelpagesize_kB=16384\n' +
        '7fff10000000 default anon=3 dirty=3 N0=3 kernelpagesize_kB=64\n',
    );
    const vmas = mergeVmas(smaps, numa, 64 * KiB);
    expect(vmas.map((v) => [v.kind, v.pagesByNode, v.rssBytes])).toEqual([
      ['hugetlb', { '1': 256 }, 16 * MiB],
      ['anon', { '0': 3 }, 192 * KiB],
    ]);
  });

  test('a hugetlb VMA is recognised from numa_maps "huge" alone (no VmFlags line)', () => {
    const smaps = parseSmaps(
      '1000000-1400000 rw-s 00000000 00:0f 9 /mnt/huge/x\nKernelPageSize: 2048 kB\nRss: 0 kB\n',
    );
    const numa = parseNumaMaps('1000000 default file=/mnt/huge/x huge dirty=2 N3=2 kernelpagesize_kB=2048');
    expect(mergeVmas(smaps, numa, PAGE)[0]).toMatchObject({ kind: 'hugetlb', pagesByNode: { '3': 1024 } });
  });

  test('a numa_maps start listed twice is ambiguous → treated as raced', () => {
    const smaps = parseSmaps('1000-2000 rw-p 00000000 00:00 0 \nRss: 4 kB\n');
    const numa = parseNumaMaps('1000 bind:0 N0=1\n1000 bind:1 N1=1\n');
    expect(mergeVmas(smaps, numa, PAGE)[0]).toMatchObject({ policy: null, pagesByNode: {} });
  });

  test('an inode beyond 2^53 (overlayfs xino) is carried exactly, as a decimal string', () => {
    const smaps = parseSmaps('1000-2000 r--p 00000000 00:2f 13835058055282163713 /usr/lib/x.so\nRss: 0 kB\n');
    expect(mergeVmas(smaps, [], PAGE)[0]?.inode).toBe('13835058055282163713');
  });

  test('a huge page size that is not a multiple of the base page is a parse error', () => {
    const smaps = parseSmaps(hugeSmaps('1000000', '1400000', 2048, 2048));
    const numa = parseNumaMaps(
      '1000000 default file=/anon_hugepage\\040(deleted) huge N0=1 kernelpagesize_kB=6',
    );
    expectParseError(() => mergeVmas(smaps, numa, PAGE), 'numa_maps at 01000000', 'not a multiple');
  });

  test.each([0, 3000, 4095, -4096, Number.NaN])('page size %s is an invalid argument', (pageSizeBytes) => {
    expectThrow(() => mergeVmas([], [], pageSizeBytes), 'invalid-argument', /getconf PAGESIZE/);
  });
});

describe('readVmas', () => {
  let procRoot = '';
  beforeAll(() => {
    procRoot = mkdtempSync(join(tmpdir(), 'tierscope-procroot-'));
    symlinkSync(join(FIXTURES, 'multinode'), join(procRoot, '4242'));
    symlinkSync(join(FIXTURES, 'kthread'), join(procRoot, '2'));
    // A kernel without CONFIG_NUMA: smaps but no numa_maps.
    mkdirSync(join(procRoot, '77'));
    writeFileSync(join(procRoot, '77', 'smaps'), fixture('sleep', 'smaps'));
  });
  afterAll(() => {
    rmSync(procRoot, { recursive: true, force: true });
  });

  test('fixture procRoot: same result as merging the files by hand', async () => {
    const vmas = await readVmas(4242, { procRoot, pageSizeBytes: PAGE });
    expect(vmas).toEqual(merged('multinode'));
    expect(pagesOnNode(vmas, '1')).toBe(263308);
  });

  test('kernel thread (empty smaps): []', async () => {
    await expect(readVmas(2, { procRoot, pageSizeBytes: PAGE })).resolves.toEqual([]);
  });

  test('no numa_maps while the process exists (kernel without NUMA): every policy null', async () => {
    const vmas = await readVmas(77, { procRoot, pageSizeBytes: PAGE });
    expect(vmas).toHaveLength(37);
    expect(vmas.every((v) => v.policy === null && Object.keys(v.pagesByNode).length === 0)).toBe(true);
  });

  test('a pid that does not exist: process-gone, "process N does not exist"', async () => {
    await expectRejection(
      readVmas(999999, { procRoot, pageSizeBytes: PAGE }),
      'process-gone',
      /process 999999 does not exist/,
    );
  });

  test('parse errors name the file read', async () => {
    const dir = join(procRoot, '55');
    mkdirSync(dir);
    writeFileSync(join(dir, 'smaps'), '1000-2000 rw-p 00000000 00:00 0 \nRss: lots\n');
    await expectRejection(
      readVmas(55, { procRoot, pageSizeBytes: PAGE }),
      'parse',
      /\/55\/smaps line 2: bad Rss/,
    );
  });

  test.each([0, -1, 1.5, Number.NaN])('pid %s is an invalid argument', async (pid) => {
    await expectRejection(
      readVmas(pid, { procRoot, pageSizeBytes: PAGE }),
      'invalid-argument',
      /not a process id/,
    );
  });

  test('a live child, then the same pid after it exited', async () => {
    const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
    await once(child, 'spawn');
    const pid = child.pid ?? 0;
    try {
      // Wait until sleep has finished loading (sleeping in nanosleep with libc mapped).
      for (let i = 0; i < 200; i++) {
        const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
        if (state === 'S' && readFileSync(`/proc/${pid}/maps`, 'utf8').includes('libc.so')) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const vmas = await readVmas(pid, { pageSizeBytes: PAGE });
      const maps = parseMaps(readFileSync(`/proc/${pid}/maps`, 'utf8'));
      expect(vmas.map((v) => [v.start, v.end])).toEqual(
        maps.map((m) => [m.start.toString(16).padStart(8, '0'), m.end.toString(16).padStart(8, '0')]),
      );
      expect(() => z.array(Vma).parse(vmas)).not.toThrow();
      const kinds = new Set(vmas.map((v) => v.kind));
      for (const kind of ['file', 'heap', 'stack', 'vdso', 'vvar', 'vsyscall'] as const)
        expect(kinds).toContain(kind);
      const exe = realpathSync(`/proc/${pid}/exe`);
      expect(vmas.filter((v) => v.path === exe).length).toBeGreaterThan(0);
      for (const v of vmas) {
        if (v.kind === 'vsyscall') expect(v.policy).toBeNull();
        else expect(v.policy).not.toBeNull();
        if (v.kind !== 'vdso') expect(totalPages(v) * PAGE).toBe(v.rssBytes);
      }
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    await expectRejection(
      readVmas(pid, { pageSizeBytes: PAGE }),
      'process-gone',
      new RegExp(`process ${pid} does not exist`),
    );
  });
});
