/**
 * Process identity and summary from /proc/PID/{stat,status,cmdline}. A PID alone does not identify a
 * process (PIDs are reused), so everything here also carries the start time in ticks, and
 * assertSameProcess() re-checks it before anything acts on a PID chosen earlier.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { ProcessInfo } from '../../contract/process.js';
import { TierscopeError, procfsError } from '../errors.js';
import { kernelFileError, quoteForMessage, readKernelFile } from '../sysfs/files.js';

/**
 * Clock ticks per second of /proc/PID/stat times (USER_HZ, what `getconf CLK_TCK` prints). The kernel
 * reports these in USER_HZ, not in its internal HZ, and USER_HZ is 100 on every architecture Linux still
 * supports (x86, arm64, riscv, ppc, s390; only the removed ia64/alpha used 1024), so it is a constant.
 */
export const CLK_TCK = 100;

/** PF_KTHREAD from include/linux/sched.h: the task is a kernel thread and has no user address space. */
export const PF_KTHREAD = 0x0020_0000;

export interface ProcessReadOptions {
  procRoot?: string;
  /** Where passwd lives, for user names (tests point it at a fixture). */
  etcRoot?: string;
}

/** The fields of /proc/PID/stat that Tierscope uses. */
export interface ProcStat {
  pid: number;
  comm: string;
  /** One-letter state: R, S, D, Z, T, t, X, I, … */
  state: string;
  ppid: number;
  /** Per-task flags (PF_*), stat field 9. */
  flags: number;
  /** Field 22: start time in clock ticks after boot. */
  startTimeTicks: number;
}

function unsignedField(value: string | undefined, what: string, file: string): number {
  if (value === undefined || !/^\d{1,20}$/.test(value)) {
    throw new TierscopeError(
      'parse',
      `cannot parse ${file}: ${what} is ${value === undefined ? 'missing' : quoteForMessage(value, 24)}, expected an unsigned number`,
    );
  }
  const n = Number(value);
  if (!Number.isSafeInteger(n)) {
    throw new TierscopeError('parse', `cannot parse ${file}: ${what} ${value} is out of range`);
  }
  return n;
}

/**
 * Parses /proc/PID/stat. The command name (field 2) is in parentheses and may itself contain spaces and
 * parentheses (any process can prctl(PR_SET_NAME, ") Z 1 2 (x")), so it spans from the first "(" to
 * the LAST ")": the fields after it are all numbers or a state letter and never contain ")".
 */
export function parseProcStat(text: string, file = '/proc/PID/stat'): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) {
    throw new TierscopeError('parse', `cannot parse ${file}: no "(comm)" in ${quoteForMessage(text)}`);
  }
  const pid = unsignedField(text.slice(0, open).trim(), 'the pid (field 1)', file);
  const comm = text.slice(open + 1, close);
  const rest = text
    .slice(close + 1)
    .trim()
    .split(' ');
  // rest[0] is field 3 (state); field N is rest[N - 3].
  const state = rest[0];
  if (state === undefined || !/^[A-Za-z]$/.test(state)) {
    throw new TierscopeError(
      'parse',
      `cannot parse ${file}: the state (field 3) is ${quoteForMessage(state ?? '', 24)}, expected one letter`,
    );
  }
  return {
    pid,
    comm,
    state,
    ppid: unsignedField(rest[1], 'the parent pid (field 4)', file),
    flags: unsignedField(rest[6], 'the flags (field 9)', file),
    startTimeTicks: unsignedField(rest[19], 'the start time (field 22)', file),
  };
}

/** The fields of /proc/PID/status that Tierscope uses. */
export interface ProcStatus {
  /** Real uid (first of the four Uid values). */
  uid: number;
  euid: number;
  /** VmRSS; null when absent (kernel threads and zombies have no mm). */
  vmRssBytes: number | null;
}

export function parseProcStatus(text: string, file = '/proc/PID/status'): ProcStatus {
  let ids: number[] | null = null;
  let vmRssBytes: number | null = null;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (key === 'Uid') {
      const fields = value.split(/\s+/);
      if (fields.length !== 4) {
        throw new TierscopeError(
          'parse',
          `cannot parse ${file}: Uid line ${quoteForMessage(value)} should have 4 ids`,
        );
      }
      ids = fields.map((f, i) => unsignedField(f, `Uid field ${i + 1}`, file));
    } else if (key === 'VmRSS') {
      const m = /^(\d{1,15}) kB$/.exec(value);
      if (!m?.[1]) {
        throw new TierscopeError(
          'parse',
          `cannot parse ${file}: VmRSS ${quoteForMessage(value)} is not "<n> kB"`,
        );
      }
      vmRssBytes = Number(m[1]) * 1024;
    }
  }
  const [uid, euid] = ids ?? [];
  if (uid === undefined || euid === undefined) {
    throw new TierscopeError('parse', `cannot parse ${file}: no Uid line`);
  }
  return { uid, euid, vmRssBytes };
}

/** Boot time (seconds since the epoch) from the "btime" line of /proc/stat. */
export function parseBootTime(text: string, file = '/proc/stat'): number {
  const m = /^btime (\d{1,15})$/m.exec(text);
  if (!m?.[1]) throw new TierscopeError('parse', `cannot parse ${file}: no "btime <seconds>" line`);
  return Number(m[1]);
}

/** uid → first user name with that uid (getpwuid semantics) from passwd text; malformed lines skipped. */
export function parsePasswd(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    const [name, , uidText] = fields;
    if (fields.length < 4 || !name || name.startsWith('#') || !uidText || !/^\d{1,10}$/.test(uidText))
      continue;
    const uid = Number(uidText);
    if (!names.has(uid)) names.set(uid, name);
  }
  return names;
}

/** Joins NUL-separated argv into one line; trailing NULs (setproctitle padding) do not become spaces. */
export function formatCmdline(raw: Buffer): string {
  let end = raw.length;
  while (end > 0 && raw[end - 1] === 0) end--;
  return raw.subarray(0, end).toString('utf8').split('\0').join(' ');
}

function checkPid(pid: number): void {
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    throw new TierscopeError(
      'invalid-argument',
      `${String(pid)} is not a process id (expected a positive integer)`,
    );
  }
}

async function readProcText(procRoot: string, pid: number, what: string): Promise<string> {
  try {
    return await readFile(path.join(procRoot, String(pid), what), 'utf8');
  } catch (err) {
    throw procfsError(err, pid, what);
  }
}

/** Reads and parses /proc/PID/stat. */
export async function readProcStat(
  pid: number,
  { procRoot = '/proc' }: { procRoot?: string } = {},
): Promise<ProcStat> {
  checkPid(pid);
  const file = path.join(procRoot, String(pid), 'stat');
  const stat = parseProcStat(await readProcText(procRoot, pid, 'stat'), file);
  if (stat.pid !== pid) {
    throw new TierscopeError('parse', `cannot parse ${file}: it describes process ${stat.pid}, not ${pid}`);
  }
  return stat;
}

async function readBootTimeSeconds(procRoot: string): Promise<number> {
  const file = path.join(procRoot, 'stat');
  return parseBootTime(await readKernelFile(file, `procfs is not mounted at ${procRoot}`), file);
}

async function readUserNames(etcRoot: string): Promise<Map<number, string>> {
  try {
    return parsePasswd(await readFile(path.join(etcRoot, 'passwd'), 'utf8'));
  } catch {
    // No readable passwd (minimal containers): every user is shown by uid, which is still correct.
    return new Map();
  }
}

interface ReadContext {
  procRoot: string;
  bootTimeSeconds: number;
  userNames: Map<number, string>;
}

function replacedError(pid: number, expectedTicks: number, actualTicks: number): TierscopeError {
  return new TierscopeError(
    'process-gone',
    `process ${pid} was replaced: PID reused by a new process (started at tick ${actualTicks}, expected ${expectedTicks}); the process you chose has exited, pick it again`,
  );
}

async function readProcessWith(pid: number, ctx: ReadContext): Promise<ProcessInfo> {
  const stat = await readProcStat(pid, { procRoot: ctx.procRoot });
  const [statusText, cmdlineRaw] = await Promise.all([
    readProcText(ctx.procRoot, pid, 'status'),
    readFile(path.join(ctx.procRoot, String(pid), 'cmdline')).catch((err: unknown) => {
      throw procfsError(err, pid, 'cmdline');
    }),
  ]);
  const status = parseProcStatus(statusText, path.join(ctx.procRoot, String(pid), 'status'));
  // The PID may have been reused between the reads above; a second look at the start time catches it.
  const again = await readProcStat(pid, { procRoot: ctx.procRoot });
  if (again.startTimeTicks !== stat.startTimeTicks)
    throw replacedError(pid, stat.startTimeTicks, again.startTimeTicks);

  const isKernelThread = (stat.flags & PF_KTHREAD) !== 0;
  const exited = hasExited(stat);
  const startMs = ctx.bootTimeSeconds * 1000 + Math.round((stat.startTimeTicks * 1000) / CLK_TCK);
  return {
    pid,
    comm: stat.comm,
    cmdline: formatCmdline(cmdlineRaw),
    uid: status.uid,
    user: ctx.userNames.get(status.uid) ?? String(status.uid),
    // VmRSS (anon + file + shmem resident) rather than statm × page size: no page size needed.
    rssBytes: status.vmRssBytes ?? 0,
    startTimeTicks: stat.startTimeTicks,
    // btime has one-second resolution, so this is accurate to about a second.
    startTime: new Date(startMs).toISOString(),
    hasUserMemory: !isKernelThread && !exited,
  };
}

/** Reads one process. A dead PID gives TierscopeError('process-gone', 'process N does not exist …'). */
export async function readProcess(
  pid: number,
  { procRoot = '/proc', etcRoot = '/etc' }: ProcessReadOptions = {},
): Promise<ProcessInfo> {
  checkPid(pid);
  const [bootTimeSeconds, userNames] = await Promise.all([
    readBootTimeSeconds(procRoot),
    readUserNames(etcRoot),
  ]);
  return readProcessWith(pid, { procRoot, bootTimeSeconds, userNames });
}

/** How many processes listProcesses reads at once: bounded so thousands of PIDs cannot exhaust fds. */
const LIST_CONCURRENCY = 16;

/**
 * All processes we can read, ascending by PID. Processes that exit while being read, or that we may not
 * read (hidepid mounts), are skipped; anything else (a parse error) is a real problem and is thrown.
 */
export async function listProcesses({
  procRoot = '/proc',
  etcRoot = '/etc',
}: ProcessReadOptions = {}): Promise<ProcessInfo[]> {
  let entries: string[];
  try {
    entries = await readdir(procRoot);
  } catch (err) {
    throw kernelFileError(err, procRoot, 'procfs is not mounted there');
  }
  const pids = entries
    .filter((e) => /^[1-9]\d{0,9}$/.test(e))
    .map(Number)
    .sort((a, b) => a - b);
  const [bootTimeSeconds, userNames] = await Promise.all([
    readBootTimeSeconds(procRoot),
    readUserNames(etcRoot),
  ]);
  const ctx: ReadContext = { procRoot, bootTimeSeconds, userNames };

  const results: (ProcessInfo | null)[] = new Array<ProcessInfo | null>(pids.length).fill(null);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < pids.length; i = next++) {
      const pid = pids[i];
      if (pid === undefined) continue;
      try {
        results[i] = await readProcessWith(pid, ctx);
      } catch (err) {
        if (err instanceof TierscopeError && (err.code === 'process-gone' || err.code === 'permission'))
          continue;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(LIST_CONCURRENCY, pids.length) }, worker));
  return results.filter((p): p is ProcessInfo => p !== null);
}

/** Zombies (Z) and dead tasks (X) have exited and released their mm: nothing left to profile or move. */
export function hasExited(stat: Pick<ProcStat, 'state'>): boolean {
  return stat.state === 'Z' || stat.state === 'X';
}

/**
 * True while `pid` is still the process that started at `startTimeTicks` and has not exited; false when it
 * exited, its PID was reused, or its stat cannot be read.
 */
export async function isSameLiveProcess(
  pid: number,
  startTimeTicks: number,
  { procRoot = '/proc' }: { procRoot?: string } = {},
): Promise<boolean> {
  try {
    const stat = await readProcStat(pid, { procRoot });
    return stat.startTimeTicks === startTimeTicks && !hasExited(stat);
  } catch {
    return false;
  }
}

/**
 * Resolves if `pid` is still the process that started at `startTimeTicks`. Throws
 * TierscopeError('process-gone') if it exited ("does not exist") or its PID now belongs to another process.
 */
export async function assertSameProcess(
  pid: number,
  startTimeTicks: number,
  { procRoot = '/proc' }: { procRoot?: string } = {},
): Promise<void> {
  const stat = await readProcStat(pid, { procRoot });
  if (stat.startTimeTicks !== startTimeTicks) throw replacedError(pid, startTimeTicks, stat.startTimeTicks);
}

/**
 * Throws the error that says why a process has nothing to profile: a kernel thread (no mm at all), or a
 * process that has exited and is a zombie awaiting its parent. Returns when it has user memory.
 */
export async function assertHasUserMemory(
  proc: ProcessInfo,
  { procRoot = '/proc' }: { procRoot?: string } = {},
): Promise<void> {
  if (proc.hasUserMemory) return;
  const stat = await readProcStat(proc.pid, { procRoot }).catch(() => null);
  if (stat === null || hasExited(stat)) {
    throw new TierscopeError(
      'process-gone',
      `process ${proc.pid} (${proc.comm}) has exited${stat ? ' (a zombie waiting for its parent to reap it)' : ''}: it has no memory left to profile`,
    );
  }
  throw new TierscopeError(
    'kernel-thread',
    `process ${proc.pid} (${proc.comm}) is a kernel thread: it has no user memory to profile`,
  );
}
