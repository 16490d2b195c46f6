import { useState, type ReactNode } from 'react';
import type { ExportFormat } from '../../../electron/contract/index.js';
import {
  checkTypedPath,
  EXPORT_FORMATS,
  EXPORT_KINDS,
  SESSION_FILE_KIND,
  siblingPath,
} from '../logic/sessionFiles.js';
import { selectAgentUsable } from '../state/selectors.js';
import type { Dialog as DialogState, UiError } from '../state/state.js';
import { selectAgentHost, selectUsesFileDialogs } from '../state/workflowSelectors.js';
import { Dialog } from './Dialogs.js';
import { useAppSelector, useController } from './hooks.js';
import { RecentSessions } from './RecentSessions.js';

/**
 * Open a session by typing its path (browser mode, an ssh agent: the file is on the agent's machine, which
 * no local dialog can browse), or pick one of the recent ones.
 */
export function OpenSessionDialog({ onClose }: { onClose: () => void }): ReactNode {
  const controller = useController();
  const host = useAppSelector(selectAgentHost);
  const usable = useAppSelector(selectAgentUsable);
  const busy = useAppSelector((s) => s.workflow.fileBusy === 'opening');
  const [path, setPath] = useState('');
  const [error, setError] = useState<UiError | null>(null);
  const problem = path.trim() === '' ? null : checkTypedPath(path);
  const submit = async (): Promise<void> => {
    if (path.trim() === '' || problem !== null) return;
    setError(await controller.workflow.openSessionPath(path.trim()));
  };
  return (
    <Dialog title="Open session" onClose={onClose}>
      <p>
        A session file (<code>.tierscope</code>) on {host ? <strong>{host}</strong> : 'the agent’s machine'}:
        a finished recording, one still being recorded, or what a killed recorder left (Tierscope reads every
        complete interval).
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label htmlFor="open-session-path">Path</label>
        <PathInput
          id="open-session-path"
          value={path}
          placeholder="/home/me/.local/share/tierscope/sessions/run.tierscope"
          onChange={(value) => {
            setPath(value);
            setError(null);
          }}
        />
        {problem ? <div className="error-text">{problem}</div> : null}
        <ErrorAlert error={error} />
        {!usable ? (
          <div className="error-text">Opening a session needs the agent: reconnect first.</div>
        ) : null}
        <FormActions
          onCancel={onClose}
          submitTestId="open-session-button"
          disabled={!usable || busy || path.trim() === '' || problem !== null}
        >
          {busy ? 'Opening…' : 'Open'}
        </FormActions>
      </form>
      <RecentSessions />
    </Dialog>
  );
}

type SessionFileDialogState = Extract<NonNullable<DialogState>, { type: 'session-file' }>;

/**
 * Save As / Export. The desktop app with a local agent picks the file in main's save dialog; otherwise the
 * path is typed (it is on the agent's machine). The agent refuses to overwrite: this dialog then asks,
 * and only a confirmed replace calls again with overwrite.
 */
export function SessionFileDialog({
  dialog,
  onClose,
}: {
  dialog: SessionFileDialogState;
  onClose: () => void;
}): ReactNode {
  const controller = useController();
  const view = useAppSelector((s) => s.session.view);
  const host = useAppSelector(selectAgentHost);
  const usable = useAppSelector(selectAgentUsable);
  const usesDialogs = useAppSelector(selectUsesFileDialogs);
  const busy = useAppSelector((s) => s.workflow.fileBusy);
  const { purpose } = dialog;
  const [format, setFormat] = useState<ExportFormat>(dialog.format);
  const defaultPath = (f: ExportFormat): string => {
    const name = controller.workflow.defaultFileName(purpose, f);
    return view && name ? siblingPath(view.path, name) : '';
  };
  const [path, setPath] = useState(() => defaultPath(dialog.format));
  const [edited, setEdited] = useState(false);
  const [confirmPath, setConfirmPath] = useState<string | null>(dialog.confirmPath);
  const [error, setError] = useState<UiError | null>(null);
  const title = purpose === 'save' ? 'Save session as' : 'Export session';

  if (!view) {
    return (
      <Dialog title={title} onClose={onClose}>
        <p>No session is open any more.</p>
        <div className="actions">
          <button className="btn" onClick={onClose}>
            Close
          </button>
        </div>
      </Dialog>
    );
  }

  const write = async (target: string, overwrite: boolean): Promise<void> => {
    setError(null);
    const outcome = await controller.workflow.writeSessionFile(purpose, format, target, overwrite);
    switch (outcome.status) {
      case 'written':
        return;
      case 'exists':
        setConfirmPath(outcome.path);
        return;
      case 'failed':
        setError(outcome.error);
        return;
    }
  };
  const choose = async (): Promise<void> => {
    const picked = await controller.workflow.pickPath(purpose, format);
    if (picked !== null) await write(picked, false);
  };
  const pathProblem = checkTypedPath(path);
  const working = busy === 'saving' || busy === 'exporting';
  const kind = purpose === 'save' ? SESSION_FILE_KIND : EXPORT_KINDS[format];

  if (confirmPath !== null) {
    return (
      <Dialog title={title} onClose={onClose}>
        <p role="alert">
          <span className="mono">{confirmPath}</span> already exists{host ? ` on ${host}` : ''}. Replace it?
        </p>
        <ErrorAlert error={error} />
        <div className="actions">
          <button
            className="btn"
            onClick={() => {
              setConfirmPath(null);
              setError(null);
            }}
          >
            Choose another name
          </button>
          <button
            className="btn primary"
            data-testid="confirm-overwrite"
            autoFocus
            disabled={!usable || working}
            onClick={() => void write(confirmPath, true)}
          >
            {working ? 'Writing…' : 'Replace'}
          </button>
        </div>
      </Dialog>
    );
  }

  return (
    <Dialog title={title} onClose={onClose}>
      <p>
        {purpose === 'save'
          ? 'A compacted copy of the session file, openable offline.'
          : 'Writes the whole session in one of these formats.'}{' '}
        The file is written by the agent{host ? `, on ${host}` : ''}.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (usesDialogs) void choose();
          else if (pathProblem === null) void write(path.trim(), false);
        }}
      >
        {purpose === 'export' ? (
          <>
            <div id="export-format-label" className="field-label">
              Format
            </div>
            <div className="segmented" role="group" aria-labelledby="export-format-label">
              {EXPORT_FORMATS.map((f) => (
                <button
                  key={f}
                  type="button"
                  data-testid={`export-format-${f}`}
                  aria-pressed={format === f}
                  onClick={() => {
                    setFormat(f);
                    if (!edited) setPath(defaultPath(f));
                  }}
                >
                  {EXPORT_KINDS[f].label}
                </button>
              ))}
            </div>
            <div className="faint hint">{kind.description}</div>
          </>
        ) : null}
        {usesDialogs ? null : (
          <>
            <label htmlFor="session-file-path">Path{host ? ` on ${host}` : ' on the agent’s machine'}</label>
            <PathInput
              id="session-file-path"
              value={path}
              onChange={(value) => {
                setPath(value);
                setEdited(true);
                setError(null);
              }}
            />
            {path.trim() !== '' && pathProblem ? <div className="error-text">{pathProblem}</div> : null}
          </>
        )}
        <ErrorAlert error={error} />
        <FormActions
          onCancel={onClose}
          submitTestId="session-file-submit"
          autoFocus={usesDialogs}
          disabled={!usable || working || (!usesDialogs && pathProblem !== null)}
        >
          {working
            ? 'Writing…'
            : usesDialogs
              ? purpose === 'save'
                ? 'Choose file…'
                : `Export ${kind.label}…`
              : purpose === 'save'
                ? 'Save'
                : `Export ${kind.label}`}
        </FormActions>
      </form>
    </Dialog>
  );
}

function ErrorAlert({ error }: { error: UiError | null }): ReactNode {
  return error ? (
    <div className="error-text" role="alert">
      {error.message}
    </div>
  ) : null;
}

/** A typed path (monospace, no spell check, focused on open); `id` is its test id too. */
function PathInput({
  id,
  value,
  placeholder,
  onChange,
}: {
  id: string;
  value: string;
  placeholder?: string;
  onChange: (value: string) => void;
}): ReactNode {
  return (
    <input
      id={id}
      data-testid={id}
      className="input mono"
      autoFocus
      spellCheck={false}
      value={value}
      placeholder={placeholder}
      onChange={(e) => {
        onChange(e.target.value);
      }}
    />
  );
}

/** Cancel and the form's submit button (its label is `children`). */
function FormActions({
  onCancel,
  submitTestId,
  autoFocus,
  disabled,
  children,
}: {
  onCancel: () => void;
  submitTestId: string;
  autoFocus?: boolean;
  disabled: boolean;
  children: ReactNode;
}): ReactNode {
  return (
    <div className="actions">
      <button type="button" className="btn" onClick={onCancel}>
        Cancel
      </button>
      <button
        type="submit"
        data-testid={submitTestId}
        className="btn primary"
        autoFocus={autoFocus}
        disabled={disabled}
      >
        {children}
      </button>
    </div>
  );
}
