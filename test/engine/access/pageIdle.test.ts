// The page_idle bitmap client against a constructed bitmap file (sysRoot in a temp dir). A regular file
// stores what is written instead of OR-ing idle flags, which is what these tests want: they check which
// words are written, with which bits, at which offsets, and how many calls it took.
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PageIdleBitmap, planWords } from '../../../electron/engine/access/pageIdle.js';
import { TierscopeError } from '../../../electron/engine/errors.js';

const WORDS = 4096; // frames 0 .. 262 143

let sysRoot: string;
let bitmapFile: string;

async function words(): Promise<BigUint64Array> {
  const buf = await readFile(bitmapFile);
  return new BigUint64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8);
}

async function setWords(values: Map<number, bigint>): Promise<void> {
  const buf = Buffer.alloc(WORDS * 8);
  for (const [index, value] of values) buf.writeBigUInt64LE(value, index * 8);
  await writeFile(bitmapFile, buf);
}

function thrown(fn: () => unknown): TierscopeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TierscopeError);
    return err as TierscopeError;
  }
  throw new Error('expected a throw');
}

beforeEach(async () => {
  sysRoot = await mkdtemp(path.join(os.tmpdir(), 'tierscope-pageidle-'));
  await mkdir(path.join(sysRoot, 'kernel/mm/page_idle'), { recursive: true });
  bitmapFile = path.join(sysRoot, 'kernel/mm/page_idle/bitmap');
  await setWords(new Map());
});
afterEach(async () => {
  await rm(sysRoot, { recursive: true, force: true });
});

describe('planWords', () => {
  it('groups PFNs by 64-bit word, drops duplicates and PFN 0, merges small gaps', () => {
    const plan = planWords([130, 5, 64, 129, 0, 127, 64 * 20, 64 * 30 + 1], 8);
    // Words 0, 1, 2 (PFNs 5 / 64,127 / 129,130) form one run; word 20 starts 17 words after that run's
    // end (> 8): its own run; word 30 starts 9 words after word 20's run (> 8): a third run.
    expect(Array.from(plan.runFirst)).toEqual([0, 20, 30]);
    expect(Array.from(plan.runWords)).toEqual([3, 1, 1]);
    expect(Array.from(plan.runOffset)).toEqual([0, 3, 4]);
    expect(plan.totalWords).toBe(5);
    // With a gap allowance of 10 the last two runs merge (gap words 21..29 come along).
    const merged = planWords([64 * 20, 64 * 30 + 1], 10);
    expect(Array.from(merged.runFirst)).toEqual([20]);
    expect(Array.from(merged.runWords)).toEqual([11]);
  });
});

describe('PageIdleBitmap on a constructed bitmap', () => {
  it('marks frames idle: each word written once, with exactly the requested bits', async () => {
    const bitmap = PageIdleBitmap.open({ sysRoot, maxGapWords: 0 });
    try {
      // Frames 1 and 63 share word 0; 64 and 127 word 1 (the top bit: sign-bit handling);
      // 200 (word 3) twice; 100 000 far away (word 1562).
      bitmap.markIdle([1, 63, 64, 127, 200, 200, 100_000, 0]);
      expect(bitmap.counters).toEqual({ calls: 3, wordsRead: 0, wordsWritten: 4 });
    } finally {
      bitmap.close();
    }
    const w = await words();
    expect(w[0]).toBe((1n << 1n) | (1n << 63n));
    expect(w[1]).toBe((1n << 0n) | (1n << 63n));
    expect(w[2]).toBe(0n);
    expect(w[3]).toBe(1n << (200n - 192n));
    expect(w[1562]).toBe(1n << BigInt(100_000 - 1562 * 64));
    expect(w.reduce((n, x) => n + (x === 0n ? 0 : 1), 0)).toBe(4);
  });

  it('reads accessed flags: 1 where the idle bit is clear', async () => {
    // Word 0: frames 1, 2 idle; word 2: frame 190 idle (bit 62); word 1000: frame 64 000 idle (bit 0).
    await setWords(
      new Map([
        [0, (1n << 1n) | (1n << 2n)],
        [2, 1n << 62n],
        [1000, 1n],
      ]),
    );
    const bitmap = PageIdleBitmap.open({ sysRoot });
    try {
      const pfns = Float64Array.from([2, 3, 1, 190, 191, 64_000, 64_001, 0]);
      expect(Array.from(bitmap.readIdle(pfns))).toEqual([0, 1, 0, 0, 1, 0, 1, 0]);
      // Words 0 and 2 merge into one run (gap of one word), 1000 is separate: 2 calls, 4 words.
      expect(bitmap.counters).toEqual({ calls: 2, wordsRead: 4, wordsWritten: 0 });
      const out = new Uint8Array(pfns.length);
      expect(bitmap.readIdle(pfns, out)).toBe(out);
      expect(thrown(() => bitmap.readIdle(pfns, new Uint8Array(2))).message).toMatch(/2 slots for 8 PFNs/);
    } finally {
      bitmap.close();
    }
  });

  it('keeps going on short reads and writes (kernfs moves at most a page per call)', () => {
    const pfns = Array.from({ length: 5000 }, (_, i) => 3 * i + 1); // words 0 .. 234
    const bitmap = PageIdleBitmap.open({ sysRoot, maxIoBytes: 64 });
    try {
      bitmap.markIdle(pfns);
      expect(bitmap.counters.wordsWritten).toBe(235);
      expect(bitmap.counters.calls).toBe(Math.ceil((235 * 8) / 64));
      // What was marked reads back as idle; neighbours (never marked, bit 0 in the file) as accessed.
      expect(bitmap.readIdle(pfns).every((a) => a === 0)).toBe(true);
      expect(bitmap.readIdle(pfns.map((p) => p + 1)).every((a) => a === 1)).toBe(true);
    } finally {
      bitmap.close();
    }
  });

  it('names bad input, a missing bitmap and frames past the end of memory', () => {
    const bitmap = PageIdleBitmap.open({ sysRoot });
    try {
      expect(
        thrown(() => {
          bitmap.markIdle([1, -3]);
        }).message,
      ).toMatch(/PFN -3 at index 1 is not a non-negative integer/);
      expect(thrown(() => bitmap.readIdle([1.5])).code).toBe('invalid-argument');
      const beyond = thrown(() => bitmap.readIdle([WORDS * 64 + 5]));
      expect(beyond.code).toBe('invalid-argument');
      expect(beyond.message).toMatch(/beyond the last page of physical memory/);
    } finally {
      bitmap.close();
    }
    expect(
      thrown(() => {
        bitmap.markIdle([1]);
      }).message,
    ).toMatch(/already closed/);
    const missing = thrown(() => PageIdleBitmap.open({ sysRoot: path.join(sysRoot, 'nope') }));
    expect(missing.code).toBe('unsupported');
    expect(missing.message).toMatch(/CONFIG_IDLE_PAGE_TRACKING/);
    expect(thrown(() => PageIdleBitmap.open({ sysRoot, maxIoBytes: 12 })).message).toMatch(/multiple of 8/);
  });
});
