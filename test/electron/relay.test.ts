// The desktop path end to end without the Electron binary: renderer controller → ElectronAgentApi → the
// preload (electron mocked: ipcRenderer wired to ipcMain handlers) → main's IPC edge → AgentHost → a real
// `tierscope agent --stdio` child. Killing the agent child mid-session, a refused elevation, and an agent
// that answers garbage are all exercised here.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { IPC, type AgentStatus, type DesktopApi } from '../../electron/contract/desktop.js';
import { agentCommand, type AgentCommand } from '../../electron/main/agentCommand.js';
import { AgentHost } from '../../electron/main/agentHost.js';
import { spawnStdioAgent, type SpawnFn } from '../../electron/main/agentProcess.js';
import { handleCall, handleControl, type IpcBackend } from '../../electron/main/ipc.js';
import { ElectronAgentApi } from '../../renderer/src/api/electronApi.js';
import { Controller } from '../../renderer/src/state/controller.js';
import { initialState, type AppState } from '../../renderer/src/state/state.js';
import { createStore, type Store } from '../../renderer/src/state/store.js';
import { startQuietChild, type Child } from '../helpers/children.js';

interface IpcDouble {
  /** main → renderer: what webContents.send would deliver. */
  rendererListeners: Map<string, Set<(event: unknown, payload: unknown) => void>>;
  /** renderer → main: invoke handlers. */
  handlers: Map<string, (event: unknown, payload: unknown) => Promise<unknown>>;
  /** What the preload put on window.tierscope. */
  exposed: unknown;
}

const ipc = vi.hoisted((): IpcDouble => ({
  rendererListeners: new Map(),
  handlers: new Map(),
  exposed: undefined,
}));

vi.mock('electron', () => ({
  contextBridge: {
    exposeInMainWorld: (_key: string, api: unknown) => {
      ipc.exposed = api;
    },
  },
  ipcRenderer: {
    // The sender is the app's own frame, as Electron would report it for the window.
    invoke: async (channel: string, payload: unknown) => {
      const handler = ipc.handlers.get(channel);
      if (!handler) throw new Error(`no handler for ${channel}`);
      // Structured clone, like IPC: nothing shared by reference between the two sides.
      const result = await handler(
        { senderFrame: { url: 'app://tierscope/index.html', parent: null } },
        structuredClone(payload),
      );
      return structuredClone(result);
    },
    on: (channel: string, cb: (event: unknown, payload: unknown) => void) => {
      const set = ipc.rendererListeners.get(channel) ?? new Set();
      set.add(cb);
      ipc.rendererListeners.set(channel, set);
    },
    removeListener: (channel: string, cb: (event: unknown, payload: unknown) => void) => {
      ipc.rendererListeners.get(channel)?.delete(cb);
    },
  },
}));

await import('../../electron/preload/index.js');

const CLI_ENTRY = fileURLToPath(new URL('../../dist/electron/cli/bin.js', import.meta.url));

function sendToRenderer(channel: string, payload: unknown): void {
  for (const cb of ipc.rendererListeners.get(channel) ?? []) cb({}, structuredClone(payload));
}

function until(store: Store, pred: (s: AppState) => boolean, what: string, ms = 20_000): Promise<AppState> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (!pred(store.getState())) return;
      off();
      clearTimeout(timer);
      resolve(store.getState());
    };
    const off = store.subscribe(check);
    const timer = setTimeout(() => {
      off();
      const s = store.getState();
      reject(
        new Error(
          `timed out waiting for ${what}: connection=${s.connection.status}, target=${s.target?.phase ?? 'none'}`,
        ),
      );
    }, ms);
    check();
  });
}

interface Desktop {
  host: AgentHost;
  store: Store;
  controller: Controller;
  children: number[];
  statuses: AgentStatus[];
}

const desktops: Desktop[] = [];

/** Main + preload + renderer around a real agent child; `start` may replace how a command is run. */
async function desktop(
  start?: (cmd: AgentCommand) => ReturnType<typeof spawnStdioAgent>,
  ready: (s: AppState) => boolean = (s) => s.processes.data !== null,
): Promise<Desktop> {
  const children: number[] = [];
  const statuses: AgentStatus[] = [];
  const realSpawn: SpawnFn = (command, args, options) => {
    const child = spawn(command, [...args], options);
    if (child.pid !== undefined) children.push(child.pid);
    return child;
  };
  const host = new AgentHost({
    command: (target) =>
      Promise.resolve(
        agentCommand(target, { execPath: process.execPath, cliEntry: CLI_ENTRY, helperInstalled: false }),
      ),
    start: start ?? ((cmd) => spawnStdioAgent(realSpawn, cmd, process.env, () => undefined)),
    onStatus: (s) => {
      statuses.push(s);
      sendToRenderer(IPC.status, s);
    },
    onEvent: (event, data) => {
      sendToRenderer(IPC.event, { event, data });
    },
    log: () => undefined,
  });
  const backend: IpcBackend = {
    call: (m, p) => host.call(m, p),
    status: () => host.status,
    reconnect: () => host.reconnect(),
    switchTo: (t) => host.start(t),
    exportSnapshot: () => Promise.resolve(null),
    openSessionDialog: () => Promise.resolve(null),
    saveDialog: () => Promise.resolve(null),
  };
  ipc.handlers.set(IPC.call, (e, p) => handleCall(backend, e as never, p));
  ipc.handlers.set(IPC.control, (e, p) => handleControl(backend, e as never, p));
  // As main does at startup: the agent starts before (and independently of) the window.
  await host.start({ kind: 'local' });
  const store = createStore(initialState('electron', 'dark'));
  const controller = new Controller(store, new ElectronAgentApi(ipc.exposed as DesktopApi));
  const d = { host, store, controller, children, statuses };
  desktops.push(d);
  await controller.start(null);
  await until(store, (s) => s.connection.status === 'connected' && ready(s), 'connected');
  return d;
}

let workload: Child;
beforeAll(async () => {
  if (!existsSync(CLI_ENTRY)) throw new Error(`${CLI_ENTRY} is missing: run \`npm run build\` first`);
  workload = await startQuietChild(16);
});
afterAll(async () => {
  await workload.kill();
});
afterEach(() => {
  for (const d of desktops.splice(0)) {
    d.controller.stop();
    d.host.stop();
  }
});

describe('desktop relay with a real agent child', () => {
  it('shows a process live through preload, IPC and the stdio agent', async () => {
    const { store, controller } = await desktop();
    const listed = store.getState().processes.data?.find((p) => p.pid === workload.pid);
    if (!listed) throw new Error('workload not listed');
    await controller.selectProcess(listed);
    const s = await until(store, (x) => x.target?.phase === 'live' && x.target.snapshot !== null, 'live');
    expect(s.target?.snapshot?.pid).toBe(workload.pid);
    expect(s.target?.snapshot?.vmas.length).toBeGreaterThan(3);
    await until(store, (x) => (x.target?.history.length ?? 0) >= 2, 'second snapshot event');
  });

  it('killing the agent mid-session keeps the UI and its data; Reconnect starts a new agent and resumes', async () => {
    const d = await desktop();
    const { store, controller } = d;
    const listed = store.getState().processes.data?.find((p) => p.pid === workload.pid);
    if (!listed) throw new Error('workload not listed');
    await controller.selectProcess(listed);
    await until(store, (x) => x.target?.phase === 'live' && x.target.snapshot !== null, 'live');
    const shown = store.getState().target?.snapshot;

    const agentPid = d.children[0];
    if (agentPid === undefined) throw new Error('no agent child recorded');
    process.kill(agentPid, 'SIGKILL');
    const lost = await until(store, (x) => x.connection.status === 'lost', 'lost');
    expect(lost.connection.status === 'lost' && lost.connection.reason).toMatch(/SIGKILL/);
    expect(lost.target?.snapshot).toBe(shown);
    expect(lost.target?.phase).toBe('paused');
    // Still usable: switching views and filtering work on the kept data; agent calls say why they fail.
    store.dispatch({ type: 'view/show', view: 'processes' });
    await controller.refreshProcesses();
    expect(store.getState().processes.error?.code).toBe('disconnected');

    await controller.reconnect();
    const back = await until(
      store,
      (x) => x.connection.status === 'connected' && x.target?.phase === 'live',
      'resumed',
    );
    expect(d.children).toHaveLength(2);
    expect(back.target?.pid).toBe(workload.pid);
  });

  it('a refused elevation keeps the local agent serving and tells the renderer why', async () => {
    const local = (cmd: AgentCommand): ReturnType<typeof spawnStdioAgent> =>
      spawnStdioAgent(
        (c, a, o) => spawn(c, [...a], o),
        cmd,
        process.env,
        () => undefined,
      );
    // pkexec itself cannot be driven here: a process that exits 126 stands in for a dismissed dialog.
    const d = await desktop((cmd) =>
      cmd.command === 'pkexec'
        ? spawnStdioAgent(
            (_c, _a, o) => spawn('sh', ['-c', 'exit 126'], o),
            { ...cmd, command: 'pkexec' },
            process.env,
            () => undefined,
          )
        : local(cmd),
    );
    const error = await d.controller.switchAgent({ kind: 'elevated' });
    expect(error).toBeNull(); // the switch request itself was handled; the outcome is the status
    const s = await until(
      d.store,
      (x) => x.notices.some((n) => n.title === 'Elevation refused'),
      'refused notice',
    );
    expect(s.notices.find((n) => n.title === 'Elevation refused')?.message).toMatch(/dismissed/);
    expect(d.statuses.at(-1)).toMatchObject({
      state: 'switch-failed',
      refused: true,
      current: { kind: 'local' },
    });
    // The local agent still answers.
    await d.controller.refreshProcesses();
    expect(d.store.getState().processes.error).toBeNull();
    expect(s.connection.status).toBe('connected');
  });

  it('an agent that answers garbage is rejected at main’s edge without a crash', async () => {
    // Answers hello properly, then: a non-JSON line, an unknown event, and a listProcesses result of the
    // wrong shape.
    const script = `
      const rl = require('readline').createInterface({ input: process.stdin });
      rl.on('line', (line) => {
        const req = JSON.parse(line);
        if (req.method === 'hello') {
          console.log(JSON.stringify({ id: req.id, ok: true, result: { protocolVersion: 1, agentVersion: 'evil', hostname: 'h', uid: 0, privileged: false } }));
          return;
        }
        console.log('this is not json');
        console.log(JSON.stringify({ event: 'snapshot', data: { subscription: 1 } }));
        console.log(JSON.stringify({ id: req.id, ok: true, result: [{ pid: 'one' }] }));
      });`;
    const d = await desktop(
      (cmd) =>
        spawnStdioAgent(
          (_c, _a, o) => spawn(process.execPath, ['-e', script], o),
          cmd,
          process.env,
          () => undefined,
        ),
      (s) => s.processes.error !== null,
    );
    const r = await d.host.call('listProcesses', {});
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.code).toBe('invalid-response');
    // The renderer got the failure as state, not an exception.
    await d.controller.refreshProcesses();
    expect(d.store.getState().processes.error?.code).toBe('invalid-response');
    expect(d.store.getState().connection.status).toBe('connected');
  });

  it('refuses bad params at main’s edge before the agent sees them', async () => {
    const d = await desktop();
    const r = await d.host.call('snapshot', { pid: -1 });
    expect(!r.ok && r.error.code).toBe('bad-request');
    const viaIpc = await handleCall(
      {
        call: (m, p) => d.host.call(m, p),
        status: () => d.host.status,
        reconnect: () => d.host.reconnect(),
        switchTo: (t) => d.host.start(t),
        exportSnapshot: () => Promise.resolve(null),
        openSessionDialog: () => Promise.resolve(null),
        saveDialog: () => Promise.resolve(null),
      },
      { senderFrame: { url: 'app://tierscope/', parent: null } } as never,
      { method: 'attach', params: { pid: 1, intervalMs: 1 } },
    );
    expect(!viaIpc.ok && viaIpc.error.code).toBe('bad-request');
  });
});
