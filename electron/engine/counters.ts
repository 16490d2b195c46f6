import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { TierscopeError, procfsError } from './errors.js';

/**
 * Kernel counters recorded each interval: system-wide NUMA/tiering events from /proc/vmstat and the
 * target's own NUMA-balancing state from /proc/PID/sched. Files stay open and are re-read from offset 0
 * (as Sysprof does): no open/close per interval, and no path lookup that could race a PID reuse.
 */

/** vmstat counters that say something about placement: NUMA hits/misses, hint faults, promotion, demotion, migration. */
const VMSTAT_PREFIXES = [
  'numa_',
  'pgpromote_',
  'pgdemote_',
  'pgmigrate_',
  'thp_migration_',
  'promo_',
  'demo_',
];

export function parseVmstat(text: string, file = '/proc/vmstat'): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const space = line.indexOf(' ');
    const name = line.slice(0, space);
    const value = Number(line.slice(space + 1));
    if (space <= 0 || !Number.isFinite(value)) {
      throw new TierscopeError('parse', `cannot parse ${file}: line ${JSON.stringify(line.slice(0, 80))}`);
    }
    if (VMSTAT_PREFIXES.some((p) => name.startsWith(p))) values.set(name, value);
  }
  return values;
}

/** The NUMA fields of /proc/PID/sched (present with CONFIG_NUMA_BALANCING). */
export interface SchedNuma {
  numaPagesMigrated: number | null;
  numaPreferredNid: number | null;
  totalNumaFaults: number | null;
  /** Per node: task_private + task_shared faults (the kernel's decaying averages). */
  faultsByNode: Map<number, number>;
}

export function parseSchedNuma(text: string): SchedNuma {
  const field = (name: string): number | null => {
    const m = new RegExp(`^${name.replace(/[>.-]/g, '\\$&')}\\s*:\\s*(-?\\d+)`, 'm').exec(text);
    return m?.[1] === undefined ? null : Number(m[1]);
  };
  const faultsByNode = new Map<number, number>();
  for (const m of text.matchAll(/^numa_faults node=(\d+) task_private=(\d+) task_shared=(\d+)/gm)) {
    faultsByNode.set(Number(m[1]), Number(m[2]) + Number(m[3]));
  }
  return {
    numaPagesMigrated: field('numa_pages_migrated'),
    numaPreferredNid: field('numa_preferred_nid'),
    totalNumaFaults: field('total_numa_faults'),
    faultsByNode,
  };
}

async function readAt0(file: FileHandle, buffer: Buffer): Promise<string> {
  // Both files are a few KiB; one read at offset 0 returns them whole.
  const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
  return buffer.toString('utf8', 0, bytesRead);
}

/**
 * Samples counters once per interval. `sample()` returns, keyed by name:
 *   vmstat.<name>              delta since the previous sample (0 on the first)
 *   sched.numa_pages_migrated  delta since the previous sample
 *   sched.numa_preferred_nid   value as read (-1 = none)
 *   sched.total_numa_faults    value as read
 *   sched.numa_faults.node<N>  value as read
 */
export class CounterSampler {
  private previous = new Map<string, number>();
  private readonly buffer = Buffer.allocUnsafe(64 * 1024);

  private constructor(
    private readonly pid: number,
    private readonly vmstat: FileHandle | null,
    private readonly sched: FileHandle | null,
  ) {}

  static async open(pid: number, procRoot = '/proc'): Promise<CounterSampler> {
    const vmstat = await open(join(procRoot, 'vmstat'), 'r').catch(() => null);
    let sched: FileHandle | null = null;
    try {
      sched = await open(join(procRoot, String(pid), 'sched'), 'r');
    } catch (err) {
      // Kernels without CONFIG_SCHED_DEBUG have no /proc/PID/sched: record without it. A missing process
      // is a real error.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw procfsError(err, pid, 'sched');
      const alive = await open(join(procRoot, String(pid), 'stat'), 'r').then(
        async (f) => (await f.close(), true),
        () => false,
      );
      if (!alive) throw procfsError(err, pid, 'sched');
    }
    return new CounterSampler(pid, vmstat, sched);
  }

  async sample(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    const current = new Map<string, number>();
    if (this.vmstat) {
      for (const [name, value] of parseVmstat(await readAt0(this.vmstat, this.buffer))) {
        current.set(`vmstat.${name}`, value);
      }
    }
    if (this.sched) {
      let text: string;
      try {
        text = await readAt0(this.sched, this.buffer);
      } catch (err) {
        throw procfsError(err, this.pid, 'sched');
      }
      const s = parseSchedNuma(text);
      if (s.numaPagesMigrated !== null) current.set('sched.numa_pages_migrated', s.numaPagesMigrated);
      if (s.numaPreferredNid !== null) out['sched.numa_preferred_nid'] = s.numaPreferredNid;
      if (s.totalNumaFaults !== null) out['sched.total_numa_faults'] = s.totalNumaFaults;
      for (const [node, faults] of s.faultsByNode) out[`sched.numa_faults.node${node}`] = faults;
    }
    for (const [name, value] of current) {
      const before = this.previous.get(name);
      out[name] = before === undefined ? 0 : value - before;
    }
    this.previous = current;
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([this.vmstat?.close(), this.sched?.close()]);
  }
}
