/**
 * The kernel's own page movers, which compete with (and can undo) an experiment: automatic NUMA balancing
 * (/proc/sys/kernel/numa_balancing: 0 off, 1 normal, 2 memory tiering — promote from slow tiers on hint
 * faults —, 3 both) and demotion in reclaim (/sys/kernel/mm/numa/demotion_enabled). Shows their state and
 * counters, and sets them temporarily: a BalancingOverride remembers the previous values and puts them
 * back with restore(). These are machine-wide switches; nothing here changes them without an explicit
 * confirmation from the caller.
 */
import { writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { NumaBalancingMode } from '../../contract/index.js';
import { parseVmstat } from '../counters.js';
import { TierscopeError } from '../errors.js';
import { isErrno, readOptionalKernelFile } from '../sysfs/files.js';
import { decodeNumaBalancing } from '../sysfs/topology.js';

export interface BalancingRoots {
  procRoot?: string;
  sysRoot?: string;
}

export interface BalancingState {
  numaBalancing: { raw: number; mode: NumaBalancingMode } | null;
  demotionEnabled: boolean | null;
  /** MB/s cap on promotion in memory-tiering mode (numa_balancing_promote_rate_limit_MBps), null when absent. */
  promoteRateLimitMBps: number | null;
  /** Cumulative vmstat counters about balancing, promotion, demotion and migration (since boot). */
  counters: Record<string, number>;
}

function files(roots: BalancingRoots): {
  balancing: string;
  demotion: string;
  rateLimit: string;
  vmstat: string;
} {
  const proc = roots.procRoot ?? '/proc';
  const sys = roots.sysRoot ?? '/sys';
  return {
    balancing: path.join(proc, 'sys/kernel/numa_balancing'),
    demotion: path.join(sys, 'kernel/mm/numa/demotion_enabled'),
    rateLimit: path.join(proc, 'sys/kernel/numa_balancing_promote_rate_limit_MBps'),
    vmstat: path.join(proc, 'vmstat'),
  };
}

export async function readBalancing(roots: BalancingRoots = {}): Promise<BalancingState> {
  const f = files(roots);
  const [balancing, demotion, rate, vmstat] = await Promise.all([
    readOptionalKernelFile(f.balancing),
    readOptionalKernelFile(f.demotion),
    readOptionalKernelFile(f.rateLimit),
    readOptionalKernelFile(f.vmstat),
  ]);
  const counters: Record<string, number> = {};
  if (vmstat !== null) for (const [k, v] of parseVmstat(vmstat, f.vmstat)) counters[k] = v;
  const d = demotion?.trim();
  return {
    numaBalancing: balancing === null ? null : decodeNumaBalancing(balancing, f.balancing),
    demotionEnabled: d === undefined ? null : d === 'true' || d === '1',
    promoteRateLimitMBps: rate === null || !/^\d+$/.test(rate.trim()) ? null : Number(rate.trim()),
    counters,
  };
}

export interface BalancingChange {
  /** 0 off, 1 normal, 2 memory tiering, 3 both. */
  numaBalancing?: 0 | 1 | 2 | 3;
  demotionEnabled?: boolean;
}

/** Parses "0".."3" or a mode name for --numa-balancing. */
export function parseBalancingMode(text: string): 0 | 1 | 2 | 3 | null {
  const names: Record<string, 0 | 1 | 2 | 3> = {
    '0': 0,
    off: 0,
    disabled: 0,
    '1': 1,
    normal: 1,
    '2': 2,
    'memory-tiering': 2,
    tiering: 2,
    '3': 3,
    'normal+memory-tiering': 3,
    both: 3,
  };
  return names[text.trim().toLowerCase()] ?? null;
}

async function writeSwitch(file: string, value: string, what: string): Promise<void> {
  try {
    await writeFile(file, value);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) {
      throw new TierscopeError('unsupported', `${file} does not exist: this kernel has no ${what}`, {
        cause: err,
      });
    }
    if (isErrno(err, 'EACCES', 'EPERM', 'EROFS')) {
      throw new TierscopeError('permission', `no permission to write ${file}: changing ${what} needs root`, {
        cause: err,
      });
    }
    if (isErrno(err, 'EINVAL')) {
      throw new TierscopeError(
        'unsupported',
        `the kernel refused ${value.trim()} for ${file}: this kernel does not support that ${what} mode`,
        {
          cause: err,
        },
      );
    }
    throw new TierscopeError('not-found', `cannot write ${file}: ${String(err)}`, { cause: err });
  }
}

/** Previous values of the switches a change touched, and a way to put them back. */
export class BalancingOverride {
  private restored = false;

  private constructor(
    private readonly roots: BalancingRoots,
    readonly previous: { numaBalancing: number | null; demotionEnabled: boolean | null },
  ) {}

  /**
   * Applies `change` and returns the override that undoes it. `confirmed` must be true: these switches
   * affect every process of the machine (the CLI asks for --yes). If the second switch fails, the first
   * is put back before the error is thrown.
   */
  static async apply(
    change: BalancingChange,
    confirmed: boolean,
    roots: BalancingRoots = {},
  ): Promise<BalancingOverride> {
    if (!confirmed) {
      throw new TierscopeError(
        'invalid-argument',
        'changing NUMA balancing or demotion affects every process on this machine; confirm it explicitly (--yes)',
      );
    }
    const f = files(roots);
    const prevBalancing =
      change.numaBalancing !== undefined ? await readFile(f.balancing, 'utf8').catch(() => null) : null;
    const prevDemotion =
      change.demotionEnabled !== undefined ? await readFile(f.demotion, 'utf8').catch(() => null) : null;
    if (change.numaBalancing !== undefined && prevBalancing === null) {
      throw new TierscopeError(
        'unsupported',
        `${f.balancing} does not exist: this kernel has no automatic NUMA balancing`,
      );
    }
    if (change.demotionEnabled !== undefined && prevDemotion === null) {
      throw new TierscopeError(
        'unsupported',
        `${f.demotion} does not exist: this kernel has no demotion in reclaim`,
      );
    }
    const override = new BalancingOverride(roots, {
      numaBalancing: prevBalancing === null ? null : decodeNumaBalancing(prevBalancing, f.balancing).raw,
      demotionEnabled: prevDemotion === null ? null : ['true', '1'].includes(prevDemotion.trim()),
    });
    if (change.numaBalancing !== undefined)
      await writeSwitch(f.balancing, `${change.numaBalancing}\n`, 'NUMA balancing');
    if (change.demotionEnabled !== undefined) {
      try {
        await writeSwitch(f.demotion, change.demotionEnabled ? 'true\n' : 'false\n', 'demotion');
      } catch (err) {
        await override.restore().catch(() => undefined);
        throw err;
      }
    }
    return override;
  }

  /** Synchronous best effort, for an 'exit' handler: nothing async runs there. Errors are swallowed. */
  restoreSync(): void {
    if (this.restored) return;
    this.restored = true;
    const f = files(this.roots);
    try {
      if (this.previous.numaBalancing !== null)
        writeFileSync(f.balancing, `${this.previous.numaBalancing}\n`);
    } catch {
      // nothing more can be done while exiting
    }
    try {
      if (this.previous.demotionEnabled !== null)
        writeFileSync(f.demotion, this.previous.demotionEnabled ? 'true\n' : 'false\n');
    } catch {
      // nothing more can be done while exiting
    }
  }

  /** Puts the previous values back (once; later calls do nothing). */
  async restore(): Promise<void> {
    if (this.restored) return;
    this.restored = true;
    const f = files(this.roots);
    const errors: string[] = [];
    if (this.previous.numaBalancing !== null) {
      await writeSwitch(f.balancing, `${this.previous.numaBalancing}\n`, 'NUMA balancing').catch(
        (e: unknown) => errors.push(String(e)),
      );
    }
    if (this.previous.demotionEnabled !== null) {
      await writeSwitch(f.demotion, this.previous.demotionEnabled ? 'true\n' : 'false\n', 'demotion').catch(
        (e: unknown) => errors.push(String(e)),
      );
    }
    if (errors.length) {
      throw new TierscopeError(
        'permission',
        `could not restore the previous balancing settings: ${errors.join('; ')}`,
      );
    }
  }
}

/** Counter names worth showing next to the balancing mode, in display order (those present). */
export const BALANCING_COUNTERS = [
  'numa_pte_updates',
  'numa_huge_pte_updates',
  'numa_hint_faults',
  'numa_hint_faults_local',
  'numa_pages_migrated',
  'pgpromote_success',
  'pgpromote_candidate',
  'pgdemote_kswapd',
  'pgdemote_direct',
  'pgdemote_khugepaged',
  'pgmigrate_success',
  'pgmigrate_fail',
  'numa_hit',
  'numa_miss',
  'numa_foreign',
  'numa_local',
  'numa_other',
];
