import type { ReactNode } from 'react';
import { experimentViewport, formatExperimentDuration, type ExperimentRow } from '../logic/experimentRows.js';
import { formatCount, formatDurationMs } from '../logic/format.js';
import { splitSessionPath } from '../logic/recentSessions.js';
import { selectExperimentRows } from '../state/workflowSelectors.js';
import { EmptyState } from './EmptyState.js';
import { useAppSelector, useController, useDispatch } from './hooks.js';

const STATUS_TONE: Record<ExperimentRow['status'], string> = {
  running: 'info',
  completed: 'ok',
  cancelled: 'warn',
  failed: 'error',
  expired: 'warn',
};

/**
 * Every experiment known: the open session's (what was recorded in it) and those that ended while this UI
 * ran. Clicking one that sits on the open session's timeline shows its time span there.
 */
export function ExperimentsList(): ReactNode {
  const controller = useController();
  const dispatch = useDispatch();
  const rows = useAppSelector(selectExperimentRows);
  const session = useAppSelector((s) => s.session.view);

  const show = (row: ExperimentRow): void => {
    if (!row.span || !session) return;
    const ends = session.timeline.endMs;
    const sessionEndMs = ends[ends.length - 1] ?? row.span.fromMs;
    dispatch({
      type: 'session/viewport',
      viewport: experimentViewport(row.span, sessionEndMs, 3 * session.meta.intervalMs),
    });
    dispatch({ type: 'session/cursor', ms: row.span.fromMs });
    dispatch({ type: 'view/show', view: 'session' });
  };

  if (rows.length === 0) {
    return (
      <EmptyState
        title="No experiments yet"
        actions={
          <button
            className="btn primary"
            onClick={() => {
              controller.workflow.setMigrationPanel(true);
            }}
          >
            Migrate…
          </button>
        }
      >
        Select VMAs or brush an address range in a session (or pick a VMA in Memory), press <kbd>M</kbd> and
        promote, demote or lazily rebind it. Each move is an experiment: it appears here and, when recorded in
        a session, on its timeline.
      </EmptyState>
    );
  }

  return (
    <div className="experiments scroll">
      <table className="plain experiments-table" data-testid="experiments-list" aria-label="Experiments">
        <thead>
          <tr>
            <th>experiment</th>
            <th>selection</th>
            <th>target</th>
            <th>status</th>
            <th className="num">moved / selected</th>
            <th className="num">duration</th>
            <th>before → after</th>
            <th>on the timeline</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr
              key={row.id}
              className={row.span ? 'clickable' : undefined}
              tabIndex={row.span ? 0 : undefined}
              aria-label={row.span ? `${row.label}: show on the timeline` : undefined}
              onClick={() => {
                show(row);
              }}
              onKeyDown={(e) => {
                if (e.key === 'Enter') show(row);
              }}
            >
              <td>
                {row.label}
                {row.thisRun ? <span className="badge info">this run</span> : null}
              </td>
              <td>{row.selection}</td>
              <td className="mono">{row.target}</td>
              <td>
                <span className={`badge ${STATUS_TONE[row.status]}`} title={row.detail || undefined}>
                  {row.status}
                </span>
              </td>
              <td className="num">
                {formatCount(row.moved)} / {formatCount(row.selected)}
              </td>
              <td className="num">{formatExperimentDuration(row.durationMs)}</td>
              <td>{row.deltas}</td>
              <td className="muted">
                {row.span
                  ? `at ${formatDurationMs(row.span.fromMs)}`
                  : row.otherSession
                    ? `in ${splitSessionPath(row.otherSession).name}`
                    : 'not in a session'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
