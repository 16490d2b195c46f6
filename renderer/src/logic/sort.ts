export type SortDirection = 'asc' | 'desc';

export interface SortSpec<K extends string> {
  key: K;
  direction: SortDirection;
}

/** Clicking a header: same column flips the direction; a new column starts with its natural direction. */
export function toggleSort<K extends string>(
  current: SortSpec<K>,
  key: K,
  naturalDirection: SortDirection,
): SortSpec<K> {
  if (current.key === key) return { key, direction: current.direction === 'asc' ? 'desc' : 'asc' };
  return { key, direction: naturalDirection };
}

export function compareNumbers(a: number, b: number): number {
  return a - b;
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Stable sort by `compare` in `direction`, ties broken by `tieBreak` ascending, so equal rows keep a
 * reproducible order whatever the direction (rows do not jump around on live updates).
 */
export function sortBy<T>(
  rows: readonly T[],
  compare: (a: T, b: T) => number,
  direction: SortDirection,
  tieBreak: (a: T, b: T) => number,
): T[] {
  const sign = direction === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => sign * compare(a, b) || tieBreak(a, b));
}
