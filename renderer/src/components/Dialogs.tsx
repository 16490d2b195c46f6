import { useEffect, useRef, useState, type ReactNode } from 'react';
import { SshDestination } from '../../../electron/contract/desktop.js';
import { splitArgv } from '../logic/argv.js';
import type { UiError } from '../state/state.js';
import { useAppSelector, useController, useDispatch } from './hooks.js';
import { OpenSessionDialog, SessionFileDialog } from './SessionDialogs.js';
import { ShortcutHelp } from './ShortcutHelp.js';

/** A modal dialog: Escape and a click outside close it. Shared by the session dialogs (SessionDialogs.tsx). */
export function Dialog({
  title,
  children,
  onClose,
}: {
  title: string;
  children: ReactNode;
  onClose: () => void;
}): ReactNode {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    // Focus starts inside (unless a field took it), and Escape closes wherever focus went: a button
    // disabled while busy drops focus to <body>, out of reach of a handler on the dialog itself.
    if (!box.current?.contains(document.activeElement)) box.current?.focus();
    const onKey = (e: KeyboardEvent): void => {
      if (e.key !== 'Escape') return;
      // Capture phase, stopped: views' own Escape (clear the selection) must not fire behind a dialog.
      e.stopPropagation();
      e.preventDefault();
      onClose();
    };
    window.addEventListener('keydown', onKey, true);
    return () => {
      window.removeEventListener('keydown', onKey, true);
    };
  }, [onClose]);
  return (
    <div
      className="dialog-backdrop"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) onClose();
      }}
    >
      <div ref={box} tabIndex={-1} className="dialog" role="dialog" aria-modal="true" aria-label={title}>
        <h2>{title}</h2>
        {children}
      </div>
    </div>
  );
}

function LaunchDialog({ onClose }: { onClose: () => void }): ReactNode {
  const controller = useController();
  const [line, setLine] = useState('');
  const [cwd, setCwd] = useState('');
  const [error, setError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);
  const argv = splitArgv(line);
  const submit = async (): Promise<void> => {
    if (!argv || argv.length === 0) return;
    setBusy(true);
    setError(await controller.launch(argv, cwd.trim() || null));
    setBusy(false);
  };
  return (
    <Dialog title="Launch a command" onClose={onClose}>
      <p>
        The agent starts it as its own user (no shell: quotes group words, nothing is expanded) and Tierscope
        opens it as soon as it runs.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label htmlFor="launch-cmd">Command</label>
        <input
          id="launch-cmd"
          className="input mono"
          autoFocus
          value={line}
          placeholder="numactl --interleave=all ./bench --threads 8"
          onChange={(e) => {
            setLine(e.target.value);
          }}
        />
        <label htmlFor="launch-cwd">Working directory (optional, on the agent's machine)</label>
        <input
          id="launch-cwd"
          className="input mono"
          value={cwd}
          onChange={(e) => {
            setCwd(e.target.value);
          }}
        />
        {argv === null ? <div className="error-text">Unclosed quote.</div> : null}
        {error ? <div className="error-text">{error.message}</div> : null}
        <div className="actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn primary" disabled={busy || !argv || argv.length === 0}>
            {busy ? 'Starting…' : 'Launch'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function RemoteDialog({ onClose }: { onClose: () => void }): ReactNode {
  const controller = useController();
  const [destination, setDestination] = useState('');
  const [error, setError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);
  const valid = SshDestination.safeParse(destination.trim()).success;
  const submit = async (): Promise<void> => {
    setBusy(true);
    setError(await controller.switchAgent({ kind: 'remote', destination: destination.trim() }));
    setBusy(false);
  };
  return (
    <Dialog title="Connect to a remote machine" onClose={onClose}>
      <p>
        Runs <code>ssh DEST tierscope agent --stdio</code>. Tierscope must be installed on DEST, and ssh must
        log in without a prompt (a key or a running agent): there is no terminal to type a password into.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (valid) void submit();
        }}
      >
        <label htmlFor="remote-dest">Destination</label>
        <input
          id="remote-dest"
          className="input mono"
          autoFocus
          value={destination}
          placeholder="user@server or a Host alias from ~/.ssh/config"
          onChange={(e) => {
            setDestination(e.target.value);
          }}
        />
        {destination && !valid ? (
          <div className="error-text">
            Use host, user@host or an ssh_config alias (ports go in ~/.ssh/config).
          </div>
        ) : null}
        {error ? <div className="error-text">{error.message}</div> : null}
        <div className="actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn primary" disabled={busy || !valid}>
            {busy ? 'Connecting…' : 'Connect'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function Dialogs(): ReactNode {
  const dialog = useAppSelector((s) => s.dialog);
  const dispatch = useDispatch();
  const close = (): void => {
    dispatch({ type: 'dialog/set', dialog: null });
  };
  if (dialog === null) return null;
  switch (dialog.type) {
    case 'launch':
      return <LaunchDialog onClose={close} />;
    case 'remote':
      return <RemoteDialog onClose={close} />;
    case 'open-session':
      return <OpenSessionDialog onClose={close} />;
    case 'session-file':
      return <SessionFileDialog dialog={dialog} onClose={close} />;
    case 'shortcuts':
      return <ShortcutHelp onClose={close} />;
  }
}
