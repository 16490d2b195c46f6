import { useMemo, type ReactNode } from 'react';
import type { MisplacedVma } from '../logic/misplacement.js';
import { formatBytes } from '../logic/format.js';
import { selectMisplacement } from '../state/sessionSelectors.js';
import { ShareBar } from './cells.js';
import { useAppSelector, useDispatch } from './hooks.js';
import { addressColumn, bytesColumn, pathColumn } from './vmaColumns.js';
import { VirtualTable, type Column } from './VirtualTable.js';

const rowKey = (r: MisplacedVma): string => String(r.id);
const GAIN_COLORS = ['var(--hot)', 'var(--cold)'];

/**
 * Per VMA, hot bytes on the slow tier and cold bytes on the fast tier, largest possible gain first; a click
 * selects the VMA (its track appears, the heatmap zooms to it, the migration panel gets it).
 */
export function MisplacementTable(): ReactNode {
  const dispatch = useDispatch();
  const summary = useAppSelector(selectMisplacement);
  const selectedIds = useAppSelector((s) => s.session.selectedVmaIds);
  const picked = useMemo(() => new Set(selectedIds), [selectedIds]);

  const columns = useMemo(
    (): Column<MisplacedVma, never>[] => [
      addressColumn(),
      bytesColumn({
        id: 'gain',
        header: 'Gain',
        title: 'Bytes a migration would put on the right tier: hot on slow + cold on fast',
        width: '84px',
        bytes: (r) => r.gainBytes,
      }),
      bytesColumn({
        id: 'hotOnSlow',
        header: 'Hot on slow',
        title: 'Hot bytes on slow-tier nodes (promote them)',
        width: '92px',
        bytes: (r) => r.hotOnSlowBytes,
        zeroFaint: true,
      }),
      bytesColumn({
        id: 'coldOnFast',
        header: 'Cold on fast',
        title: 'Cold bytes on fast-tier nodes (demote them)',
        width: '92px',
        bytes: (r) => r.coldOnFastBytes,
        zeroFaint: true,
      }),
      {
        id: 'split',
        header: 'Split',
        width: '70px',
        render: (r) => (
          <ShareBar
            values={[r.hotOnSlowBytes, r.coldOnFastBytes]}
            colors={GAIN_COLORS}
            title={`hot on slow ${formatBytes(r.hotOnSlowBytes)} · cold on fast ${formatBytes(r.coldOnFastBytes)}`}
          />
        ),
      },
      bytesColumn({ id: 'rss', header: 'RSS', width: '84px', bytes: (r) => r.rssBytes }),
      pathColumn({ width: 'minmax(160px, 1fr)', placeholder: (r) => r.kind }),
    ],
    [],
  );

  if (!summary) return null;
  const { tiers, rows } = summary;
  let empty: ReactNode;
  if (!tiers) {
    empty = (
      <>
        <strong>Nothing can be misplaced:</strong> {summary.note}.
      </>
    );
  } else {
    empty = `Nothing misplaced: no hot bytes on nodes ${tiers.slowNodes.join(', ')} (slow tier) and no cold bytes on nodes ${tiers.fastNodes.join(', ')} (fast tier) at the report window.`;
  }

  return (
    <section className="panel session-table" data-testid="misplacement" aria-label="Misplacement">
      <h3>
        Misplacement
        <span className="aside muted">
          {tiers
            ? `fast N${tiers.fastNodes.join(',')} · slow N${tiers.slowNodes.join(',')} · hot on slow ${formatBytes(summary.hotOnSlowBytes)} · cold on fast ${formatBytes(summary.coldOnFastBytes)}`
            : 'single memory tier'}
          {!summary.windowComplete ? ' · provisional: no complete hotness window' : ''}
        </span>
      </h3>
      <VirtualTable
        label="Misplaced VMAs"
        rows={rows}
        columns={columns}
        rowKey={rowKey}
        selectedKey={selectedIds.length > 0 ? String(selectedIds[selectedIds.length - 1]) : null}
        rowClass={(r) => (picked.has(r.id) ? 'picked' : undefined)}
        onSelect={(r, how) => {
          dispatch({ type: 'session/select-vmas', ids: [r.id], mode: how?.toggle ? 'toggle' : 'replace' });
        }}
        empty={empty}
      />
    </section>
  );
}
