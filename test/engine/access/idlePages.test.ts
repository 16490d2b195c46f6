import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  IdlePageType,
  IdlePagesSource,
  PIP_CMD_SET_HVA,
  decodeIdlePages,
  idlePagesToFlags,
  type IdlePagesFile,
} from '../../../electron/engine/access/idlePages.js';
import {
  PAGE_ACCESSED,
  PAGE_IDLE,
  PAGE_UNKNOWN,
  type ScanVma,
} from '../../../electron/engine/access/source.js';
import { startQuietChild, type Child } from '../../helpers/children.js';
import { rejection, thrown } from '../../helpers/errors.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/idle-pages/', import.meta.url));
const fixture = (name: string) => new Uint8Array(readFileSync(`${FIXTURES}${name}`));

/** 'A' accessed, '.' idle, '?' unknown. */
function show(flags: Uint8Array): string {
  let s = '';
  for (const f of flags) s += f === PAGE_ACCESSED ? 'A' : f === PAGE_IDLE ? '.' : '?';
  return s;
}

describe('hand-made streams (test/fixtures/idle-pages/README.md)', () => {
  test('pte.bin: 4 KiB records, a hole, a dirty page, a jump, an uncovered tail', () => {
    const flags = idlePagesToFlags(fixture('pte.bin'), 0x7f0000000000n, 0x7f0000000000n, 0x7f0000020000n);
    expect(show(flags)).toBe('AAA..?A???' + '.'.repeat(15) + 'AA' + '?????');
  });

  test('pmd.bin: 2 MiB records expand to 512 base pages each', () => {
    const flags = idlePagesToFlags(fixture('pmd.bin'), 0x7f0000200000n, 0x7f0000200000n, 0x7f0000c00000n);
    expect(show(flags)).toBe(
      'A'.repeat(512) + '.'.repeat(512) + '.'.repeat(512) + '?'.repeat(512) + 'A'.repeat(512),
    );
  });

  test('pud.bin: a 1 GiB page is 262144 unknown pages (present, accessed bit not reported)', () => {
    const start = 0x7f0040000000n;
    const flags = idlePagesToFlags(fixture('pud.bin'), start, start, start + (1n << 30n) + 0x2000n);
    expect(flags.length).toBe(262146);
    expect(flags.subarray(0, 262144).every((f) => f === PAGE_UNKNOWN)).toBe(true);
    expect(show(flags.subarray(262144))).toBe('A?');
  });

  test('tail-jump.bin: records start at the read offset; the cursor is the final SET_HVA', () => {
    const runs: [number, number, number][] = [];
    const cursor = decodeIdlePages(fixture('tail-jump.bin'), 0x7f0000000, (p, n, f) => runs.push([p, n, f]));
    expect(runs).toEqual([[0x7f0000000, 4, PAGE_ACCESSED]]);
    expect(cursor).toBe(0x7f0000010);
  });

  test('SET_HVA is big-endian', () => {
    // 0x0102030405060000 read big-endian; little-endian would give 0x0000060504030201 (not page aligned).
    const runs: number[] = [];
    decodeIdlePages(Uint8Array.from([PIP_CMD_SET_HVA, 1, 2, 3, 4, 5, 6, 0, 0, 0x01]), 0, (p) => runs.push(p));
    expect(runs).toEqual([0x0102030405060000 / 4096]);
  });

  test('a VMA range clips the records; pages before and after stay unknown', () => {
    // Read at 0x7f0000000000, VMA 0x7f0000001000-0x7f0000003000: pages 1..2 of pte.bin = "AA".
    const flags = idlePagesToFlags(fixture('pte.bin'), 0x7f0000000000n, 0x7f0000001000n, 0x7f0000003000n);
    expect(show(flags)).toBe('AA');
  });

  test('malformed streams are parse errors naming the byte', () => {
    const decode = (bytes: number[]) => () => decodeIdlePages(Uint8Array.from(bytes), 0, () => undefined);
    expect(thrown(decode([0x03, 0xb1])).message).toMatch(/byte 1: unknown record type 11/);
    expect(thrown(decode([0x50])).message).toMatch(/byte 0: record of type 5 with a count of 0/);
    expect(thrown(decode([0xa0, 0, 0, 0x7f])).message).toMatch(/byte 0: SET_HVA address cut short/);
    expect(thrown(decode([0xa1])).message).toMatch(/unknown command 0xa1/);
    expect(thrown(decode([0xf1])).code).toBe('parse');
  });
});

// ---------------------------------------------------------------------------------------------------------
// A simulated kvm-ept-idle module (test only): a page table, and read() producing the stream the module's
// mm walk would, by its rules: each requested byte walks 8 pages; the first record of a read and every
// discontinuity get a SET_HVA (holes there are merged into the jump, not reported); equal consecutive types
// share a byte up to 15; the buffer keeps 9 bytes for a final SET_HVA; a PMD is walked once per read even
// when two VMAs share it; reading clears accessed bits. Idealized in one point: the module clears the bit of
// the page that no longer fits a full buffer before finding out, losing that one access; the simulation
// clears a bit only once the page is reported, so the tests can demand exact flags.

const PMD_PAGES = 512;

interface SimVma {
  firstPage: number;
  endPage: number;
  /** The module walks anonymous and private writable file VMAs only. */
  walkable: boolean;
}

class SimModule implements IdlePagesFile {
  readonly reads: { page: number; count: number }[] = [];
  closes = 0;

  constructor(
    readonly vmas: SimVma[],
    /** Present 4 KiB pages → accessed bit. */
    readonly ptes: Map<number, boolean>,
    /** Huge pages by PMD index → accessed bit. */
    readonly huge: Map<number, boolean>,
  ) {}

  read(buffer: Uint8Array, position: bigint): Promise<number> {
    if (position % 4096n !== 0n || buffer.length < 19)
      return Promise.reject(Object.assign(new Error('EINVAL'), { code: 'EINVAL' }));
    const start = Number(position / 4096n);
    const end = start + buffer.length * 8;
    this.reads.push({ page: start, count: buffer.length });
    const max = buffer.length - 9;
    const out: number[] = [];
    let nextHva = -1;
    let lastPmd = -1;
    const setHva = (page: number) => {
      const a = BigInt(page) * 4096n;
      out.push(PIP_CMD_SET_HVA);
      for (let shift = 56n; shift >= 0n; shift -= 8n) out.push(Number((a >> shift) & 0xffn));
    };
    const add = (page: number, next: number, type: number): boolean => {
      const size =
        type === IdlePageType.PMD_ACCESSED || type === IdlePageType.PMD_IDLE || type === IdlePageType.PMD_HOLE
          ? PMD_PAGES
          : 1;
      next = Math.ceil(next / size) * size;
      if (out.length === 0 || page !== nextHva) {
        if (type === IdlePageType.PTE_HOLE || type === IdlePageType.PMD_HOLE) return true;
        if (out.length + 8 + 2 >= max) return false;
        setHva(Math.floor(page / size) * size);
      } else {
        const last = out[out.length - 1] ?? 0;
        if (last >> 4 === type && (last & 0xf) < 15) {
          out[out.length - 1] = last + 1;
          nextHva = next;
          return true;
        }
        if (out.length >= max) return false;
      }
      out.push((type << 4) | 1);
      nextHva = next;
      return true;
    };

    let full = false;
    walk: for (const v of this.vmas) {
      if (!v.walkable || v.endPage <= start || v.firstPage >= end) continue;
      const e = Math.min(end, v.endPage);
      for (let p = Math.max(start, v.firstPage); p < e;) {
        const pmd = Math.floor(p / PMD_PAGES);
        const blockEnd = Math.min((pmd + 1) * PMD_PAGES, e);
        if (pmd !== lastPmd) {
          lastPmd = pmd;
          const hugeAccessed = this.huge.get(pmd);
          let ok = true;
          if (hugeAccessed !== undefined) {
            ok = add(p, blockEnd, hugeAccessed ? IdlePageType.PMD_ACCESSED : IdlePageType.PMD_IDLE);
            if (ok) this.huge.set(pmd, false);
          } else if (!this.anyPte(pmd)) {
            ok = add(p, blockEnd, IdlePageType.PMD_HOLE);
          } else {
            for (let q = p; q < blockEnd && ok; q++) {
              const a = this.ptes.get(q);
              ok = add(
                q,
                q + 1,
                a === undefined
                  ? IdlePageType.PTE_HOLE
                  : a
                    ? IdlePageType.PTE_ACCESSED
                    : IdlePageType.PTE_IDLE,
              );
              if (ok && a === true) this.ptes.set(q, false);
            }
          }
          if (!ok) {
            full = true;
            break walk;
          }
        }
        p = blockEnd;
      }
    }
    if (!full) {
      // Walk finished: report where the kernel will continue (the range end, or the next VMA beyond it).
      const after = this.vmas.find((v) => v.endPage > end);
      const tail = after && after.firstPage > end ? after.firstPage : end;
      if (tail > nextHva) setHva(tail);
    }
    buffer.set(out);
    return Promise.resolve(out.length);
  }

  close(): Promise<void> {
    this.closes++;
    return Promise.resolve();
  }

  private anyPte(pmd: number): boolean {
    for (let q = pmd * PMD_PAGES; q < (pmd + 1) * PMD_PAGES; q++) if (this.ptes.has(q)) return true;
    return false;
  }
}

/** What the source must report for a VMA, from the simulated page table. */
function truth(sim: SimModule, v: SimVma): string {
  let s = '';
  for (let p = v.firstPage; p < v.endPage; p++) {
    if (!v.walkable) s += '?';
    else if (sim.huge.has(Math.floor(p / PMD_PAGES)))
      s += sim.huge.get(Math.floor(p / PMD_PAGES)) ? 'A' : '.';
    else if (sim.ptes.has(p)) s += sim.ptes.get(p) ? 'A' : '.';
    else s += '?';
  }
  return s;
}

const BASE_PAGE = 0x7f0000000; // address 0x7f0000000000, 2 MiB aligned

function scanVmas(vmas: SimVma[]): ScanVma[] {
  return vmas.map((v, id) => ({ id, start: BigInt(v.firstPage) * 4096n, end: BigInt(v.endPage) * 4096n }));
}

/** Sets the simulated page table: present 4 KiB pages and huge pages with their accessed bits. */
function touch(sim: SimModule, ptes: Map<number, boolean>, huge: Map<number, boolean>): void {
  sim.ptes.clear();
  for (const [p, a] of ptes) sim.ptes.set(p, a);
  sim.huge.clear();
  for (const [p, a] of huge) sim.huge.set(p, a);
}

function idleTruth(expected: string): string {
  return expected.replaceAll('A', '.');
}

describe('IdlePagesSource against a simulated module', () => {
  const b = BASE_PAGE;
  const vmas: SimVma[] = [
    { firstPage: b, endPage: b + 700, walkable: true }, // ends inside the second 2 MiB block …
    { firstPage: b + 700, endPage: b + 1024, walkable: true }, // … which this VMA shares
    { firstPage: b + 1024, endPage: b + 1536, walkable: true }, // one huge page
    { firstPage: b + 2048, endPage: b + 2100, walkable: false }, // file-backed: not walked
    { firstPage: b + 4096, endPage: b + 4100, walkable: true }, // after a gap
  ];
  const ptes = new Map<number, boolean>();
  for (let p = b; p < b + 1024; p++) if (p % 7 !== 3) ptes.set(p, p % 3 === 0);
  for (let p = b + 2048; p < b + 2100; p++) ptes.set(p, true);
  ptes.set(b + 4097, true);
  ptes.set(b + 4098, false);
  const huge = new Map([[(b + 1024) / PMD_PAGES, true]]);

  test('start arms, scan reports exactly the page table, the next scan sees the cleared bits', async () => {
    const sim = new SimModule(vmas, new Map(), new Map());
    const source = new IdlePagesSource(1234, { openFile: () => Promise.resolve(sim), readBytes: 64 });
    await expect(source.scan(scanVmas(vmas))).rejects.toThrow(/scan\(\) before start\(\)/);
    touch(sim, ptes, huge);
    const expected = vmas.map((v) => truth(sim, v));
    expect(expected[1]).toMatch(/A/); // the shared-block VMA has accessed pages to find

    await source.start(scanVmas(vmas)); // reads (and clears) everything once
    expect(sim.closes).toBe(1); // closed after the walk: that is what flushes the TLB
    touch(sim, ptes, huge); // the process touches the same pages again
    const first = await source.scan(scanVmas(vmas));
    expect(first.accesses.map((a) => (a.granularity === 'page' ? show(a.flags) : a.granularity))).toEqual(
      expected,
    );
    expect(first.accesses.map((a) => a.vmaId)).toEqual([0, 1, 2, 3, 4]);
    expect(first.pagesScanned).toBeGreaterThanOrEqual(1540); // every walkable page, some twice
    expect(sim.closes).toBe(2);

    const second = await source.scan(scanVmas(vmas));
    expect(second.accesses.map((a) => (a.granularity === 'page' ? show(a.flags) : a.granularity))).toEqual(
      expected.map(idleTruth),
    );
    expect(sim.reads.every((r) => r.count === 64)).toBe(true);
    // The read that ran into VMA 1 skipped its part of the shared 2 MiB block; VMA 1 was read again from
    // its start, and VMA 2 (the huge page) was not (the read before reported it).
    expect(sim.reads.filter((r) => r.page === b + 700).length).toBe(3); // once per walk
    expect(sim.reads.some((r) => r.page === b + 1024)).toBe(false);
    await source.stop();
    await expect(source.scan(scanVmas(vmas))).rejects.toThrow(/before start/);
  });

  test('round trip on random page tables and read sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            gap: fc.integer({ min: 0, max: 700 }),
            pages: fc.integer({ min: 1, max: 1300 }),
            walkable: fc.boolean(),
            density: fc.double({ min: 0, max: 1, noNaN: true }),
            hot: fc.double({ min: 0, max: 1, noNaN: true }),
            hugeEvery: fc.integer({ min: 0, max: 3 }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        fc.integer({ min: 64, max: 600 }),
        fc.integer({ min: 1, max: 2 ** 31 }),
        async (layout, readBytes, seed) => {
          let rng = seed;
          const rand = () => {
            rng = (rng * 1103515245 + 12345) % 2147483648;
            return rng / 2147483648;
          };
          const simVmas: SimVma[] = [];
          const ptes = new Map<number, boolean>();
          const huge = new Map<number, boolean>();
          let at = BASE_PAGE;
          for (const l of layout) {
            at += l.gap;
            const v = { firstPage: at, endPage: at + l.pages, walkable: l.walkable };
            simVmas.push(v);
            for (let p = v.firstPage; p < v.endPage;) {
              const pmd = Math.floor(p / PMD_PAGES);
              const wholeBlock = p % PMD_PAGES === 0 && p + PMD_PAGES <= v.endPage;
              if (wholeBlock && l.hugeEvery > 0 && pmd % (l.hugeEvery + 1) === 0) {
                huge.set(pmd, rand() < l.hot);
                p += PMD_PAGES;
                continue;
              }
              if (rand() < l.density) ptes.set(p, rand() < l.hot);
              p++;
            }
            at = v.endPage;
          }
          const sim = new SimModule(simVmas, new Map(), new Map());
          const source = new IdlePagesSource(99, { openFile: () => Promise.resolve(sim), readBytes });
          const list = scanVmas(simVmas);
          await source.start(list);
          touch(sim, ptes, huge);
          const expected = simVmas.map((v) => truth(sim, v));
          const result = await source.scan(list);
          expect(result.accesses.map((a) => (a.granularity === 'page' ? show(a.flags) : ''))).toEqual(
            expected,
          );
          const again = await source.scan(list);
          expect(again.accesses.map((a) => (a.granularity === 'page' ? show(a.flags) : ''))).toEqual(
            expected.map(idleTruth),
          );
          for (const r of sim.reads) expect(r.count).toBeGreaterThanOrEqual(19);
        },
      ),
      { numRuns: 60 },
    );
  });

  test('the module not loaded: reads return nothing → unsupported, and the file is still closed', async () => {
    const empty: IdlePagesFile & { closes: number } = {
      closes: 0,
      read: () => Promise.resolve(0),
      close() {
        this.closes++;
        return Promise.resolve();
      },
    };
    const source = new IdlePagesSource(5, { openFile: () => Promise.resolve(empty) });
    const err = await rejection(source.start(scanVmas(vmas)));
    expect(err.code).toBe('unsupported');
    expect(err.message).toMatch(/kvm-ept-idle module .* is not loaded/);
    expect(empty.closes).toBe(1);
  });

  test('errno mapping on open and read', async () => {
    const failing = (code: string, on: 'open' | 'read') => {
      const e = Object.assign(new Error(code), { code });
      const file: IdlePagesFile = { read: () => Promise.reject(e), close: () => Promise.resolve() };
      return new IdlePagesSource(5, {
        openFile: () => (on === 'open' ? Promise.reject(e) : Promise.resolve(file)),
      });
    };
    const list = scanVmas(vmas);
    const perm = await rejection(failing('EACCES', 'open').start(list));
    expect(perm.code).toBe('permission');
    expect(perm.message).toMatch(/run as that user or as root/);
    expect((await rejection(failing('ESRCH', 'read').start(list))).code).toBe('process-gone');
    expect((await rejection(failing('EINVAL', 'read').start(list))).code).toBe('unsupported');
    // ENXIO: nothing left to walk there; every page stays unknown, no error.
    const source = failing('ENXIO', 'read');
    await source.start(list);
    const r = await source.scan(list);
    expect(
      r.accesses.every((a) => a.granularity === 'page' && a.flags.every((f) => f === PAGE_UNKNOWN)),
    ).toBe(true);
  });

  test('a stream that does not advance is a parse error, not an endless loop', async () => {
    const stuck: IdlePagesFile = {
      // SET_HVA back to 0 every time.
      read: (buffer) => {
        buffer.set([PIP_CMD_SET_HVA, 0, 0, 0, 0, 0, 0, 0, 0]);
        return Promise.resolve(9);
      },
      close: () => Promise.resolve(),
    };
    const err = await rejection(
      new IdlePagesSource(5, { openFile: () => Promise.resolve(stuck) }).start(scanVmas(vmas)),
    );
    expect(err.code).toBe('parse');
    expect(err.message).toMatch(/made no progress/);
  });
});

describe('IdlePagesSource errors', () => {
  let child: Child;
  beforeAll(async () => {
    child = await startQuietChild(4);
  });
  afterAll(async () => {
    await child.kill();
  });

  test('this kernel has no /proc/PID/idle_pages: unsupported, naming the patch set', async () => {
    const err = await rejection(new IdlePagesSource(child.pid).start([]));
    expect(err.code).toBe('unsupported');
    expect(err.message).toMatch(/idle_pages does not exist.*kvm-ept-idle/);
  });

  test('a PID that does not exist: process-gone', async () => {
    const err = await rejection(new IdlePagesSource(2 ** 22 + 11).start([]));
    expect(err.code).toBe('process-gone');
  });
});
