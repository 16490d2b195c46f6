import type { Report } from '../../contract/index.js';
import { buildReport } from '../../engine/report.js';
import { openSession } from '../../engine/session/index.js';
import { commonOptions, printJson, type Command } from '../io.js';
import { formatMiB, renderTable } from '../table.js';

export const reportCommand: Command = {
  usage:
    'usage: tierscope report FILE [--json] [--top N] [--salvage]\n' +
    '  --top N     VMAs to list (default 20; --json always has all)\n' +
    '  --salvage   read a file damaged in the middle up to the damage\n',
  options: { ...commonOptions, top: { type: 'string' }, salvage: { type: 'boolean' } },
  positionals: { min: 1, max: 1, names: 'FILE' },
  async run(values, io, positionals) {
    const file = positionals[0] ?? '';
    const session = await openSession(file, values['salvage'] === true ? { salvage: true } : {});
    const report = buildReport(session);
    if (values['json'] === true) {
      printJson(io, report);
      return;
    }
    const top = typeof values['top'] === 'string' ? Number(values['top']) : 20;
    io.out(renderReport(report, Number.isInteger(top) && top > 0 ? top : 20));
  },
};

export function renderReport(r: Report, top: number): string {
  const lines: string[] = [];
  const n = r.window.scansPerWindow;
  lines.push(
    `process ${r.pid} (${r.comm}): ${r.intervals} intervals, ${(r.durationMs / 1000).toFixed(1)} s, source ${r.source}`,
  );
  lines.push(`  ${r.sourceReason}`);
  lines.push(`  limits: ${r.sourceLimits}`);
  lines.push(
    `  ended: ${r.end.reason}${r.end.detail ? ` (${r.end.detail})` : ''}${r.end.recorded ? '' : ' [inferred: no end record]'}`,
  );
  if (r.recovered) lines.push(`  recovered: ${r.recovered}`);
  lines.push(
    `  classes at interval ${r.window.intervalIndex}: hot = accessed in all ${n} scans, cold = in none` +
      (r.window.complete ? '' : ' (PROVISIONAL: no window of N scans completed)'),
  );
  lines.push('');
  const nodes = Object.keys(r.totals.hotBytesByNode);
  const rows = r.vmas
    .slice(0, top)
    .map((v) => [
      `${v.start}-${v.end}`,
      v.kind,
      formatMiB(v.hotBytes),
      formatMiB(v.warmBytes),
      formatMiB(v.coldBytes),
      formatMiB(v.rssBytes),
      ...nodes.map((k) => formatMiB(v.bytesByNode[k] ?? 0)),
      v.path,
    ]);
  rows.push([
    'total',
    '',
    formatMiB(r.totals.hotBytes),
    formatMiB(r.totals.warmBytes),
    formatMiB(r.totals.coldBytes),
    formatMiB(r.totals.rssBytes),
    ...nodes.map((k) => formatMiB(r.vmas.reduce((a, v) => a + (v.bytesByNode[k] ?? 0), 0))),
    '',
  ]);
  lines.push(
    renderTable(
      [
        { header: 'VMA', align: 'left' },
        { header: 'kind', align: 'left' },
        { header: 'hot MiB', align: 'right' },
        { header: 'warm', align: 'right' },
        { header: 'cold', align: 'right' },
        { header: 'RSS', align: 'right' },
        ...nodes.map((k) => ({ header: `node${k}`, align: 'right' as const })),
        { header: 'path', align: 'left' },
      ],
      rows,
    ).trimEnd(),
  );
  if (r.vmas.length > top) lines.push(`(${r.vmas.length - top} more VMAs; --top N or --json)`);
  lines.push('');
  lines.push(
    `hot by node (MiB):  ${nodes.map((k) => `node${k} ${formatMiB(r.totals.hotBytesByNode[k] ?? 0)}`).join('  ')}`,
  );
  lines.push(
    `cold by node (MiB): ${nodes.map((k) => `node${k} ${formatMiB(r.totals.coldBytesByNode[k] ?? 0)}`).join('  ')}`,
  );
  if (r.misplacement) {
    lines.push(
      `misplaced: ${formatMiB(r.misplacement.hotOnSlowBytes)} MiB hot on the slow tier, ` +
        `${formatMiB(r.misplacement.coldOnFastBytes)} MiB cold on the fast tier (${r.misplacementNote})`,
    );
  } else {
    lines.push(`misplaced: n/a (${r.misplacementNote})`);
  }
  lines.push(`hot ranges: ${r.hotRanges.length}, cold ranges: ${r.coldRanges.length} (--json lists them)`);
  return lines.join('\n') + '\n';
}
