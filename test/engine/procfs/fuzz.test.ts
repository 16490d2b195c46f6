// Property tests: the parsers never throw anything but TierscopeError('parse'), whatever the text (random
// garbage, procfs-looking noise, real captures truncated or mutated), what they accept and merge is a
// valid contract Vma, and what the kernel would print parses back to what was printed.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { Vma } from '../../../electron/contract/index.js';
import { TierscopeError } from '../../../electron/engine/errors.js';
import { type MapsEntry, parseMaps } from '../../../electron/engine/procfs/maps.js';
import { parseNumaMaps } from '../../../electron/engine/procfs/numaMaps.js';
import { parseSmaps } from '../../../electron/engine/procfs/smaps.js';
import { mergeVmas } from '../../../electron/engine/procfs/vmas.js';
import { fixture, type FixtureName } from './fixtures.js';

const RUNS = 300;
const VmaList = z.array(Vma);

/** Returns normally or throws TierscopeError('parse'); anything else fails the property. */
function onlyParseErrors(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof TierscopeError) || err.code !== 'parse') throw err;
    expect(err.message).toMatch(/line \d+|numa_maps at|smaps at/);
  }
}

/** Parses all three and merges; if everything is accepted, the result must be valid contract data. */
function pipeline(maps: string, smaps: string, numa: string): void {
  onlyParseErrors(() => parseMaps(maps));
  onlyParseErrors(() => {
    const vmas = mergeVmas(parseSmaps(smaps), parseNumaMaps(numa), 4096);
    const checked = VmaList.safeParse(vmas);
    expect(checked.success, checked.error?.message).toBe(true);
  });
}

const PROCFS_CHARS = [
  ...Array.from('0123456789abcdefABN-:= []()/\\\n\n\n kBrwxps_.'),
  'kB',
  ' kB\n',
  'Rss:',
  'N0=',
  'huge',
  'file=',
];
const procfsNoise = fc.string({ unit: fc.constantFrom(...PROCFS_CHARS), maxLength: 400 });
const anyText = fc.string({ unit: 'binary', maxLength: 300 });

describe('garbage in: only parse errors out', () => {
  test('arbitrary unicode text', () => {
    fc.assert(
      fc.property(anyText, anyText, anyText, (a, b, c) => {
        pipeline(a, b, c);
      }),
      { numRuns: RUNS },
    );
  });

  test('text made of procfs-looking pieces', () => {
    fc.assert(
      fc.property(procfsNoise, procfsNoise, procfsNoise, (a, b, c) => {
        pipeline(a, b, c);
      }),
      { numRuns: RUNS },
    );
  });

  test('procfs noise appended to a valid record', () => {
    const smapsHead =
      '7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \nSize: 4 kB\nKernelPageSize: 4 kB\nRss: 4 kB\n';
    const numaHead = '7f0000000000 default anon=1 N0=1 kernelpagesize_kB=4\n';
    fc.assert(
      fc.property(procfsNoise, procfsNoise, (a, b) => {
        pipeline(smapsHead + a, smapsHead + a, numaHead + b);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('real captures, truncated and mutated', () => {
  const names: FixtureName[] = ['zoo', 'sleep', 'multinode'];
  const captures = names.map((name) => ({
    maps: fixture(name, 'maps'),
    smaps: fixture(name, 'smaps'),
    numa: fixture(name, 'numa_maps'),
  }));
  const capture = fc.constantFrom(...captures);

  test('truncated anywhere', () => {
    fc.assert(
      fc.property(
        capture,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (c, f, g) => {
          pipeline(
            c.maps.slice(0, Math.floor(c.maps.length * f)),
            c.smaps.slice(0, Math.floor(c.smaps.length * f)),
            c.numa.slice(0, Math.floor(c.numa.length * g)),
          );
        },
      ),
      { numRuns: RUNS },
    );
  });

  const mutation = fc.record({
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    op: fc.constantFrom('insert', 'delete', 'replace'),
    text: fc.constantFrom(...PROCFS_CHARS, '\u00e9', '\u{1F600}', '\0', '999999999999999999'),
  });

  function mutate(text: string, mutations: { at: number; op: string; text: string }[]): string {
    let out = text;
    for (const m of mutations) {
      const i = Math.floor(out.length * m.at);
      if (m.op === 'insert') out = out.slice(0, i) + m.text + out.slice(i);
      else if (m.op === 'delete') out = out.slice(0, i) + out.slice(i + m.text.length);
      else out = out.slice(0, i) + m.text + out.slice(i + m.text.length);
    }
    return out;
  }

  test('with random insertions, deletions and replacements', () => {
    const mutations = fc.array(mutation, { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(capture, mutations, mutations, (c, m1, m2) => {
        pipeline(mutate(c.maps, m1), mutate(c.smaps, m1), mutate(c.numa, m2));
      }),
      { numRuns: RUNS },
    );
  });

  test('with lines shuffled, duplicated or dropped', () => {
    const reorder = (text: string, picks: number[]) => {
      const lines = text.split('\n');
      return picks.map((p) => lines[p % lines.length]).join('\n');
    };
    const picks = fc.array(fc.nat(), { maxLength: 200 });
    fc.assert(
      fc.property(capture, picks, picks, (c, p1, p2) => {
        pipeline(reorder(c.maps, p1), reorder(c.smaps, p1), reorder(c.numa, p2));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('round trips: what the kernel would print parses back', () => {
  const address = fc.bigInt({ min: 0n, max: (1n << 64n) - 2n });
  const pathChar = fc.constantFrom(...Array.from('abc xyz=-_./()[]:\t'), '\u00e9', ' (deleted)');
  const path = fc.oneof(
    fc.constant(''),
    fc.string({ unit: pathChar, minLength: 1, maxLength: 30 }).map((p) => `/${p}`),
    fc.constantFrom('[heap]', '[stack]', '[vdso]', '[vsyscall]', '[anon:x y]'),
  );
  const entry = fc
    .record({
      start: address,
      size: fc.bigInt({ min: 1n, max: 1n << 48n }),
      perms: fc.tuple(
        fc.constantFrom('r', '-'),
        fc.constantFrom('w', '-'),
        fc.constantFrom('x', '-'),
        fc.constantFrom('p', 's'),
      ),
      offset: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      major: fc.nat({ max: 0xfff }),
      minor: fc.nat({ max: 0xfffff }),
      inode: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      path,
    })
    .filter((e) => e.start + e.size <= (1n << 64n) - 1n)
    .map((e): MapsEntry => ({
      start: e.start,
      end: e.start + e.size,
      perms: e.perms.join(''),
      offset: e.offset,
      dev: `${e.major.toString(16).padStart(2, '0')}:${e.minor.toString(16).padStart(2, '0')}`,
      inode: e.inode,
      path: e.path,
    }));

  /** show_vma_header_prefix + seq_pad, as fs/proc/task_mmu.c prints a line. */
  function printMapsLine(e: MapsEntry): string {
    const hex = (v: bigint) => v.toString(16).padStart(8, '0');
    const head = `${hex(e.start)}-${hex(e.end)} ${e.perms} ${hex(e.offset)} ${e.dev} ${e.inode} `;
    return e.path === '' ? head : head.padEnd(73, ' ') + e.path;
  }

  test('maps lines', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 20 }), (entries) => {
        expect(parseMaps(entries.map(printMapsLine).join('\n'))).toEqual(entries);
      }),
      { numRuns: RUNS },
    );
  });

  test('numa_maps lines, with file= escaped as seq_path(…, "\\n\\t= ") does', () => {
    const line = fc.record({
      start: address,
      policy: fc.constantFrom(
        'default',
        'bind:0-2',
        'interleave=static:1,3',
        'prefer (many):0-1',
        'weighted interleave:0-3',
        'local',
      ),
      file: fc.option(fc.string({ unit: pathChar, minLength: 1, maxLength: 30 }).map((p) => `/${p}`)),
      huge: fc.boolean(),
      anon: fc.option(fc.nat()),
      nodes: fc.dictionary(fc.nat({ max: 1023 }).map(String), fc.integer({ min: 1, max: 1 << 30 }), {
        maxKeys: 4,
      }),
      kernelPageSizeKB: fc.constantFrom(4, 64, 2048, 1048576),
    });
    fc.assert(
      fc.property(line, (l) => {
        const escaped = l.file?.replace(/[ \t=]/g, (c) => `\\0${c.charCodeAt(0).toString(8)}`);
        const nodes = Object.entries(l.nodes);
        const text =
          `${l.start.toString(16).padStart(8, '0')} ${l.policy}` +
          (escaped === undefined ? '' : ` file=${escaped}`) +
          (l.huge ? ' huge' : '') +
          (l.anon === null ? '' : ` anon=${l.anon}`) +
          nodes.map(([n, c]) => ` N${n}=${c}`).join('') +
          ` kernelpagesize_kB=${l.kernelPageSizeKB}\n`;
        const [parsed] = parseNumaMaps(text);
        expect(parsed).toMatchObject({
          start: l.start,
          policy: l.policy,
          file: l.file ?? null,
          huge: l.huge,
          anon: l.anon,
          kernelPagesByNode: l.nodes,
          kernelPages: nodes.reduce((a, [, c]) => a + c, 0),
          kernelPageSizeKB: l.kernelPageSizeKB,
          unknownTokens: [],
        });
      }),
      { numRuns: RUNS },
    );
  });
});
