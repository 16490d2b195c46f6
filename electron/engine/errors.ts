/**
 * Typed engine errors. Every failure a user can cause (dead PID, kernel thread, missing permission,
 * garbage input, unknown node) becomes one of these, with a message that names the cause and, where
 * there is one, the remedy. The CLI prints `message` as one line; nothing else should reach a user.
 */
export type TierscopeErrorCode =
  | 'process-gone'
  | 'kernel-thread'
  | 'permission'
  | 'parse'
  | 'not-found'
  | 'unsupported'
  | 'invalid-argument'
  | 'unknown-node'
  | 'busy'
  | 'io';

export class TierscopeError extends Error {
  override readonly name = 'TierscopeError';
  constructor(
    readonly code: TierscopeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Maps a Node fs error on a /proc/PID path to the typed error a user can act on. */
export function procfsError(err: unknown, pid: number, what: string): TierscopeError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
    case 'ESRCH':
      // stat is the first file every reader opens: missing there, the PID is simply not in use; missing
      // later, the process ended between two reads.
      return new TierscopeError(
        'process-gone',
        what === 'stat'
          ? `process ${pid} does not exist`
          : `process ${pid} does not exist: it exited while its ${what} was being read`,
        { cause: err },
      );
    case 'EACCES':
    case 'EPERM':
      return new TierscopeError(
        'permission',
        `no permission to read ${what} of process ${pid}: it belongs to another user; run as that user, as root, or with CAP_SYS_PTRACE`,
        { cause: err },
      );
    default:
      return new TierscopeError('not-found', `cannot read ${what} of process ${pid}: ${String(err)}`, {
        cause: err,
      });
  }
}
