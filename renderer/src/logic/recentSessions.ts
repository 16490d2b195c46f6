// The recent-sessions list: the last paths opened (on the agent's machine), newest first, kept in
// localStorage. Whatever the storage holds is only trusted after parsing: another version, a user's edit
// or a full quota must never keep the UI from starting.

export const RECENT_SESSIONS_KEY = 'tierscope.recentSessions';
export const MAX_RECENT_SESSIONS = 10;
/** Longer than any sane path (PATH_MAX is 4096): not ours, dropped. */
const MAX_PATH_CHARS = 4096;

/** The part of `Storage` used (tests hand in a Map-backed fake). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

function usablePath(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.trim() !== '' &&
    value.length <= MAX_PATH_CHARS &&
    !value.includes('\0')
  );
}

/** The stored list, or [] for anything that is not a JSON array of paths; bad entries are skipped. */
export function parseRecentSessions(raw: string | null): string[] {
  if (raw === null) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const out: string[] = [];
  for (const entry of parsed as unknown[]) {
    if (usablePath(entry) && !out.includes(entry)) out.push(entry);
    if (out.length === MAX_RECENT_SESSIONS) break;
  }
  return out;
}

/** `path` first, without an earlier copy of itself, at most MAX_RECENT_SESSIONS entries. */
export function addRecentSession(list: readonly string[], path: string): string[] {
  if (!usablePath(path)) return [...list];
  return [path, ...list.filter((p) => p !== path)].slice(0, MAX_RECENT_SESSIONS);
}

export function removeRecentSession(list: readonly string[], path: string): string[] {
  return list.filter((p) => p !== path);
}

export function loadRecentSessions(storage: KeyValueStorage | null): string[] {
  try {
    return parseRecentSessions(storage?.getItem(RECENT_SESSIONS_KEY) ?? null);
  } catch {
    // Storage can be unavailable (private mode, file://, a sandbox): start with an empty list.
    return [];
  }
}

export function saveRecentSessions(storage: KeyValueStorage | null, list: readonly string[]): void {
  try {
    storage?.setItem(RECENT_SESSIONS_KEY, JSON.stringify(list.slice(0, MAX_RECENT_SESSIONS)));
  } catch {
    // Quota or no storage: the list lasts for this page only.
  }
}

/** "run.tierscope" and "/home/u/sessions" for a list row: the name first, where it lives second. */
export function splitSessionPath(path: string): { name: string; folder: string } {
  const trimmed = path.replace(/\/+$/, '');
  const slash = trimmed.lastIndexOf('/');
  if (slash < 0) return { name: trimmed, folder: '' };
  return { name: trimmed.slice(slash + 1), folder: slash === 0 ? '/' : trimmed.slice(0, slash) };
}
