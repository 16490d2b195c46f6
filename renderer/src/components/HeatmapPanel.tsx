import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { SessionView, SessionVmaSummary } from '../../../electron/contract/index.js';
import {
  addressOfOffset,
  buildAxis,
  parseHex,
  rangeRows,
  rowOfOffset,
  rowsToRanges,
  sameRanges,
  toHex,
  type AddressAxis,
} from '../logic/addressAxis.js';
import { formatAddress, formatBytes, formatPercent } from '../logic/format.js';
import {
  buildRamp,
  cellValue,
  decodeHeatmap,
  heatmapToRgba,
  hotBands,
  parseColor,
  type HeatChannel,
  type HeatPlanes,
  type Rgb,
  widestBand,
} from '../logic/heatmap.js';
import { vmaLabel } from '../logic/sessionTracks.js';
import {
  formatOffsetMs,
  msToPx,
  positionAt,
  positionRange,
  pxToMs,
  type Viewport,
} from '../logic/timeScale.js';
import {
  selectExperimentBands,
  selectHeatmapAxis,
  selectHeatmapRanges,
  selectSessionView,
} from '../state/sessionSelectors.js';
import {
  draggedViewport,
  localPoint,
  releasePointer,
  themeColor,
  useCanvasDraw,
  useElementSize,
  useTimeWheel,
} from './canvas.js';
import { Spinner } from './cells.js';
import { useAppSelector, useController, useDispatch } from './hooks.js';
import { TimeOverlay } from './TimeOverlay.js';

const HEATMAP_PX = 280;
/** HeatmapRequest's limits. */
const MAX_COLUMNS = 4096;
const MAX_ROWS = 2048;
const LABEL_GAP_PX = 14;
const HEAT_STOPS = ['--heat-0', '--heat-1', '--heat-2', '--heat-3', '--heat-4'];

function rgbOf(theme: string, cssVar: string, fallback: Rgb): Rgb {
  return parseColor(themeColor(theme, cssVar)) ?? fallback;
}

interface AxisLabel {
  yPx: number;
  address: string;
  name: string;
  title: string;
  kind: 'boundary' | 'tick' | 'top';
}

/** First VMA starting at or after `address` (vmas sorted by start). */
function vmaAtOrAfter(vmas: readonly SessionVmaSummary[], address: bigint): SessionVmaSummary | undefined {
  let a = 0;
  let b = vmas.length;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if (parseHex(vmas[mid]?.start ?? '0') < address) a = mid + 1;
    else b = mid;
  }
  return vmas[a];
}

const MAX_AXIS_LABELS = 80;

/**
 * Address labels for the left gutter: where each axis range (VMAs, merged) starts, with the name of its
 * first VMA. Larger ranges are labelled first and a label closer than LABEL_GAP_PX to one already placed is
 * skipped, so the big mappings keep their label when hundreds of small ones share a few pixels. The axis'
 * end sits at the top; zoomed into one or two ranges, quartile addresses fill in.
 */
function axisLabels(axis: AddressAxis, vmas: readonly SessionVmaSummary[], heightPx: number): AxisLabel[] {
  const total = axis.totalBytes;
  if (total <= 0n || heightPx <= 0) return [];
  const yOf = (offset: bigint): number =>
    heightPx - Number((offset * BigInt(Math.round(heightPx * 16))) / total) / 16;
  const labels: AxisLabel[] = [];
  const free = (y: number): boolean => labels.every((l) => Math.abs(l.yPx - y) >= LABEL_GAP_PX);
  const last = axis.ranges[axis.ranges.length - 1];
  if (last) {
    // Drawn above its y like every label: at 12 px it sits flush with the top edge.
    labels.push({
      yPx: 12,
      address: formatAddress(toHex(last.end)),
      name: '',
      title: `end ${toHex(last.end)}`,
      kind: 'top',
    });
  }
  const bySize = [...axis.ranges].sort((x, y) =>
    y.end - y.start > x.end - x.start ? 1 : y.end - y.start < x.end - x.start ? -1 : 0,
  );
  for (const r of bySize) {
    if (labels.length >= MAX_AXIS_LABELS) break;
    const y = yOf(r.offset);
    if (!free(y)) continue;
    const vma = vmaAtOrAfter(vmas, r.start);
    const named = vma !== undefined && parseHex(vma.start) < r.end ? vma : undefined;
    labels.push({
      yPx: y,
      address: formatAddress(toHex(r.start)),
      name: named ? (vmaLabel(named).split(' ')[0] ?? '') : '',
      title: `${toHex(r.start)}–${toHex(r.end)} (${formatBytes(Number(r.end - r.start))})${named ? ` ${named.path || `[${named.kind}]`}` : ''}`,
      kind: 'boundary',
    });
  }
  if (axis.ranges.length <= 2) {
    for (const q of [1n, 2n, 3n]) {
      const offset = (total * q) / 4n;
      const y = yOf(offset);
      if (!free(y)) continue;
      const address = toHex(addressOfOffset(axis, offset));
      labels.push({ yPx: y, address: formatAddress(address), name: '', title: address, kind: 'tick' });
    }
  }
  return labels;
}

/** Pixel rows per heatmap row are at least one page: asking for more rows than pages shows nothing new. */
function requestRows(axis: AddressAxis, heightDevPx: number, pageSizeBytes: number): number {
  const pages = axis.totalBytes / BigInt(Math.max(1, pageSizeBytes));
  return Math.max(1, Math.min(MAX_ROWS, heightDevPx, Number(pages > 1_000_000n ? 1_000_000n : pages)));
}

interface Brush {
  y0: number;
  y1: number;
  x0: number;
  x1: number;
}

/**
 * Address (vertical, low addresses at the bottom) × time (horizontal, the shared viewport). Asks the
 * agent for exactly the pixels shown (one cell per device pixel, bounded whatever the session length);
 * while a newer request is on its way the previous image is stretched to the current viewport, so pans
 * stay smooth. Drag brushes an address range (the selection for the migration panel), Shift+drag pans,
 * wheel zooms time around the pointer, double-click shows the whole session.
 */
export function HeatmapPanel(): ReactNode {
  const dispatch = useDispatch();
  const controller = useController();
  const view = useAppSelector(selectSessionView);
  const viewport = useAppSelector((s) => s.session.viewport);
  const cursorMs = useAppSelector((s) => s.session.cursorMs);
  const theme = useAppSelector((s) => s.theme);
  const heat = useAppSelector((s) => s.session.heatmap);
  const channel = useAppSelector((s) => s.session.heatChannel);
  const selection = useAppSelector((s) => s.session.selection);
  const addressView = useAppSelector((s) => s.session.addressView);
  const ranges = useAppSelector(selectHeatmapRanges);
  const axis = useAppSelector(selectHeatmapAxis);
  const bands = useAppSelector(selectExperimentBands);
  const [plotRef, plot] = useElementSize<HTMLDivElement>();
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [brush, setBrush] = useState<Brush | null>(null);
  const [hover, setHover] = useState<{ x: number; y: number } | null>(null);
  const drag = useRef<{ mode: 'brush' | 'pan'; x0: number; y0: number; viewport: Viewport } | null>(null);

  const widthDevPx = Math.round(plot.widthPx * plot.dpr);
  const heightDevPx = Math.round(plot.heightPx * plot.dpr);
  const positions = view ? positionRange(view.timeline, viewport) : { fromPos: 0, toPos: 0 };
  const rows = view ? requestRows(axis, heightDevPx, view.meta.pageSizeBytes) : 1;
  const columns = Math.max(1, Math.min(MAX_COLUMNS, widthDevPx, positions.toPos - positions.fromPos));

  useEffect(() => {
    if (!view || widthDevPx <= 0 || heightDevPx <= 0 || ranges.length === 0) return;
    if (positions.toPos <= positions.fromPos) return;
    controller.session.requestHeatmap({
      fromPos: positions.fromPos,
      toPos: positions.toPos,
      columns,
      rows,
      ranges: [...ranges],
    });
  }, [controller, view, positions.fromPos, positions.toPos, columns, rows, ranges, widthDevPx, heightDevPx]);

  // What is on screen: the last result, when it was asked for the address axis shown now.
  const shown =
    heat.result && heat.resultRequest && sameRanges(heat.resultRequest.ranges, ranges) ? heat : null;
  const planes = useMemo(
    (): HeatPlanes | null => (shown?.result ? decodeHeatmap(shown.result) : null),
    [shown?.result],
  );
  const resultAxis = useMemo(
    () => (shown?.resultRequest ? buildAxis(shown.resultRequest.ranges) : null),
    [shown?.resultRequest],
  );
  // The image is built at draw time (in the animation frame, once App applied a theme switch to the
  // page) and kept until the data, the channel or the theme change.
  const imageCache = useRef<{
    planes: HeatPlanes;
    channel: HeatChannel;
    theme: string;
    bitmap: HTMLCanvasElement;
  } | null>(null);
  const imageFor = (p: HeatPlanes): HTMLCanvasElement => {
    const c = imageCache.current;
    if (c?.planes === p && c.channel === channel && c.theme === theme) return c.bitmap;
    const ramp = buildRamp(HEAT_STOPS.map((v) => rgbOf(theme, v, [128, 128, 128])));
    const rgba = heatmapToRgba(p, channel, ramp, rgbOf(theme, '--bg-panel', [0, 0, 0]));
    const bitmap = document.createElement('canvas');
    bitmap.width = rgba.widthPx;
    bitmap.height = rgba.heightPx;
    bitmap.getContext('2d')?.putImageData(new ImageData(rgba.data, rgba.widthPx, rgba.heightPx), 0, 0);
    imageCache.current = { planes: p, channel, theme, bitmap };
    return bitmap;
  };
  // Debug hooks for e2e tests (no pixel reading): the widest hot band and every band, as hex ranges.
  const hot = useMemo(() => {
    if (!planes || !resultAxis) return { rows: undefined, bands: undefined };
    const bands = hotBands(planes, resultAxis);
    const widest = widestBand(bands);
    return {
      rows: JSON.stringify(widest ? [widest.start, widest.end] : null),
      bands: JSON.stringify(bands.slice(0, 32).map((b) => [b.start, b.end])),
    };
  }, [planes, resultAxis]);

  // Device-pixel rows of the VMA boundaries worth a line (computed once per axis and size, not per frame).
  const boundaryYs = useMemo((): number[] => {
    const total = axis.totalBytes;
    const ys: number[] = [];
    if (total <= 0n || heightDevPx <= 0) return ys;
    let lastY = Number.POSITIVE_INFINITY;
    for (const r of axis.ranges) {
      if (r.offset === 0n) continue;
      const y = Math.round(heightDevPx - Number((r.offset * BigInt(heightDevPx)) / total));
      // Only boundaries well apart: with hundreds of small VMAs, lines every few pixels would hide the heat.
      if (lastY - y >= 12 * plot.dpr) {
        ys.push(y);
        lastY = y;
      }
    }
    return ys;
  }, [axis, heightDevPx, plot.dpr]);

  // Device-pixel bands of the selection on the current axis (once per selection, not per frame).
  const selectionBands = useMemo((): { y0: number; height: number }[] => {
    if (!selection || heightDevPx <= 0) return [];
    const out: { y0: number; height: number }[] = [];
    for (const r of selection.ranges) {
      const rr = rangeRows(axis, heightDevPx, parseHex(r.start), parseHex(r.end));
      if (rr) out.push({ y0: heightDevPx - rr.toRow, height: Math.max(1, rr.toRow - rr.fromRow) });
    }
    return out;
  }, [selection, axis, heightDevPx]);

  const draw = useCallback(
    (ctx: CanvasRenderingContext2D, w: number, h: number, dpr: number) => {
      if (!view) return;
      ctx.fillStyle = themeColor(theme, '--bg-panel');
      ctx.fillRect(0, 0, w, h);
      const result = shown?.result;
      if (planes && result && result.toPos > result.fromPos) {
        const image = imageFor(planes);
        // The image covers the answer's intervals (the agent clamps toPos to the session's end).
        const x0 = msToPx(view.timeline.startMs[result.fromPos] ?? 0, viewport, w);
        const x1 = msToPx(view.timeline.endMs[result.toPos - 1] ?? 0, viewport, w);
        ctx.imageSmoothingEnabled = false;
        ctx.drawImage(image, x0, 0, Math.max(1, x1 - x0), h);
        // For tests and benchmarks: an answer from the agent is on screen.
        canvasRef.current?.setAttribute('data-drawn', 'true');
      }
      // VMA boundaries (where two axis ranges meet).
      if (boundaryYs.length > 0) {
        ctx.fillStyle = themeColor(theme, '--border-strong');
        for (const y of boundaryYs) ctx.fillRect(0, y, w, Math.max(1, Math.round(dpr)));
      }
      // The selection (selected VMAs or a brushed range) over the whole time axis.
      if (selectionBands.length > 0) {
        ctx.strokeStyle = themeColor(theme, '--accent');
        ctx.fillStyle = themeColor(theme, '--accent');
        ctx.lineWidth = Math.max(1, Math.round(dpr));
        for (const band of selectionBands) {
          ctx.globalAlpha = 0.14;
          ctx.fillRect(0, band.y0, w, band.height);
          ctx.globalAlpha = 1;
          ctx.strokeRect(0.5, band.y0 + 0.5, w - 1, Math.max(1, band.height - 1));
        }
      }
    },
    // imageFor reads `channel` and `theme`: both are listed, so the draw changes with them.
    [view, shown?.result, planes, channel, viewport, boundaryYs, selectionBands, theme],
  );
  useCanvasDraw(canvasRef, plot, draw);

  const vmas = view?.vmas;
  const labels = useMemo(
    () => (vmas ? axisLabels(axis, vmas, plot.heightPx) : []),
    [axis, vmas, plot.heightPx],
  );

  const local = (e: { clientX: number; clientY: number }): { x: number; y: number } =>
    localPoint(plotRef.current, e);

  useTimeWheel(plotRef, plot.widthPx, viewport);

  if (!view) return null;

  const finishBrush = (b: Brush): void => {
    const h = plot.heightPx;
    const top = Math.max(0, Math.min(b.y0, b.y1));
    const bottom = Math.min(h, Math.max(b.y0, b.y1));
    if (bottom - top < 3 || h <= 0) return;
    // Pixel rows counted from the bottom (row 0 = lowest address), as on the agent's axis.
    const fromRow = Math.floor(h - bottom);
    const toRow = Math.ceil(h - top);
    dispatch({ type: 'session/brush', ranges: rowsToRanges(axis, Math.round(h), fromRow, toRow) });
  };

  // Hover readout: address, time and the cell's value under the pointer.
  let readout: string | null = null;
  if (hover && plot.heightPx > 0 && axis.totalBytes > 0n) {
    const pixelRow = Math.floor(plot.heightPx - hover.y);
    const rowsPx = Math.max(1, Math.round(plot.heightPx));
    const offset = (axis.totalBytes * BigInt(Math.max(0, Math.min(rowsPx - 1, pixelRow)))) / BigInt(rowsPx);
    const address = toHex(addressOfOffset(axis, offset));
    const ms = pxToMs(hover.x, viewport, plot.widthPx);
    let value = '';
    const res = shown?.result;
    if (planes && res && resultAxis) {
      const n = res.toPos - res.fromPos;
      const pos = positionAt(view.timeline, ms);
      if (pos !== null && pos >= res.fromPos && pos < res.toPos && n > 0) {
        const column = Math.floor(((pos - res.fromPos) * planes.columns) / n);
        const v = cellValue(planes, channel, rowOfOffset(offset, resultAxis.totalBytes, planes.rows), column);
        value = v === null ? ' · no data' : ` · ${channel} ${formatPercent(v / 255)} accessed`;
      }
    }
    readout = `0x${address} · ${formatOffsetMs(ms, view.meta.intervalMs)}${value}`;
  }

  const status = heat.error ? 'error' : heat.loading ? 'loading' : shown ? 'ready' : 'empty';

  return (
    <section className="panel session-heatmap" aria-label="Heatmap">
      <h3>
        Heatmap
        <span className="muted" style={{ textTransform: 'none', letterSpacing: 0, fontWeight: 400 }}>
          address × time, share of pages accessed per scan ({view.meta.heatBucketsPerVma} buckets per VMA)
        </span>
        <span className="aside">
          {readout ? <span className="mono">{readout}</span> : null}
          {heat.loading ? <Spinner label="loading heatmap" /> : null}
          {heat.error ? <span className="error-text">{heat.error.message}</span> : null}
          {ranges.length === 0 ? (
            <span className="muted">no VMA was ever resident: nothing to show</span>
          ) : null}
          <span className="segmented" role="group" aria-label="Cell value">
            {(['max', 'mean'] as const).map((c) => (
              <button
                key={c}
                aria-pressed={channel === c}
                title={
                  c === 'max'
                    ? 'The hottest sample a cell covers: a thin hot band stays visible zoomed out'
                    : 'The average over the samples a cell covers'
                }
                onClick={() => {
                  dispatch({ type: 'session/heat-channel', channel: c });
                }}
              >
                {c}
              </button>
            ))}
          </span>
          <button
            className="btn small"
            disabled={selection?.source !== 'brush'}
            title="Show only the brushed address range"
            onClick={() => {
              if (selection) dispatch({ type: 'session/address-view', ranges: selection.ranges });
            }}
          >
            Zoom to selection
          </button>
          <button
            className="btn small"
            disabled={addressView === null}
            title="Show every VMA that was ever resident"
            onClick={() => {
              dispatch({ type: 'session/address-view', ranges: null });
            }}
          >
            All addresses
          </button>
        </span>
      </h3>
      <div className="heatmap-body" style={{ height: HEATMAP_PX }}>
        <div className="heat-axis" aria-label="Addresses">
          {labels.map((l) => (
            <span
              key={`${l.kind}-${l.address}`}
              className={`heat-label ${l.kind}`}
              style={{ top: l.yPx }}
              title={l.title}
            >
              {l.name ? <span className="name">{l.name}</span> : null}
              {l.address}
            </span>
          ))}
        </div>
        <div
          className="heat-plot"
          ref={plotRef}
          onPointerDown={(e) => {
            if (e.button !== 0) return;
            e.currentTarget.setPointerCapture(e.pointerId);
            const p = local(e);
            drag.current = { mode: e.shiftKey ? 'pan' : 'brush', x0: p.x, y0: p.y, viewport };
          }}
          onPointerMove={(e) => {
            const p = local(e);
            setHover(p);
            dispatch({ type: 'session/cursor', ms: pxToMs(p.x, viewport, plot.widthPx) });
            const d = drag.current;
            if (!d) return;
            if (d.mode === 'pan' && plot.widthPx > 0) {
              dispatch({
                type: 'session/viewport',
                viewport: draggedViewport(d.viewport, d.x0, p.x, plot.widthPx),
              });
            } else if (d.mode === 'brush') {
              setBrush({ x0: d.x0, y0: d.y0, x1: p.x, y1: p.y });
            }
          }}
          onPointerUp={(e) => {
            const d = drag.current;
            drag.current = null;
            releasePointer(e);
            if (d?.mode === 'brush' && brush) finishBrush(brush);
            setBrush(null);
          }}
          onPointerCancel={() => {
            drag.current = null;
            setBrush(null);
          }}
          onPointerLeave={() => {
            setHover(null);
          }}
          onDoubleClick={() => {
            dispatch({ type: 'session/reset-viewport' });
          }}
        >
          <canvas
            ref={canvasRef}
            data-testid="heatmap"
            data-heatmap-state={status}
            data-hot-rows={hot.rows}
            data-hot-bands={hot.bands}
            aria-label="Heatmap: address by time"
            style={{ width: plot.widthPx, height: plot.heightPx }}
          />
          <TimeOverlay
            viewport={viewport}
            widthPx={plot.widthPx}
            bands={bands}
            cursorMs={cursorMs}
            showLabels={false}
          />
          {brush ? (
            <div
              className="brush"
              style={{
                left: Math.min(brush.x0, brush.x1),
                width: Math.abs(brush.x1 - brush.x0),
                top: Math.min(brush.y0, brush.y1),
                height: Math.abs(brush.y1 - brush.y0),
              }}
            />
          ) : null}
        </div>
      </div>
      <HeatLegend view={view} />
    </section>
  );
}

function HeatLegend({ view }: { view: SessionView }): ReactNode {
  return (
    <div className="legend heat-legend">
      <span>
        <span
          className="swatch"
          style={{ background: 'var(--bg-panel)', border: '1px solid var(--border)' }}
        />{' '}
        no data
      </span>
      <span className="ramp" aria-hidden />
      <span>0 % → 100 % of the cell&apos;s pages accessed per scan</span>
      <span className="faint" title={view.meta.sourceLimits}>
        source {view.meta.source}; low addresses at the bottom, gaps between mappings left out
      </span>
    </div>
  );
}
