import { AgentClient, handshake, type Transport } from '../contract/client.js';
import type { AgentStatus, AgentTarget, Envelope } from '../contract/desktop.js';
import { Events, Methods, type EventName, type MethodName } from '../contract/protocol.js';
import { wasRefused, type AgentCommand } from './agentCommand.js';
import type { AgentExit } from './agentProcess.js';

export interface StartedAgent {
  transport: Transport;
  exited: Promise<AgentExit>;
}

export interface AgentHostDeps {
  /** Builds the command for a target (async: it may check whether the pkexec helper is installed). */
  command: (target: AgentTarget) => Promise<AgentCommand>;
  start: (command: AgentCommand) => StartedAgent;
  onStatus: (status: AgentStatus) => void;
  /** A protocol event, already validated by the client against its schema. */
  onEvent: (event: EventName, data: unknown) => void;
  log: (line: string) => void;
  /** How long a starting agent has to answer hello (pkexec waits for a human: be generous). */
  helloTimeoutMs?: number;
}

interface Running {
  target: AgentTarget;
  client: AgentClient;
}

const EVENT_NAMES = Object.keys(Events) as EventName[];

function errorEnvelope(code: string, message: string): Envelope<never> {
  return { ok: false, error: { code, message } };
}

/**
 * The one agent the main process runs and relays to the window. Switching (elevate, remote) starts the new
 * agent first and replaces the old one only once it has answered hello: a refused pkexec or a failed ssh
 * leaves the working agent in place. Nothing here blocks: every step is a child process event or a
 * promise.
 */
export class AgentHost {
  private running: Running | null = null;
  private current: AgentStatus = { state: 'starting', target: { kind: 'local' } };
  private switching: Promise<Envelope<AgentStatus>> | null = null;

  constructor(private readonly deps: AgentHostDeps) {}

  get status(): AgentStatus {
    return this.current;
  }

  private setStatus(status: AgentStatus): void {
    this.current = status;
    this.deps.onStatus(status);
  }

  /** Starts (or replaces the agent with) one for `target`; resolves with the resulting status. */
  start(target: AgentTarget): Promise<Envelope<AgentStatus>> {
    // One switch at a time: a second request while pkexec's dialog is up would start a second dialog.
    if (this.switching) {
      return Promise.resolve(errorEnvelope('busy', 'An agent is already starting: wait for it to answer.'));
    }
    this.switching = this.doStart(target).finally(() => {
      this.switching = null;
    });
    return this.switching;
  }

  /** After a loss: the same target again. */
  reconnect(): Promise<Envelope<AgentStatus>> {
    return this.start(this.current.target);
  }

  private async doStart(target: AgentTarget): Promise<Envelope<AgentStatus>> {
    const previous = this.running;
    if (!previous) this.setStatus({ state: 'starting', target });
    let command: AgentCommand;
    try {
      command = await this.deps.command(target);
    } catch (err) {
      return this.failStart(target, previous, false, err instanceof Error ? err.message : String(err));
    }
    const started = this.deps.start(command);
    const client = new AgentClient(started.transport, {
      onDropped: (reason) => {
        this.deps.log(`dropped a message from the agent: ${reason}`);
      },
    });
    try {
      await handshake(client, 'tierscope-desktop', { timeoutMs: this.deps.helloTimeoutMs ?? 120_000 });
    } catch (err) {
      client.close();
      // If the process ended, its exit says more than "disconnected" (pkexec 126: dismissed …).
      const exit = await Promise.race([
        started.exited,
        new Promise<null>((r) => {
          setTimeout(() => {
            r(null);
          }, 500);
        }),
      ]);
      const reason = exit?.reason ?? (err instanceof Error ? err.message : String(err));
      return this.failStart(
        target,
        previous,
        exit !== null && wasRefused(command.command, exit.code),
        reason,
      );
    }

    for (const name of EVENT_NAMES) {
      client.on(name, (data) => {
        if (this.running?.client === client) this.deps.onEvent(name, data);
      });
    }
    client.onDisconnect((reason) => {
      if (this.running?.client !== client) return;
      this.running = null;
      this.setStatus({ state: 'lost', target, reason });
    });
    this.running = { target, client };
    previous?.client.close();
    const status: AgentStatus = { state: 'connected', target };
    this.setStatus(status);
    return { ok: true, result: status };
  }

  private failStart(
    target: AgentTarget,
    previous: Running | null,
    refused: boolean,
    reason: string,
  ): Envelope<AgentStatus> {
    this.deps.log(`starting the ${target.kind} agent failed: ${reason}`);
    if (previous && this.running === previous) {
      // The old agent keeps serving; the status says the switch did not happen, and why.
      const status: AgentStatus = {
        state: 'switch-failed',
        target,
        current: previous.target,
        refused,
        reason,
      };
      this.deps.onStatus(status);
      return { ok: true, result: status };
    }
    const status: AgentStatus = { state: 'lost', target, reason };
    this.setStatus(status);
    return errorEnvelope(refused ? 'refused' : 'agent-down', reason);
  }

  /**
   * One protocol call, relayed. `params` was validated by the caller (the IPC edge); the client validates
   * again before sending and validates the result against the method's schema before it gets here.
   */
  async call(method: MethodName, params: unknown): Promise<Envelope<unknown>> {
    const running = this.running;
    if (!running) {
      return errorEnvelope(
        'disconnected',
        'No agent is running: press Reconnect (or Capture → Reconnect agent).',
      );
    }
    const schema = Methods[method][0];
    const checked = schema.safeParse(params);
    if (!checked.success) return errorEnvelope('bad-request', `${method}: invalid parameters`);
    try {
      const result: unknown = await running.client.call(method, checked.data);
      return { ok: true, result };
    } catch (err) {
      const { code, message } = err as { code?: unknown; message?: unknown };
      return errorEnvelope(
        typeof code === 'string' ? code : 'internal',
        typeof message === 'string' ? message : String(err),
      );
    }
  }

  /** Quitting: the agent exits at EOF on its stdin. */
  stop(): void {
    const running = this.running;
    this.running = null;
    running?.client.close();
  }
}
