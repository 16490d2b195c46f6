import type { ReactNode } from 'react';
import { splitSessionPath } from '../logic/recentSessions.js';
import { selectAgentUsable } from '../state/selectors.js';
import { useAppSelector, useController } from './hooks.js';

/**
 * The last sessions opened (paths on the agent's machine), newest first: click to open again. A path that
 * failed keeps the agent's one-line reason under it (missing file, not a session, a torn file it could
 * not salvage) and can be forgotten. For the open dialog and empty states.
 */
export function RecentSessions({ title = 'Recent sessions' }: { title?: string }): ReactNode {
  const controller = useController();
  const recent = useAppSelector((s) => s.workflow.recentSessions);
  const errors = useAppSelector((s) => s.workflow.recentErrors);
  const busy = useAppSelector((s) => s.workflow.fileBusy);
  const usable = useAppSelector(selectAgentUsable);
  const openPath = useAppSelector((s) => s.session.view?.path ?? null);

  return (
    <section className="recent-sessions" aria-label={title}>
      <h3>{title}</h3>
      {recent.length === 0 ? (
        <p className="faint">None yet: sessions you open or record appear here.</p>
      ) : (
        <ul data-testid="recent-sessions">
          {recent.map((path) => {
            const { name, folder } = splitSessionPath(path);
            const error = errors[path];
            return (
              <li key={path} className={error ? 'failed' : undefined}>
                <button
                  className="recent-open"
                  disabled={!usable || busy !== null}
                  title={usable ? `Open ${path}` : 'Needs an agent connection'}
                  onClick={() => void controller.workflow.openSessionPath(path)}
                >
                  <span className="name mono">{name}</span>
                  <span className="folder mono faint">{folder}</span>
                  {openPath === path ? <span className="badge ok">open</span> : null}
                </button>
                <button
                  className="btn small"
                  aria-label={`Forget ${path}`}
                  title="Remove from this list (the file stays)"
                  onClick={() => {
                    controller.workflow.removeRecent(path);
                  }}
                >
                  ×
                </button>
                {error ? (
                  <div className="error-text" role="alert">
                    {error}
                  </div>
                ) : null}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
