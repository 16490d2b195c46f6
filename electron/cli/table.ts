/** Plain-text tables for the CLI: left-aligned text columns, right-aligned numeric columns. */
export interface Column {
  header: string;
  align: 'left' | 'right';
}

export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    columns
      .map((c, i) => {
        const cell = cells[i] ?? '';
        const w = widths[i] ?? 0;
        return c.align === 'right' ? cell.padStart(w) : cell.padEnd(w);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)].join('\n') + '\n';
}

const MiB = 1024 * 1024;

/** numastat prints MB with two decimals; so do we (MiB, the unit numastat actually uses). */
export function formatMiB(bytes: number): string {
  return (bytes / MiB).toFixed(2);
}
