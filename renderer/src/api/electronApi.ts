import type {
  EventData,
  EventName,
  MethodName,
  Params,
  Result,
  Snapshot,
} from '../../../electron/contract/index.js';
import {
  AgentStatus,
  type AgentTarget,
  type DesktopApi,
  type Envelope,
} from '../../../electron/contract/desktop.js';
import { ApiError, type AgentApi, type ConnectionEvent, type DesktopAbilities } from './agentApi.js';
import { Listeners } from './listeners.js';

function unwrap<T>(envelope: Envelope<T>): T {
  if (envelope.ok) return envelope.result;
  throw new ApiError(envelope.error.code, envelope.error.message);
}

/**
 * Electron mode: the preload's `window.tierscope`, which relays to the agent child of the main process.
 * The main process validated everything it forwards (schemas at both of its edges); this only unwraps
 * envelopes into values and ApiErrors.
 */
export class ElectronAgentApi implements AgentApi {
  readonly mode = 'electron';
  readonly desktop: DesktopAbilities;
  private readonly connectionListeners = new Listeners<'change', ConnectionEvent>();

  constructor(private readonly bridge: DesktopApi) {
    this.desktop = {
      switchAgent: async (target: AgentTarget) => {
        unwrap(await bridge.control({ op: 'switch', target }));
      },
      exportSnapshot: async (snapshot: Snapshot) => {
        const path = unwrap(await bridge.control({ op: 'exportSnapshot', snapshot }));
        return typeof path === 'string' ? path : null;
      },
      openSessionDialog: async () => {
        const path = unwrap(await bridge.control({ op: 'openSessionDialog' }));
        return typeof path === 'string' ? path : null;
      },
      saveDialog: async (request) => {
        const path = unwrap(await bridge.control({ op: 'saveDialog', ...request }));
        return typeof path === 'string' ? path : null;
      },
      onCommand: (cb) => bridge.onCommand(cb),
    };
  }

  async call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
    // The mapped DesktopMethods type cannot be indexed generically; each entry has exactly this shape.
    const fn = this.bridge[method] as (p: Params<M>) => Promise<Envelope<Result<M>>>;
    return unwrap(await fn(params));
  }

  on<E extends EventName>(event: E, cb: (data: EventData<E>) => void): () => void {
    return this.bridge.on(event, cb);
  }

  onConnection(cb: (event: ConnectionEvent) => void): () => void {
    const offSynthetic = this.connectionListeners.add('change', cb);
    const offBridge = this.bridge.onStatus((status) => {
      switch (status.state) {
        case 'starting':
          return;
        case 'connected':
          cb({ type: 'connected', target: status.target });
          return;
        case 'lost':
          cb({ type: 'lost', reason: status.reason });
          return;
        case 'switch-failed':
          cb({
            type: 'switch-failed',
            target: status.target,
            refused: status.refused,
            reason: status.reason,
          });
          return;
      }
    });
    return () => {
      offSynthetic();
      offBridge();
    };
  }

  async reconnect(): Promise<void> {
    unwrap(await this.bridge.control({ op: 'reconnect' }));
  }

  /**
   * The main process starts the agent before the window loads, so the 'connected' status may already have
   * been sent: ask for the current one and replay it.
   */
  async connect(): Promise<void> {
    let resolveStarted: (status: AgentStatus) => void = () => undefined;
    const started = new Promise<AgentStatus>((resolve) => {
      resolveStarted = resolve;
    });
    // Subscribe before asking, so a status sent in between is not missed.
    const off = this.bridge.onStatus((status) => {
      if (status.state !== 'starting') resolveStarted(status);
    });
    try {
      const now = AgentStatus.parse(unwrap(await this.bridge.control({ op: 'status' })));
      if (now.state === 'connected') {
        // Sent before this window subscribed: replay it for the controller.
        this.connectionListeners.emit('change', { type: 'connected', target: now.target });
        return;
      }
      // Starting: onConnection's own bridge listener delivers the 'connected' when it comes.
      const status = now.state === 'starting' ? await started : now;
      switch (status.state) {
        case 'starting':
        case 'connected':
          return;
        case 'lost':
          throw new ApiError('agent-down', `The agent is not running: ${status.reason}`);
        case 'switch-failed':
          throw new ApiError('agent-down', status.reason);
      }
    } finally {
      off();
    }
  }
}
