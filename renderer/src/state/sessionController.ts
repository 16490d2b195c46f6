// The asynchronous side of the session views: opening and closing a session on the agent, loading VMA
// series on demand, and the heatmap requests of a moving viewport (debounced, one in flight, latest wins).
import type { HeatmapRequest } from '../../../electron/contract/index.js';
import { toApiError, type AgentApi } from '../api/agentApi.js';
import { sameHeatmapRequest } from './session.js';
import type { UiError } from './state.js';
import type { Store } from './store.js';

/** A pan or zoom settles for this long before its heatmap is asked for (a drag asks once, not per frame). */
export const HEATMAP_DEBOUNCE_MS = 50;
/** The protocol's limit of VMAs per vmaSeries call. */
const SERIES_BATCH = 256;

/** Schedules `fn` after `ms`; returns its cancel function. Injected by tests. */
export type Schedule = (fn: () => void, ms: number) => () => void;

const defaultSchedule: Schedule = (fn, ms) => {
  const handle = setTimeout(fn, ms);
  return () => {
    clearTimeout(handle);
  };
};

function uiError(err: unknown): UiError {
  const e = toApiError(err);
  return { code: e.code, message: e.message };
}

/** The parts of a heatmap request a view decides (the handle is the open session's). */
export type HeatmapSpec = Omit<HeatmapRequest, 'handle'>;

export class SessionController {
  /** Bumped by every open and close: answers of an earlier one are dropped. */
  private generation = 0;
  /** The heatmap the view wants now; `inFlight` the one the agent is computing. */
  private wanted: HeatmapRequest | null = null;
  private inFlight: HeatmapRequest | null = null;
  private cancelTimer: (() => void) | null = null;

  constructor(
    private readonly store: Store,
    private readonly api: AgentApi,
    private readonly schedule: Schedule = defaultSchedule,
  ) {}

  /**
   * Opens a session file on the agent (any format version, a crash-torn journal, one still being
   * recorded) and shows it in the Session view. The previous session, if any, is closed on the agent once
   * the new one is open. Resolves with null, or the error (also kept in state.session.error).
   */
  async open(path: string): Promise<UiError | null> {
    const previous = this.store.getState().session.view;
    return this.openFile(path, previous?.handle ?? null, 'session/opened');
  }

  /**
   * Opens the current session's file again, keeping the viewport, the selection and the zoom: after the
   * agent reconnected (handles die with it), or to see newer intervals of a live recording.
   */
  async reload(): Promise<UiError | null> {
    const current = this.store.getState().session.view;
    if (!current) return null;
    return this.openFile(current.path, current.handle, 'session/reopened');
  }

  /**
   * Opens `path` on the agent and reports it with `done` (a new session, or the same one reopened); then
   * closes `previousHandle` unless the agent gave it back. A newer open or close wins: its handle is closed.
   */
  private async openFile(
    path: string,
    previousHandle: string | null,
    done: 'session/opened' | 'session/reopened',
  ): Promise<UiError | null> {
    const { dispatch } = this.store;
    const generation = ++this.generation;
    dispatch({ type: 'session/opening', path });
    try {
      const view = await this.api.call('openSession', { path });
      if (generation !== this.generation) {
        // Another open (or a close) came first: this handle is nobody's.
        await this.closeHandle(view.handle);
        return null;
      }
      this.resetHeatmap();
      dispatch({ type: done, view });
      if (previousHandle !== null && previousHandle !== view.handle) await this.closeHandle(previousHandle);
      return null;
    } catch (err) {
      const error = uiError(err);
      if (generation === this.generation) dispatch({ type: 'session/open-failed', path, error });
      return error;
    }
  }

  /** Closes the open session (agent handle included) and empties the Session view. */
  async close(): Promise<void> {
    const view = this.store.getState().session.view;
    this.generation++;
    this.resetHeatmap();
    this.store.dispatch({ type: 'session/closed' });
    if (view) await this.closeHandle(view.handle);
  }

  private async closeHandle(handle: string): Promise<void> {
    if (this.store.getState().connection.status !== 'connected') return;
    // Best effort: the agent also drops the handles of a closed connection.
    await this.api.call('closeSession', { handle }).catch(() => undefined);
  }

  private resetHeatmap(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.wanted = null;
  }

  /** Loads the series of these VMAs (those not loaded or loading yet), 256 per call. */
  async loadVmaSeries(ids: readonly number[]): Promise<void> {
    const { dispatch } = this.store;
    const s = this.store.getState().session;
    const view = s.view;
    if (!view) return;
    const loading = new Set(s.seriesLoading);
    const missing = [...new Set(ids)].filter((id) => s.series[id] === undefined && !loading.has(id));
    const handle = view.handle;
    for (let i = 0; i < missing.length; i += SERIES_BATCH) {
      const batch = missing.slice(i, i + SERIES_BATCH);
      dispatch({ type: 'session/series-loading', handle, ids: batch });
      try {
        const { series } = await this.api.call('vmaSeries', { handle, vmaIds: batch });
        dispatch({ type: 'session/series-loaded', handle, series });
      } catch (err) {
        dispatch({ type: 'session/series-failed', handle, ids: batch, error: uiError(err) });
      }
    }
  }

  /**
   * Asks for the heatmap of a viewport. Debounced by HEATMAP_DEBOUNCE_MS, one request in flight at a
   * time, latest wins: a result whose request is no longer the wanted one is dropped (the reducer checks
   * too), and the newest wanted request is sent as soon as the agent is free.
   */
  requestHeatmap(spec: HeatmapSpec): void {
    const view = this.store.getState().session.view;
    if (!view) return;
    const request: HeatmapRequest = { ...spec, handle: view.handle };
    if (sameHeatmapRequest(request, this.wanted)) return;
    this.wanted = request;
    this.store.dispatch({ type: 'session/heatmap-wanted', request });
    const { result, resultRequest } = this.store.getState().session.heatmap;
    if (result && sameHeatmapRequest(request, resultRequest)) {
      // Back to what is on screen (a pan that returned): nothing to fetch.
      this.cancelTimer?.();
      this.cancelTimer = null;
      this.store.dispatch({ type: 'session/heatmap-loaded', request, heatmap: result });
      return;
    }
    this.cancelTimer?.();
    this.cancelTimer = this.schedule(() => {
      this.cancelTimer = null;
      void this.flushHeatmap();
    }, HEATMAP_DEBOUNCE_MS);
  }

  private async flushHeatmap(): Promise<void> {
    const request = this.wanted;
    if (!request || this.inFlight) return;
    this.inFlight = request;
    try {
      const heatmap = await this.api.call('heatmap', request);
      if (sameHeatmapRequest(request, this.wanted)) {
        this.store.dispatch({ type: 'session/heatmap-loaded', request, heatmap });
      }
    } catch (err) {
      if (sameHeatmapRequest(request, this.wanted)) {
        this.store.dispatch({ type: 'session/heatmap-failed', request, error: uiError(err) });
      }
    } finally {
      this.inFlight = null;
    }
    // A newer request waited for this one: send it now, unless its own debounce is still running.
    if (this.wanted && !sameHeatmapRequest(request, this.wanted) && this.cancelTimer === null) {
      await this.flushHeatmap();
    }
  }
}
