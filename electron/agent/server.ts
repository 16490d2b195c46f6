import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { once } from 'node:events';
import { readFile, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { describeIssues, type Transport } from '../contract/client.js';
import {
  Methods,
  PROTOCOL_VERSION,
  type AgentMessage,
  type ErrorPayload,
  type MethodName,
  type Params,
  type Result,
  type Snapshot,
} from '../contract/index.js';
import { pageSizeBytes as nativePageSizeBytes } from '../../native-bridge/index.js';
import { CAP_SYS_ADMIN, hasCap, parseCapEff, probeCapabilities } from '../engine/caps.js';
import { TierscopeError } from '../engine/errors.js';
import { ExperimentRegistry, type MoveBridge } from '../engine/migrate/index.js';
import { assertSameProcess, listProcesses, readProcStat } from '../engine/procfs/process.js';
import { takeSnapshot } from '../engine/snapshot.js';
import { readTopology } from '../engine/sysfs/topology.js';
import { exportSessionFile, saveSessionCopy } from '../engine/view/files.js';
import { buildHeatmap } from '../engine/view/heatmap.js';
import { MigrationManager } from '../engine/view/migrations.js';
import { RecordingManager } from '../engine/view/recordings.js';
import { buildVmaSeries } from '../engine/view/sessionView.js';
import { SessionRegistry } from '../engine/view/sessions.js';
import { ProtocolFailure, errorPayload } from './errors.js';
import { readProcessNodes } from './processNodes.js';

export interface AgentServerOptions {
  procRoot?: string;
  sysRoot?: string;
  etcRoot?: string;
  /** Reported by hello (the CLI passes its package version). */
  agentVersion?: string;
  /** The agent's log: one line per call, without newline. Default: nothing. Never the protocol stream. */
  log?: (line: string) => void;
  /** Live subscriptions one connection may hold (default 16). */
  maxSubscriptions?: number;
  /** Requests one connection may have in progress at once (default 64); more are answered 'busy'. */
  maxInFlight?: number;
  /** stdout/stderr of launched commands. Default: the agent's own stderr (fd 2), never its stdout. */
  launchOutput?: 'stderr' | 'ignore';
  /** Where startRecording without a path writes. Default: $XDG_DATA_HOME (~/.local/share)/tierscope/sessions. */
  sessionsDir?: string;
  /** Directory of the running-experiment registry. Default: the engine's (machine-wide). */
  experimentsDir?: string;
  /** The native calls of migrations (tests substitute a simulated kernel). Default: the real ones. */
  moveBridge?: MoveBridge;
  /** Sessions one connection may hold open (default 8). */
  maxOpenSessions?: number;
}

/** One served transport. */
export interface AgentConnection {
  /** Resolves when the transport has closed and the connection's subscriptions are stopped. */
  readonly closed: Promise<void>;
  /** Live subscriptions of this connection. */
  readonly subscriptionCount: number;
  close(): void;
}

interface Subscription {
  id: string;
  pid: number;
  comm: string;
  startTimeTicks: number;
  intervalMs: number;
  timer: ReturnType<typeof setTimeout> | null;
  stopped: boolean;
}

/** What a handler gets besides its params. */
interface Connection {
  readonly id: number;
  readonly subscriptions: Map<string, Subscription>;
  send(message: AgentMessage): void;
  readonly open: boolean;
}

/** What a handler gets about its own request. */
interface RequestContext {
  /** Runs `fn` right after this request's answer is sent (events of work it started come after it). */
  afterAnswer(fn: () => void): void;
}

type Handlers = {
  [M in MethodName]: (params: Params<M>, conn: Connection, ctx: RequestContext) => Promise<Result<M>>;
};

/** How long launched commands get to exit after SIGTERM when the agent closes. */
const LAUNCHED_TERM_GRACE_MS = 5000;

/** Enough of a request to answer it: anything with a usable id gets an answer, the rest is dropped. */
const Envelope = z.object({
  id: z.number().int().nonnegative(),
  method: z.string(),
  params: z.unknown().optional(),
});

/**
 * The agent: answers protocol requests by calling the engine. Every request is validated (envelope, then
 * params with the method's schema) before anything runs; every failure becomes `{ok: false, error: {code,
 * message}}` with the engine's code and one-line message; malformed input without a usable id is logged
 * and dropped. Nothing a peer sends can throw out of here: a connection only ends when its transport does.
 *
 * One server serves any number of connections (one per UI); each has its own subscriptions, stopped when
 * its transport closes. Commands started with `launch` belong to the server, not to a connection, so a
 * UI that reconnects can attach to them again; close() terminates those still running.
 */
export class AgentServer {
  readonly #procRoot: string;
  readonly #sysRoot: string;
  readonly #etcRoot: string;
  readonly #agentVersion: string;
  readonly #log: (line: string) => void;
  readonly #maxSubscriptions: number;
  readonly #maxInFlight: number;
  readonly #launchStdio: StdioOptions;
  readonly #connections = new Set<{ close(): void; closed: Promise<void> }>();
  readonly #launched = new Set<ChildProcess>();
  readonly #handlers: Handlers;
  readonly #sessions: SessionRegistry;
  readonly #recordings: RecordingManager;
  readonly #migrations: MigrationManager;
  #nextConnectionId = 1;
  #nextSubscriptionId = 1;
  #droppedMessages = 0;
  #pageSizeBytes: number | null = null;

  constructor(options: AgentServerOptions = {}) {
    this.#procRoot = options.procRoot ?? '/proc';
    this.#sysRoot = options.sysRoot ?? '/sys';
    this.#etcRoot = options.etcRoot ?? '/etc';
    this.#agentVersion = options.agentVersion ?? 'unknown';
    this.#log = options.log ?? (() => undefined);
    this.#maxSubscriptions = options.maxSubscriptions ?? 16;
    this.#maxInFlight = options.maxInFlight ?? 64;
    this.#launchStdio = options.launchOutput === 'ignore' ? 'ignore' : ['ignore', 2, 2];
    const roots = { procRoot: this.#procRoot, sysRoot: this.#sysRoot };
    this.#recordings = new RecordingManager({
      ...roots,
      tierscopeVersion: this.#agentVersion,
      log: this.#log,
      ...(options.sessionsDir !== undefined ? { sessionsDir: options.sessionsDir } : {}),
    });
    this.#migrations = new MigrationManager({
      ...roots,
      recordings: this.#recordings,
      log: this.#log,
      ...(options.experimentsDir !== undefined
        ? { registry: new ExperimentRegistry(options.experimentsDir, this.#procRoot) }
        : {}),
      ...(options.moveBridge !== undefined ? { bridge: options.moveBridge } : {}),
    });
    this.#sessions = new SessionRegistry({
      isLive: (file) => this.#recordings.isRecording(file),
      ...(options.maxOpenSessions !== undefined ? { maxPerOwner: options.maxOpenSessions } : {}),
    });
    this.#handlers = {
      hello: (p) => this.#hello(p),
      topology: () => readTopology({ sysRoot: this.#sysRoot, procRoot: this.#procRoot }),
      capabilities: (p) =>
        probeCapabilities({
          sysRoot: this.#sysRoot,
          procRoot: this.#procRoot,
          ...(p.pid !== undefined ? { pid: p.pid } : {}),
        }),
      listProcesses: () => listProcesses({ procRoot: this.#procRoot, etcRoot: this.#etcRoot }),
      processNodes: async (p) => {
        const pageSizeBytes = this.#pageSize();
        return {
          pageSizeBytes,
          processes: await readProcessNodes(p.pids, { procRoot: this.#procRoot, pageSizeBytes }),
        };
      },
      snapshot: (p) => this.#snapshot(p.pid, p.startTimeTicks),
      attach: (p, conn) => this.#attach(p, conn),
      detach: (p, conn) => Promise.resolve(this.#detach(p, conn)),
      launch: (p) => this.#launch(p),

      openSession: (p, conn) => this.#sessions.open(p.path, conn.id),
      closeSession: (p, conn) => {
        this.#sessions.close(p.handle, conn.id);
        return Promise.resolve({});
      },
      vmaSeries: (p, conn) => Promise.resolve(this.#vmaSeries(p, conn)),
      heatmap: (p, conn) => {
        const { session } = this.#sessions.get(p.handle, conn.id);
        return Promise.resolve(
          buildHeatmap(
            { heat: session.heatRows, vmas: session.vmas, intervalCount: session.intervalCount },
            p,
          ),
        );
      },
      exportSession: (p, conn) => {
        const { session, live } = this.#sessions.get(p.handle, conn.id);
        // The opened model, unless it is a snapshot of a file still growing: that one is read again.
        return exportSessionFile(live ? session.path : session, p.format, {
          path: p.path,
          overwrite: p.overwrite,
          protectedPaths: [session.path, ...this.#recordings.recordingPaths()],
        });
      },
      saveSessionAs: (p, conn) => {
        const { session } = this.#sessions.get(p.handle, conn.id);
        return saveSessionCopy(session.path, {
          path: p.path,
          overwrite: p.overwrite,
          protectedPaths: [session.path, ...this.#recordings.recordingPaths()],
        });
      },
      startRecording: (p, conn, ctx) => {
        const send = gatedSender(conn, ctx);
        return this.#recordings.start(p, {
          progress: (data) => {
            send({ event: 'recordingProgress', data });
          },
          ended: (data) => {
            send({ event: 'recordingEnded', data });
          },
        });
      },
      stopRecording: async (p) => {
        const { path: file, intervals, end } = await this.#recordings.stop(p.recording);
        return { path: file, intervals, end };
      },
      startMigration: (p, conn, ctx) => {
        const send = gatedSender(conn, ctx);
        return this.#migrations.start(p, {
          progress: (data) => {
            send({ event: 'experimentProgress', data });
          },
          ended: (data) => {
            send({ event: 'experimentEnded', data });
          },
        });
      },
      cancelExperiment: (p) => {
        this.#migrations.cancel(p.experimentId);
        return Promise.resolve({});
      },
    };
  }

  /** Sessions open on all connections. */
  get openSessionCount(): number {
    return this.#sessions.size;
  }

  /** Recordings started through this server that are still running. */
  get recordingCount(): number {
    return this.#recordings.runningCount;
  }

  /** Migration experiments started through this server that are still running. */
  get experimentCount(): number {
    return this.#migrations.runningCount;
  }

  /** Incoming messages dropped as malformed (no usable id) since the server started. */
  get droppedMessages(): number {
    return this.#droppedMessages;
  }

  /** Commands started by `launch` that are still running. */
  get launchedCount(): number {
    return this.#launched.size;
  }

  /** Serves one transport until it closes. */
  serve(transport: Transport): AgentConnection {
    const subscriptions = new Map<string, Subscription>();
    let open = true;
    let inFlight = 0;
    let markClosed: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => {
      markClosed = resolve;
    });
    const conn: Connection = {
      id: this.#nextConnectionId++,
      subscriptions,
      send: (message) => {
        if (!open) return;
        try {
          transport.send(JSON.stringify(message));
        } catch {
          // The transport ended under us; its onClose does the cleanup.
        }
      },
      get open() {
        return open;
      },
    };
    const entry = {
      close: () => {
        transport.close();
      },
      closed,
    };
    this.#connections.add(entry);

    transport.onClose((reason) => {
      if (!open) return;
      open = false;
      for (const sub of subscriptions.values()) stopSubscription(sub);
      subscriptions.clear();
      // Its open sessions go; its recordings and experiments go on (they belong to the server).
      this.#sessions.closeOwner(conn.id);
      this.#connections.delete(entry);
      this.#log(`connection ${conn.id} closed: ${reason}`);
      markClosed();
    });
    transport.onMessage((text) => {
      const after: (() => void)[] = [];
      const ctx: RequestContext = { afterAnswer: (fn) => after.push(fn) };
      const answer = this.#dispatch(text, conn, inFlight, ctx);
      if (answer === null) return;
      inFlight++;
      void answer.then((response) => {
        inFlight--;
        conn.send(response);
        for (const fn of after) fn();
      });
    });
    return {
      closed,
      get subscriptionCount() {
        return subscriptions.size;
      },
      close: entry.close,
    };
  }

  /**
   * Closes every connection, cancels running experiments (between batches, recorded as cancelled), stops
   * recordings cleanly (their files get an end record) and terminates launched commands.
   */
  async close(): Promise<void> {
    const connections = [...this.#connections];
    for (const c of connections) c.close();
    await Promise.all(connections.map((c) => c.closed));
    // Experiments first: one linked to a recording is written into it before the recording stops.
    await this.#migrations.cancelAll();
    await this.#recordings.stopAll();
    const exits = [...this.#launched].map(async (child) => {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      // A command that ignores SIGTERM must not keep the agent alive forever.
      const force = setTimeout(() => child.kill('SIGKILL'), LAUNCHED_TERM_GRACE_MS);
      await exited;
      clearTimeout(force);
    });
    await Promise.all(exits);
  }

  /**
   * Validates one message; returns the promise of its answer, or null when it is dropped (no usable id).
   * Never throws and never rejects.
   */
  #dispatch(
    text: string,
    conn: Connection,
    inFlight: number,
    ctx: RequestContext,
  ): Promise<AgentMessage> | null {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return this.#drop(conn, 'not JSON', text);
    }
    const envelope = Envelope.safeParse(raw);
    if (!envelope.success) {
      const id = (raw as { id?: unknown } | null)?.id;
      if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) {
        return Promise.resolve(
          failure(id, {
            code: 'bad-request',
            message: `not a request: ${describeIssues(envelope.error)}; expected {"id", "method", "params"}`,
          }),
        );
      }
      return this.#drop(conn, 'no usable request id', text);
    }
    const { id, method, params } = envelope.data;
    if (!Object.hasOwn(Methods, method)) {
      return Promise.resolve(
        failure(id, {
          code: 'unknown-method',
          message: `unknown method ${JSON.stringify(method.slice(0, 64))}: this agent (tierscope ${this.#agentVersion}) knows ${Object.keys(Methods).join(', ')}; use the same tierscope version on both sides`,
        }),
      );
    }
    const name = method as MethodName;
    const checked = Methods[name][0].safeParse(params ?? {});
    if (!checked.success) {
      return Promise.resolve(
        failure(id, { code: 'bad-request', message: `${name}: ${describeIssues(checked.error)}` }),
      );
    }
    if (inFlight >= this.#maxInFlight) {
      return Promise.resolve(
        failure(id, {
          code: 'busy',
          message: `the agent is already working on ${inFlight} requests of this connection: wait for their answers`,
        }),
      );
    }
    const handler = this.#handlers[name] as (
      params: unknown,
      conn: Connection,
      ctx: RequestContext,
    ) => Promise<unknown>;
    const started = Date.now();
    return (async (): Promise<AgentMessage> => {
      try {
        const result = await handler(checked.data, conn, ctx);
        this.#log(`${conn.id}#${id} ${name}: ok (${Date.now() - started} ms)`);
        return { id, ok: true, result };
      } catch (err) {
        const error = errorPayload(err, this.#log);
        this.#log(`${conn.id}#${id} ${name}: ${error.code}: ${error.message}`);
        return failure(id, error);
      }
    })();
  }

  #drop(conn: Connection, why: string, text: string): null {
    this.#droppedMessages++;
    const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
    this.#log(`connection ${conn.id}: dropped a message (${why}): ${JSON.stringify(shown)}`);
    return null;
  }

  #pageSize(): number {
    this.#pageSizeBytes ??= nativePageSizeBytes();
    return this.#pageSizeBytes;
  }

  async #hello(p: Params<'hello'>): Promise<Result<'hello'>> {
    if (p.protocolVersion !== PROTOCOL_VERSION) {
      throw new ProtocolFailure(
        'protocol-version',
        `${p.client} speaks protocol ${p.protocolVersion}, this agent (tierscope ${this.#agentVersion}) ${PROTOCOL_VERSION}: install the same tierscope version on both sides`,
      );
    }
    const statusFile = path.join(this.#procRoot, 'self/status');
    const capEff = parseCapEff(await readFile(statusFile, 'utf8'), statusFile);
    return {
      protocolVersion: PROTOCOL_VERSION,
      agentVersion: this.#agentVersion,
      hostname: hostname(),
      uid: process.getuid?.() ?? 0,
      privileged: hasCap(capEff, CAP_SYS_ADMIN),
    };
  }

  async #snapshot(pid: number, expectedStartTicks: number | undefined): Promise<Snapshot> {
    if (expectedStartTicks !== undefined)
      await assertSameProcess(pid, expectedStartTicks, { procRoot: this.#procRoot });
    const snap = await takeSnapshot(pid, {
      procRoot: this.#procRoot,
      sysRoot: this.#sysRoot,
      pageSizeBytes: this.#pageSize(),
    });
    // takeSnapshot confirms identity within itself; this ties it to the process the caller meant.
    if (expectedStartTicks !== undefined && snap.startTimeTicks !== expectedStartTicks) {
      throw new TierscopeError(
        'process-gone',
        `process ${pid} was replaced: PID reused by a new process; the process you chose has exited, pick it again`,
      );
    }
    return snap;
  }

  async #attach(p: Params<'attach'>, conn: Connection): Promise<Result<'attach'>> {
    if (conn.subscriptions.size >= this.#maxSubscriptions) {
      throw new TierscopeError(
        'busy',
        `this connection already follows ${conn.subscriptions.size} processes (the limit): detach one first`,
      );
    }
    const first = await this.#snapshot(p.pid, p.startTimeTicks);
    if (!conn.open) throw new TierscopeError('busy', 'the connection closed while attaching');
    const sub: Subscription = {
      id: `${conn.id}.${this.#nextSubscriptionId++}`,
      pid: p.pid,
      comm: first.comm,
      startTimeTicks: first.startTimeTicks,
      intervalMs: p.intervalMs,
      timer: null,
      stopped: false,
    };
    conn.subscriptions.set(sub.id, sub);
    // The first event carries the snapshot already taken; it goes out after this call's answer.
    sub.timer = setTimeout(() => {
      this.#publish(sub, conn, first, Date.now());
    }, 0);
    return { subscription: sub.id, pid: sub.pid, startTimeTicks: sub.startTimeTicks };
  }

  #publish(sub: Subscription, conn: Connection, snapshot: Snapshot, startedMs: number): void {
    if (sub.stopped) return;
    conn.send({ event: 'snapshot', data: { subscription: sub.id, snapshot } });
    // Timed from the start of this snapshot, never overlapping: a slow read delays the next, never stacks.
    const delayMs = Math.max(0, sub.intervalMs - (Date.now() - startedMs));
    sub.timer = setTimeout(() => {
      void this.#tick(sub, conn);
    }, delayMs);
  }

  async #tick(sub: Subscription, conn: Connection): Promise<void> {
    if (sub.stopped) return;
    const started = Date.now();
    let snapshot: Snapshot;
    try {
      snapshot = await this.#snapshot(sub.pid, sub.startTimeTicks);
    } catch (err) {
      // detach or the connection's end may have come while the read was in flight
      if (isStopped(sub)) return;
      const end = await this.#endReason(sub, err);
      stopSubscription(sub);
      conn.subscriptions.delete(sub.id);
      this.#log(`subscription ${sub.id} (process ${sub.pid}) ended: ${end.code}: ${end.message}`);
      conn.send({ event: 'detached', data: { subscription: sub.id, code: end.code, reason: end.message } });
      return;
    }
    this.#publish(sub, conn, snapshot, started);
  }

  /** Why a subscription's read failed: its process is gone (exited, zombie, PID reused), or the error itself. */
  async #endReason(sub: Subscription, err: unknown): Promise<ErrorPayload> {
    const exited = { code: 'process-gone', message: `process ${sub.pid} (${sub.comm}) exited` };
    try {
      const st = await readProcStat(sub.pid, { procRoot: this.#procRoot });
      if (st.startTimeTicks !== sub.startTimeTicks) {
        return {
          code: 'process-gone',
          message: `process ${sub.pid} (${sub.comm}) exited; its PID was reused`,
        };
      }
      // A zombie keeps its /proc entry until reaped but has no memory left: it has exited.
      if (st.state === 'Z' || st.state === 'X') return exited;
    } catch (statErr) {
      if (statErr instanceof TierscopeError && statErr.code === 'process-gone') return exited;
    }
    return errorPayload(err, this.#log);
  }

  #vmaSeries(p: Params<'vmaSeries'>, conn: Connection): Result<'vmaSeries'> {
    const { session } = this.#sessions.get(p.handle, conn.id);
    const series = p.vmaIds.map((id) => {
      const s = buildVmaSeries(session, id);
      if (!s) {
        throw new TierscopeError(
          'not-found',
          `${session.path} has no VMA with id ${id}: take the ids from the session view`,
        );
      }
      return s;
    });
    return { series };
  }

  #detach(p: Params<'detach'>, conn: Connection): Result<'detach'> {
    const sub = conn.subscriptions.get(p.subscription);
    if (!sub) {
      throw new TierscopeError(
        'not-found',
        `no subscription ${JSON.stringify(p.subscription.slice(0, 64))} on this connection: it was detached already, or its process exited (see the detached event)`,
      );
    }
    stopSubscription(sub);
    conn.subscriptions.delete(sub.id);
    return {};
  }

  async #launch(p: Params<'launch'>): Promise<Result<'launch'>> {
    const [command, ...args] = p.argv;
    if (command === undefined) throw new TierscopeError('invalid-argument', 'launch: argv is empty');
    const shown = JSON.stringify(command.slice(0, 200));
    if (p.cwd !== undefined) {
      const st = await stat(p.cwd).catch(() => null);
      if (!st?.isDirectory()) {
        throw new TierscopeError(
          'not-found',
          `cannot launch ${shown}: working directory ${JSON.stringify(p.cwd)} does not exist or is not a directory`,
        );
      }
    }
    if (command.includes('\0') || args.some((a) => a.includes('\0'))) {
      throw new TierscopeError('invalid-argument', `cannot launch ${shown}: an argument contains a NUL byte`);
    }
    // No shell: argv goes to execve as given, so nothing in it is interpreted.
    const child: ChildProcess = spawn(command, args, {
      stdio: this.#launchStdio,
      shell: false,
      ...(p.cwd !== undefined ? { cwd: p.cwd } : {}),
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    } catch (err) {
      throw launchError(err, shown);
    }
    const pid = child.pid;
    if (pid === undefined) throw new TierscopeError('not-found', `cannot launch ${shown}: it did not start`);
    this.#launched.add(child);
    child.once('exit', (code, signal) => {
      this.#launched.delete(child);
      this.#log(`launched process ${pid} (${shown}) ended: ${signal ?? `exit code ${String(code)}`}`);
    });
    this.#log(`launched process ${pid}: ${shown}`);
    try {
      const st = await readProcStat(pid, { procRoot: this.#procRoot });
      if (st.state === 'Z' || st.state === 'X') throw new TierscopeError('process-gone', 'exited');
      return { pid, startTimeTicks: st.startTimeTicks };
    } catch (err) {
      if (!(err instanceof TierscopeError && err.code === 'process-gone')) throw err;
      const [code, signal] = (
        child.exitCode !== null || child.signalCode !== null
          ? [child.exitCode, child.signalCode]
          : await once(child, 'exit')
      ) as [number | null, string | null];
      throw new TierscopeError(
        'process-gone',
        `${shown} exited right after it started (${signal ?? `exit code ${String(code)}`}): nothing to attach to; check the command in a terminal`,
      );
    }
  }
}

/**
 * Sends events of work a request started on its connection, holding those that come before the
 * request's answer until it is out: the UI learns the recording or experiment id from the answer.
 */
function gatedSender(conn: Connection, ctx: RequestContext): (message: AgentMessage) => void {
  let answered = false;
  const held: AgentMessage[] = [];
  ctx.afterAnswer(() => {
    answered = true;
    for (const message of held.splice(0)) conn.send(message);
  });
  return (message) => {
    if (answered) conn.send(message);
    else held.push(message);
  };
}

function failure(id: number, error: ErrorPayload): AgentMessage {
  return { id, ok: false, error };
}

function isStopped(sub: Subscription): boolean {
  return sub.stopped;
}

function stopSubscription(sub: Subscription): void {
  sub.stopped = true;
  if (sub.timer !== null) clearTimeout(sub.timer);
  sub.timer = null;
}

function launchError(err: unknown, shown: string): TierscopeError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return new TierscopeError(
        'not-found',
        `cannot launch ${shown}: no such command (not found in the agent's PATH): give its full path`,
        { cause: err },
      );
    case 'EACCES':
    case 'EPERM':
      return new TierscopeError(
        'permission',
        `cannot launch ${shown}: permission denied (not executable, or a directory)`,
        { cause: err },
      );
    default:
      return new TierscopeError('not-found', `cannot launch ${shown}: ${String(err)}`, { cause: err });
  }
}
