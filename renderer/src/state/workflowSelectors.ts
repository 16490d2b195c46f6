// Selectors of the migration panel and the experiments list: which process a migration acts on, the
// ranges each scope offers, the target nodes, and every experiment known (session + this run).
import type { Experiment, Snapshot } from '../../../electron/contract/index.js';
import type { HexRange } from '../logic/addressAxis.js';
import { experimentRow, mergeExperiments, type ExperimentRow } from '../logic/experimentRows.js';
import { createSelector } from '../logic/memo.js';
import {
  nodeOptions,
  wholeProcessRange,
  type MigrationScope,
  type NodeOption,
} from '../logic/migrationForm.js';
import { selectNodeSummaries } from './selectors.js';
import type { SessionSelection } from './session.js';
import type { AppState, TargetState, View } from './state.js';

export interface MigrationProcess {
  pid: number;
  startTimeTicks: number | null;
  comm: string;
  /** Where it was picked from: the open session's recording, or the process open in Memory. */
  from: 'session' | 'target';
}

export interface MigrationSources {
  process: MigrationProcess | null;
  scopes: Readonly<Record<MigrationScope, readonly HexRange[] | null>>;
  /** What each scope is, in words ("2 VMAs", "brushed range", "[heap]"). */
  scopeLabels: Readonly<Record<MigrationScope, string>>;
  /** The open session when it records this very process (pid and start time); else null. */
  sessionPath: string | null;
  sessionLive: boolean;
}

interface SessionPart {
  path: string;
  live: boolean;
  pid: number;
  startTimeTicks: number;
  comm: string;
  vmas: readonly { start: string; end: string; kind: string }[];
  selection: SessionSelection | null;
}

const selectSessionPart = createSelector(
  (s: AppState) => s.session.view,
  (s: AppState) => s.session.selection,
  (view, selection): SessionPart | null =>
    view
      ? {
          path: view.path,
          live: view.live,
          pid: view.meta.target.pid,
          startTimeTicks: view.meta.target.startTimeTicks,
          comm: view.meta.target.comm,
          vmas: view.vmas,
          selection,
        }
      : null,
);

function selectedVma(target: TargetState | null, snapshot: Snapshot | null): HexRange | null {
  const id = target?.selectedVmaId;
  if (!id || !snapshot) return null;
  const vma = snapshot.vmas.find((v) => v.start === id);
  return vma ? { start: vma.start, end: vma.end } : null;
}

/** A recording of the live target (same pid, same start time when both are known). */
function sameProcess(session: SessionPart, target: TargetState): boolean {
  return (
    session.pid === target.pid &&
    (target.startTimeTicks === null || target.startTimeTicks === session.startTimeTicks)
  );
}

/**
 * The process to migrate: the one open in Memory while that view is shown, otherwise the open session's
 * (experiments belong to the session's timeline), otherwise whatever process is open.
 */
export function resolveMigrationSources(
  view: View,
  session: SessionPart | null,
  target: TargetState | null,
): MigrationSources {
  const liveTarget = target && target.phase !== 'file' ? target : null;
  const preferTarget = liveTarget !== null && (view === 'memory' || session === null);
  let process: MigrationProcess | null = null;
  if (preferTarget) {
    process = {
      pid: liveTarget.pid,
      startTimeTicks: liveTarget.startTimeTicks,
      comm: liveTarget.comm,
      from: 'target',
    };
  } else if (session) {
    process = {
      pid: session.pid,
      startTimeTicks: session.startTimeTicks,
      comm: session.comm,
      from: 'session',
    };
  }
  const sessionMatches =
    session !== null &&
    process !== null &&
    session.pid === process.pid &&
    (process.startTimeTicks === null || process.startTimeTicks === session.startTimeTicks);
  const targetMatches =
    liveTarget !== null &&
    process !== null &&
    (process.from === 'target' || (session !== null && sameProcess(session, liveTarget)));

  const selection = sessionMatches ? (session.selection?.ranges ?? null) : null;
  const vma = targetMatches ? selectedVma(liveTarget, liveTarget.snapshot) : null;
  const all = sessionMatches
    ? wholeProcessRange(session.vmas)
    : targetMatches && liveTarget.snapshot
      ? wholeProcessRange(liveTarget.snapshot.vmas)
      : null;
  const sel = sessionMatches ? session.selection : null;
  const vmaPath = vma && liveTarget?.snapshot?.vmas.find((v) => v.start === vma.start)?.path;
  return {
    process,
    scopes: {
      selection: selection && selection.length > 0 ? selection : null,
      vma: vma ? [vma] : null,
      process: all ? [all] : null,
    },
    scopeLabels: {
      selection: sel
        ? sel.source === 'brush'
          ? 'brushed range'
          : `${sel.vmaIds.length} selected VMA${sel.vmaIds.length === 1 ? '' : 's'}`
        : 'session selection',
      vma: vma ? `VMA ${vmaPath || `0x${vma.start}`}` : 'VMA picked in Memory',
      process: 'whole process',
    },
    sessionPath: sessionMatches ? session.path : null,
    sessionLive: sessionMatches ? session.live : false,
  };
}

export const selectMigrationSources = createSelector(
  (s: AppState) => s.view,
  selectSessionPart,
  (s: AppState) => s.target,
  resolveMigrationSources,
);

export const selectMigrationNodes = createSelector(selectNodeSummaries, (nodes): readonly NodeOption[] =>
  nodeOptions(nodes),
);

const NO_EXPERIMENTS: readonly Experiment[] = [];

export const selectExperimentRows = createSelector(
  (s: AppState) => s.session.view?.experiments ?? NO_EXPERIMENTS,
  (s: AppState) => s.session.view?.path ?? null,
  (s: AppState) => s.workflow.runExperiments,
  (fromSession, openPath, fromRun): readonly ExperimentRow[] =>
    mergeExperiments(fromSession, openPath, fromRun).map(experimentRow),
);

/**
 * The desktop app picks session files in main's dialogs, which list this machine's files: right while the
 * agent runs here (local or pkexec), wrong for an ssh agent, whose paths are typed instead.
 */
export const selectUsesFileDialogs = (s: AppState): boolean =>
  s.mode === 'electron' && !(s.connection.status === 'connected' && s.connection.target?.kind === 'remote');

/** The agent's host name, for "a path on HOST" hints; null before the handshake. */
export const selectAgentHost = (s: AppState): string | null =>
  s.connection.status === 'connected' || s.connection.status === 'lost'
    ? (s.connection.hello?.hostname ?? null)
    : null;
