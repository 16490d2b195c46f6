// Names and file types for Save As and Export, and how to recognise the agent's refusal to overwrite.
import type { ExportFormat } from '../../../electron/contract/index.js';
import type { FileFilter } from '../../../electron/contract/desktop.js';
import { pad2 } from './format.js';

export type SessionFilePurpose = 'save' | 'export';

export interface FileKind {
  label: string;
  /** Appended to the proposed name. */
  suffix: string;
  filter: FileFilter;
  description: string;
}

export const SESSION_FILE_KIND: FileKind = {
  label: 'Tierscope session',
  suffix: '.tierscope',
  filter: { name: 'Tierscope session', extensions: ['tierscope'] },
  description: 'A compacted copy of the session file, openable offline.',
};

export const EXPORT_KINDS: Readonly<Record<ExportFormat, FileKind>> = {
  json: {
    label: 'JSON',
    suffix: '.json',
    filter: { name: 'JSON', extensions: ['json'] },
    description: 'meta, VMAs and every interval record, as the contract defines them',
  },
  csv: {
    label: 'CSV',
    suffix: '.csv',
    filter: { name: 'CSV', extensions: ['csv'] },
    description: 'one row per VMA per interval, in bytes (pandas, polars, spreadsheets)',
  },
  perfetto: {
    label: 'Perfetto',
    suffix: '.perfetto.json',
    filter: { name: 'Perfetto / Chrome trace', extensions: ['json'] },
    description: 'a trace ui.perfetto.dev opens: counters per VMA and per node',
  },
};

export const EXPORT_FORMATS: readonly ExportFormat[] = ['json', 'csv', 'perfetto'];

/**
 * "memhog-4242-20250304-1000.csv": process, pid and the session's start (UTC, so the name is the same
 * whatever the viewer's time zone), then the file kind's suffix. Only characters safe in any file name.
 */
export function defaultSessionFileName(
  session: { comm: string; pid: number; startedAt: string },
  kind: FileKind,
): string {
  const comm =
    session.comm
      .replace(/[^A-Za-z0-9_.-]+/g, '_')
      .replace(/^[.]+/, '')
      .slice(0, 48) || 'session';
  const t = new Date(session.startedAt);
  const stamp = Number.isNaN(t.getTime())
    ? ''
    : `-${t.getUTCFullYear()}${pad2(t.getUTCMonth() + 1)}${pad2(t.getUTCDate())}-${pad2(t.getUTCHours())}${pad2(t.getUTCMinutes())}`;
  return `${comm}-${session.pid}${stamp}${kind.suffix}`;
}

/**
 * A path typed for the agent's machine next to the open session: same folder, the proposed name. Used as
 * the browser-mode default (no dialog there).
 */
export function siblingPath(sessionPath: string, name: string): string {
  const slash = sessionPath.lastIndexOf('/');
  return slash < 0 ? name : `${sessionPath.slice(0, slash + 1)}${name}`;
}

/**
 * exportSession and saveSessionAs refuse an existing file unless told to overwrite. The engine reports it
 * as invalid-argument "… already exists …" (session/format.ts fileError); an 'exists' code is accepted
 * too, should the agent get a dedicated one.
 */
export function isOverwriteRefusal(error: { code: string; message: string }): boolean {
  if (error.code === 'exists' || error.code === 'file-exists') return true;
  return error.code === 'invalid-argument' && /already exists/i.test(error.message);
}

/** A typed path the agent can be asked about: absolute (the agent's cwd is nobody's business), no NUL. */
export function checkTypedPath(text: string): string | null {
  const path = text.trim();
  if (path === '') return 'Enter a path on the agent’s machine.';
  if (!path.startsWith('/')) return 'Use an absolute path (starting with /) on the agent’s machine.';
  if (path.includes('\0')) return 'The path contains a NUL character.';
  if (path.endsWith('/')) return 'That is a folder: add a file name.';
  return null;
}
