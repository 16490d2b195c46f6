import {
  memo,
  useCallback,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type ReactNode,
} from 'react';
import type { SortSpec } from '../logic/sort.js';
import { scrollToRow, visibleWindow } from '../logic/virtual.js';

export interface Column<R, K extends string> {
  id: string;
  header: ReactNode;
  /** Tooltip for the header: what the column means and its unit. */
  title?: string;
  /** A CSS grid track: '70px', 'minmax(180px, 1fr)'. */
  width: string;
  align?: 'left' | 'right';
  sortKey?: K;
  render: (row: R) => ReactNode;
  cellClass?: (row: R) => string | undefined;
}

export interface VirtualTableProps<R, K extends string> {
  /** Accessible name of the grid. */
  label: string;
  rows: readonly R[];
  columns: readonly Column<R, K>[];
  rowKey: (row: R) => string;
  rowHeightPx?: number;
  sort?: SortSpec<K>;
  onSort?: (key: K) => void;
  selectedKey?: string | null;
  /** `toggle`: Ctrl/Cmd was held (multi-selection tables add or remove the row instead of replacing). */
  onSelect?: (row: R, how?: { toggle: boolean }) => void;
  /** Enter or double click. */
  onActivate?: (row: R) => void;
  rowClass?: (row: R) => string | undefined;
  /** Called with the rows currently on screen (plus overscan), e.g. to fetch lazy data for them. */
  onVisibleRows?: (rows: readonly R[]) => void;
  empty?: ReactNode;
}

const DEFAULT_ROW_PX = 22;

/** The smallest width a grid track can take: '70px' → 70, 'minmax(180px, 1fr)' → 180. */
function minTrackPx(track: string): number {
  const match = /(\d+(?:\.\d+)?)px/.exec(track);
  return match ? Number(match[1]) : 0;
}

/**
 * A fixed-row-height virtualized grid: only the rows in view (plus a few) are in the DOM, so 100 000 VMAs
 * scroll as lightly as 100. The header sits inside the scroller (sticky) so horizontal scrolling keeps
 * header and cells aligned. Keyboard: ↑/↓/PgUp/PgDn/Home/End move the selection, Enter activates.
 */
function VirtualTableImpl<R, K extends string>(props: VirtualTableProps<R, K>): ReactNode {
  const { rows, columns, rowKey, selectedKey, onSelect, onActivate, onVisibleRows } = props;
  const rowPx = props.rowHeightPx ?? DEFAULT_ROW_PX;
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewportPx, setViewportPx] = useState(600);
  const headPx = 24;

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const update = (): void => {
      setViewportPx(Math.max(0, el.clientHeight - headPx));
    };
    update();
    const observer = new ResizeObserver(update);
    observer.observe(el);
    return () => {
      observer.disconnect();
    };
  }, []);

  const win = visibleWindow(scrollTop, viewportPx, rowPx, rows.length);
  const template = useMemo(() => columns.map((c) => c.width).join(' '), [columns]);
  const minWidthPx = useMemo(() => columns.reduce((sum, c) => sum + minTrackPx(c.width), 0), [columns]);
  const slice = useMemo(() => rows.slice(win.first, win.end), [rows, win.first, win.end]);

  useEffect(() => {
    onVisibleRows?.(slice);
  }, [slice, onVisibleRows]);

  const selectedIndex = useMemo(
    () => (selectedKey == null ? -1 : rows.findIndex((r) => rowKey(r) === selectedKey)),
    [rows, rowKey, selectedKey],
  );

  const moveTo = useCallback(
    (index: number) => {
      const row = rows[index];
      const el = scroller.current;
      if (row === undefined || !el) return;
      onSelect?.(row);
      el.scrollTop = scrollToRow(index, el.scrollTop, viewportPx, rowPx);
    },
    [rows, onSelect, viewportPx, rowPx],
  );

  const onKeyDown = (e: React.KeyboardEvent): void => {
    const page = Math.max(1, Math.floor(viewportPx / rowPx) - 1);
    const last = rows.length - 1;
    const current = selectedIndex;
    let next: number | null = null;
    switch (e.key) {
      case 'ArrowDown':
        next = Math.min(last, current + 1);
        break;
      case 'ArrowUp':
        next = Math.max(0, current - 1);
        break;
      case 'PageDown':
        next = Math.min(last, current + page);
        break;
      case 'PageUp':
        next = Math.max(0, current - page);
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = last;
        break;
      case 'Enter': {
        const row = rows[current];
        if (row !== undefined) onActivate?.(row);
        e.preventDefault();
        return;
      }
      default:
        return;
    }
    e.preventDefault();
    if (last >= 0) moveTo(next);
  };

  const sort = props.sort;
  return (
    <div className="grid" role="grid" aria-label={props.label} aria-rowcount={rows.length + 1}>
      <div
        className="grid-scroll"
        ref={scroller}
        tabIndex={0}
        onScroll={(e) => {
          setScrollTop(e.currentTarget.scrollTop);
        }}
        onKeyDown={onKeyDown}
      >
        <div
          className="grid-row grid-head"
          role="row"
          aria-rowindex={1}
          style={{ gridTemplateColumns: template, minWidth: minWidthPx }}
        >
          {columns.map((c) => {
            const sortable = c.sortKey !== undefined && props.onSort !== undefined;
            const active = sortable && sort !== undefined && sort.key === c.sortKey;
            const ariaSort = active ? (sort.direction === 'asc' ? 'ascending' : 'descending') : undefined;
            return (
              <div
                key={c.id}
                role="columnheader"
                aria-sort={ariaSort}
                title={c.title}
                className={`cell${c.align === 'right' ? ' right' : ''}${sortable ? ' sortable' : ''}`}
                onClick={
                  sortable
                    ? () => {
                        if (c.sortKey !== undefined) props.onSort?.(c.sortKey);
                      }
                    : undefined
                }
              >
                {c.header}
                {active ? (sort.direction === 'asc' ? ' ▲' : ' ▼') : null}
              </div>
            );
          })}
        </div>
        {rows.length === 0 ? (
          <div className="grid-empty">{props.empty ?? 'Nothing to show.'}</div>
        ) : (
          <div className="grid-body" style={{ height: win.totalPx, minWidth: minWidthPx }}>
            {slice.map((row, i) => {
              const index = win.first + i;
              const key = rowKey(row);
              return (
                <div
                  key={key}
                  role="row"
                  aria-rowindex={index + 2}
                  aria-selected={key === selectedKey}
                  data-key={key}
                  className={`grid-row ${props.rowClass?.(row) ?? ''}`}
                  style={{ top: index * rowPx, height: rowPx, gridTemplateColumns: template }}
                  onClick={(e) => onSelect?.(row, { toggle: e.ctrlKey || e.metaKey })}
                  onDoubleClick={() => onActivate?.(row)}
                >
                  {columns.map((c) => (
                    <div
                      key={c.id}
                      role="gridcell"
                      className={`cell${c.align === 'right' ? ' right' : ''} ${c.cellClass?.(row) ?? ''}`}
                    >
                      {c.render(row)}
                    </div>
                  ))}
                </div>
              );
            })}
          </div>
        )}
      </div>
    </div>
  );
}

export const VirtualTable = memo(VirtualTableImpl) as typeof VirtualTableImpl;
