// Recordings started from a UI: the recorder (record/recorder.ts) run in this process with an
// AbortController, its progress throttled for the wire, its end reported once. Recordings belong to the
// process, not to the UI that started them: a UI that goes away does not lose them; they end with
// stopRecording, their duration, their process, or the agent (which stops them cleanly, so the file
// gets its end record).
import { randomBytes } from 'node:crypto';
import { mkdir, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Experiment, RecordingProgress, SessionEnd, StartRecording } from '../../contract/index.js';
import { TierscopeError } from '../errors.js';
import { assertSameProcess, readProcess } from '../procfs/process.js';
import { record, type RecordResult, type RecordStarted } from '../record/recorder.js';
import { fileError } from '../session/format.js';
import { exists } from './files.js';
import { Throttle } from './throttle.js';
import { abortAll, type RunningJob, type StartingJob } from './jobs.js';

/** recordingProgress at most this often (ms): twice a second is enough for a status bar. */
export const RECORDING_PROGRESS_PERIOD_MS = 500;
/** Ended recordings remembered for a late stopRecording (a stop that crossed the end). */
const ENDED_KEPT = 32;

export interface RecordingEnd {
  recording: string;
  path: string;
  intervals: number;
  end: SessionEnd;
}

export interface RecordingEvents {
  progress(progress: RecordingProgress): void;
  ended(end: RecordingEnd): void;
}

export interface RecordingStarted {
  recording: string;
  path: string;
  source: string;
  sourceReason: string;
}

export interface RecordingManagerOptions {
  procRoot?: string;
  sysRoot?: string;
  tierscopeVersion?: string;
  /** Where recordings without a path go; default $XDG_DATA_HOME (or ~/.local/share)/tierscope/sessions. */
  sessionsDir?: string;
  log?: (line: string) => void;
}

interface Running extends RunningJob {
  path: string;
  appendExperiment: (experiment: Experiment) => Promise<void>;
  /** Settles once the file is closed (never rejects). */
  done: Promise<RecordingEnd>;
}

const noop = (): void => undefined;

/** The default autosave folder (created on first use). */
export function defaultSessionsDir(): string {
  const data = process.env['XDG_DATA_HOME'];
  const base = data !== undefined && path.isAbsolute(data) ? data : path.join(homedir(), '.local/share');
  return path.join(base, 'tierscope', 'sessions');
}

/** `20250102T030405Z`: ISO 8601 basic format, no colons (they upset other systems' file names). */
function fileTime(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
}

export class RecordingManager {
  readonly #running = new Map<string, Running>();
  readonly #ended = new Map<string, RecordingEnd>();
  /** Recordings whose start is not answered yet: the agent's end must stop them too. */
  readonly #starting = new Set<StartingJob>();
  readonly #options: RecordingManagerOptions;
  readonly #log: (line: string) => void;
  #next = 1;

  constructor(options: RecordingManagerOptions = {}) {
    this.#options = options;
    this.#log = options.log ?? (() => undefined);
  }

  get runningCount(): number {
    return this.#running.size;
  }

  /** Is `file` (resolved) being recorded by this manager? */
  isRecording(file: string): boolean {
    return this.#recordingOf(file) !== undefined;
  }

  #recordingOf(file: string): Running | undefined {
    const resolved = path.resolve(file);
    for (const r of this.#running.values()) if (r.path === resolved) return r;
    return undefined;
  }

  /** Paths being recorded (resolved). */
  recordingPaths(): string[] {
    return [...this.#running.values()].map((r) => r.path);
  }

  /**
   * Writes an experiment into the recording of `file`: through its recorder while it runs (only the
   * recorder may write a journal); 'ended' when the recording is over (or ended meanwhile), after waiting
   * for its file to be closed, so the caller can add it to the finished file instead.
   */
  async appendExperiment(file: string, experiment: Experiment): Promise<'appended' | 'ended'> {
    const r = this.#recordingOf(file);
    if (!r) return 'ended';
    try {
      await r.appendExperiment(experiment);
      return 'appended';
    } catch (err) {
      // The writer closed between the lookup and the append: the recording is ending.
      if (!(
        err instanceof TierscopeError &&
        err.code === 'invalid-argument' &&
        /already closed/.test(err.message)
      ))
        throw err;
      await r.done;
      return 'ended';
    }
  }

  async start(params: StartRecording, events: RecordingEvents): Promise<RecordingStarted> {
    const procRoot = this.#options.procRoot ?? '/proc';
    if (params.startTimeTicks !== undefined)
      await assertSameProcess(params.pid, params.startTimeTicks, { procRoot });
    const proc = await readProcess(params.pid, { procRoot });
    const file = await this.#target(params.path, proc.comm, params.pid);

    const id = `rec-${this.#next++}-${randomBytes(3).toString('hex')}`;
    const controller = new AbortController();
    let onStarted: (s: RecordStarted) => void = () => undefined;
    const started = new Promise<RecordStarted>((resolve) => {
      onStarted = resolve;
    });
    const throttle = new Throttle<RecordingProgress>(RECORDING_PROGRESS_PERIOD_MS, (p) => {
      events.progress(p);
    });
    const run = record({
      pid: params.pid,
      out: file,
      source: params.source,
      intervalMs: params.intervalMs,
      durationMs: params.durationMs,
      signal: controller.signal,
      onStart: (s) => {
        onStarted(s);
      },
      onProgress: (p) => {
        throttle.push({
          recording: id,
          path: file,
          intervals: p.intervals,
          elapsedMs: p.elapsedMs,
          source: p.source,
          rssBytes: p.rssBytes,
          hotBytes: p.hotBytes,
          warmBytes: p.warmBytes,
          coldBytes: p.coldBytes,
          scansInWindow: p.scansInWindow,
          scansPerWindow: p.scansPerWindow,
          samplerCpuPercent: p.samplerCpuPercent,
        });
      },
      ...(params.scansPerWindow !== undefined ? { scansPerWindow: params.scansPerWindow } : {}),
      ...(this.#options.procRoot !== undefined ? { procRoot: this.#options.procRoot } : {}),
      ...(this.#options.sysRoot !== undefined ? { sysRoot: this.#options.sysRoot } : {}),
      ...(this.#options.tierscopeVersion !== undefined
        ? { tierscopeVersion: this.#options.tierscopeVersion }
        : {}),
    });
    // The answer waits for the file to exist with its metadata (the source is chosen then); a failure
    // before that (unusable source, file exists, process gone) is the answer.
    const starting = { controller, settled: run.then(noop, noop) };
    this.#starting.add(starting);
    let first: RecordStarted | null;
    try {
      first = await Promise.race([started, run.then(() => null)]);
    } finally {
      this.#starting.delete(starting);
    }
    if (first === null) throw new Error('the recorder returned without starting');
    if (params.startTimeTicks !== undefined && first.meta.target.startTimeTicks !== params.startTimeTicks) {
      controller.abort();
      await run.catch(noop);
      // Another process's (empty) recording: not what the user asked for, so nothing is kept.
      await unlink(file).catch(noop);
      throw new TierscopeError(
        'process-gone',
        `process ${params.pid} was replaced: PID reused by a new process; the process you chose has exited, pick it again`,
      );
    }

    const done = run.then(
      (result: RecordResult): RecordingEnd => ({
        recording: id,
        path: file,
        intervals: result.file.intervalCount,
        end: result.end,
      }),
      (err: unknown): RecordingEnd => ({
        recording: id,
        path: file,
        intervals: 0,
        end: {
          endedAt: new Date().toISOString(),
          reason: 'source-failed',
          detail: err instanceof Error ? err.message : String(err),
        },
      }),
    );
    this.#running.set(id, {
      path: file,
      controller,
      appendExperiment: first.appendExperiment,
      done,
    });
    this.#log(`recording ${id}: process ${params.pid} (${proc.comm}) into ${file} with ${first.meta.source}`);
    void done.then((end) => {
      this.#running.delete(id);
      this.#ended.set(id, end);
      for (const old of this.#ended.keys()) {
        if (this.#ended.size <= ENDED_KEPT) break;
        this.#ended.delete(old);
      }
      this.#log(`recording ${id} ended: ${end.end.reason} (${end.intervals} intervals): ${end.end.detail}`);
      throttle.flush();
      throttle.stop();
      events.ended(end);
    });
    return { recording: id, path: file, source: first.meta.source, sourceReason: first.meta.sourceReason };
  }

  /** Stops a recording as Ctrl-C does and resolves once its file is closed (compacted, with its end). */
  async stop(id: string): Promise<RecordingEnd> {
    const r = this.#running.get(id);
    if (!r) {
      const ended = this.#ended.get(id);
      if (ended) return ended;
      throw new TierscopeError(
        'not-found',
        `no recording ${JSON.stringify(id.slice(0, 64))} in this agent: it ended long ago, or was started by another agent`,
      );
    }
    r.controller.abort();
    return r.done;
  }

  /** Stops every recording and waits for their files to be closed (the agent is ending). */
  async stopAll(): Promise<void> {
    // A recording still starting stops at its first interval; it is then running, and stopped below.
    await abortAll(this.#starting, () => this.#running.values());
  }

  /** The file to record into: the caller's (must not exist), or a fresh name in the autosave folder. */
  async #target(requested: string | null, comm: string, pid: number): Promise<string> {
    if (requested !== null) {
      const file = path.resolve(requested);
      if (await exists(file)) {
        throw new TierscopeError(
          'invalid-argument',
          `${file} already exists: choose another name (a recording never overwrites a file)`,
        );
      }
      return file;
    }
    const dir = this.#options.sessionsDir ?? defaultSessionsDir();
    try {
      await mkdir(dir, { recursive: true, mode: 0o755 });
    } catch (err) {
      throw fileError(err, dir, 'create the sessions folder');
    }
    // comm is the kernel's 15-byte name: anything but a plain file-name character becomes '_'.
    const name = `${comm.replace(/[^A-Za-z0-9._+-]/g, '_') || 'process'}-${pid}-${fileTime(new Date())}`;
    for (let n = 1; ; n++) {
      const file = path.join(dir, `${name}${n === 1 ? '' : `-${n}`}.tierscope`);
      if (!(await exists(file)) && !this.isRecording(file)) return file;
    }
  }
}
