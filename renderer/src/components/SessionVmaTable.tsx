import { useMemo, type ReactNode } from 'react';
import type { SessionVmaSummary } from '../../../electron/contract/index.js';
import { formatBytes, formatCount } from '../logic/format.js';
import { naturalSessionVmaDirection, vmaSizeBytes, type SessionVmaSortKey } from '../logic/sessionVmas.js';
import { toggleSort } from '../logic/sort.js';
import { selectSessionVmas, selectSessionView, selectVisibleSessionVmas } from '../state/sessionSelectors.js';
import { ShareBar } from './cells.js';
import { useAppSelector, useDispatch } from './hooks.js';
import { addressColumn, bytesColumn, kindColumn, nodeColumn, pathColumn } from './vmaColumns.js';
import { VirtualTable, type Column } from './VirtualTable.js';

const rowKey = (r: SessionVmaSummary): string => String(r.id);
const CLASS_COLORS = ['var(--hot)', 'var(--warm)', 'var(--cold)'];

/**
 * The session's VMAs with their classes at the report window. Click selects (Ctrl/Cmd-click adds): the
 * VMA gets a timeline track and the heatmap zooms to it.
 */
export function SessionVmaTable(): ReactNode {
  const dispatch = useDispatch();
  const view = useAppSelector(selectSessionView);
  const all = useAppSelector(selectSessionVmas);
  const rows = useAppSelector(selectVisibleSessionVmas);
  const sort = useAppSelector((s) => s.session.vmaSort);
  const filter = useAppSelector((s) => s.session.vmaFilter);
  const selectedIds = useAppSelector((s) => s.session.selectedVmaIds);
  const picked = useMemo(() => new Set(selectedIds), [selectedIds]);
  const nodes = useMemo(() => view?.meta.nodes ?? [], [view?.meta.nodes]);

  const columns = useMemo((): Column<SessionVmaSummary, SessionVmaSortKey>[] => {
    const nodeColumns = nodes.map((n, i) =>
      nodeColumn<SessionVmaSummary, SessionVmaSortKey>({
        node: n,
        color: `var(--node-${i % 8})`,
        title: `Resident on node ${n} at the report window`,
        width: '84px',
        sortKey: `node:${n}`,
        amount: (r) => r.bytesByNode[String(n)] ?? 0,
      }),
    );
    return [
      addressColumn('address'),
      bytesColumn({ id: 'size', header: 'Size', width: '80px', sortKey: 'size', bytes: vmaSizeBytes }),
      bytesColumn({
        id: 'rss',
        header: 'RSS',
        title: 'Resident at the report window',
        width: '80px',
        sortKey: 'rss',
        bytes: (r) => r.rssBytes,
        zeroFaint: true,
      }),
      bytesColumn({
        id: 'maxRss',
        header: 'Max RSS',
        title: 'Largest resident size over the session',
        width: '80px',
        sortKey: 'maxRss',
        bytes: (r) => r.maxRssBytes,
      }),
      bytesColumn({
        id: 'hot',
        header: 'Hot',
        width: '80px',
        sortKey: 'hot',
        bytes: (r) => r.hotBytes,
        zeroFaint: true,
      }),
      bytesColumn({
        id: 'warm',
        header: 'Warm',
        width: '80px',
        sortKey: 'warm',
        bytes: (r) => r.warmBytes,
        zeroFaint: true,
      }),
      bytesColumn({
        id: 'cold',
        header: 'Cold',
        width: '80px',
        sortKey: 'cold',
        bytes: (r) => r.coldBytes,
        zeroFaint: true,
      }),
      {
        id: 'classes',
        header: 'H/W/C',
        title: 'Split of the resident bytes into hot, warm and cold',
        width: '64px',
        render: (r) => (
          <ShareBar
            values={[r.hotBytes, r.warmBytes, r.coldBytes]}
            colors={CLASS_COLORS}
            title={`hot ${formatBytes(r.hotBytes)} · warm ${formatBytes(r.warmBytes)} · cold ${formatBytes(r.coldBytes)}`}
          />
        ),
      },
      ...nodeColumns,
      kindColumn('kind'),
      pathColumn({ width: 'minmax(200px, 1fr)', sortKey: 'path', placeholder: () => 'anon' }),
    ];
  }, [nodes]);

  return (
    <section className="panel session-table" aria-label="Session VMAs">
      <h3>
        VMAs
        <span className="aside muted">
          {formatCount(rows.length)} of {formatCount(all.length)} · click selects, Ctrl+click adds
        </span>
      </h3>
      <div className="table-tools">
        <input
          className="input"
          type="search"
          aria-label="Filter session VMAs"
          placeholder="Filter: path, kind, 0x address"
          value={filter}
          onChange={(e) => {
            dispatch({ type: 'session/vma-filter', text: e.target.value });
          }}
        />
      </div>
      <VirtualTable
        label="Session VMAs"
        rows={rows}
        columns={columns}
        rowKey={rowKey}
        sort={sort}
        onSort={(key) => {
          dispatch({
            type: 'session/vma-sort',
            sort: toggleSort(sort, key, naturalSessionVmaDirection(key)),
          });
        }}
        selectedKey={selectedIds.length > 0 ? String(selectedIds[selectedIds.length - 1]) : null}
        rowClass={(r) => (picked.has(r.id) ? 'picked' : undefined)}
        onSelect={(r, how) => {
          dispatch({ type: 'session/select-vmas', ids: [r.id], mode: how?.toggle ? 'toggle' : 'replace' });
        }}
        empty={all.length === 0 ? 'The session has no VMAs.' : 'No VMA matches the filter.'}
      />
    </section>
  );
}
