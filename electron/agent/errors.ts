import type { ErrorPayload, ProtocolErrorCode } from '../contract/index.js';
import { NumaSyscallError } from '../../native-bridge/index.js';
import { TierscopeError } from '../engine/errors.js';

/** A failure of the protocol itself (not of the engine), with one of the protocol's own codes. */
export class ProtocolFailure extends Error {
  override readonly name = 'ProtocolFailure';
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * What a failed request answers. Typed errors keep their code and one-line message (cause + remedy), as
 * the CLI prints them; anything else is a bug: 'internal', its stack in the agent's log, not on the wire.
 */
export function errorPayload(err: unknown, log: (line: string) => void): ErrorPayload {
  if (err instanceof TierscopeError || err instanceof NumaSyscallError || err instanceof ProtocolFailure) {
    return { code: err.code, message: oneLine(err.message) };
  }
  log(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return {
    code: 'internal',
    message: `internal error in the agent: ${oneLine(err instanceof Error ? err.message : String(err))} (details in the agent's log)`,
  };
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}
