// The workflow controller and reducer against a scripted agent: recording (progress, stop, the process
// exiting), opening sessions (dialog, typed path, recent list), save as / export with the overwrite
// question, and migration experiments (dry run, events that overtake the answer, cancel, errors in place).
import { describe, expect, it } from 'vitest';
import type {
  EventData,
  EventName,
  Experiment,
  MigrationPlan,
  MethodName,
  Params,
  Result,
  StartMigration,
} from '../../electron/contract/index.js';
import type { DesktopApi, Envelope, MenuCommand } from '../../electron/contract/desktop.js';
import {
  ApiError,
  type AgentApi,
  type ConnectionEvent,
  type DesktopAbilities,
} from '../../renderer/src/api/agentApi.js';
import { ElectronAgentApi } from '../../renderer/src/api/electronApi.js';
import { RECENT_SESSIONS_KEY, type KeyValueStorage } from '../../renderer/src/logic/recentSessions.js';
import { initialState, type AppState, type UiError } from '../../renderer/src/state/state.js';
import { createStore, type Store } from '../../renderer/src/state/store.js';
import { WorkflowController } from '../../renderer/src/state/workflowController.js';
import { selectExperimentRows, selectMigrationSources } from '../../renderer/src/state/workflowSelectors.js';
import { threeNodeSnapshot } from './fixtures.js';
import { experiment, sessionView } from './sessionFixtures.js';

type Handler = (params: unknown) => unknown;

/** An AgentApi whose answers the test scripts per method, and whose events the test emits. */
class ScriptedApi implements AgentApi {
  readonly mode: 'browser' | 'electron';
  readonly calls: [MethodName, unknown][] = [];
  readonly handlers = new Map<MethodName, Handler>();
  private readonly listeners = new Map<string, Set<(data: unknown) => void>>();
  desktop: DesktopAbilities | null = null;

  constructor(mode: 'browser' | 'electron' = 'browser') {
    this.mode = mode;
  }

  answer<M extends MethodName>(method: M, fn: (params: Params<M>) => Result<M> | Promise<Result<M>>): void {
    this.handlers.set(method, fn as Handler);
  }

  async call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
    this.calls.push([method, params]);
    const fn = this.handlers.get(method);
    if (!fn) throw new ApiError('unknown-method', `no script for ${method}`);
    return (await fn(params)) as Result<M>;
  }

  on<E extends EventName>(event: E, cb: (data: EventData<E>) => void): () => void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(cb as (data: unknown) => void);
    this.listeners.set(event, set);
    return () => set.delete(cb as (data: unknown) => void);
  }

  emit<E extends EventName>(event: E, data: EventData<E>): void {
    for (const cb of this.listeners.get(event) ?? []) cb(data);
  }

  onConnection(_cb: (event: ConnectionEvent) => void): () => void {
    return () => undefined;
  }
  connect(): Promise<void> {
    return Promise.resolve();
  }
  reconnect(): Promise<void> {
    return Promise.resolve();
  }
}

function desktopAbilities(over: Partial<DesktopAbilities> = {}): DesktopAbilities & { saved: unknown[] } {
  const saved: unknown[] = [];
  return {
    saved,
    switchAgent: () => Promise.resolve(),
    exportSnapshot: () => Promise.resolve(null),
    openSessionDialog: () => Promise.resolve('/home/u/run.tierscope'),
    saveDialog: (request) => {
      saved.push(request);
      return Promise.resolve('/home/u/copy.tierscope');
    },
    onCommand: (_cb: (c: MenuCommand) => void) => () => undefined,
    ...over,
  };
}

function memoryStorage(): KeyValueStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => {
      data.set(k, v);
    },
  };
}

interface Rig {
  store: Store;
  api: ScriptedApi;
  workflow: WorkflowController;
  opened: string[];
  storage: ReturnType<typeof memoryStorage>;
}

/** A store connected to a scripted agent; `openSession` opens `sessionView()` (or fails for /bad paths). */
function rig(mode: 'browser' | 'electron' = 'browser', state: Partial<AppState> = {}): Rig {
  const store = createStore({
    ...initialState(mode, 'dark'),
    connection: { status: 'connected', hello: null, target: mode === 'electron' ? { kind: 'local' } : null },
    ...state,
  });
  const api = new ScriptedApi(mode);
  const opened: string[] = [];
  const storage = memoryStorage();
  const workflow = new WorkflowController(store, api, {
    openSession: (path) => {
      opened.push(path);
      if (path.startsWith('/bad')) {
        const error: UiError = { code: 'parse', message: `${path}: not a Tierscope session (bad magic)` };
        store.dispatch({ type: 'session/opening', path });
        store.dispatch({ type: 'session/open-failed', path, error });
        return Promise.resolve(error);
      }
      store.dispatch({ type: 'session/opened', view: sessionView({ path }) });
      return Promise.resolve(null);
    },
    storage,
  });
  workflow.wire();
  return { store, api, workflow, opened, storage };
}

function withLiveTarget(store: Store): void {
  store.dispatch({ type: 'target/select', process: { pid: 4242, comm: 'memhog', startTimeTicks: 1000 } });
  store.dispatch({ type: 'target/attached', pid: 4242, subscription: 's1', startTimeTicks: 1000 });
  store.dispatch({ type: 'target/live-snapshot', subscription: 's1', snapshot: threeNodeSnapshot() });
}

const plan: MigrationPlan = {
  pagesSelected: 4096,
  toMoveByNode: { '2': 4000 },
  bytesToMove: 4000 * 4096,
  alreadyThere: 96,
  notPresent: 0,
  skipped: [],
  classesFrom: null,
};

function migration(partial: Partial<StartMigration> = {}): StartMigration {
  return {
    pid: 4242,
    startTimeTicks: 1000,
    kind: 'move-pages',
    selection: {
      ranges: [{ start: '7f0000000000', end: '7f0004000000' }],
      hotness: 'hot',
      topKPages: null,
      fromNodes: null,
    },
    toNode: 0,
    rateBytesPerSecond: null,
    dryRun: false,
    expireMs: null,
    sessionPath: null,
    ...partial,
  };
}

const ended = (exp: Experiment, sessionPath: string | null = null): EventData<'experimentEnded'> => ({
  experiment: exp,
  sessionPath,
});

describe('recording', () => {
  it('records the open process, shows progress (even one that overtakes the answer), stops and opens it', async () => {
    const r = rig();
    withLiveTarget(r.store);
    r.api.answer('startRecording', () => {
      // The relay can deliver the first event before the answer.
      r.api.emit('recordingProgress', {
        recording: 'rec1',
        path: '/s/memhog.tierscope',
        intervals: 1,
        elapsedMs: 1000,
        source: 'refs',
        rssBytes: 1,
        hotBytes: 0,
        warmBytes: 0,
        coldBytes: 1,
        scansInWindow: 1,
        scansPerWindow: 5,
        samplerCpuPercent: 0.5,
      });
      return { recording: 'rec1', path: '/s/memhog.tierscope', source: 'refs', sourceReason: 'own process' };
    });
    r.store.dispatch({ type: 'workflow/record-settings', settings: { intervalMs: 500 } });
    expect(await r.workflow.startRecording()).toBeNull();
    expect(r.api.calls[0]).toEqual([
      'startRecording',
      { pid: 4242, startTimeTicks: 1000, source: 'auto', intervalMs: 500, durationMs: null, path: null },
    ]);
    let rec = r.store.getState().workflow.recording;
    expect(rec).toMatchObject({ status: 'recording', recording: 'rec1', path: '/s/memhog.tierscope' });
    expect(rec?.progress?.intervals).toBe(1);

    r.api.emit('recordingProgress', { ...(rec?.progress ?? ({} as never)), intervals: 7 });
    // Someone else's recording: ignored.
    r.api.emit('recordingProgress', {
      ...(rec?.progress ?? ({} as never)),
      recording: 'other',
      intervals: 99,
    });
    rec = r.store.getState().workflow.recording;
    expect(rec?.progress?.intervals).toBe(7);

    r.api.answer('stopRecording', () => {
      // The agent also announces the end; it must not open the session twice.
      r.api.emit('recordingEnded', {
        recording: 'rec1',
        path: '/s/memhog.tierscope',
        intervals: 8,
        end: { endedAt: 'x', reason: 'stopped', detail: '' },
      });
      return {
        path: '/s/memhog.tierscope',
        intervals: 8,
        end: { endedAt: 'x', reason: 'stopped', detail: '' },
      };
    });
    await r.workflow.toggleRecording();
    await Promise.resolve();
    expect(r.store.getState().workflow.recording).toBeNull();
    expect(r.store.getState().workflow.lastRecordingEnd?.intervals).toBe(8);
    expect(r.opened).toEqual(['/s/memhog.tierscope']);
    expect(r.store.getState().view).toBe('session');
    expect(r.store.getState().workflow.recentSessions).toEqual(['/s/memhog.tierscope']);
    expect(r.storage.data.get(RECENT_SESSIONS_KEY)).toBe('["/s/memhog.tierscope"]');
  });

  it('opens the session and says why when the process exits mid-recording', async () => {
    const r = rig();
    withLiveTarget(r.store);
    r.api.answer('startRecording', () => ({
      recording: 'rec2',
      path: '/s/a.tierscope',
      source: 'refs',
      sourceReason: '',
    }));
    await r.workflow.startRecording();
    r.api.emit('recordingEnded', {
      recording: 'rec2',
      path: '/s/a.tierscope',
      intervals: 3,
      end: { endedAt: 'x', reason: 'process-exited', detail: 'process 4242 (memhog) exited' },
    });
    await Promise.resolve();
    expect(r.store.getState().workflow.recording).toBeNull();
    expect(r.opened).toEqual(['/s/a.tierscope']);
    expect(r.store.getState().notices.map((n) => n.title)).toEqual(['The recorded process exited']);
  });

  it('refuses without a running process, and shows the agent’s refusal', async () => {
    const r = rig();
    expect((await r.workflow.startRecording())?.code).toBe('no-target');
    expect(r.api.calls).toEqual([]);
    withLiveTarget(r.store);
    r.api.answer('startRecording', () => {
      throw new ApiError('permission', 'page_idle needs root (CAP_SYS_ADMIN)');
    });
    expect((await r.workflow.startRecording())?.code).toBe('permission');
    expect(r.store.getState().workflow.recording).toBeNull();
    expect(r.store.getState().notices.at(-1)?.message).toBe('page_idle needs root (CAP_SYS_ADMIN)');
  });
});

describe('opening sessions', () => {
  it('browser: asks for a path; a garbage file keeps the agent’s line next to its recent entry', async () => {
    const r = rig();
    await r.workflow.openSessionFlow();
    expect(r.store.getState().dialog).toEqual({ type: 'open-session' });
    expect(await r.workflow.openSessionPath('/s/good.tierscope')).toBeNull();
    expect(r.store.getState().dialog).toBeNull();
    expect((await r.workflow.openSessionPath('/bad/garbage.tierscope'))?.code).toBe('parse');
    const w = r.store.getState().workflow;
    expect(w.recentSessions).toEqual(['/s/good.tierscope']);
    expect(w.recentErrors['/bad/garbage.tierscope']).toMatch(/not a Tierscope session/);
    r.workflow.removeRecent('/s/good.tierscope');
    expect(r.store.getState().workflow.recentSessions).toEqual([]);
    expect(r.storage.data.get(RECENT_SESSIONS_KEY)).toBe('[]');
  });

  it('desktop with a local agent: main’s dialog, then open; cancelled: nothing', async () => {
    const r = rig('electron');
    r.api.desktop = desktopAbilities();
    await r.workflow.openSessionFlow();
    expect(r.opened).toEqual(['/home/u/run.tierscope']);
    r.api.desktop = desktopAbilities({ openSessionDialog: () => Promise.resolve(null) });
    await r.workflow.openSessionFlow();
    expect(r.opened).toHaveLength(1);
    expect(r.store.getState().dialog).toBeNull();
  });

  it('desktop with an ssh agent, or main saying so: a typed path instead', async () => {
    const remote = rig('electron', {
      connection: { status: 'connected', hello: null, target: { kind: 'remote', destination: 'db-7' } },
    });
    remote.api.desktop = desktopAbilities();
    await remote.workflow.openSessionFlow();
    expect(remote.opened).toEqual([]);
    expect(remote.store.getState().dialog).toEqual({ type: 'open-session' });

    const r = rig('electron');
    r.api.desktop = desktopAbilities({
      openSessionDialog: () => Promise.reject(new ApiError('unsupported', 'The agent runs on db-7')),
    });
    await r.workflow.openSessionFlow();
    expect(r.store.getState().dialog).toEqual({ type: 'open-session' });
  });
});

describe('save as and export', () => {
  it('asks before replacing a file the agent refused to overwrite', async () => {
    const r = rig('electron');
    r.api.desktop = desktopAbilities();
    await r.workflow.openSessionPath('/s/memhog.tierscope');
    r.api.answer('saveSessionAs', (p) => {
      if (!p.overwrite) {
        throw new ApiError(
          'invalid-argument',
          `cannot write ${p.path}: the file already exists; choose another name or pass --force to replace it`,
        );
      }
      return { path: p.path, bytes: 2048 };
    });
    await r.workflow.saveAsFlow();
    expect((r.api.desktop as ReturnType<typeof desktopAbilities>).saved).toEqual([
      {
        title: 'Save session as',
        defaultName: 'memhog-4242-20250304-1000.tierscope',
        filters: [{ name: 'Tierscope session', extensions: ['tierscope'] }],
      },
    ]);
    expect(r.store.getState().dialog).toEqual({
      type: 'session-file',
      purpose: 'save',
      format: 'json',
      confirmPath: '/home/u/copy.tierscope',
    });
    const outcome = await r.workflow.writeSessionFile('save', 'json', '/home/u/copy.tierscope', true);
    expect(outcome).toEqual({ status: 'written', path: '/home/u/copy.tierscope', bytes: 2048 });
    expect(r.store.getState().dialog).toBeNull();
    expect(r.store.getState().notices.at(-1)).toMatchObject({
      title: 'Session saved',
      message: '/home/u/copy.tierscope (2.00 KiB)',
    });
    expect(r.api.calls.map(([m, p]) => [m, (p as { overwrite: boolean }).overwrite])).toEqual([
      ['saveSessionAs', false],
      ['saveSessionAs', true],
    ]);
  });

  it('exports through the app’s dialog; failures stay in place', async () => {
    const r = rig();
    r.workflow.exportFlow();
    expect(r.store.getState().dialog).toBeNull();
    expect(r.store.getState().notices.at(-1)?.title).toBe('Nothing to export');
    await r.workflow.openSessionPath('/s/memhog.tierscope');
    r.workflow.exportFlow();
    expect(r.store.getState().dialog).toMatchObject({ type: 'session-file', purpose: 'export' });
    r.api.answer('exportSession', () => {
      throw new ApiError('permission', 'cannot write /root/x.csv: permission denied (EACCES)');
    });
    const outcome = await r.workflow.writeSessionFile('export', 'csv', '/root/x.csv', false);
    expect(outcome).toEqual({
      status: 'failed',
      error: { code: 'permission', message: 'cannot write /root/x.csv: permission denied (EACCES)' },
    });
    expect(r.api.calls.at(-1)).toEqual([
      'exportSession',
      { handle: 'h1', format: 'csv', path: '/root/x.csv', overwrite: false },
    ]);
    expect(r.store.getState().dialog).toMatchObject({ type: 'session-file' });
    expect(r.workflow.defaultFileName('export', 'perfetto')).toBe('memhog-4242-20250304-1000.perfetto.json');
  });
});

describe('migration', () => {
  it('dry run: the plan, nothing moved', async () => {
    const r = rig();
    r.api.answer('startMigration', () => ({ experimentId: 'x1', plan, experiment: null }));
    expect(await r.workflow.dryRun(migration())).toBeNull();
    expect((r.api.calls[0]?.[1] as StartMigration).dryRun).toBe(true);
    expect(r.store.getState().workflow.migration).toMatchObject({
      open: true,
      run: { phase: 'planned', plan },
    });
  });

  it('runs with progress and result, even when events overtake the answer; recorded in the open session', async () => {
    const r = rig();
    await r.workflow.openSessionPath('/s/memhog.tierscope');
    const done = experiment({ id: 'x2', startedAt: '2025-03-04T10:00:07.000Z', startMs: 7000, endMs: 8000 });
    r.api.answer('startMigration', () => {
      r.api.emit('experimentProgress', {
        experimentId: 'x2',
        kind: 'move-pages',
        phase: 'moving',
        pagesDone: 100,
        pagesTotal: 4096,
        pendingPages: 0,
        bytesPerSecond: 1e8,
        text: 'batch 1',
        partialHistogram: null,
      });
      r.api.emit('experimentEnded', ended(done, '/s/memhog.tierscope'));
      return {
        experimentId: 'x2',
        plan,
        experiment: { ...done, status: 'running', endedAt: null, endMs: null },
      };
    });
    expect(
      await r.workflow.runMigration(migration({ sessionPath: '/s/memhog.tierscope', dryRun: true })),
    ).toBeNull();
    expect((r.api.calls[0]?.[1] as StartMigration).dryRun).toBe(false);
    const run = r.store.getState().workflow.migration.run;
    expect(run).toMatchObject({ phase: 'ended', experiment: { id: 'x2', status: 'completed' }, plan });
    expect(r.store.getState().workflow.runExperiments).toEqual([
      { experiment: done, sessionPath: '/s/memhog.tierscope' },
    ]);
    // The band on the timeline has the final record.
    expect(r.store.getState().session.view?.experiments.find((e) => e.id === 'x2')?.status).toBe('completed');
    const rows = selectExperimentRows(r.store.getState());
    expect(rows.map((row) => [row.id, row.thisRun, row.span !== null])).toEqual([
      ['x2', true, true],
      ['e1', false, true],
    ]);
  });

  it('shows progress as it comes and cancels between batches', async () => {
    const r = rig();
    r.api.answer('startMigration', () => ({ experimentId: 'x3', plan, experiment: null }));
    r.api.answer('cancelExperiment', () => ({}));
    await r.workflow.runMigration(migration());
    const progress: EventData<'experimentProgress'> = {
      experimentId: 'x3',
      kind: 'move-pages',
      phase: 'moving',
      pagesDone: 2048,
      pagesTotal: 4096,
      pendingPages: 0,
      bytesPerSecond: 1e8,
      text: '',
      partialHistogram: null,
    };
    r.api.emit('experimentProgress', progress);
    r.api.emit('experimentProgress', { ...progress, experimentId: 'someone-else', pagesDone: 1 });
    expect(r.store.getState().workflow.migration.run).toMatchObject({
      phase: 'running',
      progress: { pagesDone: 2048 },
    });
    // A second run while one is going is refused by the reducer.
    r.store.dispatch({ type: 'workflow/migration-planning', dryRun: true });
    expect(r.store.getState().workflow.migration.run.phase).toBe('running');
    await r.workflow.cancelMigration();
    expect(r.api.calls.at(-1)).toEqual(['cancelExperiment', { experimentId: 'x3' }]);
    expect(r.store.getState().workflow.migration.run).toMatchObject({ cancelling: true });
    r.api.emit(
      'experimentEnded',
      ended(experiment({ id: 'x3', status: 'cancelled', detail: 'cancelled by the user' })),
    );
    expect(r.store.getState().workflow.migration.run).toMatchObject({
      phase: 'ended',
      experiment: { status: 'cancelled' },
    });
    r.workflow.resetMigration();
    expect(r.store.getState().workflow.migration.run).toEqual({ phase: 'idle' });
  });

  it('shows the agent’s refusal in the panel and goes back to the form', async () => {
    const r = rig();
    r.api.answer('startMigration', () => {
      throw new ApiError('permission', 'moving pages of process 1 needs CAP_SYS_NICE');
    });
    expect((await r.workflow.runMigration(migration()))?.code).toBe('permission');
    expect(r.store.getState().workflow.migration).toMatchObject({
      open: true,
      run: { phase: 'idle' },
      error: { message: 'moving pages of process 1 needs CAP_SYS_NICE' },
    });
  });

  it('migrates the session’s selection of its process, or the VMA picked in Memory', async () => {
    const r = rig();
    expect(selectMigrationSources(r.store.getState()).process).toBeNull();
    await r.workflow.openSessionPath('/s/memhog.tierscope');
    r.store.dispatch({ type: 'session/select-vmas', ids: [1], mode: 'replace' });
    let sources = selectMigrationSources(r.store.getState());
    expect(sources.process).toMatchObject({ pid: 4242, startTimeTicks: 1000, from: 'session' });
    expect(sources.scopes.selection).toEqual([{ start: '7f0000000000', end: '7f0004000000' }]);
    expect(sources.scopeLabels.selection).toBe('1 selected VMA');
    expect(sources.scopes.vma).toBeNull();
    expect(sources.scopes.process).toEqual([{ start: '400000', end: '7f2000000000' }]);
    expect(sources.sessionPath).toBe('/s/memhog.tierscope');

    // The Memory view of the same process: its picked VMA, and the session still records the experiment.
    withLiveTarget(r.store);
    r.store.dispatch({ type: 'target/select-vma', id: '1000000' });
    sources = selectMigrationSources(r.store.getState());
    expect(sources.process?.from).toBe('target');
    expect(sources.scopes.vma).toEqual([{ start: '1000000', end: '1021000' }]);
    expect(sources.scopeLabels.vma).toBe('VMA [heap]');
    expect(sources.scopes.selection).not.toBeNull();
    expect(sources.sessionPath).toBe('/s/memhog.tierscope');
  });

  it('routes the desktop menu’s commands', async () => {
    const r = rig('electron');
    r.api.desktop = desktopAbilities();
    r.workflow.handleCommand({ type: 'migrate' });
    expect(r.store.getState().workflow.migration.open).toBe(true);
    r.workflow.handleCommand({ type: 'show-shortcuts' });
    expect(r.store.getState().dialog).toEqual({ type: 'shortcuts' });
    r.workflow.handleCommand({ type: 'open-session' });
    await Promise.resolve();
    await Promise.resolve();
    expect(r.opened).toEqual(['/home/u/run.tierscope']);
  });
});

describe('desktop dialogs through the preload', () => {
  it('asks main for the open and save dialogs and unwraps their paths and errors', async () => {
    const requests: unknown[] = [];
    const answers: Envelope<unknown>[] = [
      { ok: true, result: '/home/u/a.tierscope' },
      { ok: true, result: null },
      { ok: false, error: { code: 'unsupported', message: 'The agent runs on db-7' } },
    ];
    const bridge = {
      control: (request: unknown) => {
        requests.push(request);
        return Promise.resolve(answers.shift() ?? { ok: true, result: null });
      },
      onStatus: () => () => undefined,
      onCommand: () => () => undefined,
      on: () => () => undefined,
    } as unknown as DesktopApi;
    const desktop = new ElectronAgentApi(bridge).desktop;
    expect(await desktop.openSessionDialog()).toBe('/home/u/a.tierscope');
    const filters = [{ name: 'CSV', extensions: ['csv'] }];
    expect(await desktop.saveDialog({ title: 'Export', defaultName: 'a.csv', filters })).toBeNull();
    await expect(desktop.openSessionDialog()).rejects.toMatchObject({ code: 'unsupported' });
    expect(requests).toEqual([
      { op: 'openSessionDialog' },
      { op: 'saveDialog', title: 'Export', defaultName: 'a.csv', filters },
      { op: 'openSessionDialog' },
    ]);
  });
});

describe('a lost agent', () => {
  it('ends the recording and the experiment in the UI, saying what remains', async () => {
    const r = rig();
    withLiveTarget(r.store);
    r.api.answer('startRecording', () => ({
      recording: 'rec9',
      path: '/s/j.tierscope',
      source: 'refs',
      sourceReason: '',
    }));
    r.api.answer('startMigration', () => ({ experimentId: 'x9', plan, experiment: null }));
    await r.workflow.startRecording();
    await r.workflow.runMigration(migration());
    r.store.dispatch({ type: 'connection/lost', reason: 'the agent exited', atMs: 1 });
    const s = r.store.getState();
    expect(s.workflow.recording).toBeNull();
    expect(s.workflow.migration).toMatchObject({ run: { phase: 'idle' }, error: { code: 'disconnected' } });
    expect(s.notices.at(-1)).toMatchObject({ title: 'Recording interrupted' });
    expect(s.notices.at(-1)?.message).toMatch(/\/s\/j\.tierscope keeps every complete interval/);
  });

  it('gives up on a recording the agent no longer knows, but keeps one it refused to stop', async () => {
    const r = rig();
    withLiveTarget(r.store);
    r.api.answer('startRecording', () => ({
      recording: 'rec8',
      path: '/s/k.tierscope',
      source: 'refs',
      sourceReason: '',
    }));
    await r.workflow.startRecording();
    r.api.answer('stopRecording', () => {
      throw new ApiError('busy', 'the recorder is between scans; try again');
    });
    await r.workflow.stopRecording();
    expect(r.store.getState().workflow.recording?.status).toBe('recording');
    r.api.answer('stopRecording', () => {
      throw new ApiError('not-found', 'no recording rec8');
    });
    await r.workflow.stopRecording();
    expect(r.store.getState().workflow.recording).toBeNull();
    expect(r.store.getState().notices.at(-1)?.message).toMatch(/k\.tierscope keeps every complete interval/);
  });
});
