import { useEffect, useRef, type ReactNode } from 'react';
import { formatBytes, formatClock, formatDurationMs } from '../logic/format.js';
import type { View } from '../state/state.js';
import { Dialogs } from './Dialogs.js';
import { EmptyState } from './EmptyState.js';
import { ExperimentsList } from './ExperimentsList.js';
import { useAppSelector, useController, useDispatch } from './hooks.js';
import { MemoryView } from './MemoryView.js';
import { MigrationPanel } from './MigrationPanel.js';
import { ProcessPicker } from './ProcessPicker.js';
import { SessionPanel } from './SessionPanel.js';
import { RecordingStrip, SessionToolbar } from './SessionToolbar.js';
import { TopologyPanel } from './TopologyPanel.js';

/** Tabs in order. */
const VIEWS: readonly { id: View; label: string; key: string }[] = [
  { id: 'processes', label: 'Processes', key: '1' },
  { id: 'topology', label: 'Topology', key: '2' },
  { id: 'memory', label: 'Memory', key: '3' },
  { id: 'session', label: 'Session', key: '4' },
  { id: 'experiments', label: 'Experiments', key: '5' },
];

function ConnectionPill(): ReactNode {
  const connection = useAppSelector((s) => s.connection);
  const mode = useAppSelector((s) => s.mode);
  switch (connection.status) {
    case 'connecting':
      return (
        <span className="pill">
          <span className="dot warn" /> connecting…
        </span>
      );
    case 'connected': {
      const h = connection.hello;
      const where =
        connection.target?.kind === 'remote'
          ? `ssh ${connection.target.destination}`
          : connection.target?.kind === 'elevated'
            ? 'pkexec'
            : mode === 'browser'
              ? 'websocket'
              : 'local';
      return (
        <span
          className="pill"
          title={h ? `agent ${h.agentVersion}, protocol ${h.protocolVersion}, uid ${h.uid}` : undefined}
        >
          <span className="dot ok" />
          {h ? h.hostname : 'agent'}
          <span className="muted">
            {' '}
            · {where}
            {h ? ` · uid ${h.uid}${h.privileged ? ' · privileged' : ''}` : ''}
          </span>
        </span>
      );
    }
    case 'lost':
      return (
        <span className="pill">
          <span className="dot error" /> agent lost
        </span>
      );
    case 'failed':
      return (
        <span className="pill">
          <span className="dot error" /> no agent
        </span>
      );
    case 'offline':
      return (
        <span className="pill">
          <span className="dot" /> offline
        </span>
      );
  }
}

function TargetChip(): ReactNode {
  const target = useAppSelector((s) => s.target);
  const dispatch = useDispatch();
  if (!target) return null;
  return (
    <button
      className="pill"
      style={{ cursor: 'pointer' }}
      onClick={() => {
        dispatch({ type: 'view/show', view: 'memory' });
      }}
      title="Show the open process"
    >
      <span className={`dot ${target.phase === 'live' ? 'live' : target.phase === 'paused' ? 'warn' : ''}`} />
      {target.comm} <span className="muted">{target.pid}</span>
      {target.snapshot ? (
        <span className="muted"> · {formatBytes(target.snapshot.totals.rssBytes)}</span>
      ) : null}
    </button>
  );
}

/** Agent reasons are one-line clauses ("the agent exited with code 1"): capitalized and closed here. */
function sentence(text: string): string {
  const t = text.trim();
  if (t === '') return t;
  const capital = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

function Banners(): ReactNode {
  const connection = useAppSelector((s) => s.connection);
  const notices = useAppSelector((s) => s.notices);
  const controller = useController();
  const dispatch = useDispatch();
  return (
    <div className="banners">
      <RecordingStrip />
      {connection.status === 'lost' ? (
        <div className="banner error" role="alert">
          <strong>Agent connection lost.</strong>
          <span className="text">
            {sentence(connection.reason)} Everything shown is as of{' '}
            {formatClock(new Date(connection.sinceMs).toISOString())}; nothing updates until the agent is
            back.
          </span>
          <button
            className="btn primary"
            disabled={connection.reconnecting}
            onClick={() => void controller.reconnect()}
          >
            {connection.reconnecting ? 'Reconnecting…' : 'Reconnect'}
          </button>
        </div>
      ) : null}
      {notices.map((n) => (
        <div key={n.id} className={`banner ${n.tone}`} role={n.tone === 'info' ? 'status' : 'alert'}>
          <strong>{n.title}</strong>
          <span className="text">{n.message}</span>
          <button
            className="btn small"
            onClick={() => {
              dispatch({ type: 'notice/dismiss', id: n.id });
            }}
          >
            Dismiss
          </button>
        </div>
      ))}
    </div>
  );
}

function StatusBar(): ReactNode {
  const connection = useAppSelector((s) => s.connection);
  const topology = useAppSelector((s) => s.topology.data);
  const target = useAppSelector((s) => s.target);
  const live = useAppSelector((s) => s.live);
  const hello = connection.status === 'connected' || connection.status === 'lost' ? connection.hello : null;
  return (
    <footer className="statusbar">
      <span>{hello ? `agent ${hello.agentVersion} · protocol ${hello.protocolVersion}` : 'agent —'}</span>
      <span>
        {topology
          ? `${topology.nodes.length} node${topology.nodes.length === 1 ? '' : 's'} · ${topology.tiers.length} tier${topology.tiers.length === 1 ? '' : 's'}`
          : ''}
      </span>
      <span>
        {target?.snapshot
          ? `pid ${target.pid} · snapshot ${formatClock(target.snapshot.takenAt)}${target.phase === 'live' ? ` · every ${formatDurationMs(live.intervalMs)}` : ''}`
          : ''}
      </span>
      <span style={{ marginLeft: 'auto' }}>
        Ctrl+1–5 views · / search · ↑↓ Enter in tables · ? all shortcuts
      </span>
    </footer>
  );
}

function OpenSnapshotButton(): ReactNode {
  const controller = useController();
  const dispatch = useDispatch();
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <input
        ref={input}
        type="file"
        accept="application/json,.json"
        className="visually-hidden"
        aria-label="Open snapshot file"
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = '';
          if (!file) return;
          void file.text().then(async (text) => {
            const error = await controller.openSnapshotText(text, file.name);
            if (error)
              dispatch({
                type: 'notice/add',
                notice: { tone: 'error', title: 'Cannot open snapshot', message: error.message },
              });
          });
        }}
      />
      <button
        className="btn small"
        title="Open a snapshot JSON (tierscope snapshot --json, or an export)"
        onClick={() => input.current?.click()}
      >
        Open snapshot…
      </button>
    </>
  );
}

export function App(): ReactNode {
  const view = useAppSelector((s) => s.view);
  const theme = useAppSelector((s) => s.theme);
  const connection = useAppSelector((s) => s.connection);
  const mode = useAppSelector((s) => s.mode);
  const target = useAppSelector((s) => s.target);
  const dispatch = useDispatch();
  const controller = useController();

  useEffect(() => {
    document.documentElement.dataset['theme'] = theme;
    try {
      localStorage.setItem('tierscope.theme', theme);
    } catch {
      // Storage can be unavailable (private mode, file://); the theme then lasts for this page only.
    }
  }, [theme]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      const view = VIEWS.find((v) => v.key === e.key);
      if ((e.ctrlKey || e.altKey) && view) {
        e.preventDefault();
        dispatch({ type: 'view/show', view: view.id });
        return;
      }
      const active = document.activeElement;
      if (
        e.key === '/' &&
        !(active instanceof HTMLInputElement) &&
        !(active instanceof HTMLTextAreaElement)
      ) {
        const search = document.querySelector<HTMLInputElement>('.toolbar input[type="search"]');
        if (search) {
          e.preventDefault();
          search.focus();
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('keydown', onKey);
    };
  }, [dispatch]);

  let content: ReactNode;
  if (connection.status === 'failed' && target === null) {
    content = (
      <EmptyState
        tone="error"
        title="No agent"
        actions={
          mode === 'electron' ? (
            <button className="btn primary" onClick={() => void controller.reconnect()}>
              Start the agent again
            </button>
          ) : (
            <button
              className="btn"
              onClick={() => {
                location.reload();
              }}
            >
              Reload
            </button>
          )
        }
      >
        {connection.message}
        {mode === 'browser'
          ? ' Check that `tierscope ui` is still running; if it was restarted, open the new URL it printed (the token changes with every start).'
          : null}
      </EmptyState>
    );
  } else {
    switch (view) {
      case 'processes':
        content = <ProcessPicker />;
        break;
      case 'topology':
        content = <TopologyPanel />;
        break;
      case 'memory':
        content = <MemoryView />;
        break;
      case 'session':
        content = <SessionPanel />;
        break;
      case 'experiments':
        content = <ExperimentsList />;
        break;
    }
  }

  return (
    <div className="app">
      <header className="topbar">
        <span className="brand">
          tier<span>scope</span>
        </span>
        <ConnectionPill />
        <TargetChip />
        <SessionToolbar />
        <span className="spacer" />
        {mode === 'browser' ? <OpenSnapshotButton /> : null}
        <button
          className="btn small"
          aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
          onClick={() => {
            dispatch({ type: 'theme/set', theme: theme === 'dark' ? 'light' : 'dark' });
          }}
        >
          {theme === 'dark' ? '☀ light' : '☾ dark'}
        </button>
      </header>
      <nav className="tabs" role="tablist" aria-label="Views">
        {VIEWS.map((v) => (
          <button
            key={v.id}
            role="tab"
            className="tab"
            aria-selected={view === v.id}
            title={`Ctrl+${v.key}`}
            onClick={() => {
              dispatch({ type: 'view/show', view: v.id });
            }}
          >
            {v.label}
          </button>
        ))}
      </nav>
      <Banners />
      <main className="content">{content}</main>
      <StatusBar />
      <MigrationPanel />
      <Dialogs />
    </div>
  );
}
