// The `session` slice: one recorded session opened through the agent (openSession), what part of it is on
// screen (time viewport, address zoom), the shared cursor, what is selected, and the data loaded on demand
// (VmaSeries, the heatmap of the current viewport). Pure; the asynchronous side is sessionController.ts.
import type {
  Experiment,
  Heatmap,
  HeatmapRequest,
  SessionView,
  VmaSeries,
} from '../../../electron/contract/index.js';
import { mergeRanges, sameRanges, type HexRange } from '../logic/addressAxis.js';
import type { HeatChannel } from '../logic/heatmap.js';
import type { SessionVmaSortKey } from '../logic/sessionVmas.js';
import type { SortSpec } from '../logic/sort.js';
import {
  clampViewport,
  fullViewport,
  panViewport,
  sessionBounds,
  zoomViewport,
  type TimeBounds,
  type Viewport,
} from '../logic/timeScale.js';
import type { AppState, UiError } from './state.js';

/**
 * What the migration panel acts on: address ranges [start, end) in hex, from selected VMAs (each its own
 * range) or from a range brushed on the heatmap (the rows' bytes, gaps between VMAs left out).
 */
export interface SessionSelection {
  source: 'vma' | 'brush';
  ranges: readonly HexRange[];
  /** The VMAs selected (source 'vma'); empty for a brush. */
  vmaIds: readonly number[];
}

export interface HeatmapState {
  /** The request the heatmap currently wants (the latest viewport); null before the first. */
  request: HeatmapRequest | null;
  loading: boolean;
  /** The last result of a request, and that request (it may lag behind `request` while loading). */
  result: Heatmap | null;
  resultRequest: HeatmapRequest | null;
  error: UiError | null;
}

export type SessionStatus = 'closed' | 'opening' | 'open' | 'error';

export interface SessionState {
  status: SessionStatus;
  /** The file opened (or being opened), on the agent's machine. */
  path: string | null;
  view: SessionView | null;
  error: UiError | null;
  /** Visible time range, ms since the session's start; shared by every track and the heatmap. */
  viewport: Viewport;
  /** The shared cursor (ms since the session's start), null when none. */
  cursorMs: number | null;
  /** VMAs picked in the tables: each gets a timeline track. */
  selectedVmaIds: readonly number[];
  selection: SessionSelection | null;
  /** Address ranges the heatmap shows; null: every VMA ever resident. */
  addressView: readonly HexRange[] | null;
  /** VmaSeries loaded so far (per VMA id), for the open session. */
  series: Readonly<Record<number, VmaSeries>>;
  seriesLoading: readonly number[];
  seriesError: UiError | null;
  heatmap: HeatmapState;
  heatChannel: HeatChannel;
  vmaSort: SortSpec<SessionVmaSortKey>;
  vmaFilter: string;
}

export function initialSessionState(): SessionState {
  return {
    status: 'closed',
    path: null,
    view: null,
    error: null,
    viewport: { fromMs: 0, toMs: 1 },
    cursorMs: null,
    selectedVmaIds: [],
    selection: null,
    addressView: null,
    series: {},
    seriesLoading: [],
    seriesError: null,
    heatmap: { request: null, loading: false, result: null, resultRequest: null, error: null },
    heatChannel: 'max',
    vmaSort: { key: 'hot', direction: 'desc' },
    vmaFilter: '',
  };
}

export type SessionAction =
  | { type: 'session/opening'; path: string }
  | { type: 'session/opened'; view: SessionView }
  /** The same file reopened (agent reconnected, or newer intervals of a live recording): view state kept. */
  | { type: 'session/reopened'; view: SessionView }
  | { type: 'session/open-failed'; path: string; error: UiError }
  | { type: 'session/closed' }
  | { type: 'session/viewport'; viewport: Viewport }
  | { type: 'session/zoom'; factor: number; anchorMs: number | null }
  | { type: 'session/pan'; deltaMs: number }
  /** Pan by a share of the visible span (keyboard: ← → move a fifth of the view). */
  | { type: 'session/pan-span'; share: number }
  | { type: 'session/reset-viewport' }
  | { type: 'session/cursor'; ms: number | null }
  /** replace: only these; toggle: add or remove each (Ctrl-click). Zooms the heatmap to them. */
  | { type: 'session/select-vmas'; ids: readonly number[]; mode: 'replace' | 'toggle' }
  | { type: 'session/brush'; ranges: readonly HexRange[] }
  /** Escape: no selection, no VMA tracks, the whole address axis. */
  | { type: 'session/clear-selection' }
  | { type: 'session/address-view'; ranges: readonly HexRange[] | null }
  | { type: 'session/series-loading'; handle: string; ids: readonly number[] }
  | { type: 'session/series-loaded'; handle: string; series: readonly VmaSeries[] }
  | { type: 'session/series-failed'; handle: string; ids: readonly number[]; error: UiError }
  | { type: 'session/heatmap-wanted'; request: HeatmapRequest }
  | { type: 'session/heatmap-loaded'; request: HeatmapRequest; heatmap: Heatmap }
  | { type: 'session/heatmap-failed'; request: HeatmapRequest; error: UiError }
  | { type: 'session/heat-channel'; channel: HeatChannel }
  | { type: 'session/vma-sort'; sort: SortSpec<SessionVmaSortKey> }
  | { type: 'session/vma-filter'; text: string }
  /** An experiment started or ended in this session (the migration panel's events): its band updates. */
  | { type: 'session/experiment'; experiment: Experiment };

export function isSessionAction(action: { type: string }): action is SessionAction {
  return action.type.startsWith('session/');
}

/** Two heatmap requests ask for the same pixels. */
export function sameHeatmapRequest(a: HeatmapRequest | null, b: HeatmapRequest | null): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return (
    a.handle === b.handle &&
    a.fromPos === b.fromPos &&
    a.toPos === b.toPos &&
    a.columns === b.columns &&
    a.rows === b.rows &&
    sameRanges(a.ranges, b.ranges)
  );
}

/** The time range a session's views cover: its intervals, and its experiments' ends. */
export function boundsOf(view: Pick<SessionView, 'timeline' | 'meta' | 'experiments'>): TimeBounds {
  const ends: number[] = [];
  for (const e of view.experiments) {
    const end = e.endMs ?? e.startMs;
    if (end !== null) ends.push(end);
  }
  return sessionBounds(view.timeline, view.meta.intervalMs, ends);
}

function vmaSelection(view: SessionView | null, ids: readonly number[]): SessionSelection | null {
  if (!view || ids.length === 0) return null;
  const wanted = new Set(ids);
  const ranges = view.vmas.filter((v) => wanted.has(v.id)).map((v) => ({ start: v.start, end: v.end }));
  return ranges.length > 0 ? { source: 'vma', ranges: mergeRanges(ranges), vmaIds: ids } : null;
}

function freshSession(view: SessionView): SessionState {
  const base = initialSessionState();
  return {
    ...base,
    status: 'open',
    path: view.path,
    view,
    viewport: fullViewport(boundsOf(view)),
  };
}

function withSession(state: AppState, session: SessionState): AppState {
  return { ...state, session };
}

export function sessionReducer(state: AppState, action: SessionAction): AppState {
  const s = state.session;
  const view = s.view;
  switch (action.type) {
    case 'session/opening':
      return withSession(state, { ...s, status: 'opening', path: action.path, error: null });
    case 'session/opened':
      return { ...state, view: 'session', session: freshSession(action.view) };
    case 'session/reopened': {
      // Same file: keep what the user set up, bring the viewport inside the (possibly longer) session.
      if (!view || view.path !== action.view.path) return { ...state, session: freshSession(action.view) };
      const ids = new Set(action.view.vmas.map((v) => v.id));
      const selectedVmaIds = s.selectedVmaIds.filter((id) => ids.has(id));
      return withSession(state, {
        ...s,
        status: 'open',
        view: action.view,
        error: null,
        viewport: clampViewport(s.viewport, boundsOf(action.view)),
        selectedVmaIds,
        // The series and the heatmap belong to the old handle: loaded again for the new one.
        series: {},
        seriesLoading: [],
        seriesError: null,
        heatmap: initialSessionState().heatmap,
      });
    }
    case 'session/open-failed':
      if (s.path !== action.path) return state;
      // A failed open keeps the session already on screen, if any; the error is shown next to it.
      return withSession(state, {
        ...s,
        status: view ? 'open' : 'error',
        path: view?.path ?? action.path,
        error: action.error,
      });
    case 'session/closed':
      return withSession(state, initialSessionState());
    case 'session/viewport':
      return view
        ? withSession(state, { ...s, viewport: clampViewport(action.viewport, boundsOf(view)) })
        : state;
    case 'session/zoom': {
      if (!view) return state;
      const v = s.viewport;
      const anchor = action.anchorMs ?? s.cursorMs ?? (v.fromMs + v.toMs) / 2;
      return withSession(state, { ...s, viewport: zoomViewport(v, boundsOf(view), action.factor, anchor) });
    }
    case 'session/pan':
      return view
        ? withSession(state, { ...s, viewport: panViewport(s.viewport, boundsOf(view), action.deltaMs) })
        : state;
    case 'session/pan-span': {
      if (!view) return state;
      const spanMs = s.viewport.toMs - s.viewport.fromMs;
      return withSession(state, {
        ...s,
        viewport: panViewport(s.viewport, boundsOf(view), spanMs * action.share),
      });
    }
    case 'session/reset-viewport':
      return view ? withSession(state, { ...s, viewport: fullViewport(boundsOf(view)) }) : state;
    case 'session/cursor':
      return s.cursorMs === action.ms ? state : withSession(state, { ...s, cursorMs: action.ms });
    case 'session/select-vmas': {
      if (!view) return state;
      let ids: number[];
      if (action.mode === 'replace') ids = [...new Set(action.ids)];
      else {
        const current = new Set(s.selectedVmaIds);
        for (const id of action.ids) {
          if (current.has(id)) current.delete(id);
          else current.add(id);
        }
        ids = [...current];
      }
      const known = new Set(view.vmas.map((v) => v.id));
      ids = ids.filter((id) => known.has(id));
      const selection = vmaSelection(view, ids);
      return withSession(state, {
        ...s,
        selectedVmaIds: ids,
        selection,
        // Selecting a VMA zooms the heatmap's address axis to it (to all of them, for several).
        addressView: selection ? selection.ranges : null,
      });
    }
    case 'session/brush': {
      const ranges = mergeRanges(action.ranges);
      return withSession(state, {
        ...s,
        selection: ranges.length > 0 ? { source: 'brush', ranges, vmaIds: [] } : null,
      });
    }
    case 'session/clear-selection':
      return withSession(state, { ...s, selection: null, selectedVmaIds: [], addressView: null });
    case 'session/address-view': {
      const ranges = action.ranges === null ? null : mergeRanges(action.ranges);
      return withSession(state, { ...s, addressView: ranges && ranges.length > 0 ? ranges : null });
    }
    case 'session/series-loading':
      if (view?.handle !== action.handle) return state;
      return withSession(state, {
        ...s,
        seriesLoading: [...new Set([...s.seriesLoading, ...action.ids])],
        seriesError: null,
      });
    case 'session/series-loaded': {
      if (view?.handle !== action.handle) return state;
      const series = { ...s.series };
      for (const one of action.series) series[one.vmaId] = one;
      const done = new Set(action.series.map((x) => x.vmaId));
      return withSession(state, {
        ...s,
        series,
        seriesLoading: s.seriesLoading.filter((id) => !done.has(id)),
      });
    }
    case 'session/series-failed': {
      if (view?.handle !== action.handle) return state;
      const failed = new Set(action.ids);
      return withSession(state, {
        ...s,
        seriesLoading: s.seriesLoading.filter((id) => !failed.has(id)),
        seriesError: action.error,
      });
    }
    case 'session/heatmap-wanted':
      if (view?.handle !== action.request.handle) return state;
      if (sameHeatmapRequest(s.heatmap.request, action.request)) return state;
      return withSession(state, { ...s, heatmap: { ...s.heatmap, request: action.request, loading: true } });
    case 'session/heatmap-loaded':
      // Latest wins: an answer to any request but the one wanted now is dropped.
      if (!sameHeatmapRequest(s.heatmap.request, action.request)) return state;
      return withSession(state, {
        ...s,
        heatmap: {
          request: s.heatmap.request,
          loading: false,
          result: action.heatmap,
          resultRequest: action.request,
          error: null,
        },
      });
    case 'session/heatmap-failed':
      if (!sameHeatmapRequest(s.heatmap.request, action.request)) return state;
      return withSession(state, { ...s, heatmap: { ...s.heatmap, loading: false, error: action.error } });
    case 'session/heat-channel':
      return withSession(state, { ...s, heatChannel: action.channel });
    case 'session/vma-sort':
      return withSession(state, { ...s, vmaSort: action.sort });
    case 'session/vma-filter':
      return withSession(state, { ...s, vmaFilter: action.text });
    case 'session/experiment': {
      if (!view) return state;
      const others = view.experiments.filter((e) => e.id !== action.experiment.id);
      const next = { ...view, experiments: [...others, action.experiment] };
      // Showing the whole session, the view stays whole: an experiment run after the recording stopped
      // lies past the last interval, and its band would otherwise be off screen. A zoom is kept.
      const before = boundsOf(view);
      const whole = s.viewport.fromMs <= before.minMs && s.viewport.toMs >= before.maxMs;
      return withSession(state, {
        ...s,
        view: next,
        viewport: whole ? fullViewport(boundsOf(next)) : s.viewport,
      });
    }
  }
}
