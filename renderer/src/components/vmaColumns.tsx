import type { ReactNode } from 'react';
import type { VmaKind } from '../../../electron/contract/index.js';
import { kindColor } from '../logic/palette.js';
import { Address, Bytes } from './cells.js';
import type { Column } from './VirtualTable.js';

/** The columns the VMA tables (live VMAs, session VMAs, misplacement) share, as small factories. */

function sortable<K extends string>(sortKey: K | undefined): { sortKey?: K } {
  return sortKey === undefined ? {} : { sortKey };
}

/** `start – end`, both as aligned addresses. */
export function addressColumn<R extends { start: string; end: string }, K extends string>(
  sortKey?: K,
): Column<R, K> {
  return {
    id: 'address',
    header: 'Start – end',
    width: '206px',
    ...sortable(sortKey),
    render: (r) => (
      <span className="mono">
        <Address hex={r.start} />
        <span className="faint">–</span>
        <Address hex={r.end} />
      </span>
    ),
  };
}

export interface BytesColumnSpec<R, K extends string> {
  id: string;
  header: ReactNode;
  title?: string;
  width: string;
  sortKey?: K;
  bytes: (row: R) => number;
  /** Mark cells holding 0 (drawn faint). */
  zeroFaint?: boolean;
}

/** A right-aligned byte amount per row. */
export function bytesColumn<R, K extends string>(spec: BytesColumnSpec<R, K>): Column<R, K> {
  const { bytes, zeroFaint, title, sortKey, ...rest } = spec;
  return {
    ...rest,
    ...(title === undefined ? {} : { title }),
    align: 'right',
    ...sortable(sortKey),
    render: (r) => <Bytes value={bytes(r)} />,
    ...(zeroFaint ? { cellClass: (r: R) => (bytes(r) === 0 ? 'zero' : undefined) } : {}),
  };
}

export interface NodeColumnSpec<R, K extends string> {
  node: number;
  /** The node's swatch colour in the header. */
  color: string | undefined;
  /** After `N<node>` in the header (e.g. a no-cpu badge). */
  badge?: ReactNode;
  title: string;
  width: string;
  sortKey: K;
  /** Zero means the cell is drawn faint. */
  amount: (row: R) => number;
  /** The cell; bytes of `amount` unless given. */
  render?: (row: R) => ReactNode;
}

/** One node's resident amount (sort key `node:<n>` by convention), with the node's swatch in the header. */
export function nodeColumn<R, K extends string>(spec: NodeColumnSpec<R, K>): Column<R, K> {
  const { node: n, color, badge, amount } = spec;
  return {
    id: `n${n}`,
    header: (
      <span className="node-head">
        <span className="swatch" style={{ background: color }} />N{n}
        {badge}
      </span>
    ),
    title: spec.title,
    width: spec.width,
    align: 'right',
    sortKey: spec.sortKey,
    render: spec.render ?? ((r) => <Bytes value={amount(r)} />),
    cellClass: (r) => (amount(r) === 0 ? 'zero' : undefined),
  };
}

/** The VMA kind with its colour swatch. */
export function kindColumn<R extends { kind: VmaKind }, K extends string>(sortKey?: K): Column<R, K> {
  return {
    id: 'kind',
    header: 'Kind',
    width: '92px',
    ...sortable(sortKey),
    render: (r) => (
      <span>
        <span className="swatch" style={{ background: kindColor(r.kind) }} /> {r.kind}
      </span>
    ),
  };
}

/** The mapped path, or `[placeholder]` (faint) for anonymous mappings. */
export function pathColumn<R extends { path: string }, K extends string>(spec: {
  width: string;
  sortKey?: K;
  placeholder: (row: R) => string;
}): Column<R, K> {
  return {
    id: 'path',
    header: 'Mapping',
    width: spec.width,
    ...sortable(spec.sortKey),
    render: (r) => (
      <span className="mono" title={r.path}>
        {r.path || <span className="faint">[{spec.placeholder(r)}]</span>}
      </span>
    ),
  };
}
