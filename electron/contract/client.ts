import {
  AgentMessage,
  Events,
  Methods,
  PROTOCOL_VERSION,
  type EventData,
  type EventName,
  type MethodName,
  type Params,
  type Result,
} from './protocol.js';

/**
 * The UI side of the agent protocol. Runs unchanged in a browser (the renderer, browser mode), in
 * Electron's main process and in Node tests: zod and the protocol schemas only, no Node built-ins.
 *
 * Everything the agent sends is validated here, at the receiving edge: a response's `result` with its
 * method's result schema, an event's data with that event's schema. Anything malformed is dropped and
 * counted (`droppedMessages`, `onDropped`), never thrown at the UI. When the transport closes (agent
 * crashed, ssh link died, WebSocket server stopped) every pending call rejects with
 * AgentError('disconnected') and `onDisconnect` listeners hear why.
 *
 * Reconnecting: a client is bound to one transport for life. After a disconnect, make a new transport
 * (spawnAgent / webSocketTransport again) and a new AgentClient, call `hello`, re-`attach` what was being
 * followed; the UI keeps the data it already has and shows it as stale meanwhile.
 */

/** A bidirectional text channel carrying one protocol message per send/onMessage. */
export interface Transport {
  /** Sends one message. Throws AgentError('disconnected') once the transport is closed. */
  send(text: string): void;
  onMessage(cb: (text: string) => void): void;
  /** Called once when the channel ends, with a one-line reason a user can read. */
  onClose(cb: (reason: string) => void): void;
  close(): void;
}

/**
 * A failed call. `code` is the agent's (engine codes such as process-gone or permission, protocol codes
 * such as bad-request, see protocol.ts) or one of the client's own:
 * - `disconnected`: the transport closed before the answer came (or was closed already);
 * - `timeout`: no answer within timeoutMs;
 * - `aborted`: the caller's AbortSignal fired;
 * - `invalid-response`: the agent answered with something that does not match the protocol;
 * - `connect-failed`: webSocketTransport could not connect;
 * - `unsupported`: this runtime lacks what the transport needs (WebSocket in Node < 22).
 * `message` is one line for the user: cause and, where there is one, remedy.
 */
export class AgentError extends Error {
  override readonly name = 'AgentError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The two ends of a transport built with createTransport: the public one and the feeding one. */
export interface TransportEnds {
  transport: Transport;
  /** Hands one received message to the transport's listeners (queued until the first listener). */
  deliver: (text: string) => void;
  /** The channel ended: onClose listeners run once with `reason`; later deliveries are dropped. */
  end: (reason: string) => void;
  readonly closed: boolean;
}

/**
 * Builds a Transport around a raw channel, with the semantics every transport shares: messages that
 * arrive before anyone listens are queued, the close reason is reported exactly once (also to listeners
 * that register after the end), and send after the end throws AgentError('disconnected').
 */
export function createTransport(channel: { send(text: string): void; close(): void }): TransportEnds {
  const messageListeners: ((text: string) => void)[] = [];
  const closeListeners: ((reason: string) => void)[] = [];
  const queued: string[] = [];
  let endReason: string | null = null;

  const ends: TransportEnds = {
    transport: {
      send(text) {
        if (endReason !== null) throw new AgentError('disconnected', `not connected: ${endReason}`);
        try {
          channel.send(text);
        } catch (err) {
          const reason = `sending failed: ${err instanceof Error ? err.message : String(err)}`;
          ends.end(reason);
          throw new AgentError('disconnected', reason);
        }
      },
      onMessage(cb) {
        messageListeners.push(cb);
        if (messageListeners.length === 1) for (const text of queued.splice(0)) cb(text);
      },
      onClose(cb) {
        closeListeners.push(cb);
        const reason = endReason;
        // Already over: tell the late listener, but not from inside its own registration call.
        if (reason !== null) {
          queueMicrotask(() => {
            cb(reason);
          });
        }
      },
      close() {
        if (endReason !== null) return;
        try {
          channel.close();
        } finally {
          ends.end('closed by this side');
        }
      },
    },
    deliver(text) {
      if (endReason !== null) return;
      if (messageListeners.length === 0) queued.push(text);
      else for (const cb of messageListeners) cb(text);
    },
    end(reason) {
      if (endReason !== null) return;
      endReason = reason;
      queued.length = 0;
      for (const cb of closeListeners) cb(reason);
    },
    get closed() {
      return endReason !== null;
    },
  };
  return ends;
}

export interface AgentClientOptions {
  /** Default time a call may wait for its answer (0 = forever). Default 60 s: a snapshot of a huge process is slow. */
  timeoutMs?: number;
  /** Hears about every dropped incoming message (malformed, or not matching its schema). Default: console.warn. */
  onDropped?: (reason: string) => void;
}

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

interface Pending {
  method: MethodName;
  resolve(value: unknown): void;
  reject(err: AgentError): void;
  /** Clears the timer and the abort listener. */
  cleanup(): void;
}

const DEFAULT_TIMEOUT_MS = 60_000;
/** setTimeout's delay is a signed 32-bit number of ms; beyond it fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class AgentClient {
  readonly #transport: Transport;
  readonly #timeoutMs: number;
  readonly #onDropped: (reason: string) => void;
  readonly #pending = new Map<number, Pending>();
  readonly #eventListeners = new Map<EventName, Set<(data: unknown) => void>>();
  readonly #disconnectListeners = new Set<(reason: string) => void>();
  #nextId = 1;
  #connected = true;
  #closedByUs = false;
  #disconnectReason = '';
  #dropped = 0;

  constructor(transport: Transport, options: AgentClientOptions = {}) {
    this.#transport = transport;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#onDropped =
      options.onDropped ??
      ((reason) => {
        console.warn(`tierscope: dropped a message from the agent: ${reason}`);
      });
    transport.onMessage((text) => {
      this.#receive(text);
    });
    transport.onClose((reason) => {
      this.#lost(reason);
    });
  }

  /** False once the transport closed (or close() was called); calls then reject with 'disconnected'. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Why the connection ended ('' while connected). */
  get disconnectReason(): string {
    return this.#disconnectReason;
  }

  /** Incoming messages dropped as malformed so far. */
  get droppedMessages(): number {
    return this.#dropped;
  }

  call<M extends MethodName>(method: M, params: Params<M>, opts: CallOptions = {}): Promise<Result<M>> {
    if (!this.#connected) {
      return Promise.reject(
        new AgentError('disconnected', `not connected to the agent: ${this.#disconnectReason}`),
      );
    }
    const paramsSchema = (Methods as Record<string, readonly [ZodLike, ZodLike]>)[method]?.[0];
    if (paramsSchema === undefined) {
      return Promise.reject(new AgentError('unknown-method', `unknown method '${method}'`));
    }
    const checked = paramsSchema.safeParse(params);
    if (!checked.success) {
      return Promise.reject(new AgentError('bad-request', `${method}: ${describeIssues(checked.error)}`));
    }
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(new AgentError('aborted', `${method} was cancelled`));

    const id = this.#nextId++;
    const timeoutMs = opts.timeoutMs ?? this.#timeoutMs;
    return new Promise<Result<M>>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = (): void => {
        this.#settle(id)?.reject(new AgentError('aborted', `${method} was cancelled`));
      };
      const pending: Pending = {
        method,
        resolve,
        reject,
        cleanup: () => {
          if (timer !== undefined) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      this.#pending.set(id, pending);
      if (timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS) {
        timer = setTimeout(() => {
          this.#settle(id)?.reject(
            new AgentError(
              'timeout',
              `${method} got no answer from the agent within ${timeoutMs} ms: the agent is busy or stuck; try again, or reconnect`,
            ),
          );
        }, timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        this.#transport.send(JSON.stringify({ id, method, params: checked.data }));
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        this.#settle(id)?.reject(new AgentError('disconnected', `cannot reach the agent: ${reason}`));
      }
    });
  }

  /** Subscribes to an event; returns the unsubscribe function. Listener exceptions are caught and logged. */
  on<E extends EventName>(event: E, cb: (data: EventData<E>) => void): () => void {
    let set = this.#eventListeners.get(event);
    if (!set) {
      set = new Set();
      this.#eventListeners.set(event, set);
    }
    const listener = cb as (data: unknown) => void;
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** Hears once why the agent was lost (not after close(): that one is deliberate). Returns unsubscribe. */
  onDisconnect(cb: (reason: string) => void): () => void {
    this.#disconnectListeners.add(cb);
    return () => {
      this.#disconnectListeners.delete(cb);
    };
  }

  /** Ends the connection on purpose: pending calls reject with 'disconnected', onDisconnect stays quiet. */
  close(): void {
    if (!this.#connected) return;
    this.#closedByUs = true;
    this.#lost('closed by the client');
    this.#transport.close();
  }

  #settle(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    if (!pending) return undefined;
    this.#pending.delete(id);
    pending.cleanup();
    return pending;
  }

  #drop(reason: string): void {
    this.#dropped++;
    try {
      this.#onDropped(reason);
    } catch {
      // a failing logger must not take the connection down
    }
  }

  #receive(text: string): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.#drop(`not JSON: ${preview(text)}`);
      return;
    }
    const parsed = AgentMessage.safeParse(json);
    if (!parsed.success) {
      this.#drop(`neither a response nor an event: ${preview(text)}`);
      return;
    }
    const msg = parsed.data;
    if ('event' in msg) {
      this.#emit(msg.event, msg.data);
      return;
    }
    if (!this.#pending.has(msg.id)) {
      // A late answer to a call that timed out or was aborted is expected; an id never issued is not.
      if (msg.id >= this.#nextId || msg.id === 0)
        this.#drop(`answer to request ${msg.id}, which was never sent`);
      return;
    }
    const pending = this.#settle(msg.id);
    if (!pending) return;
    if (!msg.ok) {
      pending.reject(new AgentError(msg.error.code, msg.error.message));
      return;
    }
    const resultSchema = (Methods as Record<string, readonly [ZodLike, ZodLike]>)[pending.method]?.[1];
    const result = resultSchema?.safeParse(msg.result);
    if (!result?.success) {
      const why = result ? describeIssues(result.error) : 'no schema';
      this.#drop(`${pending.method} result does not match the protocol: ${why}`);
      pending.reject(
        new AgentError(
          'invalid-response',
          `the agent's answer to ${pending.method} does not match the protocol (${why}): the agent is probably another tierscope version; install the same version on both sides`,
        ),
      );
      return;
    }
    pending.resolve(result.data);
  }

  #emit(event: EventName, raw: unknown): void {
    const checked = Events[event].safeParse(raw);
    if (!checked.success) {
      this.#drop(`${event} event does not match the protocol: ${describeIssues(checked.error)}`);
      return;
    }
    for (const cb of this.#eventListeners.get(event) ?? []) {
      try {
        cb(checked.data);
      } catch (err) {
        console.error(`tierscope: a ${event} event listener threw:`, err);
      }
    }
  }

  #lost(reason: string): void {
    if (!this.#connected) return;
    this.#connected = false;
    this.#disconnectReason = reason;
    const pending = [...this.#pending.keys()];
    for (const id of pending) {
      const p = this.#settle(id);
      p?.reject(new AgentError('disconnected', `lost the agent while waiting for ${p.method}: ${reason}`));
    }
    if (this.#closedByUs) return;
    for (const cb of this.#disconnectListeners) {
      try {
        cb(reason);
      } catch (err) {
        console.error('tierscope: a disconnect listener threw:', err);
      }
    }
  }
}

/** Calls hello and checks the protocol version: the first call on every new connection. */
export async function handshake(
  client: AgentClient,
  clientName: string,
  opts: CallOptions = {},
): Promise<Result<'hello'>> {
  const hello = await client.call('hello', { protocolVersion: PROTOCOL_VERSION, client: clientName }, opts);
  if (hello.protocolVersion !== PROTOCOL_VERSION) {
    throw new AgentError(
      'protocol-version',
      `the agent speaks protocol ${hello.protocolVersion}, this UI ${PROTOCOL_VERSION}: install the same tierscope version on both sides`,
    );
  }
  return hello;
}

/** The part of a zod schema the client uses (keeps the Methods table indexable by a plain string). */
interface ZodLike {
  safeParse(value: unknown): { success: true; data: unknown } | { success: false; error: IssueList };
}
interface IssueList {
  issues: readonly { path: readonly PropertyKey[]; message: string }[];
}

/** First schema issue as one line ("pid: Too small: expected number to be >0 (+1 more)"). */
export function describeIssues(error: IssueList): string {
  const [first] = error.issues;
  if (!first) return 'invalid';
  const where = first.path.length > 0 ? first.path.map(String).join('.') : 'value';
  const more = error.issues.length > 1 ? ` (+${error.issues.length - 1} more)` : '';
  return `${where}: ${first.message}${more}`;
}

function preview(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

/** The subset of the WebSocket API (browser, Node ≥ 22) this module needs. */
interface WebSocketLike {
  binaryType: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (ev: { code: number; reason: string }) => void): void;
}
type WebSocketConstructor = new (url: string) => WebSocketLike;

/** The URL without its token, for messages and logs. */
export function redactToken(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/g, '$1…');
}

/**
 * Connects to a WebSocket agent endpoint (browser mode: `ws://127.0.0.1:P/agent?token=…`) with the
 * runtime's own WebSocket (browsers, Node ≥ 22). Resolves once open; rejects with
 * AgentError('connect-failed') when the server is down or refuses (a wrong token is a refusal), or
 * AgentError('unsupported') without a global WebSocket (Node 20: use the ws-backed transport of
 * electron/agent instead).
 */
export function webSocketTransport(url: string): Promise<Transport> {
  const Ctor = (globalThis as unknown as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (Ctor === undefined) {
    return Promise.reject(
      new AgentError(
        'unsupported',
        'this runtime has no WebSocket (Node before 22): use a ws-backed transport (electron/agent connectWebSocket)',
      ),
    );
  }
  const shown = redactToken(url);
  return new Promise<Transport>((resolve, reject) => {
    let socket: WebSocketLike;
    try {
      socket = new Ctor(url);
    } catch (err) {
      reject(new AgentError('connect-failed', `bad agent URL ${shown}: ${String(err)}`));
      return;
    }
    socket.binaryType = 'arraybuffer';
    const ends = createTransport({
      send: (text) => {
        socket.send(text);
      },
      close: () => {
        socket.close(1000, 'closed by the client');
      },
    });
    let open = false;
    const decoder = new TextDecoder();
    socket.addEventListener('open', () => {
      open = true;
      resolve(ends.transport);
    });
    socket.addEventListener('message', (ev) => {
      if (typeof ev.data === 'string') ends.deliver(ev.data);
      else if (ev.data instanceof ArrayBuffer) ends.deliver(decoder.decode(ev.data));
    });
    socket.addEventListener('close', (ev) => {
      if (!open) {
        reject(
          new AgentError(
            'connect-failed',
            `cannot connect to the agent at ${shown}: the server is not running or refused the connection (a wrong or expired token is refused: use the URL that \`tierscope ui\` printed)`,
          ),
        );
      }
      ends.end(`the agent connection closed (WebSocket code ${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`);
    });
    // 'error' is always followed by 'close', which reports it.
    socket.addEventListener('error', () => undefined);
  });
}
