// The asynchronous side of the workflow slice: recording the open process, opening/saving/exporting
// session files (main's dialogs in the desktop app, typed paths otherwise), and migration experiments with
// their progress events. The reducer stays pure (workflow.ts); components call these methods.
import type {
  EventData,
  ExportFormat,
  MigrationPlan,
  StartMigration,
} from '../../../electron/contract/index.js';
import type { MenuCommand } from '../../../electron/contract/desktop.js';
import { toApiError, type AgentApi } from '../api/agentApi.js';
import { formatBytes } from '../logic/format.js';
import { loadRecentSessions, saveRecentSessions, type KeyValueStorage } from '../logic/recentSessions.js';
import { buildStartRecording, describeRecordingEnd } from '../logic/recording.js';
import {
  defaultSessionFileName,
  EXPORT_KINDS,
  isOverwriteRefusal,
  SESSION_FILE_KIND,
  type SessionFilePurpose,
} from '../logic/sessionFiles.js';
import type { ShortcutAction } from '../logic/shortcuts.js';
import type { UiError } from './state.js';
import type { Store } from './store.js';
import { selectUsesFileDialogs } from './workflowSelectors.js';

function uiError(err: unknown): UiError {
  const e = toApiError(err);
  return { code: e.code, message: e.message };
}

/** What writing a session file came to: written, refused because the file exists, or failed. */
export type WriteOutcome =
  | { status: 'written'; path: string; bytes: number }
  | { status: 'exists'; path: string }
  | { status: 'failed'; error: UiError };

/** Events of an experiment whose startMigration answer has not arrived yet (the relay can reorder). */
interface EarlyEvents {
  progress: EventData<'experimentProgress'> | null;
  ended: EventData<'experimentEnded'> | null;
}

export interface WorkflowDeps {
  /** The session helper's open (Controller.openSession): shows the session, null or the error. */
  openSession(path: string): Promise<UiError | null>;
  /** localStorage where there is one; null in tests or when storage is blocked. */
  storage: KeyValueStorage | null;
}

export class WorkflowController {
  /** Recordings whose end was already handled (the stop answer and recordingEnded both arrive). */
  private readonly endedRecordings = new Set<string>();
  private readonly earlyRecordingProgress = new Map<string, EventData<'recordingProgress'>>();
  private readonly earlyExperiment = new Map<string, EarlyEvents>();
  /** A startMigration (not a dry run) is awaiting its answer: its events may come first. */
  private startingMigration = false;
  private startingRecording = false;

  constructor(
    private readonly store: Store,
    private readonly api: AgentApi,
    private readonly deps: WorkflowDeps,
  ) {}

  /** Subscribes to the recording and experiment events and loads the recent list; returns the unsubscribes. */
  wire(): (() => void)[] {
    this.store.dispatch({ type: 'workflow/recent-loaded', paths: loadRecentSessions(this.deps.storage) });
    return [
      // Every open counts for the recent list, whoever started it (dialog, recent list, the Session
      // view's own path field, a recording's end): watched on the session slice, not at each caller.
      this.store.subscribe(() => {
        this.trackRecent();
        this.trackConnection();
      }),
      this.api.on('recordingProgress', (progress) => {
        const r = this.store.getState().workflow.recording;
        if (r?.recording === null && this.startingRecording) {
          this.earlyRecordingProgress.set(progress.recording, progress);
          return;
        }
        this.store.dispatch({ type: 'workflow/recording-progress', progress });
      }),
      this.api.on('recordingEnded', (data) => {
        void this.recordingEnded(data);
      }),
      this.api.on('experimentProgress', (progress) => {
        if (this.isUnknownExperiment(progress.experimentId)) {
          this.early(progress.experimentId).progress = progress;
          return;
        }
        this.store.dispatch({ type: 'workflow/migration-progress', progress });
      }),
      this.api.on('experimentEnded', (data) => {
        if (this.isUnknownExperiment(data.experiment.id)) {
          this.early(data.experiment.id).ended = data;
          return;
        }
        this.experimentEnded(data);
      }),
    ];
  }

  private lastOpenedPath: string | null = null;
  private lastOpenError: UiError | null = null;

  private trackRecent(): void {
    const session = this.store.getState().session;
    const openedPath = session.view?.path ?? null;
    if (openedPath !== null && openedPath !== this.lastOpenedPath) {
      this.lastOpenedPath = openedPath;
      this.store.dispatch({ type: 'workflow/recent-opened', path: openedPath });
      saveRecentSessions(this.deps.storage, this.store.getState().workflow.recentSessions);
    } else if (openedPath === null) {
      this.lastOpenedPath = null;
    }
    if (session.error !== null && session.error !== this.lastOpenError && session.path !== null) {
      this.lastOpenError = session.error;
      if (session.path !== openedPath) {
        this.store.dispatch({
          type: 'workflow/recent-failed',
          path: session.path,
          message: session.error.message,
        });
      }
    }
  }

  /**
   * A lost agent link takes its recordings' and experiments' events with it: say what is known (the
   * journal on disk keeps every complete interval; moved pages stay moved) instead of waiting forever.
   */
  private trackConnection(): void {
    const state = this.store.getState();
    if (state.connection.status !== 'lost') return;
    const recording = state.workflow.recording;
    if (recording) {
      this.store.dispatch({ type: 'workflow/recording-lost' });
      this.notice(
        'warning',
        'Recording interrupted',
        `The agent connection was lost while recording ${recording.comm} (${recording.pid}).` +
          (recording.path
            ? ` ${recording.path} keeps every complete interval: open it once the agent is back.`
            : ''),
      );
    }
    const run = state.workflow.migration.run;
    if (run.phase === 'running' || run.phase === 'planning') {
      this.store.dispatch({
        type: 'workflow/migration-lost',
        error: {
          code: 'disconnected',
          message:
            'The agent connection was lost during the experiment: pages already moved stay moved; its record (if it finished) is in its session.',
        },
      });
    }
  }

  private early(id: string): EarlyEvents {
    let e = this.earlyExperiment.get(id);
    if (!e) {
      e = { progress: null, ended: null };
      this.earlyExperiment.set(id, e);
    }
    return e;
  }

  private isUnknownExperiment(id: string): boolean {
    const run = this.store.getState().workflow.migration.run;
    return this.startingMigration && !(run.phase === 'running' && run.experimentId === id);
  }

  /** Menu commands of the desktop app that belong to these workflows. */
  handleCommand(
    command: Extract<
      MenuCommand,
      {
        type:
          | 'open-session'
          | 'save-session-as'
          | 'export-session'
          | 'toggle-recording'
          | 'migrate'
          | 'show-shortcuts';
      }
    >,
  ): void {
    switch (command.type) {
      case 'open-session':
        this.runShortcut('open-session');
        return;
      case 'save-session-as':
        this.runShortcut('save-session-as');
        return;
      case 'export-session':
        this.runShortcut('export-session');
        return;
      case 'toggle-recording':
        this.runShortcut('toggle-recording');
        return;
      case 'migrate':
        this.runShortcut('migrate');
        return;
      case 'show-shortcuts':
        this.runShortcut('show-shortcuts');
        return;
    }
  }

  /** What a shortcut or a menu item asks for. */
  runShortcut(action: ShortcutAction): void {
    switch (action) {
      case 'open-session':
        void this.openSessionFlow();
        return;
      case 'save-session-as':
        void this.saveAsFlow();
        return;
      case 'export-session':
        this.exportFlow();
        return;
      case 'toggle-recording':
        void this.toggleRecording();
        return;
      case 'migrate':
        this.setMigrationPanel(true);
        return;
      case 'show-shortcuts':
        this.store.dispatch({ type: 'dialog/set', dialog: { type: 'shortcuts' } });
        return;
    }
  }

  private notice(tone: 'info' | 'warning' | 'error', title: string, message: string): void {
    this.store.dispatch({ type: 'notice/add', notice: { tone, title, message } });
  }

  // ---- recording ------------------------------------------------------------------------------------------

  /** Starts recording the open process, or stops the recording in progress. */
  async toggleRecording(): Promise<void> {
    const recording = this.store.getState().workflow.recording;
    if (recording) {
      if (recording.status === 'recording') await this.stopRecording();
      return;
    }
    await this.startRecording();
  }

  async startRecording(): Promise<UiError | null> {
    const state = this.store.getState();
    const target = state.target;
    const recordable = target && (target.phase === 'live' || target.phase === 'paused');
    if (!target || !recordable) {
      const error = {
        code: 'no-target',
        message: 'Open a running process first (Processes view), then record it.',
      };
      this.notice('warning', 'Nothing to record', error.message);
      return error;
    }
    const { source, intervalMs } = state.workflow.recordSettings;
    const { dispatch } = this.store;
    dispatch({ type: 'workflow/recording-starting', pid: target.pid, comm: target.comm });
    this.startingRecording = true;
    this.earlyRecordingProgress.clear();
    try {
      const started = await this.api.call(
        'startRecording',
        buildStartRecording({ pid: target.pid, startTimeTicks: target.startTimeTicks, source, intervalMs }),
      );
      dispatch({ type: 'workflow/recording-started', ...started });
      const early = this.earlyRecordingProgress.get(started.recording);
      if (early) dispatch({ type: 'workflow/recording-progress', progress: early });
      return null;
    } catch (err) {
      const error = uiError(err);
      dispatch({ type: 'workflow/recording-failed' });
      this.notice('error', 'Recording did not start', error.message);
      return error;
    } finally {
      this.startingRecording = false;
      this.earlyRecordingProgress.clear();
    }
  }

  /** Stops cleanly (the file is closed when this resolves), then opens the session. */
  async stopRecording(): Promise<void> {
    const r = this.store.getState().workflow.recording;
    if (r?.status !== 'recording' || r.recording === null) return;
    const id = r.recording;
    this.store.dispatch({ type: 'workflow/recording-stopping' });
    try {
      const stopped = await this.api.call('stopRecording', { recording: id });
      await this.recordingEnded({ recording: id, ...stopped });
    } catch (err) {
      const error = uiError(err);
      // The agent no longer knows it (restarted, link gone): nothing left to stop, its journal remains.
      const gone = error.code === 'not-found' || error.code === 'disconnected';
      this.store.dispatch({ type: gone ? 'workflow/recording-lost' : 'workflow/recording-stop-failed' });
      this.notice(
        'error',
        'Could not stop the recording',
        gone && r.path
          ? `${error.message} The journal ${r.path} keeps every complete interval.`
          : error.message,
      );
    }
  }

  private async recordingEnded(data: EventData<'recordingEnded'>): Promise<void> {
    if (this.endedRecordings.has(data.recording)) return;
    const current = this.store.getState().workflow.recording;
    if (current?.recording !== data.recording) return;
    this.endedRecordings.add(data.recording);
    this.store.dispatch({ type: 'workflow/recording-ended', ...data });
    if (data.end.reason !== 'stopped') {
      this.notice(
        data.end.reason === 'duration-reached' ? 'info' : 'warning',
        describeRecordingEnd(data.end.reason),
        `${data.end.detail ? `${data.end.detail}. ` : ''}${data.intervals} intervals saved in ${data.path}.`,
      );
    }
    await this.openSessionPath(data.path);
  }

  // ---- session files --------------------------------------------------------------------------------------

  /** The desktop app with an agent on this machine picks files in main's dialogs; otherwise paths are typed. */
  usesFileDialogs(): boolean {
    return this.api.desktop !== null && selectUsesFileDialogs(this.store.getState());
  }

  async openSessionFlow(): Promise<void> {
    const desktop = this.api.desktop;
    if (desktop && this.usesFileDialogs()) {
      try {
        const path = await desktop.openSessionDialog();
        if (path !== null) await this.openSessionPath(path);
        return;
      } catch (err) {
        const error = uiError(err);
        // The agent is remote after all (main knows best): ask for a path on that machine.
        if (error.code !== 'unsupported') {
          this.notice('error', 'Cannot show the open dialog', error.message);
          return;
        }
      }
    }
    this.store.dispatch({ type: 'dialog/set', dialog: { type: 'open-session' } });
  }

  /**
   * Opens a session by path (the session view's open); success puts it first in the recent list, failure
   * keeps the agent's one line next to the path (both through trackRecent).
   */
  async openSessionPath(path: string): Promise<UiError | null> {
    const { dispatch } = this.store;
    dispatch({ type: 'workflow/file-busy', busy: 'opening' });
    const error = await this.deps.openSession(path);
    dispatch({ type: 'workflow/file-busy', busy: null });
    if (error) {
      // Also when the session slice kept an older session on screen and so did not record the failure.
      dispatch({ type: 'workflow/recent-failed', path, message: error.message });
      return error;
    }
    const dialog = this.store.getState().dialog;
    if (dialog?.type === 'open-session') dispatch({ type: 'dialog/set', dialog: null });
    return null;
  }

  removeRecent(path: string): void {
    this.store.dispatch({ type: 'workflow/recent-remove', path });
    saveRecentSessions(this.deps.storage, this.store.getState().workflow.recentSessions);
  }

  /** The default file name for the open session, for a purpose and format. */
  defaultFileName(purpose: SessionFilePurpose, format: ExportFormat): string | null {
    const view = this.store.getState().session.view;
    if (!view) return null;
    const kind = purpose === 'save' ? SESSION_FILE_KIND : EXPORT_KINDS[format];
    return defaultSessionFileName(
      { comm: view.meta.target.comm, pid: view.meta.target.pid, startedAt: view.meta.startedAt },
      kind,
    );
  }

  private requireSession(what: string): boolean {
    if (this.store.getState().session.view) return true;
    this.notice('warning', `Nothing to ${what}`, 'Open or record a session first (Ctrl+O opens one).');
    return false;
  }

  async saveAsFlow(): Promise<void> {
    if (!this.requireSession('save')) return;
    if (this.usesFileDialogs()) {
      const path = await this.pickPath('save', 'json');
      if (path === null) return;
      const outcome = await this.writeSessionFile('save', 'json', path, false);
      if (outcome.status === 'exists') {
        this.store.dispatch({
          type: 'dialog/set',
          dialog: { type: 'session-file', purpose: 'save', format: 'json', confirmPath: path },
        });
      }
      return;
    }
    this.store.dispatch({
      type: 'dialog/set',
      dialog: { type: 'session-file', purpose: 'save', format: 'json', confirmPath: null },
    });
  }

  /** Export always asks for the format first (in the app's dialog), then for the file. */
  exportFlow(): void {
    if (!this.requireSession('export')) return;
    this.store.dispatch({
      type: 'dialog/set',
      dialog: { type: 'session-file', purpose: 'export', format: 'json', confirmPath: null },
    });
  }

  /** Main's save dialog (desktop app, local agent); null when cancelled or unavailable (with a notice). */
  async pickPath(purpose: SessionFilePurpose, format: ExportFormat): Promise<string | null> {
    const desktop = this.api.desktop;
    const name = this.defaultFileName(purpose, format);
    if (!desktop || name === null) return null;
    const kind = purpose === 'save' ? SESSION_FILE_KIND : EXPORT_KINDS[format];
    try {
      return await desktop.saveDialog({
        title: purpose === 'save' ? 'Save session as' : `Export session as ${kind.label}`,
        defaultName: name,
        filters: [kind.filter],
      });
    } catch (err) {
      this.notice('error', 'Cannot show the save dialog', uiError(err).message);
      return null;
    }
  }

  /**
   * saveSessionAs or exportSession to `path`. A refusal to overwrite comes back as 'exists' (the caller
   * asks, then calls again with overwrite); success closes the dialog and says where it went.
   */
  async writeSessionFile(
    purpose: SessionFilePurpose,
    format: ExportFormat,
    path: string,
    overwrite: boolean,
  ): Promise<WriteOutcome> {
    const { dispatch } = this.store;
    const view = this.store.getState().session.view;
    if (!view) return { status: 'failed', error: { code: 'no-session', message: 'No session is open.' } };
    dispatch({ type: 'workflow/file-busy', busy: purpose === 'save' ? 'saving' : 'exporting' });
    try {
      const written =
        purpose === 'save'
          ? await this.api.call('saveSessionAs', { handle: view.handle, path, overwrite })
          : await this.api.call('exportSession', { handle: view.handle, format, path, overwrite });
      const dialog = this.store.getState().dialog;
      if (dialog?.type === 'session-file') dispatch({ type: 'dialog/set', dialog: null });
      this.notice(
        'info',
        purpose === 'save' ? 'Session saved' : `Exported as ${EXPORT_KINDS[format].label}`,
        `${written.path} (${formatBytes(written.bytes)})`,
      );
      return { status: 'written', path: written.path, bytes: written.bytes };
    } catch (err) {
      const error = uiError(err);
      return isOverwriteRefusal(error) ? { status: 'exists', path } : { status: 'failed', error };
    } finally {
      dispatch({ type: 'workflow/file-busy', busy: null });
    }
  }

  // ---- migration ------------------------------------------------------------------------------------------

  setMigrationPanel(open: boolean): void {
    this.store.dispatch({ type: 'workflow/migration-panel', open });
  }

  /** Asks the agent for the plan only (dryRun forced on): what would move, per node. */
  async dryRun(params: StartMigration): Promise<UiError | null> {
    const { dispatch } = this.store;
    dispatch({ type: 'workflow/migration-planning', dryRun: true });
    try {
      const answer = await this.api.call('startMigration', { ...params, dryRun: true });
      dispatch({
        type: 'workflow/migration-planned',
        plan: answer.plan,
        params: { ...params, dryRun: true },
      });
      return null;
    } catch (err) {
      const error = uiError(err);
      dispatch({ type: 'workflow/migration-failed', error });
      return error;
    }
  }

  /** Starts the experiment; progress and the result arrive as events. */
  async runMigration(params: StartMigration): Promise<UiError | null> {
    const { dispatch } = this.store;
    const run = { ...params, dryRun: false };
    dispatch({ type: 'workflow/migration-planning', dryRun: false });
    this.startingMigration = true;
    this.earlyExperiment.clear();
    let plan: MigrationPlan;
    let experimentId: string;
    try {
      const answer = await this.api.call('startMigration', run);
      plan = answer.plan;
      experimentId = answer.experimentId;
      dispatch({ type: 'workflow/migration-running', experimentId, plan, params: run });
      // Running, recorded in the open session: its band shows on the timeline right away.
      if (answer.experiment && this.isOpenSession(run.sessionPath)) {
        dispatch({ type: 'session/experiment', experiment: answer.experiment });
      }
    } catch (err) {
      const error = uiError(err);
      dispatch({ type: 'workflow/migration-failed', error });
      return error;
    } finally {
      this.startingMigration = false;
    }
    const early = this.earlyExperiment.get(experimentId);
    this.earlyExperiment.clear();
    if (early?.progress) dispatch({ type: 'workflow/migration-progress', progress: early.progress });
    if (early?.ended) this.experimentEnded(early.ended);
    return null;
  }

  async cancelMigration(): Promise<void> {
    const run = this.store.getState().workflow.migration.run;
    if (run.phase !== 'running' || run.cancelling) return;
    this.store.dispatch({ type: 'workflow/migration-cancelling' });
    try {
      await this.api.call('cancelExperiment', { experimentId: run.experimentId });
    } catch (err) {
      this.store.dispatch({ type: 'workflow/migration-failed', error: uiError(err) });
    }
  }

  /** Back to the form after a dry run, a result or an error. */
  resetMigration(): void {
    this.store.dispatch({ type: 'workflow/migration-reset' });
  }

  private isOpenSession(path: string | null): boolean {
    return path !== null && this.store.getState().session.view?.path === path;
  }

  private experimentEnded(data: EventData<'experimentEnded'>): void {
    this.store.dispatch({
      type: 'workflow/experiment-ended',
      experiment: data.experiment,
      sessionPath: data.sessionPath,
    });
    if (this.isOpenSession(data.sessionPath)) {
      this.store.dispatch({ type: 'session/experiment', experiment: data.experiment });
    }
  }
}
