import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import {
  CallRequest,
  ControlRequest,
  IPC,
  type AgentStatus,
  type AgentTarget,
  type Envelope,
} from '../contract/desktop.js';
import type { MethodName } from '../contract/protocol.js';
import type { Snapshot } from '../contract/vma.js';
import { isTrustedSender } from './security.js';

/** What the IPC handlers act on; the real one is AgentHost plus the save dialog. */
export interface IpcBackend {
  call(method: MethodName, params: unknown): Promise<Envelope<unknown>>;
  status(): AgentStatus;
  reconnect(): Promise<Envelope<AgentStatus>>;
  switchTo(target: AgentTarget): Promise<Envelope<AgentStatus>>;
  /** Save dialog + write; resolves with the path, or null when cancelled. */
  exportSnapshot(snapshot: Snapshot): Promise<string | null>;
  /** Open dialog for a session file; the path, or null when cancelled. */
  openSessionDialog(): Promise<string | null>;
  /** Save dialog only (nothing written); the path, or null when cancelled. */
  saveDialog(request: SaveDialogRequest): Promise<string | null>;
}

export type SaveDialogRequest = Omit<Extract<ControlRequest, { op: 'saveDialog' }>, 'op'>;

/** A dialog that failed to show (no window, a portal error) is an error value, never a rejection. */
async function dialogResult(show: () => Promise<string | null>): Promise<Envelope<string | null>> {
  try {
    return { ok: true, result: await show() };
  } catch (err) {
    return {
      ok: false,
      error: {
        code: 'io',
        message: `The file dialog failed: ${err instanceof Error ? err.message : String(err)}`,
      },
    };
  }
}

const untrusted: Envelope<never> = {
  ok: false,
  error: { code: 'forbidden', message: 'IPC from a frame that is not the Tierscope app was refused.' },
};

function badRequest(
  what: string,
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): Envelope<never> {
  const first = issues[0];
  const where = first && first.path.length > 0 ? first.path.map(String).join('.') : 'request';
  return {
    ok: false,
    error: { code: 'bad-request', message: `${what}: ${where}: ${first?.message ?? 'invalid'}` },
  };
}

/**
 * Session paths are on the agent's machine: a dialog here lists this machine's files, which mean nothing
 * to an agent reached over ssh (the renderer asks for a typed path then).
 */
export function remoteAgentHost(status: AgentStatus): string | null {
  const target = status.state === 'switch-failed' ? status.current : status.target;
  return target?.kind === 'remote' ? target.destination : null;
}

/** The handler for IPC.call: sender check, request schema, then the method's own params schema. */
export async function handleCall(
  backend: IpcBackend,
  event: Pick<IpcMainInvokeEvent, 'senderFrame'>,
  raw: unknown,
): Promise<Envelope<unknown>> {
  if (!isTrustedSender(event)) return untrusted;
  const request = CallRequest.safeParse(raw);
  if (!request.success) return badRequest('call', request.error.issues);
  return backend.call(request.data.method, request.data.params);
}

export async function handleControl(
  backend: IpcBackend,
  event: Pick<IpcMainInvokeEvent, 'senderFrame'>,
  raw: unknown,
): Promise<Envelope<unknown>> {
  if (!isTrustedSender(event)) return untrusted;
  const request = ControlRequest.safeParse(raw);
  if (!request.success) return badRequest('control', request.error.issues);
  const req = request.data;
  switch (req.op) {
    case 'status':
      return { ok: true, result: backend.status() };
    case 'reconnect':
      return backend.reconnect();
    case 'switch':
      return backend.switchTo(req.target);
    case 'exportSnapshot':
      try {
        return { ok: true, result: await backend.exportSnapshot(req.snapshot) };
      } catch (err) {
        return {
          ok: false,
          error: {
            code: 'io',
            message: `Could not save the snapshot: ${err instanceof Error ? err.message : String(err)}`,
          },
        };
      }
    case 'openSessionDialog':
    case 'saveDialog': {
      const remote = remoteAgentHost(backend.status());
      if (remote !== null) {
        return {
          ok: false,
          error: {
            code: 'unsupported',
            message: `The agent runs on ${remote}: type a path on that machine instead of picking a local file.`,
          },
        };
      }
      if (req.op === 'openSessionDialog') return dialogResult(() => backend.openSessionDialog());
      return dialogResult(() =>
        backend.saveDialog({ title: req.title, defaultName: req.defaultName, filters: req.filters }),
      );
    }
  }
}

/** Registers both invoke channels. Returns a function that removes them (window closed, tests). */
export function registerIpc(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>,
  backend: IpcBackend,
): () => void {
  ipcMain.handle(IPC.call, (event, raw: unknown) => handleCall(backend, event, raw));
  ipcMain.handle(IPC.control, (event, raw: unknown) => handleControl(backend, event, raw));
  return () => {
    ipcMain.removeHandler(IPC.call);
    ipcMain.removeHandler(IPC.control);
  };
}
