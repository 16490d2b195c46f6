/**
 * Running experiments, so two of them never work on the same pages at once (a lazy rebind waiting for
 * touches and a promote of an overlapping range would fight over the pages; two moves would make each
 * other's histograms meaningless). One small JSON file per running experiment, in a directory shared by
 * every Tierscope process of the machine (/run/tierscope/experiments for root, like DAMON's ownership
 * record), so a CLI run sees what the desktop app is doing and vice versa.
 *
 * Claiming is write-then-check: each claimant writes its file, then lists the others; of two overlapping
 * claims that both got written, the one with the later (time, owner pid, id) key withdraws. A claim whose
 * owner process is gone (killed mid-experiment) is stale and removed by the next claimant.
 */
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ExperimentKind } from '../../contract/index.js';
import { TierscopeError } from '../errors.js';
import { isSameLiveProcess, readProcStat } from '../procfs/process.js';

export interface ClaimRecord {
  id: string;
  kind: ExperimentKind;
  pid: number;
  startTimeTicks: number;
  /** Hex [start, end) ranges, or null for the whole process. */
  ranges: { start: string; end: string }[] | null;
  ownerPid: number;
  ownerStartTicks: number;
  /** Date.now() when claimed. */
  claimedAtMs: number;
}

export interface Claim {
  readonly record: ClaimRecord;
  release(): Promise<void>;
}

/** TIERSCOPE_EXPERIMENTS_DIR overrides the directory (tests, or several isolated instances on one machine). */
export function defaultRegistryDir(): string {
  const override = process.env['TIERSCOPE_EXPERIMENTS_DIR'];
  if (override) return override;
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return '/run/tierscope/experiments';
  return path.join(process.env['XDG_RUNTIME_DIR'] ?? tmpdir(), `tierscope-${uid}`, 'experiments');
}

const hexToBig = (h: string): bigint => BigInt(`0x${h}`);

export function rangesOverlap(a: ClaimRecord['ranges'], b: ClaimRecord['ranges']): boolean {
  if (a === null || b === null) return true;
  for (const x of a) {
    for (const y of b) {
      if (hexToBig(x.start) < hexToBig(y.end) && hexToBig(y.start) < hexToBig(x.end)) return true;
    }
  }
  return false;
}

function orderKey(r: ClaimRecord): [number, number, string] {
  return [r.claimedAtMs, r.ownerPid, r.id];
}

function earlier(a: ClaimRecord, b: ClaimRecord): boolean {
  const [ta, pa, ia] = orderKey(a);
  const [tb, pb, ib] = orderKey(b);
  return ta !== tb ? ta < tb : pa !== pb ? pa < pb : ia < ib;
}

function describe(r: ClaimRecord): string {
  const what = r.ranges === null ? 'the whole process' : r.ranges.map((x) => `${x.start}-${x.end}`).join(',');
  return `experiment ${r.id} (${r.kind} of ${what}, run by process ${r.ownerPid} since ${new Date(r.claimedAtMs).toISOString()})`;
}

export class ExperimentRegistry {
  constructor(
    readonly dir = defaultRegistryDir(),
    private readonly procRoot = '/proc',
  ) {}

  private prefix(pid: number, ticks: number): string {
    return `${pid}-${ticks}--`;
  }

  /** Live claims on process (pid, ticks); stale ones are removed on the way. */
  async active(pid: number, startTimeTicks: number): Promise<ClaimRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const prefix = this.prefix(pid, startTimeTicks);
    const out: ClaimRecord[] = [];
    for (const name of names) {
      if (!name.startsWith(prefix) || !name.endsWith('.json')) continue;
      const file = path.join(this.dir, name);
      let record: ClaimRecord;
      try {
        record = JSON.parse(await readFile(file, 'utf8')) as ClaimRecord;
      } catch {
        continue; // removed meanwhile, or being replaced: skip
      }
      if (await this.ownerAlive(record)) out.push(record);
      else await unlink(file).catch(() => undefined);
    }
    return out;
  }

  private ownerAlive(r: ClaimRecord): Promise<boolean> {
    return isSameLiveProcess(r.ownerPid, r.ownerStartTicks, { procRoot: this.procRoot });
  }

  /**
   * Claims `ranges` of process (pid, ticks) for an experiment, or throws TierscopeError('busy') naming
   * the running experiment it overlaps.
   */
  async claim(request: Omit<ClaimRecord, 'ownerPid' | 'ownerStartTicks' | 'claimedAtMs'>): Promise<Claim> {
    const self = await readProcStat(process.pid, { procRoot: this.procRoot });
    const record: ClaimRecord = {
      ...request,
      ownerPid: process.pid,
      ownerStartTicks: self.startTimeTicks,
      claimedAtMs: Date.now(),
    };
    const refuse = (other: ClaimRecord): TierscopeError =>
      new TierscopeError(
        'busy',
        `${describe(other)} is still running on pages this experiment would touch; wait for it to end, cancel it, or pick a range that does not overlap`,
      );
    for (const other of await this.active(request.pid, request.startTimeTicks)) {
      if (rangesOverlap(other.ranges, record.ranges)) throw refuse(other);
    }
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o755 });
    } catch (err) {
      throw new TierscopeError(
        'permission',
        `cannot create ${this.dir} for the running-experiment registry: ${String(err)}`,
        {
          cause: err,
        },
      );
    }
    const name = `${this.prefix(request.pid, request.startTimeTicks)}${process.pid}-${request.id}.json`;
    const file = path.join(this.dir, name);
    const tmp = `${file}.tmp`;
    await writeFile(tmp, JSON.stringify(record));
    await rename(tmp, file);
    const release = async (): Promise<void> => {
      await unlink(file).catch(() => undefined);
    };
    for (const other of await this.active(request.pid, request.startTimeTicks)) {
      if (other.id === record.id && other.ownerPid === record.ownerPid) continue;
      if (rangesOverlap(other.ranges, record.ranges) && earlier(other, record)) {
        await release();
        throw refuse(other);
      }
    }
    return { record, release };
  }
}

/**
 * Runs `run` while holding a claim for `request` (null: claim nothing, e.g. a dry run that touches no
 * page). `registry` undefined means the machine-wide registry; null means none (the caller holds its own).
 */
export async function withClaim<T>(
  registry: ExperimentRegistry | null | undefined,
  request: Parameters<ExperimentRegistry['claim']>[0] | null,
  run: () => Promise<T>,
): Promise<T> {
  const r = registry === undefined ? new ExperimentRegistry() : registry;
  const claim = r && request ? await r.claim(request) : null;
  try {
    return await run();
  } finally {
    await claim?.release();
  }
}
