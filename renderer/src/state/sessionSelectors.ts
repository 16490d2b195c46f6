// Memoized selectors of the session views. Each derives from a few slice fields by identity, so moving the
// cursor recomputes nothing, panning recomputes only what depends on the viewport (nothing here: tracks
// decimate at draw time), and a loaded VmaSeries rebuilds only the VMA tracks.
import type { SessionView, SessionVmaSummary } from '../../../electron/contract/index.js';
import { buildAxis, heatmapRanges, type AddressAxis, type HexRange } from '../logic/addressAxis.js';
import { experimentBands, type ExperimentBand } from '../logic/experiments.js';
import { createSelector } from '../logic/memo.js';
import { summarizeMisplacement, type MisplacementSummary } from '../logic/misplacement.js';
import { processTracks, vmaTrack, type TrackSpec } from '../logic/sessionTracks.js';
import { filterSessionVmas, sortSessionVmas } from '../logic/sessionVmas.js';
import type { TimeBounds } from '../logic/timeScale.js';
import { boundsOf, type SessionSelection } from './session.js';
import type { AppState } from './state.js';

const NO_VMAS: readonly SessionVmaSummary[] = [];
const NO_TRACKS: readonly TrackSpec[] = [];
const NO_RANGES: readonly HexRange[] = [];
const NO_BANDS: readonly ExperimentBand[] = [];

export const selectSessionView = (s: AppState): SessionView | null => s.session.view;

/**
 * What the migration panel migrates: the selected VMAs or the brushed address range, as hex ranges
 * ({ranges: [{start, end}]}); null when nothing is selected.
 */
export const selectSessionSelection = (s: AppState): SessionSelection | null => s.session.selection;

export const selectSessionBounds = createSelector(selectSessionView, (view): TimeBounds | null =>
  view ? boundsOf(view) : null,
);

export const selectSessionVmas = (s: AppState): readonly SessionVmaSummary[] =>
  s.session.view?.vmas ?? NO_VMAS;

export const selectSessionVmaById = createSelector(
  selectSessionVmas,
  (vmas): ReadonlyMap<number, SessionVmaSummary> => new Map(vmas.map((v) => [v.id, v])),
);

export const selectProcessTracks = createSelector(selectSessionView, (view): readonly TrackSpec[] =>
  view ? processTracks(view) : NO_TRACKS,
);

/** One track per selected VMA whose series has arrived, in selection order. */
export const selectVmaTracks = createSelector(
  selectSessionView,
  selectSessionVmaById,
  (s: AppState) => s.session.selectedVmaIds,
  (s: AppState) => s.session.series,
  (view, byId, ids, series): readonly TrackSpec[] => {
    if (!view) return NO_TRACKS;
    const out: TrackSpec[] = [];
    for (const id of ids) {
      const vma = byId.get(id);
      const one = series[id];
      if (vma && one) out.push(vmaTrack(view, vma, one));
    }
    return out;
  },
);

/** Every VMA ever resident, merged: the heatmap's address axis when nothing is zoomed. */
export const selectAllHeatmapRanges = createSelector(selectSessionVmas, (vmas): readonly HexRange[] =>
  vmas.length > 0 ? heatmapRanges(vmas) : NO_RANGES,
);

/** The ranges the heatmap shows now: the address zoom, else every VMA ever resident. */
export const selectHeatmapRanges = (s: AppState): readonly HexRange[] =>
  s.session.addressView ?? selectAllHeatmapRanges(s);

export const selectHeatmapAxis = createSelector(selectHeatmapRanges, (ranges): AddressAxis =>
  buildAxis(ranges),
);

export const selectMisplacement = createSelector(selectSessionView, (view): MisplacementSummary | null =>
  view ? summarizeMisplacement(view) : null,
);

export const selectExperimentBands = createSelector(
  (s: AppState) => s.session.view?.experiments,
  selectSessionBounds,
  (experiments, bounds): readonly ExperimentBand[] =>
    experiments && bounds ? experimentBands(experiments, bounds) : NO_BANDS,
);

export const selectVisibleSessionVmas = createSelector(
  selectSessionVmas,
  (s: AppState) => s.session.vmaFilter,
  (s: AppState) => s.session.vmaSort,
  (vmas, text, sort) => sortSessionVmas(filterSessionVmas(vmas, text), sort),
);
