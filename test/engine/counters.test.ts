import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CounterSampler, parseSchedNuma, parseVmstat } from '../../electron/engine/counters.js';
import { TierscopeError } from '../../electron/engine/errors.js';
import { startQuietChild } from '../helpers/children.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/counters/${name}`, import.meta.url), 'utf8');

describe('parseVmstat', () => {
  it('keeps only placement counters from a real /proc/vmstat', () => {
    const text = fixture('vmstat');
    const values = parseVmstat(text);
    const expectedHit = /^numa_hit (\d+)$/m.exec(text)?.[1];
    expect(values.get('numa_hit')).toBe(Number(expectedHit));
    expect(values.has('pgpromote_success')).toBe(true);
    expect(values.has('pgmigrate_success')).toBe(true);
    expect(values.has('nr_free_pages')).toBe(false);
    for (const name of values.keys())
      expect(name).toMatch(/^(numa_|pgpromote_|pgdemote_|pgmigrate_|thp_migration_)/);
  });

  it('rejects garbage with a parse error naming the file', () => {
    expect(() => parseVmstat('numa_hit lots\n')).toThrow(TierscopeError);
    expect(() => parseVmstat('numa_hit lots\n')).toThrow(/cannot parse \/proc\/vmstat/);
  });
});

describe('parseSchedNuma', () => {
  it('reads the NUMA-balancing fields of a 3-node task', () => {
    const s = parseSchedNuma(fixture('sched-3node'));
    expect(s.numaPagesMigrated).toBe(1536);
    expect(s.numaPreferredNid).toBe(2);
    expect(s.totalNumaFaults).toBe(4096);
    expect([...s.faultsByNode]).toEqual([
      [0, 12],
      [1, 3],
      [2, 4081],
    ]);
  });

  it('reads the real one-node capture (no preferred node: -1)', () => {
    const s = parseSchedNuma(fixture('sched-1node'));
    expect(s.numaPreferredNid).toBe(-1);
    expect(s.faultsByNode.get(0)).toBe(0);
  });

  it('a kernel without NUMA balancing gives nulls, not errors', () => {
    const s = parseSchedNuma('cat (1, #threads: 1)\nse.exec_start : 1.0\n');
    expect(s).toEqual({
      numaPagesMigrated: null,
      numaPreferredNid: null,
      totalNumaFaults: null,
      faultsByNode: new Map(),
    });
  });
});

describe('CounterSampler (live)', () => {
  it('reports zero deltas first, then non-negative deltas, re-reading open files', async () => {
    const child = await startQuietChild(1);
    const sampler = await CounterSampler.open(child.pid);
    try {
      const first = await sampler.sample();
      expect(first['vmstat.numa_hit']).toBe(0);
      expect(first['sched.numa_preferred_nid']).toBe(-1);
      // Allocate on this node between samples so numa_hit must move.
      const touched = Buffer.alloc(8 << 20, 1);
      const second = await sampler.sample();
      expect(touched.length).toBe(8 << 20);
      expect(second['vmstat.numa_hit']).toBeGreaterThan(0);
      expect(second['vmstat.numa_miss']).toBe(0);
    } finally {
      await sampler.close();
      await child.kill();
    }
  });

  it('a dead process is a process-gone error', async () => {
    const child = await startQuietChild(1);
    const pid = child.pid;
    await child.kill();
    await expect(CounterSampler.open(pid)).rejects.toThrow(/process \d+ does not exist/);
  });
});
