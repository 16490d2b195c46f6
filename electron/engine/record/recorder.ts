import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  AccessSourceId,
  Experiment,
  HeatRow,
  IntervalRecord,
  SessionEnd,
  SessionMeta,
  SessionVma,
  Vma,
  VmaSample,
} from '../../contract/index.js';
import { pageSizeBytes as nativePageSizeBytes } from '../../../native-bridge/index.js';
import { HotnessModel } from '../access/hotness.js';
import type { AccessSource, ScanVma } from '../access/source.js';
import { probeCapabilities } from '../caps.js';
import { CounterSampler } from '../counters.js';
import { TierscopeError } from '../errors.js';
import { queryRangePageNodes } from '../pageNodes.js';
import { assertHasUserMemory, readProcess, readProcStat } from '../procfs/process.js';
import { readVmas } from '../procfs/vmas.js';
import { createSessionWriter, type SessionCloseResult } from '../session/index.js';
import { readTopology } from '../sysfs/topology.js';
import { chooseSource, createSource, type SourceRequest } from './sources.js';

export const DEFAULT_INTERVAL_MS = 1000;
/** include/linux/sched.h: set on a task at the start of do_exit(). */
const PF_EXITING = 0x0000_0004;
export const DEFAULT_SCANS_PER_WINDOW = 5;
export const DEFAULT_HEAT_BUCKETS = 64;

export interface RecordOptions {
  pid: number;
  out: string;
  source?: SourceRequest;
  intervalMs?: number;
  scansPerWindow?: number;
  /** Stop after this long; null/undefined = until `signal` aborts or the process exits. */
  durationMs?: number | null;
  heatBucketsPerVma?: number;
  /** Cap on the sampler's own CPU use, percent of one core; intervals stretch to respect it. */
  maxCpuPercent?: number;
  force?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: RecordProgress) => void;
  /**
   * Called once the session file exists with its metadata, before the first interval: what was chosen
   * (source, why) for a caller that answers a start request, and the writer's appendExperiment, so an
   * experiment run during the recording is written into it (only the recorder may write its journal).
   */
  onStart?: (started: RecordStarted) => void;
  procRoot?: string;
  sysRoot?: string;
  tierscopeVersion?: string;
}

export interface RecordProgress {
  intervals: number;
  elapsedMs: number;
  source: AccessSourceId;
  rssBytes: number;
  hotBytes: number;
  warmBytes: number;
  coldBytes: number;
  /** Scans in the current window (classes are final once it reaches scansPerWindow). */
  scansInWindow: number;
  scansPerWindow: number;
  samplerCpuPercent: number;
  pagesScannedPerSecond: number;
}

export interface RecordStarted {
  meta: SessionMeta;
  path: string;
  /** Appends an experiment record to the journal; rejects (invalid-argument) once the writer is closed. */
  appendExperiment: (experiment: Experiment) => Promise<void>;
}

export interface RecordResult {
  meta: SessionMeta;
  end: SessionEnd;
  file: SessionCloseResult;
}

/** VMAs a sampler looks at: resident, and not kernel-provided pages the process cannot own. */
function isScannable(v: Vma): boolean {
  return v.rssBytes > 0 && v.kind !== 'vsyscall' && v.kind !== 'vvar' && v.kind !== 'vdso';
}

/**
 * Stable ids for VMAs across intervals: keyed by start address and path, so a heap that grows (same
 * start, new end) keeps its id and its hotness history; an unmapped-and-remapped range with another
 * file gets a new id.
 */
class VmaIds {
  private readonly ids = new Map<string, number>();
  next = 0;
  assign(vmas: readonly Vma[], interval: number): { ids: number[]; fresh: SessionVma[] } {
    const fresh: SessionVma[] = [];
    const ids = vmas.map((v) => {
      const key = `${v.start}|${v.path}`;
      let id = this.ids.get(key);
      if (id === undefined) {
        id = this.next++;
        this.ids.set(key, id);
        fresh.push({
          id,
          start: v.start,
          end: v.end,
          perms: v.perms,
          path: v.path,
          kind: v.kind,
          firstInterval: interval,
        });
      }
      return id;
    });
    return { ids, fresh };
  }
}

function cpuMsSince(before: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1000;
}

/**
 * Records a process: every interval reads its VMAs (residency by node), scans accesses with the chosen
 * source, updates the hotness model, samples kernel counters and appends one IntervalRecord to the
 * session (durably: a recorder killed at any point leaves every complete interval). Ends cleanly — with
 * the reason in the session — when the duration is reached, the signal aborts, the process exits or its
 * PID is reused.
 */
export async function record(options: RecordOptions): Promise<RecordResult> {
  const { pid } = options;
  const procRoot = options.procRoot ?? '/proc';
  const sysRoot = options.sysRoot ?? '/sys';
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  const scansPerWindow = options.scansPerWindow ?? DEFAULT_SCANS_PER_WINDOW;
  const heatBucketsPerVma = options.heatBucketsPerVma ?? DEFAULT_HEAT_BUCKETS;
  if (!Number.isInteger(intervalMs) || intervalMs < 10) {
    throw new TierscopeError('invalid-argument', `interval ${intervalMs} ms is too short: use 10 ms or more`);
  }
  if (!Number.isInteger(scansPerWindow) || scansPerWindow < 1 || scansPerWindow > 255) {
    throw new TierscopeError('invalid-argument', `--scans must be 1..255, got ${scansPerWindow}`);
  }
  const pageSizeBytes = nativePageSizeBytes();

  const proc = await readProcess(pid, { procRoot });
  await assertHasUserMemory(proc, { procRoot });
  const [topology, caps] = await Promise.all([
    readTopology({ sysRoot, procRoot }),
    probeCapabilities({ sysRoot, procRoot, pid }),
  ]);
  const choice = chooseSource(caps, options.source ?? 'auto');
  const nodes = topology.nodes.map((n) => n.id);
  const source: AccessSource = createSource(choice.id, pid, { procRoot, sysRoot, pageSizeBytes, intervalMs });

  const meta: SessionMeta = {
    formatVersion: 1,
    tierscopeVersion: options.tierscopeVersion ?? '0.0.0',
    startedAt: new Date().toISOString(),
    target: { pid, comm: proc.comm, cmdline: proc.cmdline, startTimeTicks: proc.startTimeTicks },
    hostname: hostname(),
    kernelRelease: caps.kernelRelease,
    pageSizeBytes,
    nodes,
    topology,
    source: choice.id,
    sourceReason: choice.reason,
    sourceLimits: source.limits,
    intervalMs,
    scansPerWindow,
    heatBucketsPerVma,
  };

  const writer = await createSessionWriter(options.out, meta, options.force ? { force: true } : {});
  options.onStart?.({
    meta,
    path: options.out,
    appendExperiment: (experiment) => writer.appendExperiment(experiment),
  });
  const model = new HotnessModel({ scansPerWindow, heatBucketsPerVma, pageSizeBytes });
  const ids = new VmaIds();
  const endWith = (reason: SessionEnd['reason'], detail: string): SessionEnd => ({
    endedAt: new Date().toISOString(),
    reason,
    detail,
  });

  /** Is the target still the process we started with? The end reason when it is not. */
  const gone = async (): Promise<SessionEnd | null> => {
    try {
      const stat = await readProcStat(pid, { procRoot });
      if (stat.startTimeTicks !== proc.startTimeTicks) {
        return endWith('pid-reused', `PID ${pid} now belongs to another process (start time changed)`);
      }
      // PF_EXITING: the task is inside exit() — its memory may already be gone (smaps and pagemap read
      // empty) while /proc still shows it running until the teardown of its pages is done.
      if (stat.state !== 'Z' && stat.state !== 'X' && (stat.flags & PF_EXITING) === 0) return null;
    } catch {
      // stat unreadable: the process is gone.
    }
    return endWith('process-exited', `process ${pid} (${proc.comm}) exited`);
  };

  let counters: CounterSampler | null = null;
  const t0 = performance.now();

  const loop = async (): Promise<SessionEnd> => {
    counters = await CounterSampler.open(pid, procRoot);
    await counters.sample(); // baseline: the first interval's deltas start here
    const armed = (await readVmas(pid, { procRoot, pageSizeBytes })).filter(isScannable);
    await source.start(armed.map((v) => scanVma(v, -1)));
    let byNode = new Map<number, { hot: number[]; cold: number[] }>();
    // An interval covers the accesses between two scans: from the previous scan (or arming) to this one.
    let lastScanMs = performance.now() - t0;

    for (let index = 0; ; index++) {
      // Drift-free schedule: interval k ends at t0 + (k+1)·interval (later only when the CPU cap says so).
      const waitMs = t0 + (index + 1) * intervalMs - performance.now();
      if (waitMs > 0) {
        try {
          await sleep(waitMs, undefined, options.signal ? { signal: options.signal } : {});
        } catch {
          return endWith('stopped', 'stopped by the user');
        }
      }
      if (options.signal?.aborted) return endWith('stopped', 'stopped by the user');
      const cpuBefore = process.cpuUsage();

      let record: IntervalRecord;
      try {
        const vmas = (await readVmas(pid, { procRoot, pageSizeBytes })).filter(isScannable);
        const assigned = ids.assign(vmas, index);
        const scanVmas = vmas.map((v, i) => scanVma(v, assigned.ids[i] ?? 0));
        const scan = await source.scan(scanVmas);
        const hot = model.update(scanVmas, scan.accesses);
        const windowClosed = (index + 1) % scansPerWindow === 0;
        if (windowClosed) byNode = classesByNode(pid, scanVmas, model, nodes, pageSizeBytes);
        const zeros = nodes.map(() => 0);
        const samples: VmaSample[] = vmas.map((v, i) => {
          const id = scanVmas[i]?.id ?? 0;
          const h = hot[i];
          return {
            vmaId: id,
            rssPages: Math.round(v.rssBytes / pageSizeBytes),
            pagesByNode: nodes.map((n) => v.pagesByNode[String(n)] ?? 0),
            accessedPages: h?.accessedPages ?? 0,
            hotPages: h?.hotPages ?? 0,
            warmPages: h?.warmPages ?? 0,
            coldPages: h?.coldPages ?? 0,
            hotPagesByNode: byNode.get(id)?.hot ?? zeros,
            coldPagesByNode: byNode.get(id)?.cold ?? zeros,
          };
        });
        const heat: HeatRow[] = [];
        for (const v of scanVmas) {
          const row = model.heatRow(v.id);
          if (row) heat.push(row);
        }
        record = {
          index,
          startMs: lastScanMs,
          endMs: performance.now() - t0,
          samplerCpuMs: 0,
          pagesScanned: scan.pagesScanned,
          scansInWindow: Math.min(index + 1, scansPerWindow),
          newVmas: assigned.fresh,
          samples,
          heat,
          countRuns: windowClosed ? model.allCountRuns() : null,
          counters: await counters.sample(),
        };
      } catch (err) {
        // A read that failed because the process ended is the end of the recording, not an error.
        const ended = await gone();
        if (ended) return ended;
        throw err;
      }
      record.samplerCpuMs = cpuMsSince(cpuBefore);
      lastScanMs = record.endMs;
      await writer.append(record);
      options.onProgress?.(progressOf(record, choice.id, scansPerWindow, pageSizeBytes, intervalMs));

      if (options.maxCpuPercent !== undefined && options.maxCpuPercent > 0) {
        // CPU cap: stretch this interval until the sampler's share of it is within the cap.
        const neededMs = (record.samplerCpuMs * 100) / options.maxCpuPercent - intervalMs;
        if (neededMs > 0) await sleep(neededMs);
      }
      if (options.durationMs != null && performance.now() - t0 >= options.durationMs) {
        return endWith('duration-reached', `recorded for ${Math.round(options.durationMs / 1000)} s`);
      }
      const ended = await gone();
      if (ended) return ended;
    }
  };

  let end: SessionEnd;
  let failure: Error | null = null;
  try {
    end = await loop();
  } catch (err) {
    failure = err instanceof Error ? err : new Error(String(err));
    end = endWith('source-failed', err instanceof Error ? err.message : String(err));
  } finally {
    await source.stop().catch(() => undefined);
    await (counters as CounterSampler | null)?.close().catch(() => undefined);
  }
  if (failure !== null && writer.intervalCount === 0) {
    // Nothing was recorded: no empty session left behind, and the caller sees the real error.
    await writer.abort();
    throw failure;
  }
  const file = await writer.close(end);
  return { meta, end, file };
}

function scanVma(v: Vma, id: number): ScanVma {
  return { id, start: BigInt(`0x${v.start}`), end: BigInt(`0x${v.end}`) };
}

/**
 * Where hot and cold pages live: one move_pages query per VMA that has any, once per hotness window
 * (not every interval: it walks every page). Sources without page identity leave zeros.
 */
function classesByNode(
  pid: number,
  vmas: readonly ScanVma[],
  model: HotnessModel,
  nodes: readonly number[],
  pageSizeBytes: number,
): Map<number, { hot: number[]; cold: number[] }> {
  const out = new Map<number, { hot: number[]; cold: number[] }>();
  for (const v of vmas) {
    const h = model.get(v.id);
    if (!h || h.granularity === 'vma' || h.granularity === null || h.hotPages + h.coldPages === 0) continue;
    try {
      const q = queryRangePageNodes(pid, v.start, v.end, { pageSizeBytes });
      const byNode = model.classPagesByNode(v.id, q.status, nodes);
      out.set(v.id, { hot: byNode.hotPagesByNode, cold: byNode.coldPagesByNode });
    } catch {
      // The VMA vanished between the scan and the query: it has no node split this window.
    }
  }
  return out;
}

function progressOf(
  r: IntervalRecord,
  source: AccessSourceId,
  scansPerWindow: number,
  pageSizeBytes: number,
  intervalMs: number,
): RecordProgress {
  let rss = 0;
  let hot = 0;
  let warm = 0;
  let cold = 0;
  for (const s of r.samples) {
    rss += s.rssPages;
    hot += s.hotPages;
    warm += s.warmPages;
    cold += s.coldPages;
  }
  const spanMs = Math.max(1, r.endMs - r.startMs);
  return {
    intervals: r.index + 1,
    elapsedMs: r.endMs,
    source,
    rssBytes: rss * pageSizeBytes,
    hotBytes: hot * pageSizeBytes,
    warmBytes: warm * pageSizeBytes,
    coldBytes: cold * pageSizeBytes,
    scansInWindow: r.scansInWindow,
    scansPerWindow,
    samplerCpuPercent: (100 * r.samplerCpuMs) / Math.max(intervalMs, spanMs),
    pagesScannedPerSecond: (r.pagesScanned * 1000) / spanMs,
  };
}
