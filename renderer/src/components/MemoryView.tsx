import type { ReactNode } from 'react';
import type { Snapshot } from '../../../electron/contract/index.js';
import { formatBytes, formatClock, formatCount, formatPercent, formatStartTime } from '../logic/format.js';
import { nodeColor } from '../logic/palette.js';
import {
  selectAgentUsable,
  selectTargetCpuLessNodes,
  selectTargetTopology,
  selectKindSummary,
  selectNodeBytes,
  selectPolicySummary,
} from '../state/selectors.js';
import type { TargetState } from '../state/state.js';
import { Bytes, Spinner } from './cells.js';
import { EmptyState } from './EmptyState.js';
import { useAppSelector, useController, useDispatch } from './hooks.js';
import { KindByNode, ResidencyOverTime } from './ResidencyCharts.js';
import { VmaTable } from './VmaTable.js';

const INTERVALS_MS = [500, 1000, 2000, 5000, 10_000];

/** Browser mode has no save dialog: the export is a download made here. */
function downloadSnapshot(snapshot: Snapshot): void {
  const blob = new Blob([JSON.stringify(snapshot, null, 2)], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = `tierscope-snapshot-${snapshot.pid}-${snapshot.takenAt.replace(/[:.]/g, '-')}.json`;
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(url);
  }, 1000);
}

function PhasePill({ target }: { target: TargetState }): ReactNode {
  const live = useAppSelector((s) => s.live);
  switch (target.phase) {
    case 'loading':
      return (
        <span className="pill">
          <Spinner label="loading" /> reading
        </span>
      );
    case 'live':
      return (
        <span className="pill" title="Attached: a snapshot arrives every interval">
          <span className="dot live" /> live ·{' '}
          {live.intervalMs >= 1000 ? `${live.intervalMs / 1000} s` : `${live.intervalMs} ms`}
        </span>
      );
    case 'paused':
      return (
        <span className="pill">
          <span className="dot warn" /> paused
        </span>
      );
    case 'ended':
      return (
        <span className="pill">
          <span className="dot error" /> ended
        </span>
      );
    case 'gone':
    case 'error':
      return (
        <span className="pill">
          <span className="dot error" /> {target.phase}
        </span>
      );
    case 'file':
      return (
        <span className="pill">
          <span className="dot" /> from file
        </span>
      );
  }
}

export function MemoryView(): ReactNode {
  const controller = useController();
  const dispatch = useDispatch();
  const target = useAppSelector((s) => s.target);
  const usable = useAppSelector(selectAgentUsable);
  const live = useAppSelector((s) => s.live);
  const theme = useAppSelector((s) => s.theme);
  const nodeBytes = useAppSelector(selectNodeBytes);
  const kinds = useAppSelector(selectKindSummary);
  const policies = useAppSelector(selectPolicySummary);
  const cpuLess = useAppSelector(selectTargetCpuLessNodes);
  const processes = useAppSelector((s) => s.processes.data);
  const mode = useAppSelector((s) => s.mode);
  const tiers = useAppSelector(selectTargetTopology)?.nodes;

  const toProcesses = (
    <button
      className="btn"
      onClick={() => {
        dispatch({ type: 'view/show', view: 'processes' });
      }}
    >
      Back to processes
    </button>
  );

  if (!target) {
    return (
      <EmptyState
        title="No process open"
        actions={
          <>
            <button
              className="btn primary"
              onClick={() => {
                dispatch({ type: 'view/show', view: 'processes' });
              }}
            >
              Pick a process
            </button>
            <button
              className="btn"
              disabled={!usable}
              onClick={() => {
                dispatch({ type: 'dialog/set', dialog: { type: 'launch' } });
              }}
            >
              Launch a command…
            </button>
          </>
        }
      >
        Pick a process in Processes (double-click or Enter), launch a command under Tierscope, or open a
        snapshot saved with <code>tierscope snapshot --pid N --json</code>.
      </EmptyState>
    );
  }

  const snapshot = target.snapshot;
  if (!snapshot) {
    if (target.phase === 'loading' || target.phase === 'live') {
      return (
        <EmptyState title={`Reading process ${target.pid} (${target.comm})…`}>
          <Spinner label="loading" /> smaps and numa_maps of every mapping; large processes take a moment.
        </EmptyState>
      );
    }
    const gone = target.phase === 'gone';
    const permission = target.errorCode === 'permission';
    return (
      <EmptyState
        tone="error"
        title={
          gone ? `Process ${target.pid} has exited` : `Cannot read process ${target.pid} (${target.comm})`
        }
        actions={
          <>
            {toProcesses}
            {gone ? (
              <button
                className="btn primary"
                disabled={!usable}
                onClick={() => {
                  void controller.refreshProcesses();
                  dispatch({ type: 'view/show', view: 'processes' });
                }}
              >
                Refresh process list
              </button>
            ) : (
              <button
                className="btn"
                disabled={!usable}
                onClick={() => void controller.refreshTarget(live.enabled)}
              >
                Retry
              </button>
            )}
          </>
        }
      >
        {target.message}
        {gone ? ' It exited after the process list was taken: refresh the list and pick another.' : null}
        {permission && mode === 'electron' ? ' Capture → Elevate starts a root agent through pkexec.' : null}
      </EmptyState>
    );
  }

  const started = processes?.find(
    (p) => p.pid === target.pid && p.startTimeTicks === snapshot.startTimeTicks,
  );
  const total = nodeBytes.reduce((a, b) => a + b, 0);
  const canLive = usable && target.phase !== 'file' && target.phase !== 'ended';

  return (
    <>
      <div className="target-head">
        <span className="title">
          {snapshot.comm} <span className="muted">pid {snapshot.pid}</span>
        </span>
        <PhasePill target={target} />
        <span className="muted">
          {started ? `${started.user} · ` : ''}started {formatStartTime(snapshot.startTime, new Date())} · RSS{' '}
          {formatBytes(snapshot.totals.rssBytes)} · {formatCount(snapshot.totals.vmaCount)} VMAs · as of{' '}
          {formatClock(snapshot.takenAt)}
        </span>
        <span className="grow" />
        <label className="check" title="Attach: the agent sends a snapshot every interval">
          <input
            type="checkbox"
            checked={live.enabled && target.phase === 'live'}
            disabled={!canLive}
            onChange={(e) => void controller.setLive(e.target.checked)}
          />
          live
        </label>
        <select
          className="input"
          aria-label="Update interval"
          value={live.intervalMs}
          disabled={!canLive}
          onChange={(e) => void controller.setIntervalMs(Number(e.target.value))}
        >
          {INTERVALS_MS.map((ms) => (
            <option key={ms} value={ms}>
              every {ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`}
            </option>
          ))}
        </select>
        <button
          className="btn"
          title={target.phase === 'live' ? 'Live: updates arrive on their own' : 'Take one snapshot now'}
          disabled={!usable || target.phase === 'file' || target.phase === 'live'}
          onClick={() => void controller.refreshTarget(false)}
        >
          Refresh
        </button>
        <button
          className="btn"
          title="Save this snapshot as JSON (the format of tierscope snapshot --json)"
          onClick={() => {
            if (mode === 'electron') void controller.exportSnapshot();
            else downloadSnapshot(snapshot);
          }}
        >
          Export JSON
        </button>
      </div>

      {target.phase === 'ended' ? (
        <div className="banner warning" role="status">
          <strong>Live updates ended.</strong>
          <span className="text">
            {target.message ?? 'The agent stopped sending snapshots.'} Showing the last snapshot, taken at{' '}
            {formatClock(snapshot.takenAt)}.
          </span>
          {toProcesses}
        </div>
      ) : null}
      {target.phase === 'file' ? (
        <div className="banner info" role="status">
          <strong>Offline snapshot.</strong>
          <span className="text">
            Opened from {target.filePath}; taken {snapshot.takenAt}. No agent involved: nothing here updates.
          </span>
        </div>
      ) : null}

      <div className="summary">
        <section className="panel" aria-label="Resident per node">
          <h3>
            Resident per node <span className="aside muted">{formatBytes(total)} on nodes</span>
          </h3>
          <div className="node-rows">
            {snapshot.nodes.map((n, i) => {
              const bytes = nodeBytes[i] ?? 0;
              const tier = tiers?.find((x) => x.id === n)?.memoryTier ?? null;
              return (
                <div key={n} style={{ display: 'contents' }} data-node={n}>
                  <span className="label">
                    <span className="swatch" style={{ background: nodeColor(theme, i) }} />
                    node {n}
                    {cpuLess.has(n) ? <span className="badge warn">CPU-less</span> : null}
                    {tier !== null ? <span className="faint">tier {tier}</span> : null}
                  </span>
                  <div className="meter" style={{ ['--node-color' as string]: nodeColor(theme, i) }}>
                    <span style={{ width: total > 0 ? `${(100 * bytes) / total}%` : 0 }} />
                  </div>
                  <span className="num" data-testid={`node-bytes-${n}`}>
                    <Bytes value={bytes} />
                  </span>
                  <span className="num muted" style={{ minWidth: 44 }}>
                    {formatPercent(total > 0 ? bytes / total : null)}
                  </span>
                </div>
              );
            })}
          </div>
          <table className="plain" style={{ marginTop: 8 }} aria-label="Policies">
            <thead>
              <tr>
                <th>Policy</th>
                <th className="num">VMAs</th>
                <th className="num">Resident</th>
              </tr>
            </thead>
            <tbody>
              {policies
                .filter((p) => p.residentBytes > 0)
                .slice(0, 4)
                .map((p) => (
                  <tr key={p.policy}>
                    <td className="mono">{p.policy}</td>
                    <td className="num">{formatCount(p.vmas)}</td>
                    <td className="num">
                      <Bytes value={p.residentBytes} />
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        </section>
        <section className="panel">
          <h3>
            Per node over time
            <span className="aside muted">
              {target.history.length} sample{target.history.length === 1 ? '' : 's'}
            </span>
          </h3>
          <ResidencyOverTime history={target.history} nodes={snapshot.nodes} theme={theme} />
        </section>
        <section className="panel">
          <h3>By mapping kind</h3>
          <KindByNode summary={kinds} nodes={snapshot.nodes} theme={theme} />
        </section>
      </div>
      <VmaTable />
    </>
  );
}
