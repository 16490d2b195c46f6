// The renderer's controller and reducer against a real agent (AgentServer over an in-process transport,
// reading this machine's /proc): picking a process, live updates, a dead PID, a lost agent and
// reconnecting, the per-node columns. Processes touched are children this file starts.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient, type Transport } from '../../electron/contract/client.js';
import { AgentServer } from '../../electron/agent/server.js';
import { inProcessPair } from '../../electron/agent/transports.js';
import type { AgentStatus, DesktopApi, Envelope, MenuCommand } from '../../electron/contract/desktop.js';
import { BrowserAgentApi } from '../../renderer/src/api/browserApi.js';
import { ElectronAgentApi } from '../../renderer/src/api/electronApi.js';
import { processKey } from '../../renderer/src/logic/processes.js';
import { Controller } from '../../renderer/src/state/controller.js';
import { initialState, type AppState } from '../../renderer/src/state/state.js';
import { createStore, type Store } from '../../renderer/src/state/store.js';
import { selectVisibleVmaRows } from '../../renderer/src/state/selectors.js';
import { startQuietChild, type Child } from '../helpers/children.js';
import { threeNodeSnapshot } from './fixtures.js';

/** Resolves once `pred` holds for the store's state; fails with the last state after `ms`. */
function until(store: Store, pred: (s: AppState) => boolean, what: string, ms = 15_000): Promise<AppState> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const s = store.getState();
      if (!pred(s)) return false;
      off();
      clearTimeout(timer);
      resolve(s);
      return true;
    };
    const off = store.subscribe(() => {
      check();
    });
    const timer = setTimeout(() => {
      off();
      const s = store.getState();
      reject(
        new Error(
          `timed out waiting for ${what}; connection=${s.connection.status} target=${s.target?.phase ?? 'none'}`,
        ),
      );
    }, ms);
    check();
  });
}

interface Rig {
  store: Store;
  controller: Controller;
  /** The agent side of the current connection: closing it is the agent going away. */
  agentEnd(): Transport;
  server: AgentServer;
  connects: number;
}

const servers: AgentServer[] = [];
const controllers: Controller[] = [];

async function rig(): Promise<Rig> {
  const server = new AgentServer({ agentVersion: 'test', launchOutput: 'ignore' });
  servers.push(server);
  let agentSide: Transport | null = null;
  const r: Rig = {
    store: createStore(initialState('browser', 'dark')),
    controller: null as unknown as Controller,
    agentEnd: () => {
      if (!agentSide) throw new Error('not connected');
      return agentSide;
    },
    server,
    connects: 0,
  };
  const api = new BrowserAgentApi(() => {
    const [ui, agent] = inProcessPair();
    server.serve(agent);
    agentSide = agent;
    r.connects++;
    return Promise.resolve(new AgentClient(ui));
  });
  r.controller = new Controller(r.store, api);
  controllers.push(r.controller);
  await r.controller.start(null);
  await until(r.store, (s) => s.processes.data !== null && s.topology.data !== null, 'first load');
  return r;
}

let child: Child;
beforeAll(async () => {
  child = await startQuietChild(16);
});
afterAll(async () => {
  await child.kill();
});
afterEach(async () => {
  for (const c of controllers.splice(0)) c.stop();
  for (const s of servers.splice(0)) await s.close();
});

describe('controller with a real agent', () => {
  it('connects, says hello and loads topology, capabilities and processes', async () => {
    const { store } = await rig();
    const s = store.getState();
    expect(s.connection.status).toBe('connected');
    expect(s.connection.status === 'connected' && s.connection.hello?.agentVersion).toBe('test');
    expect(s.topology.data?.nodes.length).toBeGreaterThan(0);
    expect(s.capabilities.data?.sources.length).toBeGreaterThan(0);
    expect(s.processes.data?.some((p) => p.pid === child.pid)).toBe(true);
  });

  it('picks a process, attaches, and shows its VMAs with per-node pages', async () => {
    const { store, controller } = await rig();
    const listed = store.getState().processes.data?.find((p) => p.pid === child.pid);
    if (!listed) throw new Error('child not listed');
    await controller.selectProcess(listed);
    const s = await until(
      store,
      (x) => x.target?.phase === 'live' && x.target.snapshot !== null,
      'live snapshot',
    );
    const snap = s.target?.snapshot;
    expect(snap?.pid).toBe(child.pid);
    expect(snap?.startTimeTicks).toBe(listed.startTimeTicks);
    // The 16 MiB bytearray is resident somewhere: at least 4096 pages on the nodes in total.
    const rows = selectVisibleVmaRows(s);
    const nodePages = rows.reduce((sum, r) => sum + r.nodePagesTotal, 0);
    expect(nodePages).toBeGreaterThanOrEqual(4096);
    // The picker's per-node cell for this process is filled from the same snapshot.
    const entry = s.nodePages[processKey(listed)];
    expect(entry?.status).toBe('ready');
    // A second live snapshot arrives on its own: history grows.
    await until(store, (x) => (x.target?.history.length ?? 0) >= 2, 'second live snapshot');
    await controller.setLive(false);
    expect(store.getState().target?.phase).toBe('paused');
    expect(store.getState().target?.subscription).toBeNull();
  });

  it('a dead PID picked in the list becomes the gone state and the row is marked exited', async () => {
    const doomed = await startQuietChild(4);
    const { store, controller } = await rig();
    await controller.refreshProcesses();
    const listed = store.getState().processes.data?.find((p) => p.pid === doomed.pid);
    if (!listed) throw new Error('doomed child not listed');
    await doomed.kill();
    await controller.selectProcess(listed);
    const s = await until(store, (x) => x.target?.phase === 'gone', 'gone state');
    expect(s.target?.errorCode).toBe('process-gone');
    expect(s.target?.message).toMatch(/process|exited|gone/i);
    expect(s.exited[processKey(listed)]).toBe(true);
    expect(s.connection.status).toBe('connected');
  });

  it('keeps the data when the agent is lost and re-attaches after Reconnect', async () => {
    const r = await rig();
    const { store, controller } = r;
    const listed = store.getState().processes.data?.find((p) => p.pid === child.pid);
    if (!listed) throw new Error('child not listed');
    await controller.selectProcess(listed);
    await until(store, (x) => x.target?.phase === 'live' && x.target.snapshot !== null, 'live');
    const before = store.getState();

    r.agentEnd().close();
    const lost = await until(store, (x) => x.connection.status === 'lost', 'lost');
    expect(lost.target?.snapshot).toBe(before.target?.snapshot ?? null); // same data, kept
    expect(lost.target?.phase).toBe('paused');
    expect(lost.processes.data).toBe(before.processes.data);
    expect(lost.topology.data).toBe(before.topology.data);
    // Calls while lost fail with a code the UI understands, not a crash.
    await controller.refreshProcesses();
    expect(store.getState().processes.error?.code).toBe('disconnected');
    expect(store.getState().processes.data).toBe(before.processes.data);

    await controller.reconnect();
    const back = await until(
      store,
      (x) => x.connection.status === 'connected' && x.target?.phase === 'live',
      'back live',
    );
    expect(r.connects).toBe(2);
    expect(back.target?.pid).toBe(child.pid);
    await until(store, (x) => x.processes.error === null && x.processes.data !== null, 'list refreshed');
  });

  it('a process that exits while attached ends the live view and keeps its last snapshot', async () => {
    const shortLived = await startQuietChild(4);
    const { store, controller } = await rig();
    await controller.refreshProcesses();
    const listed = store.getState().processes.data?.find((p) => p.pid === shortLived.pid);
    if (!listed) throw new Error('not listed');
    await controller.setIntervalMs(200);
    await controller.selectProcess(listed);
    await until(store, (x) => x.target?.phase === 'live' && x.target.snapshot !== null, 'live');
    await shortLived.kill();
    const s = await until(store, (x) => x.target?.phase === 'ended', 'ended');
    expect(s.target?.snapshot?.pid).toBe(shortLived.pid);
    expect(s.target?.message).toMatch(/exited/);
    expect(s.exited[processKey(listed)]).toBe(true);
  });

  it('fills the per-node columns of the visible rows with processNodes', async () => {
    const { store, controller } = await rig();
    const rows =
      store.getState().processes.data?.filter((p) => p.pid === child.pid || p.pid === process.pid) ?? [];
    expect(rows).toHaveLength(2);
    controller.requestNodePages(rows);
    const s = await until(
      store,
      (x) => rows.every((p) => x.nodePages[processKey(p)]?.status === 'ready'),
      'node pages',
    );
    const entry = s.nodePages[processKey(rows[0] ?? (child as never))];
    expect(
      entry?.status === 'ready' && Object.values(entry.pagesByNode).reduce((a, b) => a + b, 0),
    ).toBeGreaterThan(0);
  });

  it('a snapshot opened from a file needs no agent; a bad file says why', async () => {
    const { store, controller } = await rig();
    expect((await controller.openSnapshotText('{', 'x.json'))?.message).toMatch(/not JSON/);
    expect((await controller.openSnapshotText('{"pid":1}', 'y.json'))?.message).toMatch(
      /not a Tierscope snapshot/,
    );
    expect(await controller.openSnapshotText(JSON.stringify(threeNodeSnapshot()), 'z.json')).toBeNull();
    const t = store.getState().target;
    expect(t?.phase).toBe('file');
    expect(t?.filePath).toBe('z.json');
    expect(selectVisibleVmaRows(store.getState()).map((r) => r.kind)).toContain('anon');
  });

  it('an unreachable agent at startup is the failed state, with the transport’s reason', async () => {
    const store = createStore(initialState('browser', 'dark'));
    const api = new BrowserAgentApi(() => Promise.reject(new Error('connect ECONNREFUSED')));
    const controller = new Controller(store, api);
    await controller.start(null);
    const s = store.getState();
    expect(s.connection.status).toBe('failed');
    expect(s.connection.status === 'failed' && s.connection.message).toMatch(/ECONNREFUSED/);
    expect(store.getState().target).toBeNull();
  });

  it('--pid opens the Memory view, unless the user went to another view while the agent connected', async () => {
    const server = new AgentServer({ agentVersion: 'test', launchOutput: 'ignore' });
    servers.push(server);
    const store = createStore(initialState('browser', 'dark'));
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const api = new BrowserAgentApi(async () => {
      await gate;
      const [ui, agent] = inProcessPair();
      server.serve(agent);
      return new AgentClient(ui);
    });
    const controller = new Controller(store, api);
    controllers.push(controller);
    const started = controller.start(child.pid);
    store.dispatch({ type: 'view/show', view: 'topology' });
    release();
    await started;
    expect(store.getState().view).toBe('topology');
    expect(store.getState().target?.pid).toBe(child.pid);
    await until(store, (s) => s.target?.phase === 'live', 'the attach');
    expect(store.getState().view).toBe('topology');
  });

  it('a --session file that cannot be opened shows the Session view with the reason', async () => {
    const server = new AgentServer({ agentVersion: 'test', launchOutput: 'ignore' });
    servers.push(server);
    const store = createStore(initialState('browser', 'dark'));
    const api = new BrowserAgentApi(() => {
      const [ui, agent] = inProcessPair();
      server.serve(agent);
      return Promise.resolve(new AgentClient(ui));
    });
    const controller = new Controller(store, api);
    controllers.push(controller);
    await controller.start(null, '/nonexistent/run.tierscope');
    const s = await until(
      store,
      (x) => x.session.status === 'error' && x.view === 'session',
      'the Session view with the failed open',
    );
    expect(s.session.path).toBe('/nonexistent/run.tierscope');
    expect(s.session.error?.message).toMatch(/nonexistent/);
  });
});

describe('Electron adapter', () => {
  /** A DesktopApi whose agent status the test drives, answering calls with canned envelopes. */
  function fakeBridge(initial: AgentStatus): { bridge: DesktopApi; emitStatus: (s: AgentStatus) => void } {
    const statusListeners = new Set<(s: AgentStatus) => void>();
    let status = initial;
    const reply = <T>(result: T): Promise<Envelope<T>> => Promise.resolve({ ok: true, result });
    const bridge = {
      hello: () =>
        reply({ protocolVersion: 1, agentVersion: 't', hostname: 'h', uid: 1000, privileged: false }),
      topology: () =>
        reply(
          JSON.parse(
            JSON.stringify({
              nodes: [],
              distances: [],
              tiers: [],
              demotionEnabled: null,
              numaBalancing: null,
            }),
          ) as never,
        ),
      capabilities: () => Promise.resolve({ ok: false, error: { code: 'x', message: 'n/a' } }),
      listProcesses: () => reply([]),
      processNodes: () => reply({ pageSizeBytes: 4096, processes: [] }),
      snapshot: () =>
        Promise.resolve({ ok: false, error: { code: 'process-gone', message: 'process 9 does not exist' } }),
      attach: () =>
        Promise.resolve({ ok: false, error: { code: 'process-gone', message: 'process 9 does not exist' } }),
      detach: () => reply({}),
      launch: () => reply({ pid: 9, startTimeTicks: 1 }),
      on: () => () => undefined,
      onStatus: (cb: (s: AgentStatus) => void) => {
        statusListeners.add(cb);
        return () => statusListeners.delete(cb);
      },
      onCommand: (_cb: (c: MenuCommand) => void) => () => undefined,
      control: () => reply(status),
    } as unknown as DesktopApi;
    return {
      bridge,
      emitStatus: (s) => {
        status = s;
        for (const cb of [...statusListeners]) cb(s);
      },
    };
  }

  it('replays an agent that connected before the window, and shows a refused elevation as a notice', async () => {
    const { bridge, emitStatus } = fakeBridge({ state: 'connected', target: { kind: 'local' } });
    const store = createStore(initialState('electron', 'dark'));
    const controller = new Controller(store, new ElectronAgentApi(bridge));
    await controller.start(null);
    await until(store, (s) => s.connection.status === 'connected' && s.processes.data !== null, 'connected');

    emitStatus({
      state: 'switch-failed',
      target: { kind: 'elevated' },
      current: { kind: 'local' },
      refused: true,
      reason: 'the authentication dialog was dismissed (pkexec exit 126).',
    });
    const s = await until(store, (x) => x.notices.length > 0, 'notice');
    expect(s.notices[0]?.title).toBe('Elevation refused');
    expect(s.notices[0]?.message).toMatch(/dismissed/);
    expect(s.connection.status).toBe('connected'); // the local agent keeps serving
    controller.stop();
  });

  it('waits for a starting agent and reports one that could not start', async () => {
    const { bridge, emitStatus } = fakeBridge({ state: 'starting', target: { kind: 'local' } });
    const store = createStore(initialState('electron', 'dark'));
    const controller = new Controller(store, new ElectronAgentApi(bridge));
    const started = controller.start(null);
    emitStatus({
      state: 'lost',
      target: { kind: 'local' },
      reason: 'cannot start the agent: node is not installed.',
    });
    await started;
    const s = store.getState();
    expect(s.connection.status).toBe('failed');
    expect(s.connection.status === 'failed' && s.connection.message).toMatch(/not installed/);
    controller.stop();
  });
});
