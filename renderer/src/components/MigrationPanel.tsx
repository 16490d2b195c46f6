import { useEffect, useMemo, useState, type ReactNode } from 'react';
import type { Experiment, MigrationPlan } from '../../../electron/contract/index.js';
import {
  experimentViewport,
  formatExperimentDuration,
  formatExperimentProgress,
  histogramRows,
  placementTable,
  planSummary,
  progressFraction,
} from '../logic/experimentRows.js';
import { formatBytes, formatCount, formatDurationMs, formatPercent } from '../logic/format.js';
import {
  describeRanges,
  initialMigrationForm,
  validateMigration,
  withAction,
  type HotnessChoice,
  type MigrationAction,
  type MigrationForm,
  type MigrationScope,
} from '../logic/migrationForm.js';
import { splitSessionPath } from '../logic/recentSessions.js';
import { selectAgentUsable } from '../state/selectors.js';
import type { MigrationRun } from '../state/workflow.js';
import {
  selectMigrationNodes,
  selectMigrationSources,
  type MigrationSources,
} from '../state/workflowSelectors.js';
import { Bytes } from './cells.js';
import { useAppSelector, useController, useDispatch } from './hooks.js';

const SCOPES: readonly MigrationScope[] = ['selection', 'vma', 'process'];

const ACTIONS: readonly { id: MigrationAction; label: string; hint: string }[] = [
  { id: 'promote', label: 'Promote', hint: 'move pages to a faster node now (move_pages)' },
  { id: 'demote', label: 'Demote', hint: 'move pages to a slower node now (move_pages)' },
  { id: 'lazy-rebind', label: 'Lazy rebind', hint: 'each page moves when it is next touched' },
];

const HOTNESS: readonly { id: HotnessChoice; label: string }[] = [
  { id: 'any', label: 'all pages' },
  { id: 'hot', label: 'hot pages (accessed in every scan)' },
  { id: 'cold', label: 'cold pages (accessed in none)' },
  { id: 'top-k', label: 'the K hottest pages' },
];

function firstScope(sources: MigrationSources): MigrationScope {
  return SCOPES.find((s) => sources.scopes[s] !== null) ?? 'selection';
}

function PlanView({ plan }: { plan: MigrationPlan }): ReactNode {
  const p = planSummary(plan);
  return (
    <section className="migration-plan" aria-label="Plan" data-testid="migration-plan">
      <h3>Plan</h3>
      <dl className="facts">
        <dt>pages selected</dt>
        <dd className="num">{formatCount(p.pagesSelected)}</dd>
        <dt>to move</dt>
        <dd>
          <span className="num">{formatCount(p.pagesToMove)}</span>{' '}
          <span className="muted">({formatBytes(p.bytesToMove)})</span>
          {p.toMoveByNode.length > 0 ? (
            <span className="muted">
              {' '}
              — {p.toMoveByNode.map((r) => `${formatCount(r.pages)} from node ${r.node}`).join(', ')}
            </span>
          ) : null}
        </dd>
        <dt>already there</dt>
        <dd className="num">{formatCount(p.alreadyThere)}</dd>
        <dt>not present</dt>
        <dd className="num">{formatCount(p.notPresent)}</dd>
        {p.classesFrom ? (
          <>
            <dt>classes from</dt>
            <dd>{p.classesFrom}</dd>
          </>
        ) : null}
      </dl>
      {p.skipped.length > 0 ? (
        <details>
          <summary>
            {p.skipped.length} skipped mapping{p.skipped.length === 1 ? '' : 's'}
          </summary>
          <ul className="skipped">
            {p.skipped.map((s) => (
              <li key={s}>{s}</li>
            ))}
          </ul>
        </details>
      ) : null}
    </section>
  );
}

function ProgressView({ run }: { run: Extract<MigrationRun, { phase: 'running' }> }): ReactNode {
  const controller = useController();
  const fraction = run.progress ? progressFraction(run.progress) : null;
  const text = run.progress ? formatExperimentProgress(run.progress) : 'starting…';
  return (
    <section className="migration-running" aria-label="Progress">
      <div
        className={`progress${fraction === null ? ' indeterminate' : ''}`}
        data-testid="migration-progress"
        role="progressbar"
        aria-label="Migration progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={fraction === null ? undefined : Math.round(fraction * 100)}
        aria-valuetext={text}
      >
        <span style={{ width: fraction === null ? undefined : `${fraction * 100}%` }} />
      </div>
      <div className="progress-text" aria-live="polite">
        {text}
        {run.progress?.text ? <div className="muted">{run.progress.text}</div> : null}
      </div>
      {run.progress?.partialHistogram ? (
        <div className="muted">
          moved so far: {formatCount(run.progress.partialHistogram.moved)} pages, already there{' '}
          {formatCount(run.progress.partialHistogram.alreadyThere)}
        </div>
      ) : null}
      <button
        className="btn"
        data-testid="cancel-migration"
        disabled={run.cancelling}
        title="Stops between batches; pages already moved stay moved"
        onClick={() => void controller.workflow.cancelMigration()}
      >
        {run.cancelling ? 'Cancelling…' : 'Cancel'}
      </button>
    </section>
  );
}

const STATUS_TONE: Record<Experiment['status'], string> = {
  running: 'info',
  completed: 'ok',
  cancelled: 'warn',
  failed: 'error',
  expired: 'warn',
};

function ResultView({ experiment }: { experiment: Experiment }): ReactNode {
  const controller = useController();
  const dispatch = useDispatch();
  const session = useAppSelector((s) => s.session.view);
  const rows = histogramRows(experiment.histogram);
  const placement = placementTable(experiment);
  const inSession =
    session !== null &&
    experiment.startMs !== null &&
    session.experiments.some((e) => e.id === experiment.id);
  const durationMs =
    experiment.endedAt === null ? null : Date.parse(experiment.endedAt) - Date.parse(experiment.startedAt);
  return (
    <section className="migration-result" data-testid="migration-result" aria-label="Result">
      <h3>
        Result <span className={`badge ${STATUS_TONE[experiment.status]}`}>{experiment.status}</span>
        <span className="aside muted">
          {formatExperimentDuration(Number.isFinite(durationMs) ? durationMs : null)}
        </span>
      </h3>
      {experiment.detail ? <p className="muted">{experiment.detail}</p> : null}
      <p>
        moved <strong className="num">{formatCount(experiment.histogram.moved)}</strong> of{' '}
        {formatCount(experiment.pagesSelected)} pages
        {experiment.pendingPages > 0
          ? `, ${formatCount(experiment.pendingPages)} still waiting for a touch`
          : ''}
      </p>
      <table className="plain histogram" aria-label="Per-page outcome">
        <tbody>
          {rows.map((r) => (
            <tr
              key={r.key}
              className={r.pages > 0 && r.failure ? 'failure' : undefined}
              title={r.detail || undefined}
            >
              <th scope="row">{r.label}</th>
              <td className="num">{formatCount(r.pages)}</td>
              <td className="bar-cell">
                {r.pages > 0 ? (
                  <span
                    className={`hbar${r.failure ? ' failure' : r.key === 'moved' ? ' moved' : ''}`}
                    style={{ width: `${r.share * 100}%` }}
                  />
                ) : null}
              </td>
              <td className="num muted">{r.pages > 0 ? formatPercent(r.share) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.find((r) => r.key === 'other' && r.pages > 0)?.detail ? (
        <p className="muted">other: {rows.find((r) => r.key === 'other')?.detail}</p>
      ) : null}
      {placement.length > 0 ? (
        <table className="plain placement" aria-label="Before and after, per node">
          <thead>
            <tr>
              <th>node</th>
              <th className="num">selection</th>
              <th className="num">hot</th>
              <th className="num">cold</th>
            </tr>
          </thead>
          <tbody>
            {placement.map((p) => (
              <tr key={p.node}>
                <th scope="row">N{p.node}</th>
                <td className="num">
                  <BeforeAfter before={p.selectionBefore} after={p.selectionAfter} />
                </td>
                <td className="num">
                  <BeforeAfter before={p.hotBefore} after={p.hotAfter} />
                </td>
                <td className="num">
                  <BeforeAfter before={p.coldBefore} after={p.coldAfter} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="faint">No before/after placement: hot and cold pages were not measured.</p>
      )}
      <div className="actions">
        {inSession && experiment.startMs !== null ? (
          <button
            className="btn"
            onClick={() => {
              const start = experiment.startMs ?? 0;
              const lastEnd = session.timeline.endMs[session.timeline.endMs.length - 1] ?? start;
              dispatch({
                type: 'session/viewport',
                viewport: experimentViewport(
                  { fromMs: start, toMs: experiment.endMs },
                  lastEnd,
                  3 * session.meta.intervalMs,
                ),
              });
              dispatch({ type: 'view/show', view: 'session' });
            }}
          >
            Show on timeline
          </button>
        ) : null}
        <button
          className="btn primary"
          onClick={() => {
            controller.workflow.resetMigration();
          }}
        >
          New migration
        </button>
      </div>
    </section>
  );
}

function BeforeAfter({ before, after }: { before: number; after: number }): ReactNode {
  if (before === after) return <Bytes value={after} />;
  return (
    <span title={`${formatBytes(before)} → ${formatBytes(after)}`}>
      <span className="muted">{formatBytes(before)}</span> → <strong>{formatBytes(after)}</strong>
    </span>
  );
}

/**
 * The migration panel: what to move (the session's selection, the VMA picked in Memory, or the whole
 * process, narrowed by hotness and source nodes), where, how fast; a dry run shows the plan, Run moves with
 * a progress bar and Cancel, then the per-page histogram and the before/after placement per node.
 */
export function MigrationPanel(): ReactNode {
  const open = useAppSelector((s) => s.workflow.migration.open);
  return open ? <MigrationPanelBody /> : null;
}

function MigrationPanelBody(): ReactNode {
  const controller = useController();
  const sources = useAppSelector(selectMigrationSources);
  const nodes = useAppSelector(selectMigrationNodes);
  const migration = useAppSelector((s) => s.workflow.migration);
  const usable = useAppSelector(selectAgentUsable);
  const recording = useAppSelector((s) => s.workflow.recording);
  const [form, setForm] = useState<MigrationForm>(() =>
    initialMigrationForm(nodes, firstScope(sources), sources.sessionPath !== null),
  );

  // The topology may arrive after the panel opened: give the form its default node then.
  useEffect(() => {
    if (form.toNode === null && nodes.length > 0) setForm((f) => withAction(f, f.action, nodes));
  }, [nodes, form.toNode]);

  const validation = useMemo(
    () =>
      validateMigration(
        form,
        {
          pid: sources.process?.pid ?? null,
          startTimeTicks: sources.process?.startTimeTicks ?? null,
          scopes: sources.scopes,
          nodes,
          sessionPath: sources.sessionPath,
          recordingSource:
            recording?.status === 'recording' && recording.pid === sources.process?.pid
              ? recording.source
              : null,
        },
        true,
      ),
    [form, sources, nodes, recording],
  );
  const { run, error } = migration;
  const busy = run.phase === 'planning' || run.phase === 'running';
  const canSend = usable && validation.params !== null && !busy;
  const close = (): void => {
    controller.workflow.setMigrationPanel(false);
  };
  const set = (patch: Partial<MigrationForm>): void => {
    setForm((f) => ({ ...f, ...patch }));
  };
  const sessionName = sources.sessionPath ? splitSessionPath(sources.sessionPath).name : null;

  return (
    <aside
      className="migration-panel"
      data-testid="migration-panel"
      aria-label="Migration"
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          close();
        }
      }}
    >
      <header>
        <h2>Migrate</h2>
        <span className="muted">
          {sources.process ? `${sources.process.comm} (${sources.process.pid})` : 'no process'}
        </span>
        <span className="grow" />
        <button className="btn small" aria-label="Close the migration panel" onClick={close}>
          ×
        </button>
      </header>
      <div className="migration-body">
        <form
          onSubmit={(e) => {
            e.preventDefault();
          }}
        >
          <fieldset disabled={busy}>
            <legend>What</legend>
            {SCOPES.map((scope) => {
              const ranges = sources.scopes[scope];
              return (
                <label key={scope} className={`radio${ranges ? '' : ' unavailable'}`}>
                  <input
                    type="radio"
                    name="migration-scope"
                    value={scope}
                    checked={form.scope === scope}
                    disabled={ranges === null}
                    onChange={() => {
                      set({ scope });
                    }}
                  />
                  <span>{sources.scopeLabels[scope]}</span>
                  <span className="muted mono">{ranges ? describeRanges(ranges) : '— none'}</span>
                </label>
              );
            })}
            {validation.errors.scope ? <div className="error-text">{validation.errors.scope}</div> : null}

            <label htmlFor="migration-hotness">Pages</label>
            <select
              id="migration-hotness"
              className="input"
              value={form.hotness}
              disabled={form.action === 'lazy-rebind'}
              onChange={(e) => {
                set({ hotness: e.target.value as HotnessChoice });
              }}
            >
              {HOTNESS.map((h) => (
                <option key={h.id} value={h.id}>
                  {h.label}
                </option>
              ))}
            </select>
            {validation.errors.hotness ? <div className="error-text">{validation.errors.hotness}</div> : null}
            {form.hotness === 'top-k' ? (
              <>
                <label htmlFor="migration-topk">K (pages)</label>
                <input
                  id="migration-topk"
                  className="input num"
                  inputMode="numeric"
                  value={form.topKPages}
                  onChange={(e) => {
                    set({ topKPages: e.target.value });
                  }}
                />
                {validation.errors.topKPages ? (
                  <div className="error-text">{validation.errors.topKPages}</div>
                ) : null}
              </>
            ) : null}
            {nodes.length > 1 ? (
              <>
                <div className="field-label" id="migration-from-label">
                  Only pages now on
                </div>
                <div className="chips" role="group" aria-labelledby="migration-from-label">
                  {nodes.map((n) => (
                    <button
                      key={n.id}
                      type="button"
                      className="chip"
                      aria-pressed={form.fromNodes.includes(n.id)}
                      onClick={() => {
                        set({
                          fromNodes: form.fromNodes.includes(n.id)
                            ? form.fromNodes.filter((x) => x !== n.id)
                            : [...form.fromNodes, n.id],
                        });
                      }}
                    >
                      node {n.id}
                    </button>
                  ))}
                  <span className="faint">{form.fromNodes.length === 0 ? 'any node' : ''}</span>
                </div>
              </>
            ) : null}
          </fieldset>

          <fieldset disabled={busy}>
            <legend>How</legend>
            <div className="segmented" role="group" aria-label="Action">
              {ACTIONS.map((a) => (
                <button
                  key={a.id}
                  type="button"
                  aria-pressed={form.action === a.id}
                  title={a.hint}
                  onClick={() => {
                    setForm((f) => withAction(f, a.id, nodes));
                  }}
                >
                  {a.label}
                </button>
              ))}
            </div>
            <label htmlFor="migration-node">To node</label>
            <select
              id="migration-node"
              className="input"
              value={form.toNode ?? ''}
              onChange={(e) => {
                set({ toNode: e.target.value === '' ? null : Number(e.target.value) });
              }}
            >
              {form.toNode === null ? <option value="">choose a node</option> : null}
              {nodes.map((n) => (
                <option key={n.id} value={n.id}>
                  {n.label}
                </option>
              ))}
            </select>
            {validation.errors.toNode ? <div className="error-text">{validation.errors.toNode}</div> : null}
            <label htmlFor="migration-rate">Rate (MB/s, empty = no limit)</label>
            <input
              id="migration-rate"
              className="input num"
              inputMode="decimal"
              placeholder="no limit"
              value={form.rateMBps}
              onChange={(e) => {
                set({ rateMBps: e.target.value });
              }}
            />
            {validation.errors.rateMBps ? (
              <div className="error-text">{validation.errors.rateMBps}</div>
            ) : null}
            {form.action === 'lazy-rebind' ? (
              <>
                <label htmlFor="migration-expire">Give up after (s, empty = until cancelled)</label>
                <input
                  id="migration-expire"
                  className="input num"
                  inputMode="decimal"
                  value={form.expireSeconds}
                  onChange={(e) => {
                    set({ expireSeconds: e.target.value });
                  }}
                />
                {validation.errors.expireSeconds ? (
                  <div className="error-text">{validation.errors.expireSeconds}</div>
                ) : null}
              </>
            ) : null}
            {sessionName ? (
              <label className="check">
                <input
                  type="checkbox"
                  checked={form.useSession}
                  onChange={(e) => {
                    set({ useSession: e.target.checked });
                  }}
                />
                <span>
                  Use the open session <span className="mono">{sessionName}</span>
                  {sources.sessionLive ? ' (live)' : ''}: page classes from it, experiment recorded in it
                </span>
              </label>
            ) : null}
          </fieldset>
        </form>

        {validation.warnings.length > 0 ? (
          <ul className="warnings">
            {validation.warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        ) : null}

        <div className="actions">
          <button
            className="btn"
            data-testid="dry-run"
            disabled={!canSend}
            title="Ask the agent what would move, per node; move nothing"
            onClick={() => {
              if (validation.params) void controller.workflow.dryRun(validation.params);
            }}
          >
            {run.phase === 'planning' && run.dryRun ? 'Planning…' : 'Dry run'}
          </button>
          <button
            className="btn primary"
            data-testid="run-migration"
            disabled={!canSend}
            onClick={() => {
              if (validation.params) void controller.workflow.runMigration(validation.params);
            }}
          >
            {run.phase === 'planning' && !run.dryRun
              ? 'Starting…'
              : (ACTIONS.find((a) => a.id === form.action)?.label ?? 'Run')}
          </button>
        </div>

        {error ? (
          <div className="error-text migration-error" role="alert">
            {error.message}
          </div>
        ) : null}
        {run.phase === 'planned' ? <PlanView plan={run.plan} /> : null}
        {run.phase === 'running' ? (
          <>
            <ProgressView run={run} />
            <PlanView plan={run.plan} />
          </>
        ) : null}
        {run.phase === 'ended' ? <ResultView experiment={run.experiment} /> : null}
        {run.phase === 'ended' && run.plan ? <PlanView plan={run.plan} /> : null}
        {!usable ? <p className="faint">Migrating needs the agent: reconnect first.</p> : null}
        <p className="faint hint">
          Pages move in batches of about {formatDurationMs(20)} each, so the process keeps running; Cancel
          stops between batches and what moved stays moved.
        </p>
      </div>
    </aside>
  );
}
