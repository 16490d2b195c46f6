/**
 * An experiment's link to a recorded session: page classes from the session's last closed hotness window,
 * the session's clock (experiments are placed on its timeline), and the experiment record written into it.
 */
import type { CountRun } from '../../contract/index.js';
import { TierscopeError } from '../errors.js';
import { procHex } from '../procfs/text.js';
import { openSession, type Session } from '../session/index.js';
import type { SessionTiming } from './context.js';
import { countsFromRuns, type PageCounts } from './measure.js';

export interface SessionLink {
  path: string;
  session: Session;
  timing: SessionTiming;
  /** Classes of the last closed window, or null when no window closed. */
  classes: PageCounts | null;
}

/** Count runs of the last interval that closed a hotness window, or null. */
export function lastWindowRuns(session: Session): CountRun[] | null {
  const iv = session.intervals;
  for (let pos = session.intervalCount - 1; pos >= 0; pos--) {
    if (iv.hasCountRuns[pos] !== 1) continue;
    const r = session.countRuns;
    const runs: CountRun[] = [];
    for (let i = r.offsets[pos] ?? 0; i < (r.offsets[pos + 1] ?? 0); i++) {
      runs.push({
        start: procHex(r.start[i] ?? 0n),
        end: procHex(r.end[i] ?? 0n),
        accessedScans: r.accessedScans[i] ?? 0,
      });
    }
    return runs;
  }
  return null;
}

/**
 * Opens a session for an experiment on process (pid, startTimeTicks): refuses a recording of another
 * process (or of an earlier process with the same PID), and — when the experiment is to be recorded in it
 * — one that is still being written by its recorder.
 */
export async function linkSession(
  path: string,
  pid: number,
  startTimeTicks: number,
  options: { forRecording: boolean },
): Promise<SessionLink> {
  const session = await openSession(path);
  const t = session.meta.target;
  if (t.pid !== pid || t.startTimeTicks !== startTimeTicks) {
    const what =
      t.pid === pid
        ? `an earlier process with PID ${pid} (started at tick ${t.startTimeTicks})`
        : `process ${t.pid} (${t.comm})`;
    throw new TierscopeError(
      'invalid-argument',
      `${path} is a recording of ${what}, not of process ${pid}; record this process first (tierscope record --pid ${pid} --out FILE)`,
    );
  }
  if (options.forRecording && !session.endRecorded) {
    throw new TierscopeError(
      'busy',
      `${path} has no end record: it is still being recorded (or its recorder was killed), and only its recorder may write to it; stop the recording first, or run without --session`,
    );
  }
  const startedAtMs = Date.parse(session.meta.startedAt);
  const runs = lastWindowRuns(session);
  const classes =
    runs === null
      ? null
      : countsFromRuns(
          runs,
          session.meta.scansPerWindow,
          `session ${path} (${session.meta.source}, last window of ${session.meta.scansPerWindow} scans)`,
        );
  return {
    path,
    session,
    timing: { startedAtMs: Number.isNaN(startedAtMs) ? Date.now() : startedAtMs },
    classes,
  };
}
