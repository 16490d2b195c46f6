// Shared set-up of the agent tests: a client connected to an agent through one of the real transports.
import { once } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { expect } from 'vitest';
import { AgentClient, AgentError, type Transport } from '../../electron/contract/client.js';
import type { EventData, EventName } from '../../electron/contract/index.js';
import { AgentServer } from '../../electron/agent/server.js';
import { inProcessPair, spawnAgent } from '../../electron/agent/transports.js';
import { localAgentCommand } from '../../electron/agent/commands.js';

export interface Harness {
  client: AgentClient;
  /** Messages the client dropped as malformed: a correct agent causes none. */
  dropped: string[];
  /** The agent's log lines (stderr for the child). */
  log: string[];
  /** A second, raw connection to the same kind of agent, for sending arbitrary text. */
  raw(): Promise<RawConnection>;
  /** The agent child, for the stdio harness. */
  child: ChildProcess | null;
  close(): Promise<void>;
}

export interface RawConnection {
  transport: Transport;
  received: string[];
  /** Resolves once `count` messages have been received in all. */
  receivedCount(count: number): Promise<void>;
  close(): Promise<void>;
}

/** Collects what a raw transport receives. */
function collect(transport: Transport, close: () => Promise<void>): RawConnection {
  const received: string[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  transport.onMessage((text) => {
    received.push(text);
    for (const w of waiters.filter((w) => received.length >= w.count)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  return {
    transport,
    received,
    receivedCount: (count) =>
      received.length >= count
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            waiters.push({ count, resolve });
          }),
    close,
  };
}

export type HarnessKind = 'in-process' | 'stdio child';

export async function startHarness(kind: HarnessKind): Promise<Harness> {
  return kind === 'in-process' ? inProcessHarness() : stdioHarness();
}

function inProcessHarness(): Promise<Harness> {
  const log: string[] = [];
  const server = new AgentServer({ agentVersion: 'test', log: (l) => log.push(l), launchOutput: 'ignore' });
  const connect = (): Transport => {
    const [ui, agent] = inProcessPair();
    server.serve(agent);
    return ui;
  };
  const dropped: string[] = [];
  const client = new AgentClient(connect(), { onDropped: (r) => dropped.push(r) });
  return Promise.resolve({
    client,
    dropped,
    log,
    child: null,
    raw: () => {
      const transport = connect();
      return Promise.resolve(
        collect(transport, () => {
          transport.close();
          return Promise.resolve();
        }),
      );
    },
    async close() {
      client.close();
      await server.close();
    },
  });
}

function spawnLocalAgent(log: string[]): { transport: Transport; child: ChildProcess } {
  const [command, ...args] = localAgentCommand();
  if (command === undefined) throw new Error('empty agent command');
  return spawnAgent(command, args, { onStderr: (l) => log.push(l) });
}

function stdioHarness(): Promise<Harness> {
  const log: string[] = [];
  const { transport, child } = spawnLocalAgent(log);
  const dropped: string[] = [];
  const client = new AgentClient(transport, { onDropped: (r) => dropped.push(r) });
  const children: ChildProcess[] = [child];
  return Promise.resolve({
    client,
    dropped,
    log,
    child,
    raw: () => {
      const spawned = spawnLocalAgent(log);
      children.push(spawned.child);
      return Promise.resolve(collect(spawned.transport, () => stopChild(spawned.child, spawned.transport)));
    },
    async close() {
      client.close();
      await Promise.all(children.map((c) => stopChild(c, null)));
    },
  });
}

async function stopChild(child: ChildProcess, transport: Transport | null): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  transport?.close();
  child.stdin?.end();
  await exited;
}

/** Resolves with the next `event` whose data satisfies `match`. */
export function nextEvent<E extends EventName>(
  client: AgentClient,
  event: E,
  match: (data: EventData<E>) => boolean,
): Promise<EventData<E>> {
  return new Promise((resolve) => {
    const off = client.on(event, (data) => {
      if (!match(data)) return;
      off();
      resolve(data);
    });
  });
}

/** The AgentError a promise rejects with (fails the test if it resolves or rejects with something else). */
export async function agentError(p: Promise<unknown>): Promise<AgentError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AgentError);
    return err as AgentError;
  }
  throw new Error('expected an AgentError');
}
