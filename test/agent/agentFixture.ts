// An in-process agent with its own temp folders for the session, recording and migration tests: the
// autosave folder and the running-experiment registry never touch the user's real ones.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClient } from '../../electron/contract/client.js';
import { AgentServer, type AgentServerOptions } from '../../electron/agent/server.js';
import { inProcessPair } from '../../electron/agent/transports.js';

export interface TestAgent {
  server: AgentServer;
  client: AgentClient;
  /** A temp folder for this agent's files (sessions, exports). */
  dir: string;
  sessionsDir: string;
  experimentsDir: string;
  log: string[];
  dropped: string[];
  /** Another client on the same server. */
  connect(): AgentClient;
  close(): Promise<void>;
}

export function startTestAgent(options: AgentServerOptions = {}): TestAgent {
  const dir = mkdtempSync(join(tmpdir(), 'tierscope-agent-test-'));
  const sessionsDir = join(dir, 'autosave');
  const experimentsDir = join(dir, 'experiments');
  const log: string[] = [];
  const dropped: string[] = [];
  const server = new AgentServer({
    agentVersion: 'test',
    launchOutput: 'ignore',
    log: (l) => log.push(l),
    sessionsDir,
    experimentsDir,
    ...options,
  });
  const clients: AgentClient[] = [];
  const connect = (): AgentClient => {
    const [ui, agent] = inProcessPair();
    server.serve(agent);
    const client = new AgentClient(ui, { onDropped: (r) => dropped.push(r) });
    clients.push(client);
    return client;
  };
  const client = connect();
  return {
    server,
    client,
    dir,
    sessionsDir,
    experimentsDir,
    log,
    dropped,
    connect,
    async close() {
      for (const c of clients) c.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every event `event` of `client` so far and from now on. */
export function collectEvents<T>(subscribe: (cb: (data: T) => void) => () => void): {
  list: T[];
  stop: () => void;
} {
  const list: T[] = [];
  const stop = subscribe((d) => list.push(d));
  return { list, stop };
}

/** Resolves once `cond` holds (polling every 20 ms), or rejects after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
