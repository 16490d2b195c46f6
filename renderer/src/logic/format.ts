// Number and time formatting for dense tables: binary units (what numastat and the kernel use), fixed
// precision so right-aligned columns line up, en-US digit grouping for page counts.

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** "0 B", "4.0 KiB", "64.0 MiB", "1.25 GiB": three significant digits from KiB up. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '—';
  const sign = bytes < 0 ? '-' : '';
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${sign}${value} B`;
  // 1023.9 MiB would round to "1024 MiB": show it in the next unit instead.
  if (value >= 999.5 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${sign}${value.toFixed(digits)} ${BYTE_UNITS[unit] ?? ''}`;
}

const grouping = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Page counts: exact, grouped ("16,384"). */
export function formatCount(n: number): string {
  return Number.isFinite(n) ? grouping.format(n) : '—';
}

/** A share in [0, 1] as "12.5 %"; "—" when the whole is empty. */
export function formatPercent(fraction: number | null): string {
  if (fraction === null || !Number.isFinite(fraction)) return '—';
  const pct = fraction * 100;
  return `${pct >= 10 || pct === 0 ? pct.toFixed(0) : pct.toFixed(1)} %`;
}

/** Milliseconds as "850 ms", "2.5 s", "3 min 04 s", "2 h 05 min", "3 d 4 h". */
export function formatDurationMs(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const totalS = Math.floor(s);
  const min = Math.floor(totalS / 60);
  if (min < 60) return `${min} min ${String(totalS % 60).padStart(2, '0')} s`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ${String(min % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** "07": two digits, for clock and date fields. */
export function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * A process start time, relative to `now`: "14:03:22" today, "Mar 04 14:03" this year, else
 * "2023-03-04". Local time: it is compared with the user's wall clock.
 */
export function formatStartTime(iso: string, now: Date): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return '—';
  const hms = `${pad2(t.getHours())}:${pad2(t.getMinutes())}:${pad2(t.getSeconds())}`;
  if (t.toDateString() === now.toDateString()) return hms;
  if (t.getFullYear() === now.getFullYear()) {
    const month = t.toLocaleString('en-US', { month: 'short' });
    return `${month} ${pad2(t.getDate())} ${pad2(t.getHours())}:${pad2(t.getMinutes())}`;
  }
  return `${t.getFullYear()}-${pad2(t.getMonth() + 1)}-${pad2(t.getDate())}`;
}

/** Wall clock "14:03:22" for "as of" labels. */
export function formatClock(iso: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return '—';
  return `${pad2(t.getHours())}:${pad2(t.getMinutes())}:${pad2(t.getSeconds())}`;
}

/** Addresses padded to 12 hex digits (user space on x86-64 fits in 47 bits), for aligned columns. */
export function formatAddress(hex: string): string {
  return hex.padStart(12, '0');
}

/** A start or end address zero-padded to 16 hex digits: sorts and compares as text in address order. */
export function addressSortKey(hex: string): string {
  return hex.padStart(16, '0');
}
