import { memo, type ReactNode } from 'react';
import type { ExperimentBand } from '../logic/experiments.js';
import { msToPx, timeTicks, type Viewport } from '../logic/timeScale.js';

/**
 * What sits over every time plot, in DOM rather than canvas so moving the cursor redraws no canvas: the
 * experiments' bands (label with the before/after tooltip) and the shared cursor line.
 */
export const TimeOverlay = memo(function TimeOverlay({
  viewport,
  widthPx,
  bands,
  cursorMs,
  showLabels,
}: {
  viewport: Viewport;
  widthPx: number;
  bands: readonly ExperimentBand[];
  cursorMs: number | null;
  showLabels: boolean;
}): ReactNode {
  const cursorX = cursorMs === null ? null : msToPx(cursorMs, viewport, widthPx);
  return (
    <div className="time-overlay" aria-hidden={!showLabels}>
      {bands.map((b) => {
        const x0 = Math.max(0, msToPx(b.fromMs, viewport, widthPx));
        const x1 = Math.min(widthPx, msToPx(b.toMs, viewport, widthPx));
        if (x1 < 0 || x0 > widthPx) return null;
        return (
          <div
            key={b.id}
            className={`exp-band ${b.status}`}
            data-experiment={b.id}
            style={{ left: x0, width: Math.max(2, x1 - x0) }}
          >
            {showLabels ? (
              <span className="exp-label" title={b.lines.join('\n')}>
                {b.label}
              </span>
            ) : null}
          </div>
        );
      })}
      {cursorX !== null && cursorX >= 0 && cursorX <= widthPx ? (
        <div className="cursor-line" style={{ left: Math.round(cursorX) }} />
      ) : null}
    </div>
  );
});

/** Tick labels of the shared time axis (offsets from the session's start). */
export const TimeAxis = memo(function TimeAxis({
  viewport,
  widthPx,
}: {
  viewport: Viewport;
  widthPx: number;
}): ReactNode {
  const ticks = timeTicks(viewport, widthPx);
  return (
    <div className="time-axis">
      {ticks.map((t) => {
        const x = msToPx(t.ms, viewport, widthPx);
        // A label that would run past the right edge is left out (its tick would be cut anyway).
        return x > widthPx - 36 ? null : (
          <span key={t.ms} className="tick" style={{ left: x }}>
            {t.label}
          </span>
        );
      })}
    </div>
  );
});
