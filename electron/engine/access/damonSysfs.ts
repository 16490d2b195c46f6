/**
 * A DAMON sysfs client (Documentation/admin-guide/mm/damon/usage.rst) for the one kdamond Tierscope
 * creates: virtual-address monitoring (ops "vaddr") of one process over explicit address ranges, read
 * back as regions with their access frequency (nr_accesses per aggregation interval) and age.
 *
 * DAMON's sysfs has no way to add a kdamond beside existing ones: writing nr_kdamonds removes every
 * kdamond directory and creates N fresh ones, and the kernel refuses (EBUSY) while any of them runs. So
 * Tierscope only creates its kdamond when none exists, or when all existing ones are its own leftovers
 * (a Tierscope that crashed before cleaning up); anything else is someone else's and is left alone
 * (DamonInUseError).
 *
 * Ownership record: `<stateDir>/damon.json` (default /run/tierscope, a tmpfs that, like the kdamonds,
 * lives until reboot). It is created exclusively (O_EXCL) *before* sysfs is touched and holds the boot
 * id, kdamond index (always 0: Tierscope writes nr_kdamonds = 1), target pid, the Tierscope process (pid
 * + start time) and, once running, the kdamond's thread pid. A record whose owner process is gone is a
 * leftover; the kdamonds it describes are taken back only if they still match it (same boot, exactly one
 * kdamond, one vaddr context whose target is the recorded pid, and — if running — the recorded thread).
 * A live owner means another Tierscope is using DAMON: refused, like a foreign kdamond.
 *
 * Not covered: a tool that rewrites nr_kdamonds between our check and our write (DAMON offers no lock);
 * stop() then finds the kdamond no longer ours and leaves it.
 */
import { constants } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TierscopeError } from '../errors.js';
import { readProcStat } from '../procfs/process.js';
import { isErrno, quoteForMessage } from '../sysfs/files.js';

/** File operations on DAMON's sysfs; tests substitute a simulated kernel over a temp dir. */
export interface DamonSysfsIo {
  readFile(file: string): Promise<string>;
  /** One write of `text` to an existing file (sysfs attributes act on each write). */
  writeFile(file: string, text: string): Promise<void>;
  readdir(dir: string): Promise<string[]>;
}

export const defaultDamonIo: DamonSysfsIo = {
  readFile: (file) => readFile(file, 'utf8'),
  async writeFile(file, text) {
    // No O_CREAT: a missing attribute is a layout problem to report, not a file to create.
    const handle = await open(file, constants.O_WRONLY | constants.O_TRUNC);
    try {
      await handle.write(text);
    } finally {
      await handle.close();
    }
  },
  readdir: (dir) => readdir(dir),
};

export interface DamonSysfsOptions {
  sysRoot?: string;
  procRoot?: string;
  /** Where the ownership record lives (default /run/tierscope). */
  stateDir?: string;
  io?: DamonSysfsIo;
  /**
   * DAMON's sysfs takes its lock with trylock and answers EBUSY while a kdamond holds it (briefly, in its
   * callbacks): such writes are retried this many times (default 200) …
   */
  busyRetries?: number;
  /** … this many ms apart (default 25). */
  busyRetryMs?: number;
}

export interface DamonAttrs {
  /** Sampling interval: one access check per region per sample (default 5 000 µs). */
  sampleUs: number;
  /** Aggregation interval: nr_accesses counts the samples of one interval that saw an access (default 100 000 µs). */
  aggrUs: number;
  /**
   * Operations update interval. For vaddr an update replaces the regions by three ranges spanning the
   * whole address space, which would discard the explicit regions, so the default is ~11.6 days.
   */
  updateUs: number;
  /** Bounds of DAMON's adaptive region count (defaults 10 and 1000; the kernel wants min ≥ 3). */
  minNrRegions: number;
  maxNrRegions: number;
}

export const DEFAULT_DAMON_ATTRS: Readonly<DamonAttrs> = {
  sampleUs: 5_000,
  aggrUs: 100_000,
  updateUs: 1_000_000_000_000,
  minNrRegions: 10,
  maxNrRegions: 1_000,
};

export interface AddressRange {
  start: bigint;
  end: bigint;
}

export interface DamonVaddrConfig extends Partial<DamonAttrs> {
  pid: number;
  /**
   * Initial regions, ascending and not overlapping. Explicit ranges matter: for a process without them
   * DAMON starts from three ranges spanning its whole address space, which for a Node process (hundreds
   * of GiB reserved by V8) dilutes every region.
   */
  regions: readonly AddressRange[];
}

export interface DamonRegion {
  start: bigint;
  end: bigint;
  /** Samples of the last aggregation interval that found the region accessed (0 … maxNrAccesses). */
  nrAccesses: number;
  /** Aggregation intervals the region's access frequency has stayed about the same. */
  age: number;
}

export interface DamonOwnershipRecord {
  version: 1;
  bootId: string | null;
  kdamondIndex: number;
  targetPid: number;
  ownerPid: number;
  ownerStartTimeTicks: number;
  /** The kdamond thread's pid once it runs, else null. */
  kdamondPid: number | null;
  createdAt: string;
}

/** One kdamond as found in sysfs, and whether Tierscope may take it back. */
export interface KdamondInfo {
  index: number;
  state: string;
  /** Kernel thread pid, or null when not running. */
  pid: number | null;
  /** Target pid of context 0 / target 0, when there is one. */
  targetPid: number | null;
  leftoverOfTierscope: boolean;
}

/** Refusal to touch DAMON because kdamonds exist that this process did not create (or may not take back). */
export class DamonInUseError extends TierscopeError {
  readonly kdamonds: readonly KdamondInfo[];
  constructor(message: string, kdamonds: readonly KdamondInfo[]) {
    // 'busy': Tierscope must not act on DAMON state it does not own, whoever runs it.
    super('busy', message);
    this.kdamonds = kdamonds;
  }
}

/** sysfs writes of unsigned long use kstrtoul: the largest accepted value. */
const ULONG_MAX = (1n << 64n) - 1n;
/** nr_accesses and age are unsigned int in the kernel's access pattern. */
const UINT_MAX = 4_294_967_295;

interface Ctx {
  io: DamonSysfsIo;
  kdamondsDir: string;
  procRoot: string;
  stateDir: string;
  recordFile: string;
  busyRetries: number;
  busyRetryMs: number;
}

function makeCtx(options: DamonSysfsOptions): Ctx {
  const sysRoot = options.sysRoot ?? '/sys';
  const stateDir = options.stateDir ?? '/run/tierscope';
  return {
    io: options.io ?? defaultDamonIo,
    kdamondsDir: path.join(sysRoot, 'kernel/mm/damon/admin/kdamonds'),
    procRoot: options.procRoot ?? '/proc',
    stateDir,
    recordFile: path.join(stateDir, 'damon.json'),
    busyRetries: options.busyRetries ?? 200,
    busyRetryMs: options.busyRetryMs ?? 25,
  };
}

function sysfsError(err: unknown, file: string, action: 'read' | 'write', value?: string): TierscopeError {
  if (err instanceof TierscopeError) return err;
  const what = action === 'write' ? `write ${quoteForMessage(value ?? '')} to ${file}` : `read ${file}`;
  if (isErrno(err, 'ENOENT', 'ENOTDIR')) {
    return new TierscopeError(
      'unsupported',
      `cannot ${what}: it does not exist; the kernel lacks CONFIG_DAMON_SYSFS (Linux 5.18+) or has a DAMON sysfs layout this version of Tierscope does not know`,
      { cause: err },
    );
  }
  if (isErrno(err, 'EACCES', 'EPERM')) {
    return new TierscopeError(
      'permission',
      `cannot ${what}: DAMON's sysfs files are root-only; run Tierscope as root`,
      {
        cause: err,
      },
    );
  }
  return new TierscopeError('not-found', `cannot ${what}: ${String(err)}`, { cause: err });
}

async function withBusyRetry<T>(ctx: Ctx, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isErrno(err, 'EBUSY') || attempt >= ctx.busyRetries) throw err;
      await sleep(ctx.busyRetryMs);
    }
  }
}

async function readText(ctx: Ctx, file: string): Promise<string> {
  try {
    return (await withBusyRetry(ctx, () => ctx.io.readFile(file))).trim();
  } catch (err) {
    throw sysfsError(err, file, 'read');
  }
}

async function readInt(ctx: Ctx, file: string): Promise<number> {
  const text = await readText(ctx, file);
  if (!/^-?\d{1,20}$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new TierscopeError('parse', `cannot parse ${file}: ${quoteForMessage(text)} is not an integer`);
  }
  return Number(text);
}

async function readU64(ctx: Ctx, file: string): Promise<bigint> {
  const text = await readText(ctx, file);
  if (!/^\d{1,20}$/.test(text) || BigInt(text) > ULONG_MAX) {
    throw new TierscopeError(
      'parse',
      `cannot parse ${file}: ${quoteForMessage(text)} is not an unsigned 64-bit integer`,
    );
  }
  return BigInt(text);
}

/** Writes `value`; EBUSY is retried, other errors are returned raw for the caller to interpret. */
async function writeRaw(ctx: Ctx, file: string, value: string | number | bigint): Promise<void> {
  const text = String(value);
  await withBusyRetry(ctx, () => ctx.io.writeFile(file, text));
}

async function write(ctx: Ctx, file: string, value: string | number | bigint): Promise<void> {
  try {
    await writeRaw(ctx, file, value);
  } catch (err) {
    if (isErrno(err, 'EBUSY')) {
      throw new TierscopeError(
        'not-found',
        `cannot write ${quoteForMessage(String(value))} to ${file}: DAMON stayed busy (EBUSY) through ${ctx.busyRetries} retries; another DAMON user may be holding its sysfs lock, retry later`,
        { cause: err },
      );
    }
    throw sysfsError(err, file, 'write', String(value));
  }
}

async function listIndexes(ctx: Ctx, dir: string): Promise<number[]> {
  let entries: string[];
  try {
    entries = await ctx.io.readdir(dir);
  } catch (err) {
    throw sysfsError(err, dir, 'read');
  }
  return entries
    .filter((e) => /^\d{1,9}$/.test(e))
    .map(Number)
    .sort((a, b) => a - b);
}

async function readBootId(procRoot: string): Promise<string | null> {
  try {
    return (await readFile(path.join(procRoot, 'sys/kernel/random/boot_id'), 'utf8')).trim();
  } catch {
    return null; // without a boot id, records are judged by the owner check and the sysfs contents alone
  }
}

function parseRecord(text: string): DamonOwnershipRecord | null {
  try {
    const r = JSON.parse(text) as Partial<DamonOwnershipRecord> | null;
    if (
      r?.version === 1 &&
      (r.bootId === null || typeof r.bootId === 'string') &&
      Number.isSafeInteger(r.kdamondIndex) &&
      Number.isSafeInteger(r.targetPid) &&
      Number.isSafeInteger(r.ownerPid) &&
      Number.isSafeInteger(r.ownerStartTimeTicks) &&
      (r.kdamondPid === null || Number.isSafeInteger(r.kdamondPid)) &&
      typeof r.createdAt === 'string'
    ) {
      return r as DamonOwnershipRecord;
    }
  } catch {
    // fall through: unreadable record
  }
  return null;
}

async function readRecord(ctx: Ctx): Promise<{ record: DamonOwnershipRecord | null; exists: boolean }> {
  let text: string;
  try {
    text = await readFile(ctx.recordFile, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return { record: null, exists: false };
    throw new TierscopeError('not-found', `cannot read ${ctx.recordFile}: ${String(err)}`, { cause: err });
  }
  return { record: parseRecord(text), exists: true };
}

async function writeRecordAtomically(ctx: Ctx, record: DamonOwnershipRecord): Promise<void> {
  const tmp = `${ctx.recordFile}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, ctx.recordFile);
}

async function isAlive(ctx: Ctx, pid: number, startTimeTicks: number): Promise<boolean> {
  try {
    return (await readProcStat(pid, { procRoot: ctx.procRoot })).startTimeTicks === startTimeTicks;
  } catch {
    return false;
  }
}

async function ownStartTimeTicks(ctx: Ctx): Promise<number> {
  return (await readProcStat(process.pid, { procRoot: ctx.procRoot })).startTimeTicks;
}

function kdamondDir(ctx: Ctx, index: number): string {
  return path.join(ctx.kdamondsDir, String(index));
}

async function readNrKdamonds(ctx: Ctx): Promise<number> {
  return readInt(ctx, path.join(ctx.kdamondsDir, 'nr_kdamonds'));
}

/** What one kdamond runs; fields are null where the directory does not hold a single vaddr target. */
async function describeKdamond(
  ctx: Ctx,
  index: number,
): Promise<Omit<KdamondInfo, 'leftoverOfTierscope'> & { singleVaddr: boolean }> {
  const dir = kdamondDir(ctx, index);
  const state = await readText(ctx, path.join(dir, 'state'));
  const pidValue = await readInt(ctx, path.join(dir, 'pid'));
  const nrContexts = await readInt(ctx, path.join(dir, 'contexts/nr_contexts'));
  let targetPid: number | null = null;
  let singleVaddr = false;
  if (nrContexts === 1) {
    const ctxDir = path.join(dir, 'contexts/0');
    const ops = await readText(ctx, path.join(ctxDir, 'operations'));
    const nrTargets = await readInt(ctx, path.join(ctxDir, 'targets/nr_targets'));
    if (nrTargets === 1) {
      targetPid = await readInt(ctx, path.join(ctxDir, 'targets/0/pid_target'));
      singleVaddr = ops === 'vaddr';
    }
  }
  return { index, state, pid: pidValue > 0 ? pidValue : null, targetPid, singleVaddr };
}

export interface DamonInspection {
  kdamondsDir: string;
  nrKdamonds: number;
  kdamonds: KdamondInfo[];
  /** The ownership record found, if any (stale or live). */
  record: DamonOwnershipRecord | null;
  /** Whether the record's owner (a Tierscope process) is still running. */
  ownerAlive: boolean;
  /** True when Tierscope may create its kdamond now (possibly after removing its own leftovers). */
  mayStart: boolean;
  /** Why not, in words for the user; null when mayStart. */
  refusal: string | null;
}

/**
 * Reads DAMON's sysfs and the ownership record and judges whether Tierscope may create its kdamond.
 * Never writes anything.
 */
export async function inspectDamon(options: DamonSysfsOptions = {}): Promise<DamonInspection> {
  const ctx = makeCtx(options);
  return inspect(ctx);
}

async function inspect(ctx: Ctx): Promise<DamonInspection> {
  const nrKdamonds = await readNrKdamonds(ctx);
  const indexes = await listIndexes(ctx, ctx.kdamondsDir);
  const { record, exists } = await readRecord(ctx);
  const bootId = await readBootId(ctx.procRoot);
  const ownerAlive = record !== null && (await isAlive(ctx, record.ownerPid, record.ownerStartTimeTicks));
  const described = await Promise.all(indexes.map((i) => describeKdamond(ctx, i)));

  const leftover = (k: (typeof described)[number]): boolean =>
    record !== null &&
    !ownerAlive &&
    record.bootId === bootId &&
    nrKdamonds === 1 &&
    k.index === record.kdamondIndex &&
    k.singleVaddr &&
    k.targetPid === record.targetPid &&
    (k.pid === null || record.kdamondPid === null || k.pid === record.kdamondPid);
  const kdamonds: KdamondInfo[] = described.map((k) => ({
    index: k.index,
    state: k.state,
    pid: k.pid,
    targetPid: k.targetPid,
    leftoverOfTierscope: leftover(k),
  }));

  let refusal: string | null = null;
  if (record !== null && ownerAlive) {
    refusal =
      record.ownerPid === process.pid
        ? `this Tierscope process already runs a DAMON session (kdamond ${record.kdamondIndex}, target pid ${record.targetPid}); stop it before starting another`
        : `another Tierscope process (pid ${record.ownerPid}) is using DAMON (kdamond ${record.kdamondIndex}, target pid ${record.targetPid}); stop that session or that Tierscope first`;
  } else if (exists && record === null && nrKdamonds > 0) {
    refusal = `${ctx.recordFile} is unreadable, so Tierscope cannot tell whether the ${nrKdamonds} existing kdamond(s) are its own; if no other tool uses DAMON, stop them (echo off > ${ctx.kdamondsDir}/N/state) and remove the record`;
  } else if (nrKdamonds > 0 && !kdamonds.every((k) => k.leftoverOfTierscope)) {
    const running = kdamonds.filter((k) => k.state === 'on').length;
    refusal = `${nrKdamonds} kdamond(s) exist in ${ctx.kdamondsDir} (${running} running) that Tierscope did not create: DAMON's sysfs adds a kdamond only by rewriting nr_kdamonds, which deletes the existing ones (and the kernel refuses while one runs), so Tierscope leaves DAMON alone; stop and remove them with the tool that created them (e.g. damo) or use another access source`;
  }
  return {
    kdamondsDir: ctx.kdamondsDir,
    nrKdamonds,
    kdamonds,
    record,
    ownerAlive,
    mayStart: refusal === null,
    refusal,
  };
}

/** Turns off our leftovers (nr_kdamonds cannot be rewritten while one runs). */
async function turnOffAll(ctx: Ctx, kdamonds: readonly KdamondInfo[]): Promise<void> {
  for (const k of kdamonds) {
    if (k.state !== 'on') continue;
    await turnOff(ctx, k.index);
  }
}

async function turnOff(ctx: Ctx, index: number): Promise<void> {
  const stateFile = path.join(kdamondDir(ctx, index), 'state');
  try {
    await writeRaw(ctx, stateFile, 'off');
  } catch (err) {
    // EINVAL: it had stopped by itself meanwhile (e.g. its target exited) — the goal is reached.
    if (isErrno(err, 'EINVAL') && (await readText(ctx, stateFile)) === 'off') return;
    throw sysfsError(err, stateFile, 'write', 'off');
  }
}

/** Removes Tierscope's own leftover kdamond and record (after a crash). Refuses like start() otherwise. */
export async function removeDamonLeftovers(
  options: DamonSysfsOptions = {},
): Promise<{ removedKdamonds: number }> {
  const ctx = makeCtx(options);
  const found = await inspect(ctx);
  if (!found.mayStart) throw new DamonInUseError(found.refusal ?? 'DAMON is in use', found.kdamonds);
  if (found.nrKdamonds > 0) {
    await turnOffAll(ctx, found.kdamonds);
    await write(ctx, path.join(ctx.kdamondsDir, 'nr_kdamonds'), 0);
  }
  if (found.record !== null || (await readRecord(ctx)).exists)
    await unlink(ctx.recordFile).catch(() => undefined);
  return { removedKdamonds: found.nrKdamonds };
}

function checkConfig(config: DamonVaddrConfig): DamonAttrs {
  const attrs: DamonAttrs = {
    sampleUs: config.sampleUs ?? DEFAULT_DAMON_ATTRS.sampleUs,
    aggrUs: config.aggrUs ?? DEFAULT_DAMON_ATTRS.aggrUs,
    updateUs: config.updateUs ?? DEFAULT_DAMON_ATTRS.updateUs,
    minNrRegions: config.minNrRegions ?? DEFAULT_DAMON_ATTRS.minNrRegions,
    maxNrRegions: config.maxNrRegions ?? DEFAULT_DAMON_ATTRS.maxNrRegions,
  };
  const bad = (msg: string): TierscopeError => new TierscopeError('invalid-argument', msg);
  if (!Number.isSafeInteger(config.pid) || config.pid <= 0) {
    throw bad(`${String(config.pid)} is not a process id; pass a positive integer PID`);
  }
  for (const [name, value] of Object.entries(attrs)) {
    if (!Number.isSafeInteger(value) || value < 1)
      throw bad(`${name} ${String(value)} is not a positive integer`);
  }
  if (attrs.aggrUs < attrs.sampleUs) {
    throw bad(
      `aggrUs ${attrs.aggrUs} is shorter than sampleUs ${attrs.sampleUs}; an aggregation interval holds whole samples`,
    );
  }
  if (attrs.minNrRegions < 3 || attrs.minNrRegions > attrs.maxNrRegions) {
    throw bad(
      `region bounds ${attrs.minNrRegions}..${attrs.maxNrRegions} are invalid: DAMON needs 3 ≤ minNrRegions ≤ maxNrRegions`,
    );
  }
  if (config.regions.length === 0) throw bad('no regions to monitor; pass at least one address range');
  let previousEnd = 0n;
  for (const r of config.regions) {
    if (r.start >= r.end || r.start < previousEnd || r.end > ULONG_MAX) {
      throw bad(
        `region 0x${r.start.toString(16)}-0x${r.end.toString(16)} is empty, overlaps the one before, or is out of order; pass ascending, disjoint ranges`,
      );
    }
    previousEnd = r.end;
  }
  return attrs;
}

/** A running DAMON vaddr monitor Tierscope created. stop() it; a crashed owner leaves a record for cleanup. */
export class DamonVaddrSession {
  readonly kdamondIndex: number;
  readonly targetPid: number;
  readonly attrs: Readonly<DamonAttrs>;
  /** Largest nrAccesses a region can show: samples per aggregation interval. */
  readonly maxNrAccesses: number;
  private readonly ctx: Ctx;
  private record: DamonOwnershipRecord;
  private stopped = false;
  private reading: Promise<DamonRegion[]> | null = null;

  /** @internal use startDamonVaddr */
  constructor(ctx: Ctx, record: DamonOwnershipRecord, attrs: DamonAttrs) {
    this.ctx = ctx;
    this.record = record;
    this.kdamondIndex = record.kdamondIndex;
    this.targetPid = record.targetPid;
    this.attrs = attrs;
    this.maxNrAccesses = Math.floor(attrs.aggrUs / attrs.sampleUs);
  }

  /** The kdamond kernel thread's pid. */
  get kdamondPid(): number | null {
    return this.record.kdamondPid;
  }

  private get dir(): string {
    return kdamondDir(this.ctx, this.kdamondIndex);
  }

  /** Current regions, ascending: asks the kdamond to snapshot the stat scheme's tried regions, then reads them. */
  readRegions(): Promise<DamonRegion[]> {
    // The kernel serves one command at a time; concurrent callers share one snapshot.
    this.reading ??= this.readRegionsOnce().finally(() => {
      this.reading = null;
    });
    return this.reading;
  }

  private async readRegionsOnce(): Promise<DamonRegion[]> {
    if (this.stopped)
      throw new TierscopeError('invalid-argument', 'this DAMON session was stopped; start a new one');
    const ctx = this.ctx;
    const stateFile = path.join(this.dir, 'state');
    try {
      // Returns once the kdamond has captured one apply interval (= aggregation interval) of regions.
      await writeRaw(ctx, stateFile, 'update_schemes_tried_regions');
    } catch (err) {
      if (isErrno(err, 'EINVAL') && (await readText(ctx, stateFile)) === 'off')
        throw await this.stoppedError();
      throw sysfsError(err, stateFile, 'write', 'update_schemes_tried_regions');
    }
    const triedDir = path.join(this.dir, 'contexts/0/schemes/0/tried_regions');
    const indexes = await listIndexes(ctx, triedDir);
    const regions = await Promise.all(
      indexes.map(async (i): Promise<DamonRegion> => {
        const d = path.join(triedDir, String(i));
        const [start, end, nrAccesses, age] = await Promise.all([
          readU64(ctx, path.join(d, 'start')),
          readU64(ctx, path.join(d, 'end')),
          readInt(ctx, path.join(d, 'nr_accesses')),
          readInt(ctx, path.join(d, 'age')),
        ]);
        return { start, end, nrAccesses, age };
      }),
    );
    return regions.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  }

  /** Why the kdamond is off when we did not stop it: almost always, its target exited. */
  private async stoppedError(): Promise<TierscopeError> {
    const alive = await readProcStat(this.targetPid, { procRoot: this.ctx.procRoot }).then(
      () => true,
      () => false,
    );
    return alive
      ? new TierscopeError(
          'not-found',
          `kdamond ${this.kdamondIndex} stopped by itself although process ${this.targetPid} still exists; start a new session`,
        )
      : new TierscopeError(
          'process-gone',
          `process ${this.targetPid} does not exist: it exited, and DAMON stopped monitoring it; pick a running process`,
        );
  }

  /**
   * Turns the kdamond off and removes it (nr_kdamonds = 0) if it is still ours, then deletes the record.
   * Idempotent. If someone rewrote DAMON's sysfs meanwhile, their kdamonds are left untouched.
   */
  async stop(): Promise<{ removed: boolean; note: string | null }> {
    if (this.stopped) return { removed: false, note: 'already stopped' };
    this.stopped = true;
    const ctx = this.ctx;
    try {
      await this.reading?.catch(() => undefined);
      const nr = await readNrKdamonds(ctx);
      const k = nr === 1 ? await describeKdamond(ctx, this.kdamondIndex) : null;
      const ours =
        k !== null &&
        k.singleVaddr &&
        k.targetPid === this.targetPid &&
        (k.pid === null || k.pid === this.record.kdamondPid);
      if (!ours) {
        return {
          removed: false,
          note: `kdamond ${this.kdamondIndex} is no longer the one Tierscope created (nr_kdamonds ${nr}): someone rewrote DAMON's sysfs; left it alone`,
        };
      }
      if (k.state === 'on') await turnOff(ctx, this.kdamondIndex);
      await write(ctx, path.join(ctx.kdamondsDir, 'nr_kdamonds'), 0);
      return { removed: true, note: null };
    } finally {
      await unlink(ctx.recordFile).catch(() => undefined);
    }
  }
}

/**
 * Creates, configures and turns on Tierscope's kdamond for `config.pid`: one context (ops vaddr), one
 * target with the given initial regions, and one `stat` scheme whose access pattern matches every region
 * (the sysfs defaults for the maxima are 0, which would match nothing), so update_schemes_tried_regions
 * reports all regions. Throws DamonInUseError when other kdamonds exist.
 */
export async function startDamonVaddr(
  config: DamonVaddrConfig,
  options: DamonSysfsOptions = {},
): Promise<DamonVaddrSession> {
  const attrs = checkConfig(config);
  const ctx = makeCtx(options);
  const found = await inspect(ctx);
  if (!found.mayStart) throw new DamonInUseError(found.refusal ?? 'DAMON is in use', found.kdamonds);

  // Claim before touching sysfs, so a crash at any later point leaves a record describing our kdamond.
  await mkdir(ctx.stateDir, { recursive: true, mode: 0o700 });
  if ((await readRecord(ctx)).exists) await unlink(ctx.recordFile); // judged stale by inspect()
  const record: DamonOwnershipRecord = {
    version: 1,
    bootId: await readBootId(ctx.procRoot),
    kdamondIndex: 0,
    targetPid: config.pid,
    ownerPid: process.pid,
    ownerStartTimeTicks: await ownStartTimeTicks(ctx),
    kdamondPid: null,
    createdAt: new Date().toISOString(),
  };
  try {
    const handle = await open(ctx.recordFile, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(record, null, 2)}\n`);
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (isErrno(err, 'EEXIST')) {
      throw new DamonInUseError(
        `another Tierscope process claimed DAMON at the same moment (${ctx.recordFile} appeared); retry once it has finished`,
        found.kdamonds,
      );
    }
    throw new TierscopeError('not-found', `cannot create ${ctx.recordFile}: ${String(err)}`, { cause: err });
  }

  let created = false;
  try {
    await turnOffAll(ctx, found.kdamonds);
    const nrFile = path.join(ctx.kdamondsDir, 'nr_kdamonds');
    try {
      await writeRaw(ctx, nrFile, 1);
    } catch (err) {
      if (isErrno(err, 'EBUSY')) {
        throw new DamonInUseError(
          `the kernel refused to rewrite ${nrFile} (EBUSY): a kdamond started running after Tierscope looked; stop it with the tool that started it`,
          found.kdamonds,
        );
      }
      throw sysfsError(err, nrFile, 'write', '1');
    }
    created = true;
    const dir = kdamondDir(ctx, 0);
    await write(ctx, path.join(dir, 'contexts/nr_contexts'), 1);
    const c = path.join(dir, 'contexts/0');
    const avail = await ctx.io.readFile(path.join(c, 'avail_operations')).then(
      (t) => t.split(/\s+/),
      () => null, // before Linux 6.2 there is no avail_operations: writing "vaddr" below tells
    );
    if (avail !== null && !avail.includes('vaddr')) {
      throw new TierscopeError(
        'unsupported',
        `DAMON here offers operations ${quoteForMessage(avail.join(' '))} but not vaddr: the kernel lacks CONFIG_DAMON_VADDR`,
      );
    }
    await write(ctx, path.join(c, 'operations'), 'vaddr');
    const mon = path.join(c, 'monitoring_attrs');
    await write(ctx, path.join(mon, 'intervals/sample_us'), attrs.sampleUs);
    await write(ctx, path.join(mon, 'intervals/aggr_us'), attrs.aggrUs);
    await write(ctx, path.join(mon, 'intervals/update_us'), attrs.updateUs);
    // max before min: the kernel checks the pair only at "on", but keep every intermediate state valid.
    await write(ctx, path.join(mon, 'nr_regions/max'), attrs.maxNrRegions);
    await write(ctx, path.join(mon, 'nr_regions/min'), attrs.minNrRegions);

    await write(ctx, path.join(c, 'targets/nr_targets'), 1);
    const t = path.join(c, 'targets/0');
    await write(ctx, path.join(t, 'pid_target'), config.pid);
    await write(ctx, path.join(t, 'regions/nr_regions'), config.regions.length);
    for (const [i, r] of config.regions.entries()) {
      await write(ctx, path.join(t, 'regions', String(i), 'start'), r.start);
      await write(ctx, path.join(t, 'regions', String(i), 'end'), r.end);
    }

    await write(ctx, path.join(c, 'schemes/nr_schemes'), 1);
    const s = path.join(c, 'schemes/0');
    await write(ctx, path.join(s, 'action'), 'stat');
    const ap = path.join(s, 'access_pattern');
    await write(ctx, path.join(ap, 'sz/min'), 0);
    await write(ctx, path.join(ap, 'sz/max'), ULONG_MAX);
    await write(ctx, path.join(ap, 'nr_accesses/min'), 0);
    await write(ctx, path.join(ap, 'nr_accesses/max'), UINT_MAX);
    await write(ctx, path.join(ap, 'age/min'), 0);
    await write(ctx, path.join(ap, 'age/max'), UINT_MAX);

    const stateFile = path.join(dir, 'state');
    try {
      await writeRaw(ctx, stateFile, 'on');
    } catch (err) {
      if (isErrno(err, 'EINVAL')) {
        const alive = await readProcStat(config.pid, { procRoot: ctx.procRoot }).then(
          () => true,
          () => false,
        );
        throw alive
          ? new TierscopeError(
              'invalid-argument',
              `DAMON refused to start monitoring process ${config.pid} (EINVAL from ${stateFile}): the kernel rejected the attributes or regions (${attrs.sampleUs}/${attrs.aggrUs}/${attrs.updateUs} µs, ${attrs.minNrRegions}-${attrs.maxNrRegions} regions, ${config.regions.length} initial ranges)`,
              { cause: err },
            )
          : new TierscopeError(
              'process-gone',
              `process ${config.pid} does not exist: DAMON cannot monitor it; pick a running process`,
              {
                cause: err,
              },
            );
      }
      throw sysfsError(err, stateFile, 'write', 'on');
    }
    const kdamondPid = await readInt(ctx, path.join(dir, 'pid'));
    const running: DamonOwnershipRecord = { ...record, kdamondPid: kdamondPid > 0 ? kdamondPid : null };
    await writeRecordAtomically(ctx, running);
    return new DamonVaddrSession(ctx, running, attrs);
  } catch (err) {
    // Undo what we created; the record goes only once the kdamond is gone (else it marks a leftover).
    if (created) {
      try {
        const k = await describeKdamond(ctx, 0);
        if (k.state === 'on') await turnOff(ctx, 0);
        await write(ctx, path.join(ctx.kdamondsDir, 'nr_kdamonds'), 0);
        await unlink(ctx.recordFile).catch(() => undefined);
      } catch {
        // Cleanup failed: the record stays, so the next start (or removeDamonLeftovers) can take it back.
      }
    } else {
      await unlink(ctx.recordFile).catch(() => undefined);
    }
    throw err;
  }
}
