import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  buildNodemask,
  nodemaskToList,
  parseNodeList,
  readNodesWithMemory,
} from '../../native-bridge/index.js';

describe('buildNodemask', () => {
  it('sets bit n for node n and passes maxnode = bits + 1 (the kernel decrements it)', () => {
    const { mask, maxnode } = buildNodemask([0, 2]);
    expect([...mask]).toEqual([0b101n]);
    expect(maxnode).toBe(65);
  });

  it('keeps node 63 inside one word and needs a second word for node 64', () => {
    expect(buildNodemask([63])).toEqual({ mask: new BigUint64Array([1n << 63n]), maxnode: 65 });
    const two = buildNodemask([64, 1]);
    expect([...two.mask]).toEqual([2n, 1n]);
    expect(two.maxnode).toBe(129);
  });

  it('gives one zero word for an empty set and ignores duplicates', () => {
    expect(buildNodemask([])).toEqual({ mask: new BigUint64Array(1), maxnode: 65 });
    expect([...buildNodemask([3, 3, 3]).mask]).toEqual([8n]);
  });

  it('refuses ids outside [0, 1024)', () => {
    expect(() => buildNodemask([-1])).toThrow(RangeError);
    expect(() => buildNodemask([1024])).toThrow(/1024/);
    expect(() => buildNodemask([1.5])).toThrow(RangeError);
  });

  it('round-trips through nodemaskToList for any node set', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 1023 }), { maxLength: 40 }), (nodes) => {
        const { mask, maxnode } = buildNodemask(nodes);
        expect(nodemaskToList(mask)).toEqual([...nodes].sort((a, b) => a - b));
        // maxnode - 1 bits cover the highest node: the off-by-one cannot drop it.
        if (nodes.length > 0) expect(maxnode - 1).toBeGreaterThan(Math.max(...nodes));
        expect(maxnode - 1).toBe(mask.length * 64);
      }),
    );
  });
});

describe('parseNodeList', () => {
  it('reads sysfs lists', () => {
    expect(parseNodeList('0-2,4\n')).toEqual([0, 1, 2, 4]);
    expect(parseNodeList('7')).toEqual([7]);
    expect(parseNodeList('\n')).toEqual([]);
  });

  it('refuses garbage', () => {
    expect(() => parseNodeList('0-')).toThrow(/not a node list/);
    expect(() => parseNodeList('3-1')).toThrow(/not a node list/);
    expect(() => parseNodeList('a')).toThrow(/not a node list/);
  });
});

describe('readNodesWithMemory', () => {
  it('reads has_memory of a sysfs tree', () => {
    expect(readNodesWithMemory('test/fixtures/sysfs/three-node/sys')).toEqual([0, 1, 2]);
  });

  it('returns null when the file is missing', () => {
    expect(readNodesWithMemory('/nonexistent-sysroot')).toBeNull();
  });

  it('on this machine lists node 0', () => {
    expect(readNodesWithMemory()).toContain(0);
  });
});
