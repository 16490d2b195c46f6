/** The slice of a fixed-row-height list that a viewport shows, plus `overscan` rows each side. */
export interface VisibleWindow {
  /** First row index to render (inclusive). */
  first: number;
  /** Last row index to render (exclusive). */
  end: number;
  /** Pixel offset of row `first` from the top of the list. */
  offsetPx: number;
  /** Height of the whole list, for the scroll spacer. */
  totalPx: number;
}

export function visibleWindow(
  scrollTopPx: number,
  viewportPx: number,
  rowPx: number,
  rowCount: number,
  overscan = 8,
): VisibleWindow {
  const totalPx = rowCount * rowPx;
  if (rowCount === 0 || rowPx <= 0) return { first: 0, end: 0, offsetPx: 0, totalPx: 0 };
  // A scroll position past the end (the list shrank under a filter) clamps to the last page.
  const top = Math.max(0, Math.min(scrollTopPx, Math.max(0, totalPx - viewportPx)));
  const firstVisible = Math.floor(top / rowPx);
  const lastVisible = Math.ceil((top + Math.max(0, viewportPx)) / rowPx);
  const first = Math.max(0, firstVisible - overscan);
  const end = Math.min(rowCount, lastVisible + overscan);
  return { first, end, offsetPx: first * rowPx, totalPx };
}

/** The scrollTop that brings row `index` into view with the least movement (unchanged if visible). */
export function scrollToRow(index: number, scrollTopPx: number, viewportPx: number, rowPx: number): number {
  const top = index * rowPx;
  if (top < scrollTopPx) return top;
  if (top + rowPx > scrollTopPx + viewportPx) return top + rowPx - viewportPx;
  return scrollTopPx;
}
