// Writing what the UI asks for next to a session: an export (JSON, CSV, Perfetto) or a compacted copy.
// Both go to a temp file in the destination's directory that is renamed (or linked, when the caller did
// not allow overwriting: atomically refused if the name got taken meanwhile) into place once complete,
// so a failure or a crash never leaves a half-written file under the name the user chose.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { link, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { exportSession, type ExportFormat } from '../export.js';
import { TierscopeError } from '../errors.js';
import { compactSession, type Session } from '../session/index.js';
import { syncDir, tempPathFor } from '../session/compact.js';
import { fileError } from '../session/format.js';

export interface WriteTarget {
  /** Where to write (resolved against the process's working directory). */
  path: string;
  /** Replace a file already there. */
  overwrite: boolean;
  /** Paths that must not be written (the session itself, files being recorded), resolved. */
  protectedPaths: readonly string[];
}

export interface Written {
  path: string;
  bytes: number;
}

/** Does anything exist at `file`? */
export function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

function alreadyExists(file: string, cause?: unknown): TierscopeError {
  return new TierscopeError(
    'invalid-argument',
    `${file} already exists: choose another name, or allow overwriting it`,
    cause === undefined ? undefined : { cause },
  );
}

/** Resolves the destination and refuses a protected one, or an existing one without `overwrite`. */
async function checkTarget(target: WriteTarget, what: string): Promise<string> {
  const dest = path.resolve(target.path);
  if (target.protectedPaths.includes(dest)) {
    throw new TierscopeError(
      'invalid-argument',
      `cannot write the ${what} to ${dest}: it is the session itself (or a file being recorded); choose another name`,
    );
  }
  if (!target.overwrite && (await exists(dest))) throw alreadyExists(dest);
  return dest;
}

/** Writes the session (a path, or one already opened: not read again) as `format` into `target.path`. */
export async function exportSessionFile(
  source: string | Session,
  format: ExportFormat,
  target: WriteTarget,
): Promise<Written> {
  const dest = await checkTarget(target, `${format} export`);
  const tmp = tempPathFor(dest, 'exporting');
  try {
    // flush: fsync before close, so the rename below never publishes a file whose data is not on disk.
    const out = createWriteStream(tmp, { flags: 'wx', mode: 0o644, flush: true });
    // Rejects when the file cannot be created (missing folder, permission): nothing was written then.
    await once(out, 'open');
    const closed = new Promise<void>((resolve, reject) => {
      out.once('close', resolve);
      out.once('error', reject);
    });
    closed.catch(() => undefined); // awaited below; a write error also rejects the export itself
    try {
      await exportSession(source, format, out);
      out.end();
    } catch (err) {
      out.destroy();
      await closed.catch(() => undefined);
      throw err;
    }
    await closed;
    await place(tmp, dest, target.overwrite);
    return { path: dest, bytes: (await stat(dest)).size };
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    if (err instanceof TierscopeError) throw err;
    throw fileError(err, dest, 'write the export to');
  }
}

/** Moves a complete temp file to its name: rename over, or link (fails if the name exists) when not overwriting. */
async function place(tmp: string, dest: string, overwrite: boolean): Promise<void> {
  if (overwrite) {
    await rename(tmp, dest);
  } else {
    try {
      await link(tmp, dest);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw alreadyExists(dest, err);
      throw err;
    }
    await unlink(tmp);
  }
  await syncDir(path.dirname(dest));
}

/**
 * Saves a copy of the session at `sessionPath` to `target.path`, compacted (the form a finished
 * recording is kept in, and the current format: an older session is upgraded on the way). A session
 * still being recorded is copied as far as it has been written (without an end record).
 */
export async function saveSessionCopy(sessionPath: string, target: WriteTarget): Promise<Written> {
  const dest = await checkTarget(target, 'copy');
  try {
    const result = await compactSession(sessionPath, dest, { force: target.overwrite });
    return { path: dest, bytes: result.bytes };
  } catch (err) {
    const cause = err instanceof Error ? (err.cause as NodeJS.ErrnoException | undefined) : undefined;
    if (cause?.code === 'EEXIST') throw alreadyExists(dest, err);
    throw err;
  }
}
