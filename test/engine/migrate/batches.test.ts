import { describe, expect, it } from 'vitest';
import {
  BatchPlanner,
  RateLimiter,
  THP_BLOCK_BYTES,
  batchEnd,
  parseRate,
} from '../../../electron/engine/migrate/batches.js';

const PAGE = 4096;
const pages = (first: bigint, n: number, step = PAGE): BigUint64Array =>
  BigUint64Array.from({ length: n }, (_, i) => first + BigInt(i * step));

describe('BatchPlanner', () => {
  it('sizes the next batch to about targetMs of work at the measured speed', () => {
    const p = new BatchPlanner({ targetMs: 20, initialPages: 512, maxPages: 1 << 20 });
    expect(p.next()).toBe(512);
    p.observe(512, 10); // 51.2 pages/ms → 20 ms = 1024 pages
    expect(p.rate).toBeCloseTo(51.2);
    expect(p.next()).toBe(1024);
    p.observe(1024, 20); // same speed: stays
    expect(p.next()).toBe(1024);
  });

  it('grows at most 4x per call, so one cheap batch cannot make the next one huge', () => {
    const p = new BatchPlanner({ targetMs: 20, initialPages: 256, maxPages: 1 << 20 });
    p.observe(256, 0.1); // 2560 pages/ms: 20 ms would be 51 200 pages
    expect(p.next()).toBe(1024);
    p.observe(1024, 0.4);
    expect(p.next()).toBe(4096);
  });

  it('shrinks when calls get slow, within [minPages, maxPages]', () => {
    const p = new BatchPlanner({ targetMs: 20, initialPages: 4096, minPages: 64, maxPages: 8192 });
    p.observe(4000, 400); // 10 pages/ms → 200 pages
    expect(p.next()).toBe(200);
    p.observe(200, 2000); // 0.1 pages/ms (EWMA 5.05) → 101
    expect(p.next()).toBe(101);
    for (let i = 0; i < 10; i++) p.observe(100, 100_000);
    expect(p.next()).toBe(64);
    const q = new BatchPlanner({ targetMs: 20, initialPages: 8192, maxPages: 8192 });
    q.observe(8192, 1);
    expect(q.next()).toBe(8192);
  });

  it('capAt lowers every later batch (a rate limit) and bad bounds are rejected', () => {
    const p = new BatchPlanner({ initialPages: 512 });
    p.capAt(100);
    expect(p.next()).toBe(100);
    p.observe(100, 0.1); // very fast: would grow, but the cap holds
    expect(p.next()).toBe(100);
    const tiny = new BatchPlanner({ initialPages: 512, minPages: 16 });
    tiny.capAt(4); // a cap below minPages wins: the rate limit is the stronger promise
    expect(tiny.next()).toBe(4);
    expect(() => new BatchPlanner({ minPages: 10, maxPages: 5 })).toThrow(RangeError);
    expect(() => new BatchPlanner({ targetMs: 0 })).toThrow(RangeError);
  });
});

describe('batchEnd', () => {
  it('never cuts a 2 MiB block in two when the batch holds more than that block', () => {
    // 3 blocks of 512 pages each, contiguous from a 2 MiB aligned base.
    const base = 0x7f0000000000n;
    const a = pages(base, 3 * 512);
    // A batch of 700 from 0 would end inside block 2: cut back to its first page (512).
    expect(batchEnd(a, 0, 700)).toBe(512);
    // From 512 with 700: the cut (1212) is inside block 3 → back to 1024.
    expect(batchEnd(a, 512, 700)).toBe(1024);
    // A cut exactly on a boundary stays.
    expect(batchEnd(a, 0, 1024)).toBe(1024);
    // The end of the list.
    expect(batchEnd(a, 1024, 5000)).toBe(1536);
  });

  it('keeps the cut when the whole batch lies in one block, and always advances', () => {
    const base = 0x7f0000000000n;
    const a = pages(base, 512);
    expect(batchEnd(a, 0, 100)).toBe(100);
    expect(batchEnd(a, 0, 0)).toBe(1);
  });

  it('cuts at a block change of scattered addresses', () => {
    const block = BigInt(THP_BLOCK_BYTES);
    const a = BigUint64Array.from([0n, 4096n, block, block + 4096n, block + 8192n, 2n * block]);
    expect(batchEnd(a, 0, 4)).toBe(2); // cut would split block 1 (indices 2..4) → back to 2
    expect(batchEnd(a, 0, 5)).toBe(5);
  });
});

describe('RateLimiter', () => {
  it('spaces batches so bytes per second stay at the rate', () => {
    let now = 0;
    const r = new RateLimiter(1_000_000, { now: () => now });
    expect(r.delayMs(100_000)).toBeCloseTo(100); // 100 kB at 1 MB/s is due at 100 ms
    now = 100;
    expect(r.delayMs(500_000)).toBeCloseTo(500);
    now = 600;
    expect(r.delayMs(0)).toBeCloseTo(0);
  });

  it('does not let a long pause turn into a burst beyond burstSeconds', () => {
    let now = 0;
    const r = new RateLimiter(1_000_000, { now: () => now }, 0.25);
    r.delayMs(100_000);
    now = 10_000; // idle for 10 s
    // Without the cap, 9.9 s of budget would let ~9.9 MB through at once; with it, only 0.25 s worth.
    expect(r.delayMs(1_000_000)).toBeCloseTo(750);
    expect(r.maxBatchBytes).toBe(250_000);
  });

  it('rejects a non-positive rate', () => {
    expect(() => new RateLimiter(0)).toThrow(RangeError);
  });
});

describe('parseRate', () => {
  it.each([
    ['200', 200e6],
    ['200MB/s', 200e6],
    ['1.5GB/s', 1.5e9],
    ['512MiB/s', 512 * 2 ** 20],
    ['64kb', 64e3],
    ['100 MBps', 100e6],
  ])('%s → %d bytes/s', (text, bytes) => {
    expect(parseRate(text)).toBe(bytes);
  });
  it.each(['', 'fast', '-5', '0', '1TB/s'])('rejects %s', (text) => {
    expect(parseRate(text)).toBeNull();
  });
});
