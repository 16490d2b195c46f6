import { useEffect, useState, type ReactNode } from 'react';
import type { SessionView } from '../../../electron/contract/index.js';
import { parseHex } from '../logic/addressAxis.js';
import { formatBytes, formatClock, formatCount, formatDurationMs } from '../logic/format.js';
import { formatOffsetMs } from '../logic/timeScale.js';
import type { SessionSelection } from '../state/session.js';
import { selectAgentUsable } from '../state/selectors.js';
import { selectSessionBounds } from '../state/sessionSelectors.js';
import { Spinner } from './cells.js';
import { EmptyState } from './EmptyState.js';
import { HeatmapPanel } from './HeatmapPanel.js';
import { useAppSelector, useController, useDispatch } from './hooks.js';
import { inTextField } from './keys.js';
import { MisplacementTable } from './MisplacementTable.js';
import { RecentSessions } from './RecentSessions.js';
import { SessionVmaTable } from './SessionVmaTable.js';
import { Timelines } from './Timelines.js';

/** Keyboard zoom step (+ / −) and pan step (← / →, a share of the visible span). */
const KEY_ZOOM_FACTOR = 1.5;
const KEY_PAN_SHARE = 0.2;

const END_REASONS: Record<SessionView['end']['reason'], string> = {
  stopped: 'stopped by the user',
  'duration-reached': 'duration reached',
  'process-exited': 'the process exited',
  'pid-reused': 'the pid was reused by another process',
  'source-failed': 'the access source failed',
  'recorder-killed': 'the recorder was killed',
};

function SessionHeader({ view }: { view: SessionView }): ReactNode {
  const controller = useController();
  const usable = useAppSelector(selectAgentUsable);
  const reloading = useAppSelector((s) => s.session.status === 'opening');
  const { meta, end } = view;
  const durationMs = (view.timeline.endMs[view.intervalCount - 1] ?? 0) - (view.timeline.startMs[0] ?? 0);
  const upgraded = view.fileVersion !== meta.formatVersion;
  return (
    <div className="session-head" data-testid="session-header">
      <div className="line">
        <span className="title">
          {meta.target.comm} <span className="muted">pid {meta.target.pid}</span>
        </span>
        {view.live ? (
          <span className="pill" title="The agent is still recording into this file">
            <span className="dot live" /> recording
          </span>
        ) : (
          <span className="pill" title={end.detail}>
            <span
              className={`dot ${end.reason === 'stopped' || end.reason === 'duration-reached' ? '' : 'warn'}`}
            />
            ended: {END_REASONS[end.reason]}
            {view.endRecorded ? '' : ' (inferred)'}
          </span>
        )}
        <span className="muted mono" title={view.path}>
          {view.path}
        </span>
        <span className="muted">
          {formatBytes(view.fileBytes)} · format {view.fileVersion}
          {upgraded ? ` (read as ${meta.formatVersion})` : ''}
        </span>
        <span className="grow" />
        {view.live ? (
          <button
            className="btn small"
            disabled={!usable || reloading}
            title="Open the file again to see the intervals recorded since"
            onClick={() => void controller.session.reload()}
          >
            {reloading ? 'Reloading…' : 'Reload'}
          </button>
        ) : null}
        <button
          className="btn small"
          title="Close this session"
          onClick={() => void controller.closeSession()}
        >
          Close
        </button>
      </div>
      <dl className="facts inline">
        <dt>recorded</dt>
        <dd>
          {meta.hostname} · Linux {meta.kernelRelease} · {meta.nodes.length} NUMA node
          {meta.nodes.length === 1 ? '' : 's'} ({meta.nodes.join(', ')}) · started{' '}
          {meta.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')} ({formatClock(meta.startedAt)} local) ·{' '}
          {formatDurationMs(durationMs)} · {formatCount(view.intervalCount)} intervals of{' '}
          {formatDurationMs(meta.intervalMs)} · hot = accessed in all of {meta.scansPerWindow} scans
        </dd>
        <dt>source</dt>
        <dd>
          <strong>{meta.source}</strong> — {meta.sourceReason}
          <span className="muted"> · limits: {meta.sourceLimits}</span>
        </dd>
        <dt>end</dt>
        <dd>
          {END_REASONS[end.reason]}
          {/* The recorder's detail often says the reason again ("stopped by the user"): show it once. */}
          {end.detail && end.detail !== END_REASONS[end.reason] ? ` — ${end.detail}` : ''}
          {view.endRecorded
            ? ''
            : view.live
              ? ' (still recording)'
              : ' (no end record: inferred from the last complete interval)'}
        </dd>
        <dt>command</dt>
        <dd className="mono" title={meta.target.cmdline}>
          {meta.target.cmdline || meta.target.comm}
        </dd>
      </dl>
    </div>
  );
}

function selectionBytes(selection: SessionSelection): number {
  let total = 0n;
  for (const r of selection.ranges) total += parseHex(r.end) - parseHex(r.start);
  return Number(total);
}

function ViewportBar({ view }: { view: SessionView }): ReactNode {
  const dispatch = useDispatch();
  const viewport = useAppSelector((s) => s.session.viewport);
  const bounds = useAppSelector(selectSessionBounds);
  const selection = useAppSelector((s) => s.session.selection);
  const stepMs = view.meta.intervalMs;
  const whole = bounds !== null && viewport.fromMs <= bounds.minMs && viewport.toMs >= bounds.maxMs;
  return (
    <div className="toolbar session-bar">
      <div className="segmented" role="group" aria-label="Zoom">
        <button
          title="Zoom out (−)"
          aria-label="Zoom out"
          onClick={() => {
            dispatch({ type: 'session/zoom', factor: KEY_ZOOM_FACTOR, anchorMs: null });
          }}
        >
          −
        </button>
        <button
          title="Zoom in (+)"
          aria-label="Zoom in"
          onClick={() => {
            dispatch({ type: 'session/zoom', factor: 1 / KEY_ZOOM_FACTOR, anchorMs: null });
          }}
        >
          +
        </button>
        <button
          title="Show the whole session (0, or double-click a plot)"
          aria-pressed={whole}
          onClick={() => {
            dispatch({ type: 'session/reset-viewport' });
          }}
        >
          all
        </button>
      </div>
      <span className="muted" data-testid="session-viewport">
        {formatOffsetMs(viewport.fromMs, stepMs)} – {formatOffsetMs(viewport.toMs, stepMs)}
        {bounds ? ` of ${formatOffsetMs(bounds.maxMs, stepMs)}` : ''}
      </span>
      <span className="grow" />
      {selection ? (
        <span className="selection-chip" data-testid="session-selection">
          selection:{' '}
          {selection.source === 'vma'
            ? `${selection.vmaIds.length} VMA${selection.vmaIds.length === 1 ? '' : 's'}`
            : 'brushed range'}{' '}
          · {formatBytes(selectionBytes(selection))}
          {selection.ranges.length > 1 ? ` in ${selection.ranges.length} ranges` : ''}
          <button
            className="btn small"
            title="Clear the selection (Escape)"
            onClick={() => {
              dispatch({ type: 'session/clear-selection' });
            }}
          >
            Clear
          </button>
        </span>
      ) : (
        <span className="faint">
          select a VMA in a table or drag on the heatmap to select an address range
        </span>
      )}
      <span className="faint">wheel zoom · drag pan · + − ← → 0 · Esc clears</span>
    </div>
  );
}

function OpenByPath(): ReactNode {
  const controller = useController();
  const usable = useAppSelector(selectAgentUsable);
  const [path, setPath] = useState('');
  return (
    <form
      className="open-by-path"
      onSubmit={(e) => {
        e.preventDefault();
        if (path.trim() !== '') void controller.openSession(path.trim());
      }}
    >
      <input
        className="input mono"
        aria-label="Session file path"
        placeholder="/path/to/session.tierscope (on the agent's machine)"
        value={path}
        onChange={(e) => {
          setPath(e.target.value);
        }}
      />
      <button className="btn primary" type="submit" disabled={!usable || path.trim() === ''}>
        Open
      </button>
    </form>
  );
}

/** +/− zoom, ← → pan, 0 the whole session, Escape clears the selection (while the Session view is shown). */
function useSessionKeys(enabled: boolean): void {
  const dispatch = useDispatch();
  useEffect(() => {
    if (!enabled) return;
    const onKey = (e: KeyboardEvent): void => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || inTextField(e.target)) return;
      switch (e.key) {
        case '+':
        case '=':
          dispatch({ type: 'session/zoom', factor: 1 / KEY_ZOOM_FACTOR, anchorMs: null });
          break;
        case '-':
        case '_':
          dispatch({ type: 'session/zoom', factor: KEY_ZOOM_FACTOR, anchorMs: null });
          break;
        case 'ArrowLeft':
          dispatch({ type: 'session/pan-span', share: -KEY_PAN_SHARE });
          break;
        case 'ArrowRight':
          dispatch({ type: 'session/pan-span', share: KEY_PAN_SHARE });
          break;
        case '0':
          dispatch({ type: 'session/reset-viewport' });
          break;
        case 'Escape':
          dispatch({ type: 'session/clear-selection' });
          break;
        default:
          return;
      }
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('keydown', onKey);
    };
  }, [enabled, dispatch]);
}

/**
 * The Session view: a recorded session opened through the agent — header, timelines, heatmap,
 * misplacement and the VMA table, all on one time viewport and one selection.
 */
export function SessionPanel(): ReactNode {
  const controller = useController();
  // Field by field: the panel itself re-renders on open/close, not on every cursor move or pan.
  const view = useAppSelector((s) => s.session.view);
  const status = useAppSelector((s) => s.session.status);
  const openPath = useAppSelector((s) => s.session.path);
  const error = useAppSelector((s) => s.session.error);
  const usable = useAppSelector(selectAgentUsable);
  // Keys go to an open dialog first (Escape closes it, it does not clear the selection).
  const dialogOpen = useAppSelector((s) => s.dialog !== null);
  useSessionKeys(view !== null && !dialogOpen);

  if (!view) {
    if (status === 'opening') {
      return (
        <EmptyState title="Opening session…">
          <Spinner label="opening" /> {openPath}
        </EmptyState>
      );
    }
    if (status === 'error' && error) {
      const path = openPath;
      return (
        <EmptyState
          tone="error"
          title="Cannot open the session"
          actions={
            <>
              {path ? (
                <button
                  className="btn primary"
                  disabled={!usable}
                  onClick={() => void controller.openSession(path)}
                >
                  Retry
                </button>
              ) : null}
              <OpenByPath />
            </>
          }
        >
          {/* The agent's message names the file already. */}
          {error.message}
        </EmptyState>
      );
    }
    return (
      <EmptyState title="No session open" actions={<OpenByPath />}>
        Record one (<code>tierscope record --pid N --out FILE</code>, or the record button), then open the
        file: its hot/warm/cold timelines, the address × time heatmap and what is misplaced show here. Paths
        are on the agent&apos;s machine.
        <RecentSessions />
      </EmptyState>
    );
  }

  return (
    <div className="session-view scroll">
      <SessionHeader view={view} />
      {view.recovered ? (
        <div className="banner warning" role="status">
          <strong>Recovered session.</strong>
          <span className="text">{view.recovered}</span>
        </div>
      ) : null}
      {error ? (
        <div className="banner error" role="alert">
          <strong>Session error.</strong>
          <span className="text">{error.message}</span>
        </div>
      ) : null}
      {!view.report.window.complete ? (
        <div className="banner info" role="status">
          <strong>Provisional classes.</strong>
          <span className="text">
            The session ended before a window of {view.meta.scansPerWindow} scans completed: hot and cold are
            a best guess.
          </span>
        </div>
      ) : null}
      <ViewportBar view={view} />
      <div className="session-body">
        <Timelines />
        <HeatmapPanel />
        <div className="session-tables">
          <MisplacementTable />
          <SessionVmaTable />
        </div>
      </div>
    </div>
  );
}
