import type { Snapshot, Vma } from '../../contract/index.js';
import { takeSnapshot } from '../../engine/snapshot.js';
import { commonOptions, intOption, printJson, type Command } from '../io.js';
import { formatMiB, renderTable, type Column } from '../table.js';

export const snapshotCommand: Command = {
  usage:
    'usage: tierscope snapshot --pid N [--all] [--json]\n' +
    '  --all   list every VMA, also those with nothing resident\n',
  options: { ...commonOptions, pid: { type: 'string' }, all: { type: 'boolean' } },
  async run(values, io) {
    const pid = intOption(values, 'pid', true);
    const snap = await takeSnapshot(pid);
    if (values['json'] === true) {
      printJson(io, snap);
      return;
    }
    io.out(renderSnapshot(snap, values['all'] === true));
  },
};

/** numastat -p style: one MiB column per node, one row per VMA, then a total row. */
export function renderSnapshot(snap: Snapshot, all: boolean): string {
  const nodeIds = snap.nodes.map(String);
  const columns: Column[] = [
    { header: 'start-end', align: 'left' },
    { header: 'perms', align: 'left' },
    { header: 'kind', align: 'left' },
    { header: 'policy', align: 'left' },
    ...nodeIds.map((n): Column => ({ header: `node${n}`, align: 'right' })),
    { header: 'RSS', align: 'right' },
    { header: 'path', align: 'left' },
  ];
  const nodeMiB = (pagesByNode: Record<string, number>): string[] =>
    nodeIds.map((n) => formatMiB((pagesByNode[n] ?? 0) * snap.pageSizeBytes));
  const shown = snap.vmas.filter((v) => all || v.rssBytes > 0 || hasNodePages(v));
  const rows = shown.map((v) => [
    `${v.start}-${v.end}`,
    v.perms,
    v.kind,
    v.policy ?? '-',
    ...nodeMiB(v.pagesByNode),
    formatMiB(v.rssBytes),
    v.path,
  ]);
  rows.push(['total', '', '', '', ...nodeMiB(snap.totals.pagesByNode), formatMiB(snap.totals.rssBytes), '']);
  const hidden = snap.vmas.length - shown.length;
  return (
    `process ${snap.pid} (${snap.comm}), started ${snap.startTime}; ${snap.vmas.length} VMAs; sizes in MiB\n\n` +
    renderTable(columns, rows) +
    (hidden > 0 ? `(${hidden} VMAs with nothing resident not shown; --all lists them)\n` : '')
  );
}

function hasNodePages(v: Vma): boolean {
  return Object.values(v.pagesByNode).some((p) => p > 0);
}
