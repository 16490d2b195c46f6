// Migration experiments started from a UI: a move_pages experiment (moveExperiment.ts) or a lazy rebind
// (lazy.ts), answered once its plan is known, then followed with throttled progress and one end, and
// recorded into the session it was linked to. Experiments belong to the process, not to the UI that
// started them; the agent's end cancels those still running (between batches) and waits for them.
import type { Experiment, ExperimentProgress, StartMigration } from '../../contract/index.js';
import { pageSizeBytes as nativePageSizeBytes } from '../../../native-bridge/index.js';
import { TierscopeError } from '../errors.js';
import {
  DEFAULT_MEASUREMENT,
  linkSession,
  runLazyRebind,
  runMoveExperiment,
  type ExperimentEvent,
  type ExperimentRegistry,
  type MoveBridge,
  type MovePlan,
  type SessionLink,
} from '../migrate/index.js';
import { recordExperimentInSession } from '../migrate/record.js';
import { assertSameProcess, readProcStat } from '../procfs/process.js';
import type { RecordingManager } from './recordings.js';
import { Throttle } from './throttle.js';
import { abortAll, type RunningJob, type StartingJob } from './jobs.js';

/** experimentProgress at most this often (ms); the last one before the end is always sent. */
export const EXPERIMENT_PROGRESS_PERIOD_MS = 250;

export interface ExperimentEnd {
  experiment: Experiment;
  /** The session the record was written into, or null (none asked, or writing it failed: see detail). */
  sessionPath: string | null;
}

export interface MigrationEvents {
  progress(progress: ExperimentProgress): void;
  ended(end: ExperimentEnd): void;
}

export interface MigrationStarted {
  experimentId: string;
  plan: MovePlan;
  /** The record as it stands when the plan is known (status 'running'); null for a dry run. */
  experiment: Experiment | null;
}

export interface MigrationManagerOptions {
  procRoot?: string;
  sysRoot?: string;
  /** The machine-wide registry of running experiments (default: the engine's). */
  registry?: ExperimentRegistry;
  /** The native calls (tests substitute a simulated kernel). */
  bridge?: MoveBridge;
  /** Recordings of this process, so an experiment on a session being recorded goes into its journal. */
  recordings?: RecordingManager;
  log?: (line: string) => void;
}

const MIB = 2 ** 20;

/** One status-bar line and the numbers of an engine event. */
export function progressOf(
  e: ExperimentEvent,
  running: Experiment,
  plan: MovePlan,
  pageSizeBytes: number,
): ExperimentProgress {
  const common = {
    experimentId: running.id,
    kind: running.kind,
    pendingPages: 0,
    bytesPerSecond: 0,
    partialHistogram: null,
  };
  const toMove = Math.round(plan.bytesToMove / pageSizeBytes);
  switch (e.phase) {
    case 'benchmark':
      return {
        ...common,
        phase: 'benchmark',
        pagesDone: 0,
        pagesTotal: toMove,
        text: `running the benchmark command (${e.when} the move)`,
      };
    case 'measuring':
      return {
        ...common,
        phase: 'measuring',
        pagesDone: 0,
        pagesTotal: toMove,
        text: `measuring page classes (${e.when} the move) with ${e.source}: scan ${e.scan}/${e.of}`,
      };
    case 'moving': {
      const p = e.progress;
      const bytesPerSecond = p.elapsedMs > 0 ? (p.bytesMoved * 1000) / p.elapsedMs : 0;
      return {
        ...common,
        phase: 'moving',
        pagesDone: p.pagesDone,
        pagesTotal: p.pagesTotal,
        bytesPerSecond,
        text: `moving: ${p.pagesDone}/${p.pagesTotal} pages, ${(p.bytesMoved / MIB).toFixed(1)} MiB copied (${(bytesPerSecond / MIB).toFixed(1)} MiB/s)`,
        // A copy: the engine keeps adding to its histogram while this waits to be sent.
        partialHistogram: { ...p.histogram, otherFailures: { ...p.histogram.otherFailures } },
      };
    }
    case 'waiting': {
      const bytesPerSecond = e.elapsedMs > 0 ? (e.movedOnTouch * pageSizeBytes * 1000) / e.elapsedMs : 0;
      return {
        ...common,
        phase: 'waiting',
        pagesDone: e.movedOnTouch,
        pagesTotal: toMove,
        pendingPages: e.pending,
        bytesPerSecond,
        text: `lazy rebind: ${e.movedOnTouch} pages moved on touch, ${e.pending} waiting, ${e.failed} failed (round ${e.rounds}, ${Math.round(e.elapsedMs / 1000)} s)`,
      };
    }
    case 'verifying':
      return {
        ...common,
        phase: 'verifying',
        pagesDone: 0,
        pagesTotal: toMove,
        text: 'verifying: re-querying where the pages are',
      };
  }
}

const hex = (h: string): bigint => BigInt(`0x${h}`);

export class MigrationManager {
  readonly #running = new Map<string, RunningJob>();
  /** Experiments not answered yet (before their plan): the agent's end must stop them too. */
  readonly #starting = new Set<StartingJob>();
  readonly #options: MigrationManagerOptions;
  readonly #log: (line: string) => void;

  constructor(options: MigrationManagerOptions = {}) {
    this.#options = options;
    this.#log = options.log ?? (() => undefined);
  }

  get runningCount(): number {
    return this.#running.size;
  }

  /**
   * Checks, links the session, runs the engine up to its plan and answers: every refusal (dead or
   * replaced process, unknown node, overlapping experiment, missing sampler, unusable session) throws
   * here, before anything moved. A dry run ends with its plan; a real run goes on in the background.
   */
  async start(params: StartMigration, events: MigrationEvents): Promise<MigrationStarted> {
    const o = this.#options;
    const roots = {
      ...(o.procRoot !== undefined ? { procRoot: o.procRoot } : {}),
      ...(o.sysRoot !== undefined ? { sysRoot: o.sysRoot } : {}),
    };
    const { pid, selection } = params;
    checkSelection(params);
    const startTicks =
      params.startTimeTicks ??
      (await readProcStat(pid, roots.procRoot ? { procRoot: roots.procRoot } : {})).startTimeTicks;
    if (params.startTimeTicks !== undefined) await assertSameProcess(pid, params.startTimeTicks, roots);

    // The session is checked before anything runs: an experiment that could not be recorded must not move pages.
    let link: SessionLink | null = null;
    const live = params.sessionPath !== null && (o.recordings?.isRecording(params.sessionPath) ?? false);
    if (params.sessionPath !== null) {
      link = await linkSession(params.sessionPath, pid, startTicks, {
        forRecording: !params.dryRun && !live,
      });
      if (selection.hotness !== null && link.classes === null) {
        throw new TierscopeError(
          'invalid-argument',
          `${link.path} has no closed hotness window yet (it takes ${link.session.meta.scansPerWindow} intervals) to take hot/cold classes from`,
        );
      }
    }

    const controller = new AbortController();
    // Filled by onPlan (a holder object: the callbacks assign it after this function's checks).
    const state: {
      planned: { plan: MovePlan; running: Experiment } | null;
      throttle: Throttle<ExperimentProgress> | null;
    } = {
      planned: null,
      throttle: null,
    };
    let onPlanned: () => void = () => undefined;
    const planKnown = new Promise<null>((resolve) => {
      onPlanned = () => {
        resolve(null);
      };
    });
    const pageSize = nativePageSizeBytes();
    const onEvent = (e: ExperimentEvent): void => {
      // Before the plan the UI does not know the experiment yet (the answer carries its id).
      if (state.planned === null) return;
      state.throttle?.push(progressOf(e, state.planned.running, state.planned.plan, pageSize));
    };
    const onPlan = (plan: MovePlan, running: Experiment): void => {
      state.planned = { plan, running };
      state.throttle = new Throttle<ExperimentProgress>(EXPERIMENT_PROGRESS_PERIOD_MS, (p) => {
        events.progress(p);
      });
      onPlanned();
    };
    const common = {
      pid,
      toNode: params.toNode,
      rateBytesPerSecond: params.rateBytesPerSecond,
      dryRun: params.dryRun,
      signal: controller.signal,
      onEvent,
      onPlan,
      session: link?.timing ?? null,
      ...roots,
      ...(o.registry ? { registry: o.registry } : {}),
      ...(o.bridge ? { bridge: o.bridge } : {}),
    };
    const ranges = selection.ranges.map((r) => ({ start: hex(r.start), end: hex(r.end) }));
    const run: Promise<Experiment> =
      params.kind === 'lazy-rebind'
        ? runLazyRebind({
            ...common,
            range: ranges[0] ?? { start: 0n, end: 0n },
            expireMs: params.expireMs,
          }).then((r) => r.experiment)
        : runMoveExperiment({
            ...common,
            selection: {
              ...(ranges.length === 1 ? { range: ranges[0] ?? null } : { ranges }),
              hotness: selection.hotness,
              topKPages: selection.topKPages,
              fromNodes: selection.fromNodes,
            },
            classes: link?.classes ?? null,
            // Page classes come from the session when there is one; otherwise a live measurement (when a
            // page sampler exists) before and after, except for a plain preview, which should be quick.
            measurement: link || (params.dryRun && selection.hotness === null) ? false : DEFAULT_MEASUREMENT,
          }).then((r) => r.experiment);

    let markSettled: () => void = () => undefined;
    const starting = {
      controller,
      settled: new Promise<void>((resolve) => {
        markSettled = resolve;
      }),
    };
    this.#starting.add(starting);
    try {
      try {
        await Promise.race([planKnown, run]);
      } catch (err) {
        throw rephrase(err, selection.hotness);
      }
      const planned = state.planned;
      if (planned === null) throw new Error('the experiment ended without a plan');
      const { plan, running } = planned;
      if (params.dryRun) {
        // Ends right after the plan; its record is not kept (a preview changes nothing).
        await run.catch(() => undefined);
        state.throttle?.stop();
        return { experimentId: running.id, plan, experiment: null };
      }
      const done = this.#finish(run, running, link, live, events, () => state.throttle);
      // done settles when the experiment has ended and been reported (never rejects).
      this.#running.set(running.id, { controller, done });
      void done.then(() => this.#running.delete(running.id));
      this.#log(
        `experiment ${running.id} (${running.kind}) of process ${pid} → node ${params.toNode}: started`,
      );
      return { experimentId: running.id, plan, experiment: running };
    } finally {
      // Registered as running (or refused) by now: cancelAll finds it in one place or the other.
      this.#starting.delete(starting);
      markSettled();
    }
  }

  /** Asks a running experiment to stop between batches; its end (cancelled) follows as an event. */
  cancel(experimentId: string): void {
    const r = this.#running.get(experimentId);
    if (!r) {
      throw new TierscopeError(
        'not-found',
        `no running experiment ${JSON.stringify(experimentId.slice(0, 64))} in this agent: it has ended (see its experimentEnded event)`,
      );
    }
    r.controller.abort();
  }

  /** Cancels every running experiment and waits until each has ended and been recorded. */
  async cancelAll(): Promise<void> {
    // One still planning (measuring before the move) stops at its next check and is refused or, if its
    // plan came meanwhile, registered: then it is cancelled with the rest below.
    await abortAll(this.#starting, () => this.#running.values());
  }

  /** Waits for the engine, records the experiment in its session, and reports the end. Never rejects. */
  async #finish(
    run: Promise<Experiment>,
    running: Experiment,
    link: SessionLink | null,
    live: boolean,
    events: MigrationEvents,
    throttle: () => Throttle<ExperimentProgress> | null,
  ): Promise<void> {
    let experiment: Experiment;
    try {
      experiment = await run;
    } catch (err) {
      // After the plan the engine reports failures in the record; an exception here is unexpected, but
      // the UI must still see the experiment end.
      this.#log(
        `experiment ${running.id} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
      experiment = {
        ...running,
        endedAt: new Date().toISOString(),
        status: 'failed',
        detail: err instanceof Error ? err.message : String(err),
      };
    }
    let sessionPath: string | null = null;
    if (link) {
      try {
        const appended = live
          ? await this.#options.recordings?.appendExperiment(link.path, experiment)
          : 'ended';
        if (appended !== 'appended') await recordExperimentInSession(link.path, experiment);
        sessionPath = link.path;
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        this.#log(`experiment ${experiment.id}: not recorded in ${link.path}: ${why}`);
        experiment = { ...experiment, detail: `${experiment.detail}; not recorded in ${link.path}: ${why}` };
      }
    }
    const t = throttle();
    t?.flush();
    t?.stop();
    this.#log(`experiment ${experiment.id} ended: ${experiment.status}: ${experiment.detail}`);
    events.ended({ experiment, sessionPath });
  }
}

/** Refuses selections the chosen kind cannot take, in the UI's words. */
function checkSelection(params: StartMigration): void {
  const s = params.selection;
  if (s.hotness === 'top-k' && s.topKPages === null) {
    throw new TierscopeError(
      'invalid-argument',
      'a top-k selection needs topKPages (how many of the hottest pages)',
    );
  }
  if (params.kind === 'lazy-rebind') {
    if (s.ranges.length !== 1) {
      throw new TierscopeError(
        'invalid-argument',
        `a lazy rebind takes one address range, got ${s.ranges.length}: start one per range`,
      );
    }
    if (s.hotness !== null || s.fromNodes !== null) {
      throw new TierscopeError(
        'invalid-argument',
        'a lazy rebind moves every page of its range on first touch: it takes no hotness or from-node filter',
      );
    }
  } else if (params.expireMs !== null) {
    throw new TierscopeError('invalid-argument', 'expireMs applies to lazy rebinds only');
  }
}

/** The engine's CLI wording for a missing sampler, in the UI's terms. */
function rephrase(err: unknown, hotness: string | null): unknown {
  if (
    hotness !== null &&
    err instanceof TierscopeError &&
    err.code === 'invalid-argument' &&
    err.message.startsWith(`--${hotness} needs page classes`)
  ) {
    return new TierscopeError(
      'invalid-argument',
      `selecting ${hotness} pages needs page classes: choose a recording of this process to take them from, or run the agent where a per-page sampler (idle_pages, page_idle) is available`,
      { cause: err },
    );
  }
  return err;
}
