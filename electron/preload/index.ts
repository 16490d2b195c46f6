// The preload: the only bridge between the sandboxed page and the main process. It exposes exactly one
// function per protocol method plus event subscriptions, each a thin ipcRenderer call on a fixed channel;
// no ipcRenderer, no Node, no arbitrary channel reaches the page. Validation happens in main, which
// trusts nothing that crosses IPC. Bundled to CommonJS (dist/electron/preload/index.cjs): sandboxed
// preloads cannot load ES modules or other files.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import {
  DESKTOP_API_GLOBAL,
  IPC,
  type AgentStatus,
  type ControlRequest,
  type DesktopApi,
  type DesktopMethods,
  type Envelope,
  type MenuCommand,
} from '../contract/desktop.js';
import { METHOD_NAMES, type EventData, type EventName } from '../contract/protocol.js';

/** `cb` takes whatever main sends on `channel` (main validated it against the contract before sending). */
function subscribe(channel: string, cb: (payload: never) => void): () => void {
  const listener = (_event: IpcRendererEvent, payload: unknown): void => {
    cb(payload as never);
  };
  ipcRenderer.on(channel, listener);
  return () => {
    ipcRenderer.removeListener(channel, listener);
  };
}

export function buildDesktopApi(): DesktopApi {
  const methods = Object.fromEntries(
    METHOD_NAMES.map((method) => [
      method,
      (params: unknown) => ipcRenderer.invoke(IPC.call, { method, params }) as Promise<Envelope<unknown>>,
    ]),
  ) as unknown as DesktopMethods;
  return {
    ...methods,
    on<E extends EventName>(event: E, cb: (data: EventData<E>) => void): () => void {
      return subscribe(IPC.event, (message: { event: string; data: unknown }) => {
        if (message.event === event) cb(message.data as EventData<E>);
      });
    },
    onStatus: (cb: (status: AgentStatus) => void) => subscribe(IPC.status, cb),
    onCommand: (cb: (command: MenuCommand) => void) => subscribe(IPC.command, cb),
    control: (request: ControlRequest) =>
      ipcRenderer.invoke(IPC.control, request) as Promise<Envelope<unknown>>,
  };
}

contextBridge.exposeInMainWorld(DESKTOP_API_GLOBAL, buildDesktopApi());
