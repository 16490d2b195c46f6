/**
 * Reading kernel pseudo-files that are not tied to one process (sysfs, /proc/sys, /proc/stat): every
 * failure becomes a TierscopeError naming the file, so callers never leak a bare ENOENT.
 */
import { readFile } from 'node:fs/promises';
import { TierscopeError } from '../errors.js';

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** True when `err` is a Node fs error with that errno code. */
export function isErrno(err: unknown, ...codes: string[]): boolean {
  const code = errnoOf(err);
  return code !== undefined && codes.includes(code);
}

/**
 * Reads a whole file as UTF-8. `missingHint` finishes the sentence "<file> does not exist: …" and should
 * say which kernel option or mount is missing.
 */
export async function readKernelFile(file: string, missingHint: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw kernelFileError(err, file, missingHint);
  }
}

/** Like readKernelFile, but a missing file is a normal answer (null): used for optional kernel features. */
export async function readOptionalKernelFile(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return null;
    throw kernelFileError(err, file, '');
  }
}

export function kernelFileError(err: unknown, file: string, missingHint: string): TierscopeError {
  if (isErrno(err, 'ENOENT', 'ENOTDIR')) {
    return new TierscopeError(
      'unsupported',
      `${file} does not exist${missingHint ? `: ${missingHint}` : ''}`,
      {
        cause: err,
      },
    );
  }
  if (isErrno(err, 'EACCES', 'EPERM')) {
    return new TierscopeError('permission', `no permission to read ${file}: run Tierscope as root`, {
      cause: err,
    });
  }
  return new TierscopeError('not-found', `cannot read ${file}: ${String(err)}`, { cause: err });
}

/** Quotes untrusted file content for an error message, cut short so a garbage file cannot flood it. */
export function quoteForMessage(text: string, maxChars = 60): string {
  const cut = text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
  return JSON.stringify(cut);
}
