// Hand-made contract values for the renderer's logic tests: small, with numbers checked by hand.
import type { ProcessInfo, Snapshot, Topology, Vma } from '../../electron/contract/index.js';

export function vma(partial: Partial<Vma> & Pick<Vma, 'start' | 'end'>): Vma {
  return {
    perms: 'rw-p',
    offset: '0',
    dev: '00:00',
    inode: '0',
    path: '',
    kind: 'anon',
    sizeBytes: parseInt(partial.end, 16) - parseInt(partial.start, 16),
    rssBytes: 0,
    pssBytes: 0,
    referencedBytes: 0,
    anonymousBytes: 0,
    anonHugePagesBytes: 0,
    swapBytes: 0,
    kernelPageSizeBytes: 4096,
    policy: 'default',
    pagesByNode: {},
    ...partial,
  };
}

/**
 * A process on three nodes: a 64 MiB anonymous region split 8192/4096/4096 pages over nodes 0/1/2, a heap
 * on node 0, a file mapping on node 1, a stack on node 0 and a vdso with nothing resident.
 */
export function threeNodeSnapshot(takenAt = '2025-03-04T10:00:00.000Z'): Snapshot {
  const vmas: Vma[] = [
    vma({
      start: '400000',
      end: '401000',
      perms: 'r-xp',
      path: '/usr/bin/memhog',
      kind: 'file',
      rssBytes: 4096,
      pagesByNode: { '1': 1 },
    }),
    vma({
      start: '1000000',
      end: '1021000',
      path: '[heap]',
      kind: 'heap',
      rssBytes: 8192,
      pagesByNode: { '0': 2 },
    }),
    vma({
      start: '7f0000000000',
      end: '7f0004000000',
      kind: 'anon',
      rssBytes: 64 << 20,
      policy: 'interleave:0-2',
      pagesByNode: { '0': 8192, '1': 4096, '2': 4096 },
    }),
    vma({
      start: '7ffc00000000',
      end: '7ffc00021000',
      path: '[stack]',
      kind: 'stack',
      rssBytes: 12_288,
      pagesByNode: { '0': 3 },
    }),
    vma({
      start: '7ffc00100000',
      end: '7ffc00102000',
      perms: 'r-xp',
      path: '[vdso]',
      kind: 'vdso',
      policy: null,
    }),
  ];
  return {
    formatVersion: 1,
    pid: 4242,
    comm: 'memhog',
    startTimeTicks: 1000,
    startTime: '2025-03-04T09:00:00.000Z',
    takenAt,
    pageSizeBytes: 4096,
    nodes: [0, 1, 2],
    vmas,
    totals: {
      rssBytes: 4096 + 8192 + (64 << 20) + 12_288,
      pagesByNode: { '0': 8197, '1': 4097, '2': 4096 },
      bytesByNode: { '0': 8197 * 4096, '1': 4097 * 4096, '2': 4096 * 4096 },
      vmaCount: 5,
    },
  };
}

export function proc(partial: Partial<ProcessInfo> & Pick<ProcessInfo, 'pid'>): ProcessInfo {
  return {
    comm: `p${partial.pid}`,
    cmdline: '',
    uid: 1000,
    user: 'alice',
    rssBytes: 1 << 20,
    startTimeTicks: partial.pid * 10,
    startTime: '2025-03-04T09:00:00.000Z',
    hasUserMemory: true,
    ...partial,
  };
}

/** The NUMA lab's machine: nodes 0 and 1 with a CPU each, node 2 CPU-less in a slower tier. */
export function labTopology(): Topology {
  const GiB = 1 << 30;
  return {
    nodes: [
      { id: 0, cpus: [0], cpuLess: false, memTotalBytes: GiB, memFreeBytes: GiB / 2, memoryTier: 4 },
      { id: 1, cpus: [1], cpuLess: false, memTotalBytes: GiB, memFreeBytes: GiB / 4, memoryTier: 4 },
      { id: 2, cpus: [], cpuLess: true, memTotalBytes: GiB, memFreeBytes: GiB, memoryTier: 360 },
    ],
    distances: [
      [10, 21, 40],
      [21, 10, 40],
      [40, 40, 10],
    ],
    tiers: [
      { id: 4, nodes: [0, 1] },
      { id: 360, nodes: [2] },
    ],
    demotionEnabled: false,
    numaBalancing: { raw: 1, mode: 'normal' },
  };
}
