import type {
  EventData,
  EventName,
  MethodName,
  Params,
  Result,
  Snapshot,
} from '../../../electron/contract/index.js';
import type { AgentTarget, FileFilter, MenuCommand } from '../../../electron/contract/desktop.js';

/**
 * What the UI needs from an agent, whatever carries it: a WebSocket in browser mode, or the Electron
 * preload (which relays to a stdio, pkexec or ssh child of the main process). Components and the
 * controller see only this.
 */
export interface AgentApi {
  readonly mode: 'browser' | 'electron';
  /** Rejects with an ApiError whose `code` the UI can branch on ('process-gone', 'disconnected', …). */
  call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>>;
  /** Listeners survive reconnects: they are re-attached to each new connection. */
  on<E extends EventName>(event: E, cb: (data: EventData<E>) => void): () => void;
  onConnection(cb: (event: ConnectionEvent) => void): () => void;
  /**
   * Resolves once an agent answers (emitting a 'connected' event), or rejects with an ApiError saying what
   * to do. Called once at startup, after the listeners are registered.
   */
  connect(): Promise<void>;
  /** Opens a new connection to the agent after a loss; resolves once it answers. */
  reconnect(): Promise<void>;
  /** Desktop-only abilities; null in a browser. */
  readonly desktop: DesktopAbilities | null;
}

export type ConnectionEvent =
  | { type: 'connected'; target: AgentTarget | null }
  | { type: 'lost'; reason: string }
  /** An elevation or remote switch did not happen; the previous agent (if any) is still in use. */
  | { type: 'switch-failed'; target: AgentTarget; refused: boolean; reason: string };

export interface DesktopAbilities {
  switchAgent(target: AgentTarget): Promise<void>;
  /** Shows a save dialog and writes the snapshot; resolves with the path, or null if cancelled. */
  exportSnapshot(snapshot: Snapshot): Promise<string | null>;
  /** Main's open dialog for a session file: its path, or null if cancelled. */
  openSessionDialog(): Promise<string | null>;
  /** Main's save dialog (writes nothing): the chosen path, or null if cancelled. */
  saveDialog(request: { title: string; defaultName: string; filters: FileFilter[] }): Promise<string | null>;
  onCommand(cb: (command: MenuCommand) => void): () => void;
}

/** An error from the agent or the transport, with the protocol's code and a message meant for the user. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Anything thrown by a transport or client, as an ApiError (unknown shapes become 'internal'). */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (typeof err === 'object' && err !== null) {
    const { code, message } = err as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && typeof message === 'string') return new ApiError(code, message);
    if (typeof message === 'string') return new ApiError('internal', message);
  }
  return new ApiError('internal', String(err));
}
