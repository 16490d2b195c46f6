/**
 * What every experiment needs before it touches anything: who the target is (pid + start time, so a
 * reused PID is caught), which nodes can take pages, the sampler it may use, and the clock that places
 * it on a session's timeline. Shared by moves, whole-process migrations and lazy rebinds.
 */
import { randomBytes } from 'node:crypto';
import type { AccessSourceId, Capabilities, Experiment, ProcessInfo } from '../../contract/index.js';
import { Experiment as ExperimentSchema } from '../../contract/index.js';
import { pageSizeBytes as nativePageSizeBytes } from '../../../native-bridge/index.js';
import type { ScanVma } from '../access/source.js';
import { probeCapabilities } from '../caps.js';
import { TierscopeError } from '../errors.js';
import { readProcess } from '../procfs/process.js';
import { runBenchmark, type BenchmarkRun } from './benchmark.js';
import type { MoveProgress } from './execute.js';
import {
  choosePageSource,
  countsFromModel,
  measure,
  type LiveSourceChoice,
  type PageCounts,
} from './measure.js';
import { readNodeSets, type NodeSets } from './nodes.js';
import type { Clock } from './batches.js';

/** Where an experiment sits on a recording's timeline: the session's start, ms since the epoch. */
export interface SessionTiming {
  startedAtMs: number;
}

export type ExperimentEvent =
  | { phase: 'benchmark'; when: 'before' | 'after' }
  | { phase: 'measuring'; when: 'before' | 'after'; scan: number; of: number; source: AccessSourceId }
  | { phase: 'moving'; progress: MoveProgress }
  | {
      phase: 'waiting';
      movedOnTouch: number;
      pending: number;
      failed: number;
      rounds: number;
      elapsedMs: number;
    }
  | { phase: 'verifying' };

export interface CommonOptions {
  procRoot?: string;
  sysRoot?: string;
  /** Injected probe results (tests); probed when absent. */
  capabilities?: Capabilities;
  session?: SessionTiming | null;
  signal?: AbortSignal;
  onEvent?: (e: ExperimentEvent) => void;
  clock?: Clock;
}

export interface Target {
  process: ProcessInfo;
  nodeSets: NodeSets;
  pageSizeBytes: number;
  /** Date.now() when the experiment began. */
  startedAtMs: number;
  caps: Capabilities | null;
}

export function newExperimentId(): string {
  return `exp-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** Reads the target and the node sets; refuses kernel threads and exited processes. */
export async function identifyTarget(pid: number, options: CommonOptions): Promise<Target> {
  const startedAtMs = Date.now();
  const proc = await readProcess(pid, options.procRoot !== undefined ? { procRoot: options.procRoot } : {});
  if (!proc.hasUserMemory) {
    throw new TierscopeError(
      'kernel-thread',
      `process ${pid} (${proc.comm}) has no user memory (a kernel thread, or a process that is exiting): there is nothing to move`,
    );
  }
  const nodeSets = await readNodeSets(options.sysRoot);
  return {
    process: proc,
    nodeSets,
    pageSizeBytes: nativePageSizeBytes(),
    startedAtMs,
    caps: options.capabilities ?? null,
  };
}

export async function capabilitiesOf(target: Target, options: CommonOptions): Promise<Capabilities> {
  target.caps ??=
    options.capabilities ??
    (await probeCapabilities({
      pid: target.process.pid,
      ...(options.procRoot !== undefined ? { procRoot: options.procRoot } : {}),
      ...(options.sysRoot !== undefined ? { sysRoot: options.sysRoot } : {}),
    }));
  return target.caps;
}

/** The page source to use, or null (with why) when none is available and `required` is false. */
export async function pageSourceFor(
  target: Target,
  options: CommonOptions,
  purpose: string,
  required: boolean,
): Promise<{ choice: LiveSourceChoice | null; why: string }> {
  const caps = await capabilitiesOf(target, options);
  try {
    const choice = choosePageSource(
      caps,
      target.process.pid,
      {
        pageSizeBytes: target.pageSizeBytes,
        ...(options.procRoot !== undefined ? { procRoot: options.procRoot } : {}),
        ...(options.sysRoot !== undefined ? { sysRoot: options.sysRoot } : {}),
      },
      purpose,
    );
    return { choice, why: '' };
  } catch (err) {
    if (required) throw err;
    return { choice: null, why: err instanceof Error ? err.message : String(err) };
  }
}

/** Ms of `atMs` (Date.now() scale) on the experiment's timeline: since the session start, or since it began. */
export function timelineMs(target: Target, options: CommonOptions, atMs: number): number {
  const zero = options.session?.startedAtMs ?? target.startedAtMs;
  return Math.max(0, atMs - zero);
}

/** A live N-scan measurement of `ranges` turned into page counts. */
export async function measureLive(
  choice: LiveSourceChoice,
  ranges: readonly { start: bigint; end: bigint }[],
  measurement: { scans: number; intervalMs: number },
  target: Target,
  options: CommonOptions,
  when: 'before' | 'after',
): Promise<{ counts: PageCounts; scans: number }> {
  const vmas: ScanVma[] = ranges.map((r, id) => ({ id, start: r.start, end: r.end }));
  const { model, scans } = await measure({
    source: choice.create(),
    vmas,
    scans: measurement.scans,
    intervalMs: measurement.intervalMs,
    pageSizeBytes: target.pageSizeBytes,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    onScan: (scan, of) => options.onEvent?.({ phase: 'measuring', when, scan, of, source: choice.id }),
  });
  return {
    counts: countsFromModel(
      model,
      vmas,
      `${choice.id}, ${scans} scans ${measurement.intervalMs} ms apart`,
      scans,
    ),
    scans,
  };
}

/**
 * Runs the experiment's benchmark command, if it has one, announcing the phase; a run without a number
 * adds why to `notes`. Null without a benchmark.
 */
export async function benchmarkPhase(
  options: CommonOptions & { benchmark?: { command: string; timeoutMs?: number } | null },
  when: 'before' | 'after',
  notes: string[],
): Promise<BenchmarkRun | null> {
  if (!options.benchmark) return null;
  options.onEvent?.({ phase: 'benchmark', when });
  const run = await runBenchmark(options.benchmark.command, {
    ...(options.benchmark.timeoutMs !== undefined ? { timeoutMs: options.benchmark.timeoutMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (run.problem) notes.push(`benchmark ${when}: ${run.problem}`);
  return run;
}

/** Validates an assembled record against the contract: a bug here must not reach a session file. */
export function checkedExperiment(e: Experiment): Experiment {
  const r = ExperimentSchema.safeParse(e);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(
      `internal: experiment record does not match the contract at ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`,
    );
  }
  return r.data;
}
