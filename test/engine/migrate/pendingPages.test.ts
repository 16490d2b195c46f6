// The lazy rebind's pending set on its own: which pages still wait for their first touch.
import { describe, expect, it } from 'vitest';
import { PAGE_ACCESSED } from '../../../electron/engine/access/source.js';
import { PendingPages } from '../../../electron/engine/migrate/lazy.js';

const PAGE = 4096;
const at = (page: number): bigint => 0x7f0000000000n + BigInt(page * PAGE);

describe('PendingPages', () => {
  it('keeps addresses in ascending order whatever order they come in, and counts them', () => {
    const pending = new PendingPages([at(3), at(0), at(2)]);
    expect(pending.size).toBe(3);
    expect(Array.from(pending.list())).toEqual([at(0), at(2), at(3)]);
  });

  it('removes a page once; removing it again or removing an unknown one changes nothing', () => {
    const pending = new PendingPages([at(0), at(1)]);
    pending.remove(at(1));
    pending.remove(at(1));
    pending.remove(at(9));
    expect(pending.size).toBe(1);
    expect(pending.has(at(1))).toBe(false);
    expect(pending.has(at(0))).toBe(true);
    expect(Array.from(pending.list())).toEqual([at(0)]);
  });

  it('reports as touched only pending pages whose flag says accessed', () => {
    const pending = new PendingPages([at(0), at(1), at(3)]);
    pending.remove(at(3));
    // A scan of pages 0-3: 0 and 3 accessed (3 no longer pending), 1 idle, 2 accessed but never pending.
    const flags = Uint8Array.from([PAGE_ACCESSED, 0, PAGE_ACCESSED, PAGE_ACCESSED]);
    expect(pending.touched(at(0), flags, PAGE)).toEqual([at(0)]);
    // Flags of a scan that starts further in line up with their own start address.
    expect(pending.touched(at(1), Uint8Array.from([PAGE_ACCESSED]), PAGE)).toEqual([at(1)]);
  });
});
