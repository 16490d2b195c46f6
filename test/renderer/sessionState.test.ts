// The session slice: reducer, memoized selectors and SessionController against a scripted AgentApi (the
// agent side has its own tests): opening, VMA selection and brushing, viewport, series, and the heatmap's
// debounced, latest-wins requests.
import { describe, expect, it } from 'vitest';
import type {
  EventData,
  EventName,
  Heatmap,
  HeatmapRequest,
  MethodName,
  Params,
  Result,
  SessionView,
} from '../../electron/contract/index.js';
import { ApiError, type AgentApi, type ConnectionEvent } from '../../renderer/src/api/agentApi.js';
import { Controller } from '../../renderer/src/state/controller.js';
import { reducer, type Action } from '../../renderer/src/state/reducer.js';
import { boundsOf } from '../../renderer/src/state/session.js';
import {
  HEATMAP_DEBOUNCE_MS,
  SessionController,
  type HeatmapSpec,
  type Schedule,
} from '../../renderer/src/state/sessionController.js';
import {
  selectAllHeatmapRanges,
  selectExperimentBands,
  selectHeatmapAxis,
  selectHeatmapRanges,
  selectMisplacement,
  selectProcessTracks,
  selectSessionSelection,
  selectVisibleSessionVmas,
  selectVmaTracks,
} from '../../renderer/src/state/sessionSelectors.js';
import { initialState, type AppState } from '../../renderer/src/state/state.js';
import { createStore, type Store } from '../../renderer/src/state/store.js';
import { experiment, sessionView, vmaSeries } from './sessionFixtures.js';

function run(state: AppState, ...actions: Action[]): AppState {
  return actions.reduce(reducer, state);
}

function opened(view: SessionView = sessionView()): AppState {
  return run(initialState('browser', 'dark'), { type: 'session/opened', view });
}

function heatRequest(partial: Partial<HeatmapRequest> = {}): HeatmapRequest {
  return {
    handle: 'h1',
    fromPos: 0,
    toPos: 10,
    columns: 10,
    rows: 4,
    ranges: [{ start: '7f0000000000', end: '7f0005000000' }],
    ...partial,
  };
}

/** What a view passes to requestHeatmap (the controller adds the handle). */
function heatSpec(partial: Partial<HeatmapSpec> = {}): HeatmapSpec {
  const { fromPos, toPos, columns, rows, ranges } = heatRequest(partial);
  return { fromPos, toPos, columns, rows, ranges };
}

function heatmap(req: HeatmapRequest): Heatmap {
  return {
    fromPos: req.fromPos,
    toPos: req.toPos,
    columns: req.columns,
    rows: req.rows,
    max: '',
    mean: '',
    present: '',
  };
}

describe('session reducer', () => {
  it('opens on the Session view with the whole session in view', () => {
    const s = run(
      initialState('browser', 'dark'),
      { type: 'session/opening', path: '/tmp/memhog.tierscope' },
      { type: 'session/opened', view: sessionView() },
    );
    expect(s.view).toBe('session');
    expect(s.session.status).toBe('open');
    expect(s.session.viewport).toEqual({ fromMs: 0, toMs: 10_000 });
    expect(s.session.selection).toBeNull();
  });

  it('keeps a failed open as the error, and the open session when there is one', () => {
    const failed = run(
      initialState('browser', 'dark'),
      { type: 'session/opening', path: '/x' },
      { type: 'session/open-failed', path: '/x', error: { code: 'not-found', message: '/x: no such file' } },
    );
    expect(failed.session.status).toBe('error');
    expect(failed.session.error?.code).toBe('not-found');
    const kept = run(
      opened(),
      { type: 'session/opening', path: '/y' },
      { type: 'session/open-failed', path: '/y', error: { code: 'parse', message: 'not a session' } },
    );
    expect(kept.session.status).toBe('open');
    expect(kept.session.view?.path).toBe('/tmp/memhog.tierscope');
    expect(kept.session.error?.message).toBe('not a session');
  });

  it('zooms, pans and resets inside the session', () => {
    const s = opened();
    const zoomed = reducer(s, { type: 'session/zoom', factor: 0.5, anchorMs: 2000 });
    expect(zoomed.session.viewport).toEqual({ fromMs: 1000, toMs: 6000 });
    const panned = reducer(zoomed, { type: 'session/pan', deltaMs: 100_000 });
    expect(panned.session.viewport).toEqual({ fromMs: 5000, toMs: 10_000 });
    const left = reducer(panned, { type: 'session/pan-span', share: -0.2 });
    expect(left.session.viewport).toEqual({ fromMs: 4000, toMs: 9000 });
    // Without an anchor, zoom keeps the cursor in place (else the middle).
    const atCursor = run(
      left,
      { type: 'session/cursor', ms: 8000 },
      { type: 'session/zoom', factor: 0.2, anchorMs: null },
    );
    expect(atCursor.session.viewport).toEqual({ fromMs: 7200, toMs: 8200 });
    expect(reducer(atCursor, { type: 'session/reset-viewport' }).session.viewport).toEqual({
      fromMs: 0,
      toMs: 10_000,
    });
    expect(
      reducer(s, { type: 'session/viewport', viewport: { fromMs: -5, toMs: 1 } }).session.viewport,
    ).toEqual({
      fromMs: 0,
      toMs: 1000,
    });
  });

  it('ignores viewport actions without a session, and an unchanged cursor', () => {
    const empty = initialState('browser', 'dark');
    expect(reducer(empty, { type: 'session/zoom', factor: 2, anchorMs: 0 })).toBe(empty);
    const s = reducer(opened(), { type: 'session/cursor', ms: 5 });
    expect(reducer(s, { type: 'session/cursor', ms: 5 })).toBe(s);
  });

  it('selecting VMAs makes them the selection and zooms the heatmap to them', () => {
    const s = reducer(opened(), { type: 'session/select-vmas', ids: [1], mode: 'replace' });
    expect(s.session.selectedVmaIds).toEqual([1]);
    expect(selectSessionSelection(s)).toEqual({
      source: 'vma',
      ranges: [{ start: '7f0000000000', end: '7f0004000000' }],
      vmaIds: [1],
    });
    expect(s.session.addressView).toEqual([{ start: '7f0000000000', end: '7f0004000000' }]);
    // Ctrl-click adds (adjacent VMAs merge into one range), and removes.
    const two = reducer(s, { type: 'session/select-vmas', ids: [4], mode: 'toggle' });
    expect(two.session.selectedVmaIds).toEqual([1, 4]);
    expect(two.session.selection?.ranges).toEqual([{ start: '7f0000000000', end: '7f0005000000' }]);
    const back = reducer(two, { type: 'session/select-vmas', ids: [1], mode: 'toggle' });
    expect(back.session.selectedVmaIds).toEqual([4]);
    // Unknown ids are dropped; none left clears the selection and the zoom.
    const none = reducer(s, { type: 'session/select-vmas', ids: [99], mode: 'replace' });
    expect(none.session.selection).toBeNull();
    expect(none.session.addressView).toBeNull();
  });

  it('a brush becomes the selection; Escape clears everything', () => {
    const s = run(
      opened(),
      { type: 'session/select-vmas', ids: [1], mode: 'replace' },
      {
        type: 'session/brush',
        ranges: [
          { start: '7f0001000000', end: '7f0002000000' },
          { start: '7f0000000000', end: '7f0001000000' },
        ],
      },
    );
    expect(s.session.selection).toEqual({
      source: 'brush',
      ranges: [{ start: '7f0000000000', end: '7f0002000000' }],
      vmaIds: [],
    });
    // The VMA keeps its track, and the heatmap its zoom.
    expect(s.session.selectedVmaIds).toEqual([1]);
    const zoomed = reducer(s, { type: 'session/address-view', ranges: s.session.selection?.ranges ?? null });
    expect(zoomed.session.addressView).toEqual([{ start: '7f0000000000', end: '7f0002000000' }]);
    const cleared = reducer(zoomed, { type: 'session/clear-selection' });
    expect(cleared.session.selection).toBeNull();
    expect(cleared.session.selectedVmaIds).toEqual([]);
    expect(cleared.session.addressView).toBeNull();
    expect(reducer(s, { type: 'session/brush', ranges: [] }).session.selection).toBeNull();
  });

  it('takes VMA series of the open handle only', () => {
    const s = run(
      opened(),
      { type: 'session/series-loading', handle: 'h1', ids: [4, 1] },
      { type: 'session/series-loaded', handle: 'old', series: [vmaSeries(1)] },
      { type: 'session/series-loaded', handle: 'h1', series: [vmaSeries(4)] },
    );
    expect(Object.keys(s.session.series)).toEqual(['4']);
    expect(s.session.seriesLoading).toEqual([1]);
    const failed = reducer(s, {
      type: 'session/series-failed',
      handle: 'h1',
      ids: [1],
      error: { code: 'disconnected', message: 'agent lost' },
    });
    expect(failed.session.seriesLoading).toEqual([]);
    expect(failed.session.seriesError?.code).toBe('disconnected');
  });

  it('keeps only the answer to the heatmap wanted now', () => {
    const a = heatRequest();
    const b = heatRequest({ fromPos: 2 });
    const s = run(
      opened(),
      { type: 'session/heatmap-wanted', request: a },
      { type: 'session/heatmap-wanted', request: b },
    );
    expect(s.session.heatmap.loading).toBe(true);
    const stale = reducer(s, { type: 'session/heatmap-loaded', request: a, heatmap: heatmap(a) });
    expect(stale).toBe(s);
    const fresh = reducer(s, {
      type: 'session/heatmap-loaded',
      request: { ...b, ranges: [...b.ranges] },
      heatmap: heatmap(b),
    });
    expect(fresh.session.heatmap.loading).toBe(false);
    expect(fresh.session.heatmap.result?.fromPos).toBe(2);
    // Another handle's request is not this session's.
    expect(reducer(s, { type: 'session/heatmap-wanted', request: heatRequest({ handle: 'other' }) })).toBe(s);
    const failed = reducer(s, {
      type: 'session/heatmap-failed',
      request: b,
      error: { code: 'x', message: 'boom' },
    });
    expect(failed.session.heatmap.error?.message).toBe('boom');
    expect(failed.session.heatmap.loading).toBe(false);
  });

  it('a reopen of the same file keeps viewport and selection, not the old handle data', () => {
    const before = run(
      opened(),
      { type: 'session/zoom', factor: 0.5, anchorMs: 2000 },
      { type: 'session/select-vmas', ids: [4], mode: 'replace' },
      { type: 'session/series-loaded', handle: 'h1', series: [vmaSeries(4)] },
    );
    const after = reducer(before, { type: 'session/reopened', view: sessionView({ handle: 'h2' }) });
    expect(after.session.view?.handle).toBe('h2');
    expect(after.session.viewport).toEqual(before.session.viewport);
    expect(after.session.selection).toEqual(before.session.selection);
    expect(after.session.series).toEqual({});
    // Another file resets.
    const other = reducer(before, {
      type: 'session/reopened',
      view: sessionView({ path: '/other', handle: 'h3' }),
    });
    expect(other.session.selection).toBeNull();
  });

  it('adds and updates experiments by id; closing empties the slice', () => {
    const s = run(
      opened(),
      { type: 'session/experiment', experiment: experiment({ id: 'e2', status: 'running', endMs: null }) },
      { type: 'session/experiment', experiment: experiment({ id: 'e2', endMs: 9000 }) },
    );
    expect(s.session.view?.experiments.map((e) => [e.id, e.endMs])).toEqual([
      ['e1', 5000],
      ['e2', 9000],
    ]);
    expect(reducer(s, { type: 'session/closed' }).session.view).toBeNull();
  });

  it('an experiment past the end widens a whole-session view to show its band; a zoom stays', () => {
    const s = opened();
    const before = boundsOf(s.session.view ?? sessionView());
    const late = experiment({ id: 'late', startMs: before.maxMs + 5000, endMs: before.maxMs + 6000 });
    const whole = reducer(s, { type: 'session/experiment', experiment: late });
    expect(whole.session.viewport.toMs).toBeGreaterThanOrEqual(before.maxMs + 6000);
    expect(selectExperimentBands(whole).map((b) => b.id)).toContain('late');
    const zoomed = run(s, { type: 'session/viewport', viewport: { fromMs: 1000, toMs: 2000 } });
    const kept = reducer(zoomed, { type: 'session/experiment', experiment: late });
    expect(kept.session.viewport).toEqual(zoomed.session.viewport);
  });
});

describe('session selectors', () => {
  it('memoize by identity', () => {
    const s = opened();
    expect(selectProcessTracks(s)).toBe(selectProcessTracks(reducer(s, { type: 'session/cursor', ms: 3 })));
    expect(selectMisplacement(s)?.rows.map((r) => r.id)).toEqual([1, 4]);
    expect(selectExperimentBands(s).map((b) => b.id)).toEqual(['e1']);
    expect(
      selectVisibleSessionVmas(reducer(s, { type: 'session/vma-filter', text: 'heap' })).map((v) => v.id),
    ).toEqual([0]);
  });

  it('give the heatmap every resident VMA, or the address zoom', () => {
    const s = opened();
    expect(selectHeatmapRanges(s)).toBe(selectAllHeatmapRanges(s));
    expect(selectHeatmapAxis(s).ranges).toHaveLength(3);
    const zoomed = reducer(s, { type: 'session/select-vmas', ids: [4], mode: 'replace' });
    expect(selectHeatmapRanges(zoomed)).toEqual([{ start: '7f0004000000', end: '7f0005000000' }]);
    expect(selectHeatmapAxis(zoomed).totalBytes).toBe(0x1000000n);
  });

  it('give a track per selected VMA once its series arrived', () => {
    const s = reducer(opened(), { type: 'session/select-vmas', ids: [4, 1], mode: 'replace' });
    expect(selectVmaTracks(s)).toEqual([]);
    const loaded = reducer(s, { type: 'session/series-loaded', handle: 'h1', series: [vmaSeries(4)] });
    expect(selectVmaTracks(loaded).map((t) => t.id)).toEqual(['vma-4']);
  });
});

/** An AgentApi answering from a script; `calls` records every call. */
class ScriptedApi implements AgentApi {
  readonly mode = 'browser' as const;
  readonly desktop = null;
  readonly calls: { method: MethodName; params: unknown }[] = [];
  constructor(private readonly answer: (method: MethodName, params: unknown) => Promise<unknown>) {}
  call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
    this.calls.push({ method, params });
    return this.answer(method, params) as Promise<Result<M>>;
  }
  on<E extends EventName>(_event: E, _cb: (data: EventData<E>) => void): () => void {
    return () => undefined;
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
  count(method: MethodName): number {
    return this.calls.filter((c) => c.method === method).length;
  }
}

/** A Schedule whose timers run when the test says. */
function manualSchedule(): { schedule: Schedule; run: () => void; pending: () => number; delays: number[] } {
  let timers: { fn: () => void; cancelled: boolean }[] = [];
  const delays: number[] = [];
  return {
    schedule: (fn, ms) => {
      const t = { fn, cancelled: false };
      timers.push(t);
      delays.push(ms);
      return () => {
        t.cancelled = true;
      };
    },
    run: () => {
      const due = timers.filter((t) => !t.cancelled);
      timers = [];
      for (const t of due) t.fn();
    },
    pending: () => timers.filter((t) => !t.cancelled).length,
    delays,
  };
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const flush = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

function connectedStore(): Store {
  const store = createStore(initialState('browser', 'dark'));
  store.dispatch({ type: 'connection/connected', target: null });
  return store;
}

describe('SessionController', () => {
  it('opens a session, then closes the previous handle when another opens', async () => {
    let n = 0;
    const api = new ScriptedApi((method, params) => {
      if (method === 'openSession') {
        n++;
        return Promise.resolve(sessionView({ handle: `h${n}`, path: (params as { path: string }).path }));
      }
      return Promise.resolve({});
    });
    const store = connectedStore();
    const controller = new Controller(store, api);
    expect(await controller.openSession('/a')).toBeNull();
    expect(store.getState().view).toBe('session');
    expect(store.getState().session.view?.handle).toBe('h1');
    await controller.openSession('/b');
    expect(store.getState().session.view?.path).toBe('/b');
    expect(api.calls.filter((c) => c.method === 'closeSession').map((c) => c.params)).toEqual([
      { handle: 'h1' },
    ]);
    await controller.closeSession();
    expect(store.getState().session.status).toBe('closed');
    expect(api.calls.at(-1)).toEqual({ method: 'closeSession', params: { handle: 'h2' } });
  });

  it('reports a failed open with the agent’s message', async () => {
    const api = new ScriptedApi(() => Promise.reject(new ApiError('not-found', '/nope: no such file')));
    const store = connectedStore();
    const error = await new SessionController(store, api).open('/nope');
    expect(error).toEqual({ code: 'not-found', message: '/nope: no such file' });
    expect(store.getState().session.status).toBe('error');
  });

  it('drops an open overtaken by a newer one, closing its handle', async () => {
    const first = deferred<SessionView>();
    const api = new ScriptedApi((method, params) => {
      if (method !== 'openSession') return Promise.resolve({});
      const path = (params as { path: string }).path;
      return path === '/slow' ? first.promise : Promise.resolve(sessionView({ handle: 'fast', path }));
    });
    const store = connectedStore();
    const sc = new SessionController(store, api);
    const slow = sc.open('/slow');
    await sc.open('/fast');
    first.resolve(sessionView({ handle: 'slow', path: '/slow' }));
    await slow;
    expect(store.getState().session.view?.handle).toBe('fast');
    expect(api.calls.at(-1)).toEqual({ method: 'closeSession', params: { handle: 'slow' } });
  });

  it('reloads the open file keeping the view state (after a reconnect)', async () => {
    let n = 0;
    const api = new ScriptedApi((method) =>
      Promise.resolve(method === 'openSession' ? sessionView({ handle: `h${++n}` }) : {}),
    );
    const store = connectedStore();
    const sc = new SessionController(store, api);
    await sc.open('/tmp/memhog.tierscope');
    store.dispatch({ type: 'session/select-vmas', ids: [1], mode: 'replace' });
    await sc.reload();
    expect(store.getState().session.view?.handle).toBe('h2');
    expect(store.getState().session.selectedVmaIds).toEqual([1]);
  });

  it('loads missing VMA series in batches of 256', async () => {
    const api = new ScriptedApi((method, params) => {
      if (method === 'openSession') return Promise.resolve(sessionView());
      const ids = (params as { vmaIds: number[] }).vmaIds;
      return Promise.resolve({ series: ids.map((id) => vmaSeries(id)) });
    });
    const store = connectedStore();
    const sc = new SessionController(store, api);
    await sc.open('/tmp/memhog.tierscope');
    const ids = Array.from({ length: 300 }, (_, i) => i);
    await sc.loadVmaSeries(ids);
    expect(
      api.calls
        .filter((c) => c.method === 'vmaSeries')
        .map((c) => (c.params as { vmaIds: number[] }).vmaIds.length),
    ).toEqual([256, 44]);
    await sc.loadVmaSeries([1, 2, 3]);
    expect(api.count('vmaSeries')).toBe(2);
    expect(Object.keys(store.getState().session.series)).toHaveLength(300);
  });

  it('debounces heatmap requests: a burst of viewports asks once, for the last', async () => {
    const api = new ScriptedApi((method, params) =>
      Promise.resolve(method === 'openSession' ? sessionView() : heatmap(params as HeatmapRequest)),
    );
    const store = connectedStore();
    const timers = manualSchedule();
    const sc = new SessionController(store, api, timers.schedule);
    await sc.open('/tmp/memhog.tierscope');
    for (let from = 0; from < 5; from++) sc.requestHeatmap(heatSpec({ fromPos: from }));
    expect(api.count('heatmap')).toBe(0);
    expect(timers.pending()).toBe(1);
    expect(timers.delays.every((d) => d === HEATMAP_DEBOUNCE_MS)).toBe(true);
    timers.run();
    await flush();
    expect(
      api.calls.filter((c) => c.method === 'heatmap').map((c) => (c.params as HeatmapRequest).fromPos),
    ).toEqual([4]);
    expect(store.getState().session.heatmap.result?.fromPos).toBe(4);
    // The same request again is not sent again.
    sc.requestHeatmap(heatSpec({ fromPos: 4 }));
    expect(timers.pending()).toBe(0);
  });

  it('latest wins: an answer for an older viewport is dropped, the newer one follows', async () => {
    const answers: { req: HeatmapRequest; d: ReturnType<typeof deferred<Heatmap>> }[] = [];
    const api = new ScriptedApi((method, params) => {
      if (method === 'openSession') return Promise.resolve(sessionView());
      const d = deferred<Heatmap>();
      answers.push({ req: params as HeatmapRequest, d });
      return d.promise;
    });
    const store = connectedStore();
    const timers = manualSchedule();
    const sc = new SessionController(store, api, timers.schedule);
    await sc.open('/tmp/memhog.tierscope');
    const a = heatSpec({ fromPos: 0 });
    const b = heatSpec({ fromPos: 5 });
    sc.requestHeatmap(a);
    timers.run();
    await flush();
    expect(answers).toHaveLength(1);
    // The user pans while A is computed: B waits for the agent to be free (one request in flight).
    sc.requestHeatmap(b);
    timers.run();
    await flush();
    expect(answers).toHaveLength(1);
    answers[0]?.d.resolve(heatmap(answers[0].req));
    await flush();
    expect(store.getState().session.heatmap.result).toBeNull();
    expect(answers).toHaveLength(2);
    expect(answers[1]?.req.fromPos).toBe(5);
    answers[1]?.d.resolve(heatmap(answers[1].req));
    await flush();
    expect(store.getState().session.heatmap.result?.fromPos).toBe(5);
    expect(store.getState().session.heatmap.loading).toBe(false);
  });

  it('shows a failed heatmap as an error, and sends nothing without a session', async () => {
    const api = new ScriptedApi((method) =>
      method === 'openSession'
        ? Promise.resolve(sessionView())
        : Promise.reject(new ApiError('disconnected', 'agent lost')),
    );
    const store = connectedStore();
    const timers = manualSchedule();
    const sc = new SessionController(store, api, timers.schedule);
    const spec = heatSpec();
    sc.requestHeatmap(spec);
    expect(timers.pending()).toBe(0);
    await sc.open('/tmp/memhog.tierscope');
    sc.requestHeatmap(spec);
    timers.run();
    await flush();
    expect(store.getState().session.heatmap.error).toEqual({ code: 'disconnected', message: 'agent lost' });
  });
});
