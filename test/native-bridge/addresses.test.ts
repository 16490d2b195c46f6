import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fillPageAddresses } from '../../native-bridge/index.js';

describe('fillPageAddresses', () => {
  it('writes first + i * step for each page', () => {
    expect([...fillPageAddresses(new BigUint64Array(3), 0x7f0000001000n, 4096)]).toEqual([
      0x7f0000001000n,
      0x7f0000002000n,
      0x7f0000003000n,
    ]);
  });

  it('carries into the high 32 bits and handles addresses above 2^53', () => {
    expect([...fillPageAddresses(new BigUint64Array(2), 0xfffff000n, 4096)]).toEqual([
      0xfffff000n,
      0x100000000n,
    ]);
    const high = 2n ** 60n + 0xffffe000n;
    expect([...fillPageAddresses(new BigUint64Array(3), high, 4096)]).toEqual([
      high,
      high + 4096n,
      high + 8192n,
    ]);
  });

  it('matches BigInt arithmetic for any start and step', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 63n }),
        fc.integer({ min: 1, max: 2 ** 32 - 1 }),
        fc.integer({ min: 0, max: 40 }),
        (first, step, n) => {
          const out = fillPageAddresses(new BigUint64Array(n), first, step);
          for (let i = 0; i < n; i++)
            expect(out[i]).toBe(BigInt.asUintN(64, first + BigInt(i) * BigInt(step)));
        },
      ),
    );
  });

  it('writes into a subarray without touching the rest', () => {
    const all = new BigUint64Array(4);
    fillPageAddresses(all.subarray(1, 3), 0x5000n, 4096);
    expect([...all]).toEqual([0n, 0x5000n, 0x6000n, 0n]);
  });

  it('refuses steps that are not integers in (0, 2^32)', () => {
    expect(() => fillPageAddresses(new BigUint64Array(1), 0n, 0)).toThrow(RangeError);
    expect(() => fillPageAddresses(new BigUint64Array(1), 0n, 2 ** 32)).toThrow(RangeError);
  });
});
