// A simulated DAMON sysfs (the Linux 6.12 layout, as found in the lab guest) over a temp dir, for host
// tests of damonSysfs.ts: the host's own /sys/kernel/mm/damon belongs to the host's kdamond and must
// never be written. Reads and writes go to real files through the client's default io; after each write
// this "kernel" does what DAMON would (create directories for nr_* writes, run state commands, validate
// like damon_sysfs_turn_damon_on), and it fails writes with the errnos the kernel uses.
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defaultDamonIo, type DamonSysfsIo } from '../../../electron/engine/access/damonSysfs.js';

export interface FakeRegion {
  start: bigint;
  end: bigint;
  nrAccesses: number;
  age: number;
}

function errnoError(code: string, file: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated by the fake DAMON kernel, write ${file}`), { code });
}

async function put(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${text}\n`);
}

export class FakeDamonKernel implements DamonSysfsIo {
  readonly admin: string;
  readonly kdamonds: string;
  /** Every write that reached the kernel, in order, as "relative/path=value". */
  readonly writes: string[] = [];
  /** Processes DAMON can find by pid (pid_target must name one of them for "on"). */
  readonly alivePids = new Set<number>();
  /** What the kdamond "observed": returned by update_schemes_tried_regions, filtered by the access pattern. */
  regions: FakeRegion[] = [];
  private nextKdamondPid = 4242;
  private readonly busy = new Map<string, number>();

  constructor(readonly sysRoot: string) {
    this.admin = path.join(sysRoot, 'kernel/mm/damon/admin');
    this.kdamonds = path.join(this.admin, 'kdamonds');
  }

  async init(): Promise<this> {
    await put(path.join(this.kdamonds, 'nr_kdamonds'), '0');
    return this;
  }

  /** The next `times` writes to `relative` (e.g. "0/state") fail with EBUSY, as under lock contention. */
  failBusy(relative: string, times: number): void {
    this.busy.set(path.join(this.kdamonds, relative), times);
  }

  rel(file: string): string {
    return path.relative(this.kdamonds, file);
  }

  async readFile(file: string): Promise<string> {
    this.checkInside(file);
    return defaultDamonIo.readFile(file);
  }

  async readdir(dir: string): Promise<string[]> {
    this.checkInside(dir);
    return defaultDamonIo.readdir(dir);
  }

  async writeFile(file: string, text: string): Promise<void> {
    this.checkInside(file);
    const busy = this.busy.get(file) ?? 0;
    if (busy > 0) {
      this.busy.set(file, busy - 1);
      throw errnoError('EBUSY', file);
    }
    if (!existsSync(file)) throw errnoError('ENOENT', file);
    const name = path.basename(file);
    const dir = path.dirname(file);
    const value = text.trim();
    if (name === 'nr_kdamonds') {
      if (await this.anyRunning()) throw errnoError('EBUSY', file);
      await this.rmNumbered(dir);
      for (let i = 0; i < Number(value); i++) await this.makeKdamond(path.join(dir, String(i)));
    } else if (name === 'state') {
      await this.command(dir, value, file);
      this.writes.push(`${this.rel(file)}=${value}`);
      return; // state shows on/off, not the command
    } else if (name === 'nr_contexts') {
      await this.rmNumbered(dir);
      for (let i = 0; i < Number(value); i++) await this.makeContext(path.join(dir, String(i)));
    } else if (name === 'nr_targets') {
      await this.rmNumbered(dir);
      for (let i = 0; i < Number(value); i++) {
        await put(path.join(dir, String(i), 'pid_target'), '0');
        await put(path.join(dir, String(i), 'regions/nr_regions'), '0');
      }
    } else if (name === 'nr_regions' && path.basename(dir) === 'regions') {
      await this.rmNumbered(dir);
      for (let i = 0; i < Number(value); i++) {
        await put(path.join(dir, String(i), 'start'), '0');
        await put(path.join(dir, String(i), 'end'), '0');
      }
    } else if (name === 'nr_schemes') {
      await this.rmNumbered(dir);
      for (let i = 0; i < Number(value); i++) await this.makeScheme(path.join(dir, String(i)));
    }
    await defaultDamonIo.writeFile(file, `${value}\n`);
    this.writes.push(`${this.rel(file)}=${value}`);
  }

  /** Makes a kdamond as another tool would leave it: running, monitoring `targetPid`. */
  async addForeignKdamond(targetPid: number, running: boolean): Promise<void> {
    const nr = Number((await readFile(path.join(this.kdamonds, 'nr_kdamonds'), 'utf8')).trim());
    const dir = path.join(this.kdamonds, String(nr));
    await this.makeKdamond(dir);
    await put(path.join(this.kdamonds, 'nr_kdamonds'), String(nr + 1));
    await put(path.join(dir, 'contexts/nr_contexts'), '1');
    await this.makeContext(path.join(dir, 'contexts/0'));
    await put(path.join(dir, 'contexts/0/targets/nr_targets'), '1');
    await put(path.join(dir, 'contexts/0/targets/0/pid_target'), String(targetPid));
    await put(path.join(dir, 'contexts/0/targets/0/regions/nr_regions'), '0');
    if (running) {
      await put(path.join(dir, 'state'), 'on');
      await put(path.join(dir, 'pid'), String(this.nextKdamondPid++));
    }
  }

  /** The kdamond stops by itself, as when its target process exits. */
  async stopByItself(index: number): Promise<void> {
    await put(path.join(this.kdamonds, String(index), 'state'), 'off');
    await put(path.join(this.kdamonds, String(index), 'pid'), '-1');
  }

  async nrKdamonds(): Promise<number> {
    return Number((await readFile(path.join(this.kdamonds, 'nr_kdamonds'), 'utf8')).trim());
  }

  async value(relative: string): Promise<string> {
    return (await readFile(path.join(this.kdamonds, relative), 'utf8')).trim();
  }

  private checkInside(file: string): void {
    const rel = path.relative(this.sysRoot, file);
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new Error(`the client touched ${file}, outside the fake sysfs ${this.sysRoot}`);
    }
  }

  private async anyRunning(): Promise<boolean> {
    for (const e of await readdir(this.kdamonds)) {
      if (/^\d+$/.test(e) && (await this.value(`${e}/state`)) === 'on') return true;
    }
    return false;
  }

  private async rmNumbered(dir: string): Promise<void> {
    for (const e of await readdir(dir)) {
      if (/^\d+$/.test(e)) await rm(path.join(dir, e), { recursive: true });
    }
  }

  private async makeKdamond(dir: string): Promise<void> {
    await put(path.join(dir, 'state'), 'off');
    await put(path.join(dir, 'pid'), '-1');
    await put(path.join(dir, 'contexts/nr_contexts'), '0');
  }

  private async makeContext(dir: string): Promise<void> {
    await put(path.join(dir, 'avail_operations'), 'vaddr\nfvaddr\npaddr');
    await put(path.join(dir, 'operations'), 'vaddr');
    await put(path.join(dir, 'monitoring_attrs/intervals/sample_us'), '5000');
    await put(path.join(dir, 'monitoring_attrs/intervals/aggr_us'), '100000');
    await put(path.join(dir, 'monitoring_attrs/intervals/update_us'), '60000000');
    await put(path.join(dir, 'monitoring_attrs/nr_regions/min'), '10');
    await put(path.join(dir, 'monitoring_attrs/nr_regions/max'), '1000');
    await put(path.join(dir, 'targets/nr_targets'), '0');
    await put(path.join(dir, 'schemes/nr_schemes'), '0');
  }

  private async makeScheme(dir: string): Promise<void> {
    await put(path.join(dir, 'action'), 'stat');
    await put(path.join(dir, 'apply_interval_us'), '0');
    await put(path.join(dir, 'target_nid'), '-1');
    for (const k of ['sz', 'nr_accesses', 'age']) {
      // The kernel's defaults: max 0 matches nothing, which is why the client must set the maxima.
      await put(path.join(dir, 'access_pattern', k, 'min'), '0');
      await put(path.join(dir, 'access_pattern', k, 'max'), '0');
    }
    for (const k of ['ms', 'bytes', 'reset_interval_ms', 'effective_bytes'])
      await put(path.join(dir, 'quotas', k), '0');
    await put(path.join(dir, 'watermarks/metric'), 'none');
    await put(path.join(dir, 'filters/nr_filters'), '0');
    await put(path.join(dir, 'tried_regions/total_bytes'), '0');
  }

  /** The state commands of mm/damon/sysfs.c (6.12) that the client uses. */
  private async command(kdamondDir: string, cmd: string, file: string): Promise<void> {
    const read = async (rel: string): Promise<string> =>
      (await readFile(path.join(kdamondDir, rel), 'utf8')).trim();
    const state = await read('state');
    switch (cmd) {
      case 'on': {
        if (state === 'on') throw errnoError('EBUSY', file);
        if ((await read('contexts/nr_contexts')) !== '1') throw errnoError('EINVAL', file);
        const c = 'contexts/0/monitoring_attrs';
        const [sample, aggr, min, max] = await Promise.all([
          read(`${c}/intervals/sample_us`),
          read(`${c}/intervals/aggr_us`),
          read(`${c}/nr_regions/min`),
          read(`${c}/nr_regions/max`),
        ]);
        if (Number(min) < 3 || Number(min) > Number(max) || Number(sample) > Number(aggr)) {
          throw errnoError('EINVAL', file);
        }
        const pid = Number(await read('contexts/0/targets/0/pid_target'));
        if (!this.alivePids.has(pid)) throw errnoError('EINVAL', file); // find_get_pid() failed
        await put(path.join(kdamondDir, 'state'), 'on');
        await put(path.join(kdamondDir, 'pid'), String(this.nextKdamondPid++));
        return;
      }
      case 'off':
        if (state !== 'on') throw errnoError('EINVAL', file);
        await put(path.join(kdamondDir, 'state'), 'off');
        await put(path.join(kdamondDir, 'pid'), '-1');
        return;
      case 'update_schemes_tried_regions': {
        if (state !== 'on') throw errnoError('EINVAL', file);
        const s = path.join(kdamondDir, 'contexts/0/schemes/0');
        const tried = path.join(s, 'tried_regions');
        await this.rmNumbered(tried);
        const ap = async (k: string, m: string): Promise<bigint> =>
          BigInt((await readFile(path.join(s, 'access_pattern', k, m), 'utf8')).trim());
        const [szMin, szMax, naMin, naMax, ageMin, ageMax] = await Promise.all([
          ap('sz', 'min'),
          ap('sz', 'max'),
          ap('nr_accesses', 'min'),
          ap('nr_accesses', 'max'),
          ap('age', 'min'),
          ap('age', 'max'),
        ]);
        let i = 0;
        let total = 0n;
        // The kernel lists regions in address order; shuffle them to make sure the client sorts.
        for (const r of [...this.regions].reverse()) {
          const sz = r.end - r.start;
          const na = BigInt(r.nrAccesses);
          const age = BigInt(r.age);
          if (sz < szMin || sz > szMax || na < naMin || na > naMax || age < ageMin || age > ageMax) continue;
          const d = path.join(tried, String(i++));
          await put(path.join(d, 'start'), r.start.toString());
          await put(path.join(d, 'end'), r.end.toString());
          await put(path.join(d, 'nr_accesses'), String(r.nrAccesses));
          await put(path.join(d, 'age'), String(r.age));
          total += sz;
        }
        await put(path.join(tried, 'total_bytes'), total.toString());
        return;
      }
      default:
        throw errnoError('EINVAL', file);
    }
  }
}
