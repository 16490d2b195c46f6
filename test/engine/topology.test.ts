import { cp, mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Topology } from '../../electron/contract/topology.js';
import { TierscopeError } from '../../electron/engine/errors.js';
import {
  decodeNumaBalancing,
  parseDistanceLine,
  parseNodeMeminfo,
  parseRangeList,
  readTopology,
} from '../../electron/engine/sysfs/topology.js';
import { rejection, thrown } from '../helpers/errors.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/sysfs');
const live = {
  sysRoot: path.join(fixtures, 'live-1node/sys'),
  procRoot: path.join(fixtures, 'live-1node/proc'),
};
const three = {
  sysRoot: path.join(fixtures, 'three-node/sys'),
  procRoot: path.join(fixtures, 'three-node/proc'),
};

const KiB = 1024;

/** Formats ids the way the kernel prints a cpulist/nodelist ("0-2,5"). */
function formatRangeList(ids: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ids.length;) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === (ids[j] ?? 0) + 1) j++;
    parts.push(i === j ? `${ids[i]}` : `${ids[i]}-${ids[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

describe('parseRangeList', () => {
  it('expands kernel range lists', () => {
    expect(parseRangeList('0-2,5')).toEqual([0, 1, 2, 5]);
    expect(parseRangeList('0-2,4\n')).toEqual([0, 1, 2, 4]);
    expect(parseRangeList('7')).toEqual([7]);
    expect(parseRangeList('3,1-2,2')).toEqual([1, 2, 3]);
  });

  it('reads an empty mask (a CPU-less node prints just a newline) as no ids', () => {
    expect(parseRangeList('')).toEqual([]);
    expect(parseRangeList('\n')).toEqual([]);
  });

  it.each(['a', '1-', '-1', '1,,2', '1 - 2', '0x3', '1-3:2', '0-9999999', '99999999'])(
    'rejects %j with a parse error naming the file',
    (text) => {
      const err = thrown(() => parseRangeList(text, '/sys/x/cpulist'));
      expect(err.code).toBe('parse');
      expect(err.message).toContain('/sys/x/cpulist');
    },
  );

  it('rejects a backwards range', () => {
    expect(thrown(() => parseRangeList('5-2', 'online')).message).toMatch(/online.*runs backwards/);
  });

  it('property: never throws anything but TierscopeError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[0-9,\- \n]{0,30}$/)), (text) => {
        try {
          const ids = parseRangeList(text);
          expect(ids).toEqual([...ids].sort((a, b) => a - b));
        } catch (err) {
          expect(err).toBeInstanceOf(TierscopeError);
        }
      }),
    );
  });

  it('property: parses back what the kernel would print', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 300 }), { maxLength: 40 }), (ids) => {
        const sorted = [...ids].sort((a, b) => a - b);
        expect(parseRangeList(`${formatRangeList(sorted)}\n`)).toEqual(sorted);
      }),
    );
  });
});

describe('small parsers', () => {
  it('reads MemTotal/MemFree in bytes and checks the node number', () => {
    const text =
      'Node 1 MemTotal:  2048 kB\nNode 1 MemFree:   1024 kB\nNode 1 Active(anon): 0 kB\nNode 1 HugePages_Total: 0\n';
    expect(parseNodeMeminfo(text, 1)).toEqual({ memTotalBytes: 2048 * KiB, memFreeBytes: 1024 * KiB });
    expect(thrown(() => parseNodeMeminfo(text, 0, 'node0/meminfo')).message).toMatch(
      /node0\/meminfo.*node 1/,
    );
    expect(thrown(() => parseNodeMeminfo('Node 1 MemTotal: 5 kB\n', 1)).message).toMatch(/no "MemFree" line/);
    expect(thrown(() => parseNodeMeminfo('MemTotal: 5 kB\n', 1)).code).toBe('parse');
    expect(
      thrown(() => parseNodeMeminfo(`Node 1 MemTotal: ${'9'.repeat(30)} kB\nNode 1 MemFree: 1 kB`, 1))
        .message,
    ).toMatch(/out of range/);
  });

  it('reads a distance row of the expected length only', () => {
    expect(parseDistanceLine('10 21 40\n', 3)).toEqual([10, 21, 40]);
    expect(thrown(() => parseDistanceLine('10 21\n', 3, 'node0/distance')).message).toMatch(
      /node0\/distance: expected 3 distances/,
    );
    expect(thrown(() => parseDistanceLine('10 x 40', 3)).code).toBe('parse');
  });

  it('decodes every numa_balancing mode and refuses unknown ones', () => {
    expect(decodeNumaBalancing('0\n')).toEqual({ raw: 0, mode: 'disabled' });
    expect(decodeNumaBalancing('1\n')).toEqual({ raw: 1, mode: 'normal' });
    expect(decodeNumaBalancing('2\n')).toEqual({ raw: 2, mode: 'memory-tiering' });
    expect(decodeNumaBalancing('3\n')).toEqual({ raw: 3, mode: 'normal+memory-tiering' });
    expect(thrown(() => decodeNumaBalancing('4', '/proc/sys/kernel/numa_balancing')).code).toBe(
      'unsupported',
    );
    expect(thrown(() => decodeNumaBalancing('on', '/proc/sys/kernel/numa_balancing')).message).toMatch(
      /numa_balancing: "on" is not a number/,
    );
  });
});

describe('readTopology on fixtures', () => {
  it('reads this machine (one node) exactly', async () => {
    const topo = await readTopology(live);
    expect(Topology.parse(topo)).toEqual(topo);
    expect(topo).toEqual({
      nodes: [
        {
          id: 0,
          cpus: [0, 1],
          cpuLess: false,
          memTotalBytes: 5990612 * KiB,
          memFreeBytes: 3598436 * KiB,
          memoryTier: 4,
        },
      ],
      distances: [[10]],
      tiers: [{ id: 4, nodes: [0] }],
      demotionEnabled: false,
      numaBalancing: { raw: 0, mode: 'disabled' },
    });
  });

  it('reads the hand-made three-node tree exactly', async () => {
    const topo = await readTopology(three);
    expect(Topology.parse(topo)).toEqual(topo);
    expect(topo).toEqual({
      nodes: [
        {
          id: 0,
          cpus: [0],
          cpuLess: false,
          memTotalBytes: 4194304 * KiB,
          memFreeBytes: 1048576 * KiB,
          memoryTier: 4,
        },
        {
          id: 1,
          cpus: [1],
          cpuLess: false,
          memTotalBytes: 4194304 * KiB,
          memFreeBytes: 2097152 * KiB,
          memoryTier: 4,
        },
        {
          id: 2,
          cpus: [],
          cpuLess: true,
          memTotalBytes: 16777216 * KiB,
          memFreeBytes: 16252928 * KiB,
          memoryTier: 22,
        },
      ],
      distances: [
        [10, 21, 40],
        [21, 10, 40],
        [40, 40, 10],
      ],
      tiers: [
        { id: 4, nodes: [0, 1] },
        { id: 22, nodes: [2] },
      ],
      demotionEnabled: true,
      numaBalancing: { raw: 2, mode: 'memory-tiering' },
    });
  });
});

describe('readTopology on damaged trees', () => {
  let tmp = '';
  afterEach(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
    tmp = '';
  });

  /** A writable copy of the three-node fixture. */
  async function copyThree(): Promise<{ sysRoot: string; procRoot: string; node: string }> {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'tierscope-topo-'));
    await cp(path.join(fixtures, 'three-node'), tmp, { recursive: true });
    const sysRoot = path.join(tmp, 'sys');
    return { sysRoot, procRoot: path.join(tmp, 'proc'), node: path.join(sysRoot, 'devices/system/node') };
  }

  it('says NUMA is missing when node/online does not exist', async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'tierscope-topo-'));
    const err = await rejection(readTopology({ sysRoot: tmp, procRoot: tmp }));
    expect(err.code).toBe('unsupported');
    expect(err.message).toContain(path.join(tmp, 'devices/system/node/online'));
    expect(err.message).toContain('CONFIG_NUMA');
  });

  it('names the garbage online file', async () => {
    const t = await copyThree();
    await writeFile(path.join(t.node, 'online'), 'zero\n');
    const err = await rejection(readTopology(t));
    expect(err.code).toBe('parse');
    expect(err.message).toContain(path.join(t.node, 'online'));
  });

  it('names a missing meminfo', async () => {
    const t = await copyThree();
    await rm(path.join(t.node, 'node1/meminfo'));
    const err = await rejection(readTopology(t));
    expect(err.code).toBe('unsupported');
    expect(err.message).toContain(path.join(t.node, 'node1/meminfo'));
  });

  it('names a garbage meminfo, cpulist and distance file', async () => {
    const t = await copyThree();
    await writeFile(path.join(t.node, 'node2/meminfo'), 'hello\n');
    expect((await rejection(readTopology(t))).message).toContain(path.join(t.node, 'node2/meminfo'));

    await cp(path.join(fixtures, 'three-node'), tmp, { recursive: true });
    await writeFile(path.join(t.node, 'node1/cpulist'), '1-\n');
    expect((await rejection(readTopology(t))).message).toContain(path.join(t.node, 'node1/cpulist'));

    await cp(path.join(fixtures, 'three-node'), tmp, { recursive: true });
    await writeFile(path.join(t.node, 'node0/distance'), '10 21\n');
    const err = await rejection(readTopology(t));
    expect(err.code).toBe('parse');
    expect(err.message).toContain(path.join(t.node, 'node0/distance'));
  });

  it('names a garbage demotion_enabled and numa_balancing', async () => {
    const t = await copyThree();
    const demotion = path.join(t.sysRoot, 'kernel/mm/numa/demotion_enabled');
    await writeFile(demotion, 'maybe\n');
    const err = await rejection(readTopology(t));
    expect(err.code).toBe('parse');
    expect(err.message).toContain(demotion);

    await writeFile(demotion, 'true\n');
    const balancing = path.join(t.procRoot, 'sys/kernel/numa_balancing');
    await writeFile(balancing, '9\n');
    const err2 = await rejection(readTopology(t));
    expect(err2.code).toBe('unsupported');
    expect(err2.message).toContain(balancing);
  });

  it('reports absent optional features as null / empty, not as errors', async () => {
    const t = await copyThree();
    await rm(path.join(t.sysRoot, 'devices/virtual/memory_tiering'), { recursive: true });
    await rm(path.join(t.sysRoot, 'kernel/mm/numa/demotion_enabled'));
    await rm(path.join(t.procRoot, 'sys/kernel/numa_balancing'));
    const topo = await readTopology(t);
    expect(topo.tiers).toEqual([]);
    expect(topo.nodes.map((n) => n.memoryTier)).toEqual([null, null, null]);
    expect(topo.demotionEnabled).toBeNull();
    expect(topo.numaBalancing).toBeNull();
  });

  it('leaves out an online node with neither CPUs nor memory, with its distance row and column', async () => {
    const t = await copyThree();
    await writeFile(path.join(t.node, 'online'), '0-3\n');
    await mkdir(path.join(t.node, 'node3'));
    await writeFile(path.join(t.node, 'node3/cpulist'), '\n');
    await writeFile(path.join(t.node, 'node3/meminfo'), 'Node 3 MemTotal: 0 kB\nNode 3 MemFree: 0 kB\n');
    await writeFile(path.join(t.node, 'node0/distance'), '10 21 40 50\n');
    await writeFile(path.join(t.node, 'node1/distance'), '21 10 40 50\n');
    await writeFile(path.join(t.node, 'node2/distance'), '40 40 10 50\n');
    await writeFile(path.join(t.node, 'node3/distance'), '50 50 50 10\n');
    const topo = await readTopology(t);
    expect(topo.nodes.map((n) => n.id)).toEqual([0, 1, 2]);
    expect(topo.distances).toEqual([
      [10, 21, 40],
      [21, 10, 40],
      [40, 40, 10],
    ]);
  });
});

describe('readTopology on this machine', () => {
  it('returns a consistent topology', async () => {
    const topo = Topology.parse(await readTopology());
    expect(topo.nodes.length).toBeGreaterThan(0);
    const ids = topo.nodes.map((n) => n.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(topo.distances).toHaveLength(topo.nodes.length);
    topo.distances.forEach((row, i) => {
      expect(row).toHaveLength(topo.nodes.length);
      expect(row[i]).toBe(10); // SLIT: local distance is always 10
    });
    for (const node of topo.nodes) {
      expect(node.memFreeBytes).toBeLessThanOrEqual(node.memTotalBytes);
      expect(node.cpuLess).toBe(node.cpus.length === 0);
      const tier = topo.tiers.find((t) => t.nodes.includes(node.id));
      expect(node.memoryTier).toBe(tier?.id ?? null);
    }
    const allCpus = topo.nodes.flatMap((n) => n.cpus);
    expect(allCpus.length).toBe(new Set(allCpus).size); // no CPU in two nodes
  });
});
