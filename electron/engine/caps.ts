/**
 * What this kernel and these credentials let Tierscope do: which access-tracking sources work, and
 * whether pages of other users' processes may be migrated. Strictly read-only: files are only read,
 * stat()ed, or opened and closed without writing (opening page_idle/bitmap or clear_refs has no effect
 * by itself). Nothing under /sys/kernel/mm/damon is ever opened for writing: kdamonds there may belong
 * to someone else.
 */
import { constants } from 'node:fs';
import { access, open, readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Capabilities, SourceAvailability } from '../contract/caps.js';
import { inspectDamon, type DamonInspection } from './access/damonSysfs.js';
import { TierscopeError, procfsError } from './errors.js';
import { parseProcStat, parseProcStatus, PF_KTHREAD } from './procfs/process.js';
import { isErrno, quoteForMessage, readKernelFile } from './sysfs/files.js';

export const CAP_DAC_OVERRIDE = 1;
export const CAP_SYS_PTRACE = 19;
export const CAP_SYS_ADMIN = 21;
export const CAP_SYS_NICE = 23;

export interface CapabilityProbeOptions {
  sysRoot?: string;
  procRoot?: string;
  /** The process to be profiled; sources are judged for it. Defaults to ourselves (/proc/self). */
  pid?: number;
  /** Where Tierscope's DAMON ownership record lives (damonSysfs.ts; default /run/tierscope). Only read. */
  damonStateDir?: string;
}

/** The CapEff mask from /proc/PID/status (64-bit hex, hence bigint). */
export function parseCapEff(statusText: string, file = '/proc/self/status'): bigint {
  const m = /^CapEff:\s*([0-9a-fA-F]{1,16})\s*$/m.exec(statusText);
  if (!m?.[1]) throw new TierscopeError('parse', `cannot parse ${file}: no "CapEff: <hex>" line`);
  return BigInt(`0x${m[1]}`);
}

export function hasCap(mask: bigint, cap: number): boolean {
  return ((mask >> BigInt(cap)) & 1n) === 1n;
}

type OpenOutcome = 'ok' | 'missing' | 'denied';

/** Opens and closes `file` with `flags` (never writes) to learn whether our credentials allow it. */
async function tryOpen(file: string, flags: number): Promise<OpenOutcome> {
  try {
    const handle = await open(file, flags);
    await handle.close();
    return 'ok';
  } catch (err) {
    return outcomeOf(err, file);
  }
}

function outcomeOf(err: unknown, file: string): OpenOutcome {
  if (isErrno(err, 'ENOENT', 'ENOTDIR')) return 'missing';
  if (isErrno(err, 'EACCES', 'EPERM')) return 'denied';
  throw new TierscopeError('not-found', `cannot check ${file}: ${String(err)}`, { cause: err });
}

interface Creds {
  euid: number;
  capSysAdmin: boolean;
  capDacOverride: boolean;
}

async function probeIdlePages(targetDir: string, who: string): Promise<SourceAvailability> {
  const file = path.join(targetDir, 'idle_pages');
  // access() rather than open(): in the out-of-tree patch, opening/closing idle_pages walks page tables
  // and flushes the TLB.
  let outcome: OpenOutcome;
  try {
    await access(file, constants.R_OK);
    outcome = 'ok';
  } catch (err) {
    outcome = outcomeOf(err, file);
  }
  switch (outcome) {
    case 'ok':
      return {
        id: 'idle_pages',
        available: true,
        reason: `${file} is readable: per-page accessed bits from ${who}'s page tables (out-of-tree kernel interface)`,
      };
    case 'missing':
      return {
        id: 'idle_pages',
        available: false,
        reason: `${file} does not exist: /proc/PID/idle_pages comes from an out-of-tree patch set (the 2018 PMEM hotness RFC, kvm-ept-idle) that mainline kernels lack; use one of the other sources, or boot a kernel carrying that patch`,
      };
    case 'denied':
      return {
        id: 'idle_pages',
        available: false,
        reason: `${file} exists but we may not read it: run Tierscope as root or as the owner of ${who}`,
      };
  }
}

async function probePageIdle(sysRoot: string, creds: Creds): Promise<SourceAvailability> {
  const file = path.join(sysRoot, 'kernel/mm/page_idle/bitmap');
  const outcome = await tryOpen(file, constants.O_RDWR);
  switch (outcome) {
    case 'missing':
      return {
        id: 'page_idle',
        available: false,
        reason: `kernel built without CONFIG_IDLE_PAGE_TRACKING: ${file} does not exist; boot a kernel with CONFIG_IDLE_PAGE_TRACKING=y for per-page idle tracking, or use another source`,
      };
    case 'denied':
      return {
        id: 'page_idle',
        available: false,
        reason: `needs root or CAP_SYS_ADMIN: ${file} is readable and writable only by root, and /proc/PID/pagemap hides the page frame numbers it is indexed by from unprivileged users; run Tierscope as root`,
      };
    case 'ok':
      return creds.capSysAdmin
        ? {
            id: 'page_idle',
            available: true,
            reason: `${file} is readable and writable and CAP_SYS_ADMIN is held: per-page idle bits by physical frame, for any process`,
          }
        : {
            id: 'page_idle',
            available: false,
            reason: `needs root or CAP_SYS_ADMIN: ${file} is accessible, but without CAP_SYS_ADMIN /proc/PID/pagemap reports every page frame number as 0, so pages cannot be matched to bitmap bits`,
          };
  }
}

/** Counts kernel threads named "kdamond.N": who is running DAMON, for users who may not read its state files. */
async function countKdamondThreads(procRoot: string): Promise<number> {
  let count = 0;
  for (const entry of await readdir(procRoot).catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const text = await readFile(path.join(procRoot, entry, 'stat'), 'utf8').catch(() => null);
    if (text === null) continue; // exited meanwhile
    try {
      const st = parseProcStat(text, path.join(procRoot, entry, 'stat'));
      if ((st.flags & PF_KTHREAD) !== 0 && /^kdamond\.\d+$/.test(st.comm)) count++;
    } catch {
      continue; // an unparsable stat says nothing about DAMON; readProcess reports it where it matters
    }
  }
  return count;
}

async function probeDamon(
  sysRoot: string,
  procRoot: string,
  creds: Creds,
  damonStateDir: string,
): Promise<{ summary: Capabilities['damon']; source: SourceAvailability }> {
  const dir = path.join(sysRoot, 'kernel/mm/damon/admin/kdamonds');
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    if (!isErrno(err, 'ENOENT', 'ENOTDIR'))
      throw new TierscopeError('not-found', `cannot list ${dir}: ${String(err)}`);
    return {
      summary: null,
      source: {
        id: 'damon',
        available: false,
        reason: `kernel built without CONFIG_DAMON_SYSFS: ${dir} does not exist; DAMON needs Linux 5.18 or later with CONFIG_DAMON_SYSFS=y`,
      },
    };
  }
  const kdamondDirs = entries.filter((e) => /^\d+$/.test(e));

  let running = 0;
  let stateReadable = true;
  for (const d of kdamondDirs) {
    const file = path.join(dir, d, 'state');
    try {
      const state = (await readFile(file, 'utf8')).trim();
      if (state === 'on') running++;
      else if (state !== 'off') {
        throw new TierscopeError(
          'parse',
          `cannot parse ${file}: ${quoteForMessage(state)} is neither "on" nor "off"`,
        );
      }
    } catch (err) {
      if (err instanceof TierscopeError) throw err;
      if (!isErrno(err, 'EACCES', 'EPERM'))
        throw new TierscopeError('not-found', `cannot read ${file}: ${String(err)}`);
      stateReadable = false; // state files are root-only (0600)
      break;
    }
  }
  if (!stateReadable) running = Math.min(kdamondDirs.length, await countKdamondThreads(procRoot));
  const summary = { kdamonds: kdamondDirs.length, kdamondsRunning: running };

  // Creating a kdamond means writing nr_kdamonds. We only stat it: owner/mode (or CAP_DAC_OVERRIDE) tell
  // whether the write would be allowed.
  const nrFile = path.join(dir, 'nr_kdamonds');
  let mayWrite = creds.capDacOverride;
  try {
    const st = await stat(nrFile);
    mayWrite ||= st.uid === creds.euid && (st.mode & 0o200) !== 0;
  } catch (err) {
    if (!isErrno(err, 'ENOENT', 'ENOTDIR', 'EACCES')) throw err;
    mayWrite = false;
  }

  const foreign = (extra = ''): SourceAvailability => ({
    id: 'damon',
    available: false,
    reason: `${kdamondDirs.length} kdamond(s) already exist in ${dir} (${running} running) and belong to someone else (another tool or the host): DAMON's sysfs can only add a kdamond by rewriting nr_kdamonds, which the kernel refuses while one runs and which would delete their setup otherwise, so Tierscope leaves DAMON alone; if they are yours, stop and remove them with the tool that created them (e.g. damo)${extra}`,
  });
  let source: SourceAvailability;
  if (!mayWrite) {
    // Without root the kdamond directories and Tierscope's ownership record cannot be judged.
    source =
      kdamondDirs.length > 0
        ? foreign()
        : {
            id: 'damon',
            available: false,
            reason: `needs root: creating a kdamond means writing ${nrFile}, which only root may do; run Tierscope as root`,
          };
  } else {
    // The same judgement startDamonVaddr makes (read-only): kdamonds left by a Tierscope that died
    // without cleaning up are taken back, anything else is someone else's.
    let inspection: DamonInspection | null = null;
    let inspectError = '';
    try {
      inspection = await inspectDamon({ sysRoot, procRoot, stateDir: damonStateDir });
    } catch (err) {
      inspectError = err instanceof Error ? err.message : String(err);
    }
    const base = `DAMON samples access frequency per address region (adaptive regions, not per page)`;
    if (inspection?.mayStart) {
      const leftovers = inspection.kdamonds.filter((k) => k.leftoverOfTierscope).length;
      source = {
        id: 'damon',
        available: true,
        reason:
          leftovers > 0
            ? `${base}; the ${leftovers} kdamond(s) in ${dir} were left by a Tierscope process that ended without cleaning up (see ${path.join(damonStateDir, 'damon.json')}) and are removed when recording starts`
            : `no kdamond exists and we may create one: ${base}`,
      };
    } else if (inspection?.record && inspection.ownerAlive) {
      source = {
        id: 'damon',
        available: false,
        reason: inspection.refusal ?? 'another Tierscope uses DAMON',
      };
    } else if (kdamondDirs.length > 0) {
      source = foreign(inspection ? '' : ` (their setup could not be read: ${inspectError})`);
    } else {
      source = {
        id: 'damon',
        available: false,
        reason: inspection?.refusal ?? `cannot judge DAMON's state: ${inspectError}`,
      };
    }
  }
  return { summary, source };
}

async function probeRefs(targetDir: string, who: string): Promise<SourceAvailability> {
  const clearRefs = path.join(targetDir, 'clear_refs');
  const smaps = path.join(targetDir, 'smaps');
  const denied = `${who} belongs to another user: clear_refs and smaps may be used only by the process's owner or root; run Tierscope as that user or as root`;
  switch (await tryOpen(clearRefs, constants.O_WRONLY)) {
    case 'missing':
      return {
        id: 'refs',
        available: false,
        reason: `kernel built without CONFIG_PROC_PAGE_MONITOR: ${clearRefs} does not exist`,
      };
    case 'denied':
      return { id: 'refs', available: false, reason: denied };
    case 'ok':
      break;
  }
  switch (await tryOpen(smaps, constants.O_RDONLY)) {
    case 'missing':
      return {
        id: 'refs',
        available: false,
        reason: `kernel built without CONFIG_PROC_PAGE_MONITOR: ${smaps} does not exist`,
      };
    case 'denied':
      return { id: 'refs', available: false, reason: denied };
    case 'ok':
      return {
        id: 'refs',
        available: true,
        reason: `${clearRefs} is writable and smaps readable: it sees only referenced bytes per VMA (smaps "Referenced"), no per-page detail, and each clear also resets the accessed bits that reclaim uses to age pages`,
      };
  }
}

/** Probes kernel, credentials, DAMON state and access-tracking sources. Never writes anything. */
export async function probeCapabilities({
  sysRoot = '/sys',
  procRoot = '/proc',
  pid,
  damonStateDir = '/run/tierscope',
}: CapabilityProbeOptions = {}): Promise<Capabilities> {
  if (pid !== undefined && (!Number.isSafeInteger(pid) || pid <= 0)) {
    throw new TierscopeError(
      'invalid-argument',
      `${String(pid)} is not a process id (expected a positive integer)`,
    );
  }
  const osreleaseFile = path.join(procRoot, 'sys/kernel/osrelease');
  const kernelRelease = (await readKernelFile(osreleaseFile, `procfs is not mounted at ${procRoot}`)).trim();
  const selfStatusFile = path.join(procRoot, 'self/status');
  const selfStatus = await readKernelFile(selfStatusFile, `procfs is not mounted at ${procRoot}`);
  const { uid, euid } = parseProcStatus(selfStatus, selfStatusFile);
  const capEff = parseCapEff(selfStatus, selfStatusFile);
  const capSysAdmin = hasCap(capEff, CAP_SYS_ADMIN);
  const capSysNice = hasCap(capEff, CAP_SYS_NICE);
  const creds: Creds = { euid, capSysAdmin, capDacOverride: hasCap(capEff, CAP_DAC_OVERRIDE) };

  const targetDir = path.join(procRoot, pid === undefined ? 'self' : String(pid));
  const who = pid === undefined ? 'this process' : `process ${pid}`;
  if (pid !== undefined) {
    try {
      await stat(targetDir);
    } catch (err) {
      throw procfsError(err, pid, 'its /proc directory');
    }
  }

  const damon = await probeDamon(sysRoot, procRoot, creds, damonStateDir);
  return {
    kernelRelease,
    uid,
    euid,
    capSysAdmin,
    capSysNice,
    // move_pages/migrate_pages on another user's process pass ptrace_may_access(PTRACE_MODE_READ_REALCREDS),
    // i.e. CAP_SYS_PTRACE, and need CAP_SYS_NICE for shared pages (MPOL_MF_MOVE_ALL) and for nodes outside
    // the target's cpuset. The kernel checks capabilities, not uid 0: root in a container may lack them.
    canMigrateOthers: capSysNice && hasCap(capEff, CAP_SYS_PTRACE),
    damon: damon.summary,
    sources: [
      await probeIdlePages(targetDir, who),
      await probePageIdle(sysRoot, creds),
      damon.source,
      await probeRefs(targetDir, who),
    ],
  };
}
