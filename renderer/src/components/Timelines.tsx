import { memo, useCallback, useEffect, useMemo, useRef, type ReactNode } from 'react';
import { decimateStacked } from '../logic/decimate.js';
import { formatTrackValue } from '../logic/trackFormat.js';
import { trackValuesAt, vmaLabel, type TrackSpec } from '../logic/sessionTracks.js';
import { formatOffsetMs, positionAt, pxToMs, type Viewport } from '../logic/timeScale.js';
import {
  selectExperimentBands,
  selectProcessTracks,
  selectSessionVmaById,
  selectSessionView,
  selectVmaTracks,
} from '../state/sessionSelectors.js';
import {
  draggedViewport,
  localPoint,
  releasePointer,
  themeColor,
  useCanvasDraw,
  useElementSize,
  useTimeWheel,
  type CanvasSize,
} from './canvas.js';
import { Spinner } from './cells.js';
import { useAppSelector, useController, useDispatch } from './hooks.js';
import { TimeAxis, TimeOverlay } from './TimeOverlay.js';

const AXIS_PX = 20;
const STACKED_PX = 46;
const SERIES_PX = 30;

function trackHeightPx(track: TrackSpec): number {
  return track.style === 'stacked' ? STACKED_PX : SERIES_PX;
}

/**
 * Fills one column per pixel from `span(x)` = [top, bottom] (device px; NaN top = nothing there), merging
 * neighbours with the same extent into one rectangle: zoomed in, an interval spans many columns and a
 * track costs a few dozen rectangles instead of one per pixel.
 */
function fillColumns(
  ctx: CanvasRenderingContext2D,
  widthPx: number,
  span: (x: number) => readonly [number, number],
): void {
  ctx.beginPath();
  let runX = -1;
  let runTop = 0;
  let runBottom = 0;
  const flush = (end: number): void => {
    if (runX >= 0 && runBottom > runTop) ctx.rect(runX, runTop, end - runX, runBottom - runTop);
    runX = -1;
  };
  for (let x = 0; x < widthPx; x++) {
    const [t, b] = span(x);
    if (Number.isNaN(t) || Number.isNaN(b)) {
      flush(x);
      continue;
    }
    const top = Math.round(t);
    const bottom = Math.round(b);
    if (runX >= 0 && top === runTop && bottom === runBottom) continue;
    flush(x);
    runX = x;
    runTop = top;
    runBottom = bottom;
  }
  flush(widthPx);
  ctx.fill();
}

/** Draws one decimated track: a stack of layers (max envelope per pixel), or a series with its min–max band. */
function drawTrack(
  ctx: CanvasRenderingContext2D,
  theme: string,
  track: TrackSpec,
  viewport: Viewport,
  widthDevPx: number,
  heightDevPx: number,
  dpr: number,
): void {
  const dec = decimateStacked(
    track.times,
    track.layers.map((l) => l.values),
    viewport,
    widthDevPx,
  );
  const top = Math.round(3 * dpr);
  const plotPx = heightDevPx - top;
  const yOf = (v: number): number => heightDevPx - (dec.peak > 0 ? (v / dec.peak) * plotPx : 0);
  const w = dec.widthPx;
  if (track.style === 'stacked') {
    for (let l = 0; l < dec.layers; l++) {
      ctx.fillStyle = themeColor(theme, track.layers[l]?.colorVar ?? '--text-faint');
      fillColumns(ctx, w, (x) => {
        const hi = dec.max[l * w + x] ?? Number.NaN;
        const lo = l === 0 ? 0 : (dec.max[(l - 1) * w + x] ?? 0);
        return [yOf(hi), yOf(lo)];
      });
    }
  } else {
    ctx.fillStyle = themeColor(theme, track.layers[0]?.colorVar ?? '--accent');
    // Solid up to the pixel's minimum, translucent to its maximum: how much the value moved within it.
    fillColumns(ctx, w, (x) => [yOf(dec.min[x] ?? Number.NaN), heightDevPx]);
    ctx.globalAlpha = 0.45;
    fillColumns(ctx, w, (x) => {
      const top = yOf(dec.max[x] ?? Number.NaN);
      return [top, Math.max(top + 1, yOf(dec.min[x] ?? Number.NaN))];
    });
    ctx.globalAlpha = 1;
  }
  // Baseline and the scale: the largest value in view (the y axis adapts to what is visible).
  ctx.fillStyle = themeColor(theme, '--border');
  ctx.fillRect(0, heightDevPx - Math.max(1, Math.round(dpr)), widthDevPx, Math.max(1, Math.round(dpr)));
  if (dec.peak > 0) {
    // The scale's label on a backdrop, readable over the data.
    const text = formatTrackValue(dec.peak * track.scale, track.unit);
    ctx.font = `${Math.round(10 * dpr)}px system-ui, sans-serif`;
    ctx.textBaseline = 'top';
    const pad = Math.round(2 * dpr);
    ctx.globalAlpha = 0.75;
    ctx.fillStyle = themeColor(theme, '--bg-panel');
    ctx.fillRect(pad, pad, ctx.measureText(text).width + 2 * pad, Math.round(12 * dpr));
    ctx.globalAlpha = 1;
    ctx.fillStyle = themeColor(theme, '--text-muted');
    ctx.fillText(text, 2 * pad, pad + Math.round(dpr));
  }
}

const TrackCanvas = memo(function TrackCanvas({
  track,
  viewport,
  size,
  theme,
}: {
  track: TrackSpec;
  viewport: Viewport;
  size: CanvasSize;
  theme: string;
}): ReactNode {
  const ref = useRef<HTMLCanvasElement>(null);
  const draw = useCallback(
    (ctx: CanvasRenderingContext2D, w: number, h: number, dpr: number) => {
      drawTrack(ctx, theme, track, viewport, w, h, dpr);
      // For tests and benchmarks: the canvas shows this track's data (set once, no re-render).
      ref.current?.setAttribute('data-drawn', 'true');
    },
    [track, viewport, theme],
  );
  useCanvasDraw(ref, size, draw);
  return (
    <canvas
      ref={ref}
      className="track-canvas"
      data-testid={`track-${track.id}`}
      aria-label={track.title}
      style={{ width: size.widthPx, height: size.heightPx }}
    />
  );
});

function TrackLabel({
  track,
  cursorMs,
  onRemove,
}: {
  track: TrackSpec;
  cursorMs: number | null;
  onRemove?: () => void;
}): ReactNode {
  const values = cursorMs === null ? null : trackValuesAt(track, cursorMs);
  return (
    <div
      className="track-label"
      style={{ height: trackHeightPx(track) }}
      title={track.title}
      data-testid={`track-label-${track.id}`}
    >
      <div className="name">
        <span className="text">{track.label}</span>
        {onRemove ? (
          <button className="link" aria-label={`Remove the track of ${track.label}`} onClick={onRemove}>
            ×
          </button>
        ) : null}
      </div>
      {values ? (
        <div className="readout">
          {values.map((v) => (
            <span key={v.label}>
              <span className="swatch" style={{ background: `var(${v.colorVar})` }} />
              {track.layers.length > 1 ? `${v.label} ` : ''}
              {formatTrackValue(v.value, track.unit)}
            </span>
          ))}
        </div>
      ) : null}
    </div>
  );
}

/**
 * The session's timelines: whole-process hotness, hot and cold per node, kernel counters, sampler cost,
 * and one hotness track per selected VMA, on one time axis. Wheel zooms around the pointer (Shift or a
 * horizontal swipe pans), drag pans, double-click shows the whole session; the cursor follows the pointer
 * across every track and the heatmap.
 */
export function Timelines(): ReactNode {
  const dispatch = useDispatch();
  const controller = useController();
  const view = useAppSelector(selectSessionView);
  const viewport = useAppSelector((s) => s.session.viewport);
  const cursorMs = useAppSelector((s) => s.session.cursorMs);
  const theme = useAppSelector((s) => s.theme);
  const processTracks = useAppSelector(selectProcessTracks);
  const vmaTracks = useAppSelector(selectVmaTracks);
  const selectedIds = useAppSelector((s) => s.session.selectedVmaIds);
  const seriesLoading = useAppSelector((s) => s.session.seriesLoading);
  const seriesError = useAppSelector((s) => s.session.seriesError);
  const vmaById = useAppSelector(selectSessionVmaById);
  const bands = useAppSelector(selectExperimentBands);
  const [plotRef, plot] = useElementSize<HTMLDivElement>();
  const drag = useRef<{ x0: number; viewport: Viewport } | null>(null);

  useEffect(() => {
    if (selectedIds.length > 0) void controller.session.loadVmaSeries(selectedIds);
  }, [controller, selectedIds]);

  const xOf = (e: { clientX: number; clientY: number }): number => localPoint(plotRef.current, e).x;

  useTimeWheel(plotRef, plot.widthPx, viewport);

  // Stable size objects: a track canvas redraws only when its data, the viewport, the size or the theme change.
  const sizes = useMemo(
    () => ({
      stacked: { widthPx: plot.widthPx, heightPx: STACKED_PX, dpr: plot.dpr },
      series: { widthPx: plot.widthPx, heightPx: SERIES_PX, dpr: plot.dpr },
    }),
    [plot.widthPx, plot.dpr],
  );

  if (!view) return null;
  const trackSize = (track: TrackSpec): CanvasSize => sizes[track.style];
  const pendingVmas = selectedIds.filter((id) => !vmaTracks.some((t) => t.id === `vma-${id}`));
  const cursorPos = cursorMs === null ? null : positionAt(view.timeline, cursorMs);

  return (
    <section className="panel session-timelines" aria-label="Timelines">
      <div className="timeline">
        <div className="timeline-labels">
          <div className="track-label axis" style={{ height: AXIS_PX }}>
            {cursorMs !== null ? (
              <span className="muted">
                cursor {formatOffsetMs(cursorMs, view.meta.intervalMs)}
                {cursorPos !== null ? ` · #${cursorPos}` : ''}
              </span>
            ) : (
              <span className="faint">time since start</span>
            )}
          </div>
          {processTracks.map((t) => (
            <TrackLabel key={t.id} track={t} cursorMs={cursorMs} />
          ))}
          {vmaTracks.map((t) => (
            <TrackLabel
              key={t.id}
              track={t}
              cursorMs={cursorMs}
              onRemove={() => {
                dispatch({
                  type: 'session/select-vmas',
                  ids: [Number(t.id.slice('vma-'.length))],
                  mode: 'toggle',
                });
              }}
            />
          ))}
          {pendingVmas.map((id) => {
            const vma = vmaById.get(id);
            return (
              <div key={id} className="track-label" style={{ height: SERIES_PX }}>
                <div className="name">
                  <span className="text">{vma ? vmaLabel(vma) : `VMA ${id}`}</span>
                </div>
                <div className="readout">
                  {seriesLoading.includes(id) ? (
                    <>
                      <Spinner label="loading" /> loading series…
                    </>
                  ) : (
                    <span className="error-text">{seriesError?.message ?? 'not loaded'}</span>
                  )}
                </div>
              </div>
            );
          })}
        </div>
        <div
          className="timeline-plot"
          ref={plotRef}
          onPointerDown={(e) => {
            if (e.button !== 0) return;
            e.currentTarget.setPointerCapture(e.pointerId);
            drag.current = { x0: xOf(e), viewport };
          }}
          onPointerMove={(e) => {
            const x = xOf(e);
            dispatch({ type: 'session/cursor', ms: pxToMs(x, viewport, plot.widthPx) });
            const d = drag.current;
            if (d && plot.widthPx > 0) {
              dispatch({
                type: 'session/viewport',
                viewport: draggedViewport(d.viewport, d.x0, x, plot.widthPx),
              });
            }
          }}
          onPointerUp={(e) => {
            drag.current = null;
            releasePointer(e);
          }}
          onPointerCancel={() => {
            drag.current = null;
          }}
          onDoubleClick={() => {
            dispatch({ type: 'session/reset-viewport' });
          }}
        >
          <TimeAxis viewport={viewport} widthPx={plot.widthPx} />
          {processTracks.map((t) => (
            <TrackCanvas key={t.id} track={t} viewport={viewport} size={trackSize(t)} theme={theme} />
          ))}
          {vmaTracks.map((t) => (
            <TrackCanvas key={t.id} track={t} viewport={viewport} size={trackSize(t)} theme={theme} />
          ))}
          {pendingVmas.map((id) => (
            <div key={id} style={{ height: SERIES_PX }} />
          ))}
          <TimeOverlay
            viewport={viewport}
            widthPx={plot.widthPx}
            bands={bands}
            cursorMs={cursorMs}
            showLabels
          />
        </div>
      </div>
    </section>
  );
}
