// Canvas plumbing shared by the session views: device-pixel sizing, one redraw per animation frame when
// something the drawing depends on changed, theme colours read from the CSS variables, and the wheel
// listener React cannot make non-passive, and the wheel/drag navigation of the time plots (timelines, heatmap).
import { useEffect, useLayoutEffect, useRef, useState, type RefObject } from 'react';
import { pxToMs, type Viewport } from '../logic/timeScale.js';
import { useDispatch } from './hooks.js';

let cachedTheme: string | undefined;
const cache = new Map<string, string>();

/**
 * The value of a CSS custom property ('--hot' → '#ff6b4a') for `theme`, cached per theme. Read at draw
 * time (inside requestAnimationFrame), after App applied `data-theme`; should the page still show another
 * theme, the value is read but not cached, so a stale colour never sticks.
 */
export function themeColor(theme: string, name: string): string {
  const root = document.documentElement;
  const applied = root.dataset['theme'];
  if (applied !== cachedTheme) {
    cache.clear();
    cachedTheme = applied;
  }
  let value = cache.get(name);
  if (value === undefined) {
    value = getComputedStyle(root).getPropertyValue(name).trim() || '#888888';
    if (applied === theme) cache.set(name, value);
  }
  return value;
}

export interface CanvasSize {
  /** CSS pixels. */
  widthPx: number;
  heightPx: number;
  /** Device pixels per CSS pixel. */
  dpr: number;
}

/** The CSS box of an element and the device pixel ratio, updated on resize. */
export function useElementSize<E extends HTMLElement>(): [RefObject<E | null>, CanvasSize] {
  const ref = useRef<E>(null);
  const [size, setSize] = useState<CanvasSize>({ widthPx: 0, heightPx: 0, dpr: 1 });
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const update = (): void => {
      const next = { widthPx: el.clientWidth, heightPx: el.clientHeight, dpr: window.devicePixelRatio || 1 };
      setSize((prev) =>
        prev.widthPx === next.widthPx && prev.heightPx === next.heightPx && prev.dpr === next.dpr
          ? prev
          : next,
      );
    };
    update();
    const observer = new ResizeObserver(update);
    observer.observe(el);
    return () => {
      observer.disconnect();
    };
  }, []);
  return [ref, size];
}

export type Draw = (
  ctx: CanvasRenderingContext2D,
  widthDevPx: number,
  heightDevPx: number,
  dpr: number,
) => void;

/**
 * Draws `draw` on the canvas at device resolution, in the next animation frame, whenever `draw` (a
 * useCallback: its identity is the "something changed" signal) or the size changes. A newer change
 * before the frame replaces the pending one, so a burst of updates costs one draw.
 */
export function useCanvasDraw(
  canvas: RefObject<HTMLCanvasElement | null>,
  size: CanvasSize,
  draw: Draw,
): void {
  useEffect(() => {
    const el = canvas.current;
    if (!el || size.widthPx <= 0 || size.heightPx <= 0) return;
    const frame = requestAnimationFrame(() => {
      const w = Math.max(1, Math.round(size.widthPx * size.dpr));
      const h = Math.max(1, Math.round(size.heightPx * size.dpr));
      if (el.width !== w) el.width = w;
      if (el.height !== h) el.height = h;
      const ctx = el.getContext('2d');
      if (!ctx) return;
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, w, h);
      draw(ctx, w, h, size.dpr);
    });
    return () => {
      cancelAnimationFrame(frame);
    };
  }, [canvas, size, draw]);
}

/** A wheel listener that may preventDefault (React registers wheel listeners as passive). */
export function useWheel(ref: RefObject<HTMLElement | null>, onWheel: (e: WheelEvent) => void): void {
  const handler = useRef(onWheel);
  useLayoutEffect(() => {
    handler.current = onWheel;
  });
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const listener = (e: WheelEvent): void => {
      handler.current(e);
    };
    el.addEventListener('wheel', listener, { passive: false });
    return () => {
      el.removeEventListener('wheel', listener);
    };
  }, [ref]);
}

/** Wheel delta in CSS pixels whatever the device reports (lines, pages). */
export function wheelPx(e: WheelEvent, delta: number): number {
  switch (e.deltaMode) {
    case WheelEvent.DOM_DELTA_LINE:
      return delta * 16;
    case WheelEvent.DOM_DELTA_PAGE:
      return delta * 400;
    default:
      return delta;
  }
}

/** Zoom factor of a wheel step: smooth for trackpads, about ×1.2 per mouse notch. */
export function wheelZoomFactor(e: WheelEvent): number {
  return Math.exp(wheelPx(e, e.deltaY) * 0.0015);
}

/** The pointer's position inside `el` in CSS pixels ({0, 0} without an element). */
export function localPoint(
  el: Element | null,
  e: { clientX: number; clientY: number },
): { x: number; y: number } {
  const rect = el?.getBoundingClientRect();
  return rect ? { x: e.clientX - rect.left, y: e.clientY - rect.top } : { x: 0, y: 0 };
}

/**
 * Wheel over a time plot `widthPx` wide showing `viewport`: zooms around the pointer; Shift or a horizontal
 * swipe pans.
 */
export function useTimeWheel(ref: RefObject<HTMLElement | null>, widthPx: number, viewport: Viewport): void {
  const dispatch = useDispatch();
  useWheel(ref, (e) => {
    if (widthPx <= 0) return;
    e.preventDefault();
    const dx = wheelPx(e, e.deltaX);
    if (e.shiftKey || Math.abs(dx) > Math.abs(e.deltaY)) {
      const px = e.shiftKey && dx === 0 ? wheelPx(e, e.deltaY) : dx;
      dispatch({ type: 'session/pan', deltaMs: (px / widthPx) * (viewport.toMs - viewport.fromMs) });
      return;
    }
    dispatch({
      type: 'session/zoom',
      factor: wheelZoomFactor(e),
      anchorMs: pxToMs(localPoint(ref.current, e).x, viewport, widthPx),
    });
  });
}

/** The viewport after dragging a plot `widthPx` wide from `x0` to `x`, the drag having started on `start`. */
export function draggedViewport(start: Viewport, x0: number, x: number, widthPx: number): Viewport {
  const deltaMs = ((x - x0) / widthPx) * (start.toMs - start.fromMs);
  return { fromMs: start.fromMs - deltaMs, toMs: start.toMs - deltaMs };
}

/** Ends a drag's pointer capture, if the element still holds it. */
export function releasePointer(e: { currentTarget: Element; pointerId: number }): void {
  if (e.currentTarget.hasPointerCapture(e.pointerId)) e.currentTarget.releasePointerCapture(e.pointerId);
}
