import { describe, expect, test } from 'vitest';
import { parseMaps } from '../../../electron/engine/procfs/maps.js';
import { parseSmaps } from '../../../electron/engine/procfs/smaps.js';
import { expectParseError, fixture } from './fixtures.js';

describe('parseMaps on real captures', () => {
  const zoo = parseMaps(fixture('zoo', 'maps'));

  test('reads every line of the zoo (43 VMAs) with exact header fields', () => {
    expect(zoo).toHaveLength(43);
    expect(zoo[0]).toEqual({
      start: 0x555e3de22000n,
      end: 0x555e3de23000n,
      perms: 'r--p',
      offset: 0n,
      dev: 'fe:00',
      inode: 2156950n,
      path: '/tmp/tmp.dKOTitElhm/vma-zoo',
    });
    // The writable data segment of the executable: offset 0x3000.
    expect(zoo[4]?.offset).toBe(0x3000n);
    expect(zoo[4]?.perms).toBe('rw-p');
  });

  test('keeps spaces and "=" inside paths, and the kernel\'s \\012 for a newline', () => {
    const spaced = zoo.find((e) => e.start === 0x7fbfde000000n);
    expect(spaced).toMatchObject({
      end: 0x7fbfde004000n,
      perms: 'r--s',
      inode: 2222317n,
      path: '/tmp/tierscope fixture/mapped file=1.bin',
    });
    expect(zoo.find((e) => e.start === 0x7fbfe0000000n)?.path).toBe(
      '/tmp/tierscope fixture/odd\\012name.bin',
    );
    expect(zoo.find((e) => e.start === 0x7fbfe4000000n)?.path).toBe('/memfd:tierscope memfd (deleted)');
  });

  test('anonymous VMAs (line ends after the inode) have an empty path', () => {
    const anon = zoo.find((e) => e.start === 0x7fbfd2000000n);
    expect(anon).toEqual({
      start: 0x7fbfd2000000n,
      end: 0x7fbfd2010000n,
      perms: 'rw-p',
      offset: 0n,
      dev: '00:00',
      inode: 0n,
      path: '',
    });
  });

  test('[vsyscall] is above 2^53 and stays exact as a bigint', () => {
    const last = zoo[zoo.length - 1];
    expect(last?.path).toBe('[vsyscall]');
    expect(last?.start).toBe(0xffffffffff600000n);
    expect(last?.end).toBe(0xffffffffff601000n);
    expect(last !== undefined && last.start > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
  });

  test('node and sleep captures: counts and the first, low (%08lx-padded) address', () => {
    const node = parseMaps(fixture('node', 'maps'));
    expect(node).toHaveLength(92);
    expect(node[0]).toMatchObject({
      start: 0x400000n,
      end: 0xb6f000n,
      path: '/usr/bin/node',
      inode: 260689n,
    });
    const sleep = parseMaps(fixture('sleep', 'maps'));
    expect(sleep).toHaveLength(37);
    expect(sleep.filter((e) => e.path === '/usr/bin/sleep')).toHaveLength(5);
  });

  test('a kernel thread has empty maps', () => {
    expect(parseMaps(fixture('kthread', 'maps'))).toEqual([]);
  });

  test('maps and the smaps headers of the same capture agree field by field', () => {
    for (const name of ['zoo', 'node', 'sleep', 'multinode'] as const) {
      const fromMaps = parseMaps(fixture(name, 'maps'));
      const fromSmaps = parseSmaps(fixture(name, 'smaps')).map(
        ({ start, end, perms, offset, dev, inode, path }) => ({
          start,
          end,
          perms,
          offset,
          dev,
          inode,
          path,
        }),
      );
      expect(fromSmaps).toEqual(fromMaps);
    }
  });
});

describe('parseMaps edge cases', () => {
  test('u64 inode (overlayfs xino sets the high bits) is exact; no trailing newline is fine', () => {
    const [e] = parseMaps(
      '7f0000000000-7f0000001000 r--p 00001000 00:2f 13835058055282163713   /usr/lib/x.so',
    );
    expect(e?.inode).toBe(13835058055282163713n);
    expect(e?.offset).toBe(0x1000n);
  });

  test('paths with runs of spaces and a literal " (deleted)" are kept verbatim', () => {
    const [e] = parseMaps('1000-2000 rw-s 00000000 00:05 7                          /tmp/a  b (deleted)\n');
    expect(e?.path).toBe('/tmp/a  b (deleted)');
    expect(e?.start).toBe(0x1000n);
  });

  test('a line without a path and without the trailing space parses', () => {
    expect(parseMaps('1000-2000 ---p 00000000 00:00 0')[0]?.path).toBe('');
  });

  test.each([
    ['bad permissions', '1000-2000 rwzp 00000000 00:00 0'],
    ['address range ends before it starts', '2000-1000 rw-p 00000000 00:00 0'],
    ['bad address range', '10000000000000000-10000000000000001 rw-p 00000000 00:00 0'],
    ['bad address range', '1000-zz00 rw-p 00000000 00:00 0'],
    ['bad offset', '1000-2000 rw-p 0000g000 00:00 0'],
    ['bad device', '1000-2000 rw-p 00000000 0000 0'],
    ['bad inode', '1000-2000 rw-p 00000000 00:00 x'],
    ['bad inode', '1000-2000 rw-p 00000000 00:00 18446744073709551616'],
    ['expected "start-end', 'garbage'],
  ])('%s → parse error naming the file and line', (what, line) => {
    expectParseError(() => parseMaps(`1000-2000 r--p 00000000 00:00 0\n${line}\n`), 'maps line 2', what);
  });

  test('the source label given by the caller appears in the message', () => {
    expectParseError(() => parseMaps('nonsense', '/proc/42/maps'), '/proc/42/maps line 1');
  });
});
