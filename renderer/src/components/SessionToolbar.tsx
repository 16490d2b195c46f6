import { useEffect, type ReactNode } from 'react';
import { progressFraction } from '../logic/experimentRows.js';
import { formatDurationMs, formatPercent } from '../logic/format.js';
import {
  formatRecordingProgress,
  RECORD_INTERVALS_MS,
  sourceOptions,
  type SourceChoice,
} from '../logic/recording.js';
import { matchShortcut, SHORTCUTS, type ShortcutAction } from '../logic/shortcuts.js';
import { selectAgentUsable } from '../state/selectors.js';
import { useAppSelector, useController, useDispatch } from './hooks.js';
import { inTextField } from './keys.js';

function keysOf(action: ShortcutAction): string {
  return SHORTCUTS.find((s) => s.action === action)?.label ?? '';
}

/** aria-keyshortcuts wants "Control+O", not "Ctrl+O". */
function ariaKeys(action: ShortcutAction): string {
  return keysOf(action).replace('Ctrl', 'Control');
}

/**
 * Ctrl+O/S/E/R, M and ? (logic/shortcuts.ts). In the desktop app the Ctrl ones come from the menu's
 * accelerators instead, so each fires once. Nothing fires behind an open dialog, but the browser's own
 * meaning of those keys (reload, open file, save page) is still suppressed there.
 */
function useWorkflowShortcuts(): void {
  const controller = useController();
  const mode = useAppSelector((s) => s.mode);
  const dialogOpen = useAppSelector((s) => s.dialog !== null);
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.defaultPrevented || e.repeat) return;
      const action = matchShortcut({
        key: e.key,
        ctrlKey: e.ctrlKey,
        metaKey: e.metaKey,
        altKey: e.altKey,
        shiftKey: e.shiftKey,
        inTextField: inTextField(e.target),
        mode,
      });
      if (action === null) return;
      e.preventDefault();
      if (!dialogOpen) controller.workflow.runShortcut(action);
    };
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('keydown', onKey);
    };
  }, [controller, mode, dialogOpen]);
}

function RecordControls(): ReactNode {
  const controller = useController();
  const dispatch = useDispatch();
  const usable = useAppSelector(selectAgentUsable);
  const target = useAppSelector((s) => s.target);
  const capabilities = useAppSelector((s) => s.capabilities.data);
  const settings = useAppSelector((s) => s.workflow.recordSettings);
  const recording = useAppSelector((s) => s.workflow.recording);
  const recordable = target !== null && (target.phase === 'live' || target.phase === 'paused');
  const sources = sourceOptions(capabilities);

  if (recording) {
    const stopping = recording.status !== 'recording';
    return (
      <button
        className="btn record stop"
        data-testid="record-button"
        aria-keyshortcuts={ariaKeys('toggle-recording')}
        title={`Stop recording ${recording.comm} (${keysOf('toggle-recording')}); the session then opens`}
        disabled={stopping}
        onClick={() => void controller.workflow.stopRecording()}
      >
        <span className="rec-dot" aria-hidden="true" />
        {recording.status === 'starting'
          ? 'Starting…'
          : recording.status === 'stopping'
            ? 'Stopping…'
            : 'Stop'}
      </button>
    );
  }
  return (
    <span className="record-controls">
      <select
        className="input small"
        aria-label="Access source for recording"
        title={sources.find((o) => o.id === settings.source)?.reason}
        value={settings.source}
        onChange={(e) => {
          dispatch({
            type: 'workflow/record-settings',
            settings: { source: e.target.value as SourceChoice },
          });
        }}
      >
        {sources.map((o) => (
          <option key={o.id} value={o.id} disabled={!o.available} title={o.reason}>
            {o.label}
            {o.available ? '' : ' — unavailable'}
          </option>
        ))}
      </select>
      <select
        className="input small"
        aria-label="Recording interval"
        value={settings.intervalMs}
        onChange={(e) => {
          dispatch({ type: 'workflow/record-settings', settings: { intervalMs: Number(e.target.value) } });
        }}
      >
        {RECORD_INTERVALS_MS.map((ms) => (
          <option key={ms} value={ms}>
            every {formatDurationMs(ms)}
          </option>
        ))}
      </select>
      <button
        className="btn record"
        data-testid="record-button"
        aria-keyshortcuts={ariaKeys('toggle-recording')}
        disabled={!usable || !recordable}
        title={
          recordable
            ? `Record ${target.comm} (${target.pid}) into a session file (${keysOf('toggle-recording')})`
            : 'Open a running process first (Processes view), then record it'
        }
        onClick={() => void controller.workflow.startRecording()}
      >
        <span className="rec-dot" aria-hidden="true" />
        Record
      </button>
    </span>
  );
}

/** The running experiment, when the panel is closed: a pill that opens it again. */
function MigrationPill(): ReactNode {
  const controller = useController();
  const open = useAppSelector((s) => s.workflow.migration.open);
  const run = useAppSelector((s) => s.workflow.migration.run);
  if (open || run.phase !== 'running') return null;
  const fraction = run.progress ? progressFraction(run.progress) : null;
  return (
    <button
      className="pill"
      title="Show the migration in progress"
      onClick={() => {
        controller.workflow.setMigrationPanel(true);
      }}
    >
      <span className="dot live" /> migrating {fraction === null ? '…' : formatPercent(fraction)}
    </button>
  );
}

/**
 * The session actions of the top bar: record/stop the open process, open, save as, export, migrate, and
 * the shortcut help. Also owns the workflow keyboard shortcuts.
 */
export function SessionToolbar(): ReactNode {
  const controller = useController();
  const dispatch = useDispatch();
  const usable = useAppSelector(selectAgentUsable);
  const hasSession = useAppSelector((s) => s.session.view !== null);
  const busy = useAppSelector((s) => s.workflow.fileBusy);
  const panelOpen = useAppSelector((s) => s.workflow.migration.open);
  useWorkflowShortcuts();

  return (
    <div className="session-toolbar" role="toolbar" aria-label="Session">
      <RecordControls />
      <MigrationPill />
      <button
        className="btn small"
        data-testid="open-session"
        aria-keyshortcuts={ariaKeys('open-session')}
        title={`Open a recorded session (${keysOf('open-session')})`}
        disabled={!usable || busy === 'opening'}
        onClick={() => void controller.workflow.openSessionFlow()}
      >
        {busy === 'opening' ? 'Opening…' : 'Open…'}
      </button>
      <button
        className="btn small"
        aria-keyshortcuts={ariaKeys('save-session-as')}
        title={`Save the open session as… (${keysOf('save-session-as')})`}
        disabled={!usable || !hasSession || busy !== null}
        onClick={() => void controller.workflow.saveAsFlow()}
      >
        Save as…
      </button>
      <button
        className="btn small"
        aria-keyshortcuts={ariaKeys('export-session')}
        title={`Export the open session: JSON, CSV or Perfetto (${keysOf('export-session')})`}
        disabled={!usable || !hasSession || busy !== null}
        onClick={() => {
          controller.workflow.exportFlow();
        }}
      >
        Export…
      </button>
      <button
        className="btn small"
        aria-keyshortcuts="M"
        aria-pressed={panelOpen}
        title="Migrate the selection: promote, demote or lazily rebind it to a node (M)"
        onClick={() => {
          controller.workflow.setMigrationPanel(!panelOpen);
        }}
      >
        Migrate…
      </button>
      <button
        className="btn small"
        aria-label="Keyboard shortcuts"
        aria-keyshortcuts="?"
        title="Keyboard shortcuts (?)"
        onClick={() => {
          dispatch({ type: 'dialog/set', dialog: { type: 'shortcuts' } });
        }}
      >
        ?
      </button>
    </div>
  );
}

/**
 * While recording: what is being recorded, the live progress line (intervals, hot/warm/cold bytes, the
 * sampler's own CPU) and where the journal is autosaved, with Open (see it while it grows) and Stop.
 */
export function RecordingStrip(): ReactNode {
  const controller = useController();
  const recording = useAppSelector((s) => s.workflow.recording);
  const openPath = useAppSelector((s) => s.session.view?.path ?? null);
  if (!recording) return null;
  const { progress } = recording;
  return (
    <div className="banner recording" role="status" aria-live="polite" data-testid="recording-status">
      <strong>
        <span className="rec-dot" aria-hidden="true" /> Recording {recording.comm} ({recording.pid})
      </strong>
      <span className="text">
        {recording.status === 'starting'
          ? 'starting…'
          : recording.status === 'stopping'
            ? 'stopping: closing the file…'
            : progress
              ? formatRecordingProgress(progress)
              : `waiting for the first interval${recording.source ? ` (${recording.source})` : ''}…`}
        {recording.path ? (
          <span
            className="muted"
            title={`${recording.path}${recording.sourceReason ? `\n${recording.sourceReason}` : ''}`}
          >
            {' '}
            · autosaved to <span className="mono">{recording.path}</span>
          </span>
        ) : null}
      </span>
      {recording.path && recording.status === 'recording' ? (
        <button
          className="btn small"
          title="Open the session as recorded so far (reopen for newer intervals)"
          onClick={() => {
            // Already open: reload keeps the viewport and selection; otherwise open it fresh.
            if (openPath === recording.path) void controller.session.reload();
            else if (recording.path) void controller.workflow.openSessionPath(recording.path);
          }}
        >
          {openPath === recording.path ? 'Reload' : 'Open now'}
        </button>
      ) : null}
      <button
        className="btn small primary"
        disabled={recording.status !== 'recording'}
        onClick={() => void controller.workflow.stopRecording()}
      >
        Stop
      </button>
    </div>
  );
}
