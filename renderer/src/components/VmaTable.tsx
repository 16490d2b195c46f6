import { useMemo, type ReactNode } from 'react';
import { VmaKind } from '../../../electron/contract/index.js';
import { formatBytes, formatCount } from '../logic/format.js';
import { kindColor, nodeColor } from '../logic/palette.js';
import { toggleSort } from '../logic/sort.js';
import { naturalVmaDirection, type VmaRow, type VmaSortKey } from '../logic/vmas.js';
import {
  selectTargetCpuLessNodes,
  selectSnapshot,
  selectVmaRows,
  selectVisibleVmaRows,
} from '../state/selectors.js';
import { Bytes, ShareBar } from './cells.js';
import { useAppSelector, useDispatch } from './hooks.js';
import { addressColumn, bytesColumn, kindColumn, nodeColumn, pathColumn } from './vmaColumns.js';
import { VirtualTable, type Column } from './VirtualTable.js';

const KINDS = VmaKind.options;
const rowKey = (r: VmaRow): string => r.id;

export function VmaTable(): ReactNode {
  const dispatch = useDispatch();
  const snapshot = useAppSelector(selectSnapshot);
  const all = useAppSelector(selectVmaRows);
  const rows = useAppSelector(selectVisibleVmaRows);
  const query = useAppSelector((s) => s.vmaQuery);
  const theme = useAppSelector((s) => s.theme);
  const cpuLess = useAppSelector(selectTargetCpuLessNodes);
  const selectedId = useAppSelector((s) => s.target?.selectedVmaId ?? null);
  const nodes = useMemo(() => snapshot?.nodes ?? [], [snapshot?.nodes]);
  const pageSize = snapshot?.pageSizeBytes ?? 4096;
  const colors = useMemo(() => nodes.map((_, i) => nodeColor(theme, i)), [nodes, theme]);
  const presentKinds = useMemo(() => new Set(all.map((r) => r.kind)), [all]);

  const columns = useMemo((): Column<VmaRow, VmaSortKey>[] => {
    const unitPages = query.unit === 'pages';
    const nodeColumns = nodes.map((n, i) =>
      nodeColumn<VmaRow, VmaSortKey>({
        node: n,
        color: colors[i],
        badge: cpuLess.has(n) ? <span className="nocpu">no-cpu</span> : null,
        title: `Resident on node ${n} (numa_maps N${n}=, in ${unitPages ? `${pageSize / 1024} KiB base pages` : 'bytes'})`,
        width: unitPages ? '84px' : '90px',
        sortKey: `node:${n}`,
        amount: (r) => r.pages[i] ?? 0,
        render: (r) => {
          const pages = r.pages[i] ?? 0;
          return unitPages ? (
            <span className="num">{formatCount(pages)}</span>
          ) : (
            <Bytes value={pages * pageSize} />
          );
        },
      }),
    );
    return [
      addressColumn('address'),
      bytesColumn({
        id: 'size',
        header: 'Size',
        title: 'Virtual size of the mapping',
        width: '84px',
        sortKey: 'size',
        bytes: (r) => r.sizeBytes,
      }),
      bytesColumn({
        id: 'rss',
        header: 'RSS',
        title: 'Resident (smaps Rss)',
        width: '84px',
        sortKey: 'rss',
        bytes: (r) => r.rssBytes,
        zeroFaint: true,
      }),
      ...nodeColumns,
      {
        id: 'share',
        header: 'Nodes',
        title: 'Split of the resident pages across nodes',
        width: '80px',
        render: (r) => (
          <ShareBar
            values={r.pages}
            colors={colors}
            title={nodes.map((n, i) => `N${n} ${formatBytes((r.pages[i] ?? 0) * pageSize)}`).join(' · ')}
          />
        ),
      },
      kindColumn('kind'),
      {
        id: 'perms',
        header: 'Perms',
        width: '66px',
        sortKey: 'perms',
        render: (r) => <span className="mono">{r.perms}</span>,
      },
      {
        id: 'policy',
        header: 'Policy',
        title: 'NUMA memory policy from numa_maps (default, bind:N, interleave:…, prefer:N)',
        width: '124px',
        sortKey: 'policy',
        render: (r) =>
          r.policy === null ? <span className="faint">—</span> : <span className="mono">{r.policy}</span>,
      },
      bytesColumn({
        id: 'swap',
        header: 'Swap',
        width: '76px',
        sortKey: 'swap',
        bytes: (r) => r.swapBytes,
        zeroFaint: true,
      }),
      pathColumn({ width: 'minmax(220px, 1fr)', sortKey: 'path', placeholder: () => 'anon' }),
    ];
  }, [nodes, colors, cpuLess, pageSize, query.unit]);

  return (
    <>
      <div className="toolbar">
        <input
          className="input"
          type="search"
          aria-label="Filter VMAs"
          placeholder="Filter: path, kind, policy, 0x address"
          style={{ width: 280 }}
          value={query.text}
          onChange={(e) => {
            dispatch({ type: 'vmas/query', query: { text: e.target.value } });
          }}
        />
        <div role="group" aria-label="Kinds" style={{ display: 'flex', gap: 4, flexWrap: 'wrap' }}>
          {KINDS.filter((k) => presentKinds.has(k)).map((k) => {
            const on = query.kinds.includes(k);
            return (
              <button
                key={k}
                className="chip"
                aria-pressed={on}
                onClick={() => {
                  dispatch({
                    type: 'vmas/query',
                    query: { kinds: on ? query.kinds.filter((x) => x !== k) : [...query.kinds, k] },
                  });
                }}
              >
                <span className="swatch" style={{ background: kindColor(k) }} />
                {k}
              </button>
            );
          })}
        </div>
        <label className="check">
          <input
            type="checkbox"
            checked={query.residentOnly}
            onChange={(e) => {
              dispatch({ type: 'vmas/query', query: { residentOnly: e.target.checked } });
            }}
          />
          resident only
        </label>
        <div className="segmented" role="group" aria-label="Per-node unit">
          {(['bytes', 'pages'] as const).map((u) => (
            <button
              key={u}
              aria-pressed={query.unit === u}
              onClick={() => {
                dispatch({ type: 'vmas/query', query: { unit: u } });
              }}
            >
              {u}
            </button>
          ))}
        </div>
        <span className="grow" />
        <span className="muted" aria-live="polite">
          {formatCount(rows.length)} of {formatCount(all.length)} VMAs
        </span>
      </div>
      <VirtualTable
        label="VMAs"
        rows={rows}
        columns={columns}
        rowKey={rowKey}
        sort={query.sort}
        onSort={(key) => {
          dispatch({
            type: 'vmas/query',
            query: { sort: toggleSort(query.sort, key, naturalVmaDirection(key)) },
          });
        }}
        selectedKey={selectedId}
        onSelect={(r) => {
          dispatch({ type: 'target/select-vma', id: r.id });
        }}
        empty={
          all.length === 0
            ? 'The snapshot has no VMAs.'
            : 'No VMA matches the filter. Clear the search, the kind chips or “resident only”.'
        }
      />
    </>
  );
}
