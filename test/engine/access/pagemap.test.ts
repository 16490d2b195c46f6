// pagemap decoding and the batched reader, against constructed pagemap files (a temp procRoot), plus one
// live read of a child this test starts (the host runs as root, so PFNs are visible).
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PAGE_EXCLUSIVE,
  PAGE_FILE_OR_SHARED_ANON,
  PAGE_PRESENT,
  PAGE_SOFT_DIRTY,
  PAGE_SWAPPED,
  PAGE_UFFD_WP,
  PagemapReader,
  decodePagemap,
  pfnsHidden,
  readPagemap,
} from '../../../electron/engine/access/pagemap.js';
import { TierscopeError } from '../../../electron/engine/errors.js';
import { startQuietChild, type Child } from '../../helpers/children.js';

const PAGE = 4096;
const PRESENT = 1n << 63n;
const SWAP = 1n << 62n;
const FILE = 1n << 61n;
const UFFD_WP = 1n << 57n;
const EXCLUSIVE = 1n << 56n;
const SOFT_DIRTY = 1n << 55n;

function thrown(fn: () => unknown): TierscopeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TierscopeError);
    return err as TierscopeError;
  }
  throw new Error('expected a throw');
}

describe('decodePagemap', () => {
  it('splits PFNs and flags, including PFNs above 2^32', () => {
    const raw = BigUint64Array.from([
      PRESENT | EXCLUSIVE | SOFT_DIRTY | 0x12345n,
      PRESENT | FILE | ((1n << 54n) | 0xabcdef012n), // highest PFN bit, above 2^32
      SWAP | (5n << 5n) | 3n, // swap type 3, offset 5: not a PFN
      0n,
      PRESENT | UFFD_WP | 1n,
    ]);
    const d = decodePagemap(raw);
    expect(Array.from(d.pfns)).toEqual([0x12345, 2 ** 54 + 0xabcdef012, 0, 0, 1]);
    expect(Array.from(d.flags)).toEqual([
      PAGE_PRESENT | PAGE_EXCLUSIVE | PAGE_SOFT_DIRTY,
      PAGE_PRESENT | PAGE_FILE_OR_SHARED_ANON,
      PAGE_SWAPPED,
      0,
      PAGE_PRESENT | PAGE_UFFD_WP,
    ]);
    expect(d.presentPages).toBe(3);
    expect(d.swappedPages).toBe(1);
  });

  it('reports PFNs as hidden only when present pages all read 0', () => {
    expect(pfnsHidden(decodePagemap(BigUint64Array.from([PRESENT, PRESENT | EXCLUSIVE, 0n])))).toBe(true);
    expect(pfnsHidden(decodePagemap(BigUint64Array.from([PRESENT, PRESENT | 7n])))).toBe(false);
    expect(pfnsHidden(decodePagemap(BigUint64Array.from([0n, SWAP])))).toBe(false); // nothing present
  });
});

describe('PagemapReader on a constructed pagemap', () => {
  let root: string;
  const pid = 4321;
  // Entries for pages 0x1000..0x1010 (addresses 0x1000000..0x1010000): PFN 0x100 + i, page 5 absent.
  const firstPage = 0x1000;
  const entries = Array.from({ length: 16 }, (_, i) =>
    i === 5 ? 0n : PRESENT | EXCLUSIVE | BigInt(0x100 + i),
  );

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'tierscope-pagemap-'));
    await mkdir(path.join(root, String(pid)));
    const file = Buffer.alloc((firstPage + entries.length) * 8);
    entries.forEach((e, i) => file.writeBigUInt64LE(e, (firstPage + i) * 8));
    await writeFile(path.join(root, String(pid), 'pagemap'), file);
    // A process whose pagemap shows no PFNs (what an opener without CAP_SYS_ADMIN gets).
    await mkdir(path.join(root, '4322'));
    const hidden = Buffer.alloc((firstPage + 4) * 8);
    for (let i = 0; i < 4; i++) hidden.writeBigUInt64LE(PRESENT | EXCLUSIVE, (firstPage + i) * 8);
    await writeFile(path.join(root, '4322', 'pagemap'), hidden);
    // A process directory without pagemap: a kernel without CONFIG_PROC_PAGE_MONITOR.
    await mkdir(path.join(root, '4323'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reads a range in batches into the right slots', () => {
    // Batches of 3 entries over 16 pages: 6 preads, the last one short.
    const reader = PagemapReader.open(pid, { procRoot: root, pageSizeBytes: PAGE, batchPages: 3 });
    try {
      const start = BigInt(firstPage * PAGE);
      const pages = reader.read(start, start + 16n * BigInt(PAGE));
      expect(pages.raw).toEqual(BigUint64Array.from(entries));
      expect(Array.from(pages.pfns)).toEqual(entries.map((_, i) => (i === 5 ? 0 : 0x100 + i)));
      expect(pages.presentPages).toBe(15);
      // Re-reading a sub-range from the same open fd (widened to whole pages).
      const sub = reader.read(start + 2n * BigInt(PAGE) + 17n, start + 4n * BigInt(PAGE) + 1n);
      expect(sub.startAddress).toBe(start + 2n * BigInt(PAGE));
      expect(sub.endAddress).toBe(start + 5n * BigInt(PAGE));
      expect(Array.from(sub.pfns)).toEqual([0x102, 0x103, 0x104]);
    } finally {
      reader.close();
    }
  });

  it('writes into a caller-supplied array and checks its length', () => {
    const reader = PagemapReader.open(pid, { procRoot: root, pageSizeBytes: PAGE });
    try {
      const start = BigInt(firstPage * PAGE);
      const out = new BigUint64Array(4);
      expect(reader.readRaw(start, start + 4n * BigInt(PAGE), out)).toBe(out);
      expect(out[3]).toBe(entries[3]);
      const err = thrown(() => reader.readRaw(start, start + 5n * BigInt(PAGE), out));
      expect(err.code).toBe('invalid-argument');
      expect(err.message).toMatch(/output array has 4 entries but the range has 5 pages/);
    } finally {
      reader.close();
    }
  });

  it('refuses to pretend when the kernel hid the PFNs', () => {
    const start = BigInt(firstPage * PAGE);
    const err = thrown(() =>
      readPagemap(4322, start, start + 4n * BigInt(PAGE), { procRoot: root, pageSizeBytes: PAGE }),
    );
    expect(err.code).toBe('permission');
    expect(err.message).toMatch(
      /page frame numbers of process 4322 are hidden.*CAP_SYS_ADMIN.*run Tierscope as root/,
    );
    // The flags are still there for callers that only want presence.
    const reader = PagemapReader.open(4322, { procRoot: root, pageSizeBytes: PAGE });
    try {
      expect(decodePagemap(reader.readRaw(start, start + 4n * BigInt(PAGE))).presentPages).toBe(4);
    } finally {
      reader.close();
    }
  });

  it('names the cause of each failure', () => {
    const opts = { procRoot: root, pageSizeBytes: PAGE };
    expect(thrown(() => PagemapReader.open(999_999, opts)).code).toBe('process-gone');
    const missing = thrown(() => PagemapReader.open(4323, opts));
    expect(missing.code).toBe('unsupported');
    expect(missing.message).toMatch(/CONFIG_PROC_PAGE_MONITOR/);
    expect(thrown(() => PagemapReader.open(0, opts)).code).toBe('invalid-argument');
    expect(thrown(() => PagemapReader.open(pid, { procRoot: root, pageSizeBytes: 3000 })).message).toMatch(
      /not a power of two/,
    );
    expect(thrown(() => PagemapReader.open(pid, { ...opts, batchPages: 0 })).code).toBe('invalid-argument');

    const reader = PagemapReader.open(pid, { ...opts, maxPages: 8 });
    try {
      expect(thrown(() => reader.read(10n, 10n)).message).toMatch(/is empty/);
      expect(thrown(() => reader.read(0n, 9n * BigInt(PAGE))).message).toMatch(/more than the limit 8/);
      // Past the end of the (constructed) file: the kernel's "beyond the user address space" answer.
      const past = BigInt((firstPage + 16) * PAGE);
      const beyond = thrown(() => reader.read(past, past + BigInt(PAGE)));
      expect(beyond.code).toBe('invalid-argument');
      expect(beyond.message).toMatch(/beyond the process's user address space/);
    } finally {
      reader.close();
    }
    expect(thrown(() => reader.read(0n, 4096n)).message).toMatch(/already closed/);
  });
});

describe('PagemapReader live on a child of this test', () => {
  let child: Child;
  beforeAll(async () => {
    child = await startQuietChild(16);
  });
  afterAll(async () => {
    await child.kill();
  });

  it('finds every touched page of the child present, with distinct non-zero PFNs', () => {
    // The python child's 16 MiB bytearray is its largest anonymous rw mapping; every 4 KiB was written.
    let best: [bigint, bigint] = [0n, 0n];
    for (const line of readFileSync(`/proc/${child.pid}/maps`, 'utf8').split('\n')) {
      const m = /^([0-9a-f]+)-([0-9a-f]+) rw-p \S+ 00:00 0\s*$/.exec(line);
      if (!m?.[1] || !m[2]) continue;
      const [s, e] = [BigInt(`0x${m[1]}`), BigInt(`0x${m[2]}`)];
      if (e - s > best[1] - best[0]) best = [s, e];
    }
    expect(best[1] - best[0]).toBeGreaterThanOrEqual(16n << 20n);
    const pages = readPagemap(child.pid, best[0], best[1], { pageSizeBytes: PAGE });
    // bytearray's buffer starts somewhere inside the mapping; its 4096 pages are all there.
    expect(pages.presentPages).toBeGreaterThanOrEqual(4096);
    const pfns = new Set<number>();
    for (let i = 0; i < pages.pfns.length; i++) {
      if (((pages.flags[i] ?? 0) & PAGE_PRESENT) === 0) continue;
      const pfn = pages.pfns[i] ?? 0;
      expect(pfn).toBeGreaterThan(0);
      pfns.add(pfn);
    }
    expect(pfns.size).toBe(pages.presentPages);
  });
});
