import { PROTOCOL_VERSION, Snapshot, type ProcessInfo } from '../../../electron/contract/index.js';
import type { AgentTarget } from '../../../electron/contract/desktop.js';
import { toApiError, type AgentApi, type ApiError, type ConnectionEvent } from '../api/agentApi.js';
import { processKey } from '../logic/processes.js';
import type { KeyValueStorage } from '../logic/recentSessions.js';
import { SessionController, type Schedule } from './sessionController.js';
import { WorkflowController } from './workflowController.js';
import type { Store } from './store.js';
import type { UiError, View } from './state.js';

const CLIENT_NAME = 'tierscope-renderer';
/** Processes per processNodes call: a screenful, so the first numbers come back quickly. */
const NODE_BATCH = 64;

function uiError(err: unknown): UiError {
  const e: ApiError = toApiError(err);
  return { code: e.code, message: e.message };
}

/**
 * localStorage when the page has one and may use it (not in Node tests; reading the property itself
 * throws where storage is blocked). Reached through globalThis: tests type-check this file without DOM.
 */
function browserStorage(): KeyValueStorage | null {
  try {
    return (globalThis as { localStorage?: KeyValueStorage }).localStorage ?? null;
  } catch {
    return null;
  }
}

function describeTarget(target: AgentTarget): string {
  switch (target.kind) {
    case 'local':
      return 'the local agent';
    case 'elevated':
      return 'the elevated (root) agent';
    case 'remote':
      return `the agent on ${target.destination}`;
  }
}

/**
 * Everything asynchronous the UI does: agent calls, event wiring, live attach/detach, reconnect. Components
 * call these methods and read the store; the reducer stays pure. Responses that arrive after the user moved
 * on (another process picked) are dropped by comparing a generation number.
 */
export class Controller {
  private generation = 0;
  private nodeQueue: ProcessInfo[] = [];
  private nodeWorker: Promise<void> | null = null;
  /** A session to open right after the first handshake (`?session=`), then null. */
  private initialSession: string | null = null;
  private readonly offs: (() => void)[] = [];
  /** While an attach is in flight: snapshot events of subscriptions not known yet (latest per id). */
  private attaching = false;
  private readonly buffered = new Map<string, Snapshot>();
  /** Recorded sessions: open/close, VMA series, heatmaps (sessionController.ts). */
  readonly session: SessionController;
  /** Recording, session files, migration experiments (workflowController.ts). */
  readonly workflow: WorkflowController;

  constructor(
    private readonly store: Store,
    readonly api: AgentApi,
    private readonly now: () => number = () => Date.now(),
    schedule?: Schedule,
  ) {
    this.session = new SessionController(store, api, schedule);
    this.workflow = new WorkflowController(store, api, {
      openSession: (path) => this.openSession(path),
      storage: browserStorage(),
    });
  }

  /**
   * Opens a recorded session file (a path on the agent's machine) and shows the Session view; what the
   * open dialog and the recent-sessions list call. Resolves with null, or the error (also in
   * state.session.error).
   */
  openSession(path: string): Promise<UiError | null> {
    return this.session.open(path);
  }

  /** Closes the open session on the agent and empties the Session view. */
  closeSession(): Promise<void> {
    return this.session.close();
  }

  /**
   * Wires events, connects, and opens `initialPid` (from `--pid`) once the agent answers; `initialSession`
   * (from `--session`) is opened first thing after the handshake, ahead of the process list and topology:
   * the agent answers one call at a time, and the session is what the user asked to see.
   */
  async start(initialPid: number | null, initialSession: string | null = null): Promise<void> {
    this.initialSession = initialSession;
    const { dispatch } = this.store;
    this.offs.push(
      this.api.on('snapshot', ({ subscription, snapshot }) => {
        if (this.attaching && this.store.getState().target?.subscription !== subscription) {
          this.buffered.set(subscription, snapshot);
          return;
        }
        dispatch({ type: 'target/live-snapshot', subscription, snapshot });
      }),
      this.api.on('detached', ({ subscription, code, reason }) => {
        dispatch({ type: 'target/detached', subscription, reason, gone: code === 'process-gone' });
      }),
      this.api.onConnection((event) => {
        void this.onConnection(event);
      }),
      ...this.workflow.wire(),
    );
    if (this.api.desktop) {
      this.offs.push(
        this.api.desktop.onCommand((command) => {
          switch (command.type) {
            case 'show-view':
              dispatch({ type: 'view/show', view: command.view });
              return;
            case 'launch':
              dispatch({ type: 'dialog/set', dialog: { type: 'launch' } });
              return;
            case 'connect-remote':
              dispatch({ type: 'dialog/set', dialog: { type: 'remote' } });
              return;
            case 'export-snapshot':
              void this.exportSnapshot();
              return;
            case 'toggle-theme':
              dispatch({
                type: 'theme/set',
                theme: this.store.getState().theme === 'dark' ? 'light' : 'dark',
              });
              return;
            case 'snapshot-opened':
              void this.detachCurrent();
              dispatch({ type: 'target/opened-file', path: command.path, snapshot: command.snapshot });
              return;
            case 'open-session':
            case 'save-session-as':
            case 'export-session':
            case 'toggle-recording':
            case 'migrate':
            case 'show-shortcuts':
              this.workflow.handleCommand(command);
              return;
          }
        }),
      );
    }
    const viewAtStart = this.store.getState().view;
    dispatch({ type: 'connection/connecting' });
    try {
      await this.api.connect();
    } catch (err) {
      dispatch({ type: 'connection/failed', message: uiError(err).message });
      return;
    }
    if (initialPid !== null) {
      // `--pid` shows the Memory view, unless the user went to another view while the agent connected
      // (a slow agent: they would be pulled away from it when the attach starts).
      const chosen = this.store.getState().view;
      await this.openPid(initialPid, null, chosen === viewAtStart ? null : chosen);
    }
  }

  stop(): void {
    for (const off of this.offs.splice(0)) off();
  }

  private async onConnection(event: ConnectionEvent): Promise<void> {
    const { dispatch } = this.store;
    switch (event.type) {
      case 'connected':
        dispatch({ type: 'connection/connected', target: event.target });
        await this.afterConnect();
        return;
      case 'lost':
        dispatch({ type: 'connection/lost', reason: event.reason, atMs: this.now() });
        return;
      case 'switch-failed':
        dispatch({
          type: 'notice/add',
          notice: event.refused
            ? {
                tone: 'warning',
                title: 'Elevation refused',
                message: `${describeTarget(event.target)} was not started: ${event.reason} Tierscope keeps using the current agent; other users' processes, page_idle and DAMON stay out of reach.`,
              }
            : {
                tone: 'error',
                title: `Could not switch to ${describeTarget(event.target)}`,
                message: event.reason,
              },
        });
        return;
    }
  }

  /**
   * Every new connection (first, after a loss, after an elevation or remote switch): handshake, fresh
   * lists, and the open process followed again if it was live (its subscription died with the old link).
   */
  private async afterConnect(): Promise<void> {
    const { dispatch } = this.store;
    const sessionBefore = this.store.getState().session.view;
    try {
      const hello = await this.api.call('hello', { protocolVersion: PROTOCOL_VERSION, client: CLIENT_NAME });
      dispatch({ type: 'connection/hello', hello });
      if (hello.protocolVersion !== PROTOCOL_VERSION) {
        dispatch({
          type: 'notice/add',
          notice: {
            tone: 'warning',
            title: 'Agent version differs',
            message: `The agent speaks protocol ${hello.protocolVersion}, this UI ${PROTOCOL_VERSION}: install the same Tierscope version on both ends.`,
          },
        });
      }
    } catch (err) {
      dispatch({
        type: 'notice/add',
        notice: { tone: 'error', title: 'Agent handshake failed', ...uiError(err) },
      });
    }
    const initialSession = this.initialSession;
    this.initialSession = null;
    // The session is what the user asked to see: when it cannot be opened, the Session view says why
    // (with Retry and a path field) instead of leaving the user on the process list with no word.
    if (initialSession !== null && (await this.openSession(initialSession)) !== null)
      dispatch({ type: 'view/show', view: 'session' });
    await Promise.all([this.refreshTopology(), this.refreshProcesses()]);
    const target = this.store.getState().target;
    if (target?.phase === 'paused' && this.store.getState().live.enabled) {
      await this.refreshTarget(true);
    }
    // Session handles die with the agent: a session open before this connection is opened again (view
    // state kept); one opened since (e.g. `--session` at start) already has a handle of this agent.
    if (sessionBefore !== null && this.store.getState().session.view === sessionBefore)
      await this.session.reload();
  }

  async reconnect(): Promise<void> {
    const { dispatch } = this.store;
    dispatch({ type: 'connection/reconnecting' });
    try {
      await this.api.reconnect();
    } catch (err) {
      dispatch({ type: 'connection/reconnect-failed', message: uiError(err).message });
    }
  }

  async refreshTopology(): Promise<void> {
    const { dispatch } = this.store;
    dispatch({ type: 'topology/loading' });
    const [topology, capabilities] = await Promise.allSettled([
      this.api.call('topology', {}),
      this.api.call('capabilities', {}),
    ]);
    if (topology.status === 'fulfilled') {
      dispatch({ type: 'topology/loaded', topology: topology.value, atMs: this.now() });
    } else {
      dispatch({ type: 'topology/failed', error: uiError(topology.reason) });
    }
    if (capabilities.status === 'fulfilled') {
      dispatch({ type: 'capabilities/loaded', capabilities: capabilities.value, atMs: this.now() });
    } else {
      dispatch({ type: 'capabilities/failed', error: uiError(capabilities.reason) });
    }
  }

  async refreshProcesses(): Promise<void> {
    const { dispatch } = this.store;
    dispatch({ type: 'processes/loading' });
    try {
      const processes = await this.api.call('listProcesses', {});
      dispatch({ type: 'processes/loaded', processes, atMs: this.now() });
    } catch (err) {
      dispatch({ type: 'processes/failed', error: uiError(err) });
    }
  }

  /**
   * Per-node columns of the picker: the listing has no per-node data, so the rows on screen are measured
   * with processNodes (numa_maps only), one batch in flight at a time; each call replaces what is still
   * queued, so rows scrolled past are not measured.
   */
  requestNodePages(visible: readonly ProcessInfo[]): void {
    const known = this.store.getState().nodePages;
    this.nodeQueue = visible.filter((p) => p.hasUserMemory && known[processKey(p)] === undefined);
    this.nodeWorker ??= this.drainNodeQueue().finally(() => {
      this.nodeWorker = null;
    });
  }

  private async drainNodeQueue(): Promise<void> {
    const { dispatch } = this.store;
    while (this.nodeQueue.length > 0) {
      if (this.store.getState().connection.status !== 'connected') {
        this.nodeQueue = [];
        return;
      }
      const batch = this.nodeQueue.splice(0, NODE_BATCH);
      for (const p of batch)
        dispatch({ type: 'nodePages/set', key: processKey(p), entry: { status: 'pending' } });
      try {
        const { pageSizeBytes, processes } = await this.api.call('processNodes', {
          pids: batch.map((p) => p.pid),
        });
        const byKey = new Map(processes.map((r) => [processKey(r), r]));
        for (const p of batch) {
          const key = processKey(p);
          const r = byKey.get(key);
          dispatch({
            type: 'nodePages/set',
            key,
            entry: r
              ? { status: 'ready', pagesByNode: r.pagesByNode, pageSizeBytes }
              : {
                  status: 'error',
                  code: 'unavailable',
                  message: `no per-node data for ${p.pid}: it exited, or the agent's user may not read its numa_maps`,
                },
          });
        }
      } catch (err) {
        const error = uiError(err);
        for (const p of batch)
          dispatch({ type: 'nodePages/set', key: processKey(p), entry: { status: 'error', ...error } });
      }
    }
  }

  /** Opens a process picked in the list (identity = pid + start time). */
  async selectProcess(p: Pick<ProcessInfo, 'pid' | 'comm' | 'startTimeTicks'>): Promise<void> {
    await this.open({ pid: p.pid, comm: p.comm, startTimeTicks: p.startTimeTicks });
  }

  /**
   * Opens a pid given without a listing (`--pid`): its start time comes from the first snapshot.
   * `keepView`: stay on that view instead of showing Memory (the process still opens).
   */
  async openPid(
    pid: number,
    startTimeTicks: number | null = null,
    keepView: View | null = null,
  ): Promise<void> {
    const listed = this.store
      .getState()
      .processes.data?.find(
        (p) => p.pid === pid && (startTimeTicks === null || p.startTimeTicks === startTimeTicks),
      );
    await this.open(
      {
        pid,
        comm: listed?.comm ?? `pid ${pid}`,
        startTimeTicks: startTimeTicks ?? listed?.startTimeTicks ?? null,
      },
      keepView,
    );
  }

  private async open(
    p: { pid: number; comm: string; startTimeTicks: number | null },
    keepView: View | null = null,
  ): Promise<void> {
    await this.detachCurrent();
    this.generation++;
    this.store.dispatch({ type: 'target/select', process: p });
    if (keepView !== null) this.store.dispatch({ type: 'view/show', view: keepView });
    await this.refreshTarget(this.store.getState().live.enabled);
  }

  /**
   * Live: attach (the agent's first snapshot arrives as an event right after the answer). Otherwise one
   * snapshot. Both carry the start time when known, so a reused PID is refused by the agent
   * ('process-gone') instead of showing another process's memory; that and an exited process become the
   * 'gone' state, not an error dialog.
   */
  async refreshTarget(live: boolean): Promise<void> {
    const { dispatch } = this.store;
    const target = this.store.getState().target;
    if (!target || target.phase === 'file') return;
    if (target.subscription !== null) return;
    const generation = this.generation;
    const { pid } = target;
    const expected = target.startTimeTicks === null ? {} : { startTimeTicks: target.startTimeTicks };
    try {
      if (live) {
        this.buffered.clear();
        this.attaching = true;
        const attached = await this.api
          .call('attach', { pid, intervalMs: this.store.getState().live.intervalMs, ...expected })
          .finally(() => {
            this.attaching = false;
          });
        if (generation !== this.generation) {
          // The user moved on while attaching: do not leak the subscription.
          await this.api.call('detach', { subscription: attached.subscription }).catch(() => undefined);
          return;
        }
        dispatch({
          type: 'target/attached',
          pid,
          subscription: attached.subscription,
          startTimeTicks: attached.startTimeTicks,
        });
        // Events that overtook the answer (the Electron relay can reorder them) are applied now.
        const early = this.buffered.get(attached.subscription);
        this.buffered.clear();
        if (early)
          dispatch({ type: 'target/live-snapshot', subscription: attached.subscription, snapshot: early });
      } else {
        const snapshot = await this.api.call('snapshot', { pid, ...expected });
        if (generation !== this.generation) return;
        dispatch({ type: 'target/snapshot', pid, snapshot });
      }
    } catch (err) {
      if (generation !== this.generation) return;
      const error = uiError(err);
      dispatch({ type: 'target/failed', pid, gone: error.code === 'process-gone', error });
    }
  }

  private async detachCurrent(): Promise<void> {
    const target = this.store.getState().target;
    if (!target?.subscription) return;
    this.store.dispatch({ type: 'target/paused', pid: target.pid });
    if (this.store.getState().connection.status !== 'connected') return;
    // Best effort: the agent also drops subscriptions of a closed connection.
    await this.api.call('detach', { subscription: target.subscription }).catch(() => undefined);
  }

  async setLive(enabled: boolean): Promise<void> {
    this.store.dispatch({ type: 'live/set', live: { enabled } });
    if (enabled) await this.refreshTarget(true);
    else await this.detachCurrent();
  }

  async setIntervalMs(intervalMs: number): Promise<void> {
    this.store.dispatch({ type: 'live/set', live: { intervalMs } });
    const target = this.store.getState().target;
    if (target?.phase === 'live') {
      await this.detachCurrent();
      await this.refreshTarget(true);
    }
  }

  /** Starts a command through the agent (argv, no shell) and opens it. */
  async launch(argv: string[], cwd: string | null): Promise<UiError | null> {
    try {
      const { pid, startTimeTicks } = await this.api.call('launch', cwd ? { argv, cwd } : { argv });
      this.store.dispatch({ type: 'dialog/set', dialog: null });
      await this.refreshProcesses();
      await this.openPid(pid, startTimeTicks);
      return null;
    } catch (err) {
      return uiError(err);
    }
  }

  async switchAgent(target: AgentTarget): Promise<UiError | null> {
    const desktop = this.api.desktop;
    if (!desktop) return { code: 'unsupported', message: 'Only the desktop app can start another agent.' };
    try {
      await this.detachCurrent();
      await desktop.switchAgent(target);
      this.store.dispatch({ type: 'dialog/set', dialog: null });
      return null;
    } catch (err) {
      return uiError(err);
    }
  }

  /** Desktop: save dialog in main. Browser: the caller downloads `snapshotJson()` itself. */
  async exportSnapshot(): Promise<void> {
    const snapshot = this.store.getState().target?.snapshot;
    const desktop = this.api.desktop;
    if (!snapshot || !desktop) return;
    try {
      const path = await desktop.exportSnapshot(snapshot);
      if (path !== null) {
        this.store.dispatch({
          type: 'notice/add',
          notice: { tone: 'info', title: 'Snapshot saved', message: path },
        });
      }
    } catch (err) {
      this.store.dispatch({
        type: 'notice/add',
        notice: { tone: 'error', title: 'Export failed', ...uiError(err) },
      });
    }
  }

  /** Opens a snapshot JSON (`tierscope snapshot --json`, or an export) without an agent. */
  async openSnapshotText(text: string, name: string): Promise<UiError | null> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return { code: 'parse', message: `${name} is not JSON (${String(err)}).` };
    }
    const result = Snapshot.safeParse(parsed);
    if (!result.success) {
      const issue = result.error.issues[0];
      return {
        code: 'parse',
        message: `${name} is not a Tierscope snapshot (${issue ? `${issue.path.join('.') || 'root'}: ${issue.message}` : 'invalid'}). Save one with \`tierscope snapshot --pid N --json > file.json\`.`,
      };
    }
    await this.detachCurrent();
    this.generation++;
    this.store.dispatch({ type: 'target/opened-file', path: name, snapshot: result.data });
    return null;
  }
}
