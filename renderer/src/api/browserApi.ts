import {
  Events,
  type EventData,
  type EventName,
  type MethodName,
  type Params,
  type Result,
} from '../../../electron/contract/index.js';
import { ApiError, toApiError, type AgentApi, type ConnectionEvent } from './agentApi.js';
import { Listeners } from './listeners.js';

/** The part of the contract's AgentClient this adapter uses (so tests can hand in a fake). */
export interface ClientLike {
  call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>>;
  on<E extends EventName>(event: E, cb: (data: EventData<E>) => void): () => void;
  onDisconnect(cb: (reason: string) => void): () => void;
  close(): void;
}

const EVENT_NAMES = Object.keys(Events) as EventName[];

/**
 * Browser mode: the agent behind `tierscope ui`'s WebSocket. `open` makes one connection (AgentClient over
 * webSocketTransport in the app); a loss drops the client, and `reconnect` opens a fresh one with the
 * same URL and token.
 */
export class BrowserAgentApi implements AgentApi {
  readonly mode = 'browser';
  readonly desktop = null;
  private client: ClientLike | null = null;
  private readonly events = new Listeners<EventName, unknown>();
  private readonly connection = new Listeners<'change', ConnectionEvent>();
  private connecting: Promise<void> | null = null;

  constructor(private readonly open: () => Promise<ClientLike>) {}

  /** First connection; rejects with an ApiError when the agent cannot be reached. */
  connect(): Promise<void> {
    if (this.client) return Promise.resolve();
    this.connecting ??= this.open()
      .then((client) => {
        this.adopt(client);
      })
      .catch((err: unknown) => {
        // The transport's message names the URL (token redacted) and the remedy already.
        const e = toApiError(err);
        throw new ApiError(e.code === 'internal' ? 'unreachable' : e.code, e.message);
      })
      .finally(() => {
        this.connecting = null;
      });
    return this.connecting;
  }

  reconnect(): Promise<void> {
    return this.connect();
  }

  private adopt(client: ClientLike): void {
    this.client = client;
    for (const name of EVENT_NAMES) {
      client.on(name, (data) => {
        this.events.emit(name, data);
      });
    }
    client.onDisconnect((reason) => {
      if (this.client !== client) return;
      this.client = null;
      this.connection.emit('change', { type: 'lost', reason });
    });
    this.connection.emit('change', { type: 'connected', target: null });
  }

  async call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
    const client = this.client;
    if (!client) {
      throw new ApiError('disconnected', 'The agent connection is lost: press Reconnect.');
    }
    try {
      return await client.call(method, params);
    } catch (err) {
      throw toApiError(err);
    }
  }

  on<E extends EventName>(event: E, cb: (data: EventData<E>) => void): () => void {
    return this.events.add(event, cb as (data: unknown) => void);
  }

  onConnection(cb: (event: ConnectionEvent) => void): () => void {
    return this.connection.add('change', cb);
  }
}
