// The `workflow` slice: recording the open process, the migration panel's experiment, experiments ended in
// this run, and the recent-sessions list. Pure; the asynchronous side is workflowController.ts.
import type {
  Experiment,
  ExperimentProgress,
  MigrationPlan,
  RecordingProgress,
  SessionEnd,
  StartMigration,
} from '../../../electron/contract/index.js';
import { addRecentSession, removeRecentSession } from '../logic/recentSessions.js';
import type { SourceChoice } from '../logic/recording.js';
import type { AppState, UiError } from './state.js';

export interface RecordingState {
  /** starting: startRecording sent; recording: events flow; stopping: stopRecording sent. */
  status: 'starting' | 'recording' | 'stopping';
  /** The agent's id, known once startRecording answered. */
  recording: string | null;
  pid: number;
  comm: string;
  /** The crash-safe journal being written (the autosave), on the agent's machine. */
  path: string | null;
  source: string | null;
  sourceReason: string | null;
  progress: RecordingProgress | null;
}

export interface RecordSettings {
  source: SourceChoice;
  intervalMs: number;
}

/** The migration panel's current experiment, from planning to its result. */
export type MigrationRun =
  | { phase: 'idle' }
  | { phase: 'planning'; dryRun: boolean }
  /** A dry run answered: nothing moved. */
  | { phase: 'planned'; plan: MigrationPlan; params: StartMigration }
  | {
      phase: 'running';
      experimentId: string;
      plan: MigrationPlan;
      params: StartMigration;
      progress: ExperimentProgress | null;
      cancelling: boolean;
    }
  | { phase: 'ended'; experiment: Experiment; plan: MigrationPlan | null };

export interface MigrationPanelState {
  open: boolean;
  run: MigrationRun;
  /** The agent's refusal or failure, shown in the panel. */
  error: UiError | null;
}

export interface RunExperiment {
  experiment: Experiment;
  sessionPath: string | null;
}

export type FileBusy = 'opening' | 'saving' | 'exporting' | null;

export interface WorkflowState {
  recording: RecordingState | null;
  recordSettings: RecordSettings;
  /** How the last recording ended, for the toolbar ("stopped after 12 intervals"); null before any. */
  lastRecordingEnd: { path: string; intervals: number; end: SessionEnd } | null;
  migration: MigrationPanelState;
  /** Experiments that ended while this UI ran, oldest first, with the session each was recorded in. */
  runExperiments: readonly RunExperiment[];
  /** Newest first; persisted by the controller (localStorage). */
  recentSessions: readonly string[];
  /** Why a recent path failed to open the last time (missing, not a session, …), by path. */
  recentErrors: Readonly<Record<string, string>>;
  fileBusy: FileBusy;
}

export function initialWorkflowState(): WorkflowState {
  return {
    recording: null,
    recordSettings: { source: 'auto', intervalMs: 1000 },
    lastRecordingEnd: null,
    migration: { open: false, run: { phase: 'idle' }, error: null },
    runExperiments: [],
    recentSessions: [],
    recentErrors: {},
    fileBusy: null,
  };
}

export type WorkflowAction =
  | { type: 'workflow/record-settings'; settings: Partial<RecordSettings> }
  | { type: 'workflow/recording-starting'; pid: number; comm: string }
  | {
      type: 'workflow/recording-started';
      recording: string;
      path: string;
      source: string;
      sourceReason: string;
    }
  | { type: 'workflow/recording-failed' }
  | { type: 'workflow/recording-progress'; progress: RecordingProgress }
  | { type: 'workflow/recording-stopping' }
  /** stopRecording failed: the recording goes on. */
  | { type: 'workflow/recording-stop-failed' }
  | { type: 'workflow/recording-ended'; recording: string; path: string; intervals: number; end: SessionEnd }
  /**
   * The agent link died (or forgot the recording) while recording: nothing more will arrive about it. The
   * journal keeps every complete interval.
   */
  | { type: 'workflow/recording-lost' }
  | { type: 'workflow/migration-panel'; open: boolean }
  | { type: 'workflow/migration-planning'; dryRun: boolean }
  | { type: 'workflow/migration-planned'; plan: MigrationPlan; params: StartMigration }
  | { type: 'workflow/migration-running'; experimentId: string; plan: MigrationPlan; params: StartMigration }
  | { type: 'workflow/migration-progress'; progress: ExperimentProgress }
  | { type: 'workflow/migration-cancelling' }
  | { type: 'workflow/migration-failed'; error: UiError }
  /** The agent link died during the experiment: its events will not come; back to the form. */
  | { type: 'workflow/migration-lost'; error: UiError }
  /** Back to the form (after a result or an error). */
  | { type: 'workflow/migration-reset' }
  | { type: 'workflow/experiment-ended'; experiment: Experiment; sessionPath: string | null }
  | { type: 'workflow/recent-loaded'; paths: readonly string[] }
  | { type: 'workflow/recent-opened'; path: string }
  | { type: 'workflow/recent-failed'; path: string; message: string }
  | { type: 'workflow/recent-remove'; path: string }
  | { type: 'workflow/file-busy'; busy: FileBusy };

export function isWorkflowAction(action: { type: string }): action is WorkflowAction {
  return action.type.startsWith('workflow/');
}

function without(record: Readonly<Record<string, string>>, key: string): Readonly<Record<string, string>> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => k !== key));
}

function withWorkflow(state: AppState, workflow: WorkflowState): AppState {
  return { ...state, workflow };
}

function withMigration(state: AppState, migration: MigrationPanelState): AppState {
  return withWorkflow(state, { ...state.workflow, migration });
}

export function workflowReducer(state: AppState, action: WorkflowAction): AppState {
  const w = state.workflow;
  const m = w.migration;
  switch (action.type) {
    case 'workflow/record-settings':
      return withWorkflow(state, { ...w, recordSettings: { ...w.recordSettings, ...action.settings } });
    case 'workflow/recording-starting':
      if (w.recording) return state;
      return withWorkflow(state, {
        ...w,
        recording: {
          status: 'starting',
          recording: null,
          pid: action.pid,
          comm: action.comm,
          path: null,
          source: null,
          sourceReason: null,
          progress: null,
        },
      });
    case 'workflow/recording-started':
      if (w.recording?.status !== 'starting') return state;
      return withWorkflow(state, {
        ...w,
        recording: {
          ...w.recording,
          status: 'recording',
          recording: action.recording,
          path: action.path,
          source: action.source,
          sourceReason: action.sourceReason,
        },
      });
    case 'workflow/recording-failed':
      return withWorkflow(state, { ...w, recording: null });
    case 'workflow/recording-progress': {
      const r = w.recording;
      if (!r || r.recording !== action.progress.recording) return state;
      return withWorkflow(state, {
        ...w,
        recording: { ...r, path: action.progress.path, progress: action.progress },
      });
    }
    case 'workflow/recording-stopping':
      return w.recording?.status === 'recording'
        ? withWorkflow(state, { ...w, recording: { ...w.recording, status: 'stopping' } })
        : state;
    case 'workflow/recording-stop-failed':
      return w.recording?.status === 'stopping'
        ? withWorkflow(state, { ...w, recording: { ...w.recording, status: 'recording' } })
        : state;
    case 'workflow/recording-ended':
      if (w.recording?.recording !== action.recording) return state;
      return withWorkflow(state, {
        ...w,
        recording: null,
        lastRecordingEnd: { path: action.path, intervals: action.intervals, end: action.end },
      });
    case 'workflow/recording-lost':
      return w.recording ? withWorkflow(state, { ...w, recording: null }) : state;
    case 'workflow/migration-panel':
      return withMigration(state, { ...m, open: action.open });
    case 'workflow/migration-planning':
      // One experiment at a time from this panel: a running one must end first.
      if (m.run.phase === 'running' || m.run.phase === 'planning') return state;
      return withMigration(state, {
        ...m,
        open: true,
        run: { phase: 'planning', dryRun: action.dryRun },
        error: null,
      });
    case 'workflow/migration-planned':
      if (m.run.phase !== 'planning') return state;
      return withMigration(state, {
        ...m,
        run: { phase: 'planned', plan: action.plan, params: action.params },
      });
    case 'workflow/migration-running':
      if (m.run.phase !== 'planning') return state;
      return withMigration(state, {
        ...m,
        run: {
          phase: 'running',
          experimentId: action.experimentId,
          plan: action.plan,
          params: action.params,
          progress: null,
          cancelling: false,
        },
      });
    case 'workflow/migration-progress':
      if (m.run.phase !== 'running' || m.run.experimentId !== action.progress.experimentId) return state;
      return withMigration(state, { ...m, run: { ...m.run, progress: action.progress } });
    case 'workflow/migration-cancelling':
      if (m.run.phase !== 'running') return state;
      return withMigration(state, { ...m, run: { ...m.run, cancelling: true } });
    case 'workflow/migration-failed': {
      // A refused start goes back to the form; a failed cancel leaves the experiment running.
      const run: MigrationRun =
        m.run.phase === 'planning'
          ? { phase: 'idle' }
          : m.run.phase === 'running'
            ? { ...m.run, cancelling: false }
            : m.run;
      return withMigration(state, { ...m, open: true, run, error: action.error });
    }
    case 'workflow/migration-lost':
      if (m.run.phase !== 'running' && m.run.phase !== 'planning') return state;
      return withMigration(state, { ...m, run: { phase: 'idle' }, error: action.error });
    case 'workflow/migration-reset':
      if (m.run.phase === 'running' || m.run.phase === 'planning') return state;
      return withMigration(state, { ...m, run: { phase: 'idle' }, error: null });
    case 'workflow/experiment-ended': {
      const runExperiments = [
        ...w.runExperiments.filter((e) => e.experiment.id !== action.experiment.id),
        { experiment: action.experiment, sessionPath: action.sessionPath },
      ];
      const run = m.run;
      const mine = run.phase === 'running' && run.experimentId === action.experiment.id;
      return withWorkflow(state, {
        ...w,
        runExperiments,
        migration: mine
          ? { ...m, run: { phase: 'ended', experiment: action.experiment, plan: run.plan } }
          : m,
      });
    }
    case 'workflow/recent-loaded':
      return withWorkflow(state, { ...w, recentSessions: [...action.paths] });
    case 'workflow/recent-opened':
      return withWorkflow(state, {
        ...w,
        recentSessions: addRecentSession(w.recentSessions, action.path),
        recentErrors: without(w.recentErrors, action.path),
      });
    case 'workflow/recent-failed':
      return withWorkflow(state, {
        ...w,
        recentErrors: { ...w.recentErrors, [action.path]: action.message },
      });
    case 'workflow/recent-remove':
      return withWorkflow(state, {
        ...w,
        recentSessions: removeRecentSession(w.recentSessions, action.path),
        recentErrors: without(w.recentErrors, action.path),
      });
    case 'workflow/file-busy':
      return withWorkflow(state, { ...w, fileBusy: action.busy });
  }
}
