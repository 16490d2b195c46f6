// Losing an agent and getting a new one: crash mid-call, reconnect, failed starts; the argv builders and
// the polkit policy they refer to.
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AgentClient, handshake } from '../../electron/contract/client.js';
import {
  AGENT_HELPER_PATH,
  POLKIT_ACTION_ID,
  cliEntryPath,
  localAgentCommand,
  pkexecAgentCommand,
  sshAgentCommand,
} from '../../electron/agent/commands.js';
import { AgentServer } from '../../electron/agent/server.js';
import { exitReason, inProcessPair, spawnAgent } from '../../electron/agent/transports.js';
import { TierscopeError } from '../../electron/engine/errors.js';
import { startQuietChild } from '../helpers/children.js';
import { agentError } from './harness.js';

function startLocal(): ReturnType<typeof spawnAgent> {
  const [command, ...args] = localAgentCommand();
  if (command === undefined) throw new Error('empty command');
  return spawnAgent(command, args);
}

describe('agent crash', () => {
  it('killing the agent mid-call rejects pending calls with disconnected; a new agent serves again', async () => {
    const first = startLocal();
    const client = new AgentClient(first.transport);
    await handshake(client, 'crash-test');
    const lost = new Promise<string>((resolve) => client.onDisconnect(resolve));
    // Stopped, the agent cannot answer: the calls are certainly pending when it dies.
    first.child.kill('SIGSTOP');
    const calls = [client.call('topology', {}), client.call('listProcesses', {})];
    first.child.kill('SIGKILL');
    for (const call of calls) {
      const err = await agentError(call);
      expect(err.code).toBe('disconnected');
      expect(err.message).toMatch(
        /^lost the agent while waiting for (topology|listProcesses): the agent was killed by SIGKILL/,
      );
    }
    expect(await lost).toMatch(/^the agent was killed by SIGKILL/);
    expect(client.connected).toBe(false);
    const after = await agentError(client.call('topology', {}));
    expect([after.code, after.message]).toEqual([
      'disconnected',
      `not connected to the agent: ${client.disconnectReason}`,
    ]);

    // Reconnect = a new transport and a new client; the subscription is made again on the new agent.
    const second = startLocal();
    const again = new AgentClient(second.transport);
    const target = await startQuietChild(4);
    try {
      await handshake(again, 'crash-test');
      const sub = await again.call('attach', { pid: target.pid, intervalMs: 1000 });
      expect(sub.pid).toBe(target.pid);
    } finally {
      again.close();
      await once(second.child, 'exit');
      await target.kill();
    }
  });

  it('an agent that exits with an error reports its last stderr line', async () => {
    const script = 'process.stderr.write("starting\\nboom: cannot read /proc\\n"); process.exit(3)';
    const { transport, child } = spawnAgent(process.execPath, ['-e', script]);
    const client = new AgentClient(transport);
    const reason = await new Promise<string>((resolve) => client.onDisconnect(resolve));
    expect(child.exitCode).toBe(3);
    expect(reason).toBe('the agent exited with code 3: boom: cannot read /proc');
  });

  it('tierscope agent without --stdio is a usage error (exit 2)', async () => {
    const { child } = spawnAgent(process.execPath, [cliEntryPath(), 'agent']);
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(2);
  });

  it('a command that cannot start: disconnected with the reason', async () => {
    const { transport } = spawnAgent('/nonexistent/tierscope-agent', ['--stdio']);
    const client = new AgentClient(transport);
    const err = await agentError(client.call('hello', { protocolVersion: 1, client: 't' }));
    expect(err.code).toBe('disconnected');
    expect(err.message).toContain('/nonexistent/tierscope-agent is not installed');
  });

  it('ssh that cannot connect: a disconnect that says so', async () => {
    const [command, ...args] = sshAgentCommand('127.0.0.1', { port: 1 });
    const { transport } = spawnAgent(command ?? 'ssh', args);
    const client = new AgentClient(transport);
    const reason = await new Promise<string>((resolve) => client.onDisconnect(resolve));
    expect(reason).toMatch(/^ssh could not connect or lost the connection: .*127\.0\.0\.1.*port 1.*refused/i);
  });

  it('closing the client ends the agent child (EOF on its stdin)', async () => {
    const { transport, child } = startLocal();
    const client = new AgentClient(transport);
    await handshake(client, 'close-test');
    const exited = once(child, 'exit');
    client.close();
    expect(await exited).toEqual([0, null]);
  });

  it('in-process: closing the server side rejects pending calls; the server stops subscriptions', async () => {
    const server = new AgentServer();
    const [ui, agent] = inProcessPair();
    const connection = server.serve(agent);
    const client = new AgentClient(ui);
    const target = await startQuietChild(4);
    try {
      await client.call('attach', { pid: target.pid, intervalMs: 60_000 });
      expect(connection.subscriptionCount).toBe(1);
      const pending = client.call('listProcesses', {});
      connection.close();
      await connection.closed;
      expect(connection.subscriptionCount).toBe(0);
      // The answer may or may not have been sent before the close; if not, the call is 'disconnected'.
      await pending.then(
        (list) => {
          expect(Array.isArray(list)).toBe(true);
        },
        (err: unknown) => {
          expect((err as { code?: string }).code).toBe('disconnected');
        },
      );
      expect(client.connected).toBe(false);
    } finally {
      await server.close();
      await target.kill();
    }
  });
});

describe('launched commands', () => {
  it('outlive the connection that launched them and end with the agent', async () => {
    const server = new AgentServer({ launchOutput: 'ignore' });
    const [ui, agent] = inProcessPair();
    const connection = server.serve(agent);
    const client = new AgentClient(ui);
    const { pid } = await client.call('launch', { argv: ['sleep', '600'] });
    client.close();
    await connection.closed;
    // A UI that reconnects finds it still running.
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    expect(server.launchedCount).toBe(1);
    await server.close();
    expect(server.launchedCount).toBe(0);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
  });
});

describe('agent commands', () => {
  it('local: node + the compiled CLI + agent --stdio', () => {
    const argv = localAgentCommand();
    expect(argv).toEqual([process.execPath, cliEntryPath(), 'agent', '--stdio']);
    expect(existsSync(argv[1] ?? '')).toBe(true);
    expect(localAgentCommand({ node: '/usr/bin/node', cliEntry: '/opt/t/bin.js' })).toEqual([
      '/usr/bin/node',
      '/opt/t/bin.js',
      'agent',
      '--stdio',
    ]);
  });

  it('pkexec: the installed helper when there is one, else the local command', () => {
    expect(pkexecAgentCommand({ helper: '/usr/lib/x/helper' })).toEqual(['pkexec', '/usr/lib/x/helper']);
    const argv = pkexecAgentCommand();
    if (existsSync(AGENT_HELPER_PATH)) expect(argv).toEqual(['pkexec', AGENT_HELPER_PATH]);
    else expect(argv).toEqual(['pkexec', ...localAgentCommand()]);
  });

  it('ssh: batch mode, no tty, and no way to smuggle an option in as the host', () => {
    expect(sshAgentCommand('me@lab-1.example', { port: 2222 })).toEqual([
      'ssh',
      '-T',
      '-o',
      'BatchMode=yes',
      '-o',
      'ServerAliveInterval=15',
      '-o',
      'ServerAliveCountMax=3',
      '-p',
      '2222',
      '--',
      'me@lab-1.example',
      'tierscope',
      'agent',
      '--stdio',
    ]);
    for (const bad of ['-oProxyCommand=sh', 'host;rm', 'a b', '', 'host\n-x']) {
      expect(() => sshAgentCommand(bad), bad).toThrow(TierscopeError);
    }
    expect(() => sshAgentCommand('h', { remoteCommand: 'tierscope; reboot' })).toThrow(/plain path/);
    expect(() => sshAgentCommand('h', { port: 70000 })).toThrow(/not a TCP port/);
  });

  it('exit reasons say what pkexec and ssh meant', () => {
    expect(exitReason('pkexec', 126, null, [])).toMatch(
      /^elevation refused: the authentication dialog was dismissed/,
    );
    expect(
      exitReason('/usr/bin/pkexec', 127, null, ['Error executing command as another user: Not authorized']),
    ).toBe(
      'elevation failed: not authorized, or no polkit authentication agent is running (pkexec exit 127): Error executing command as another user: Not authorized',
    );
    expect(exitReason('ssh', 255, null, ['ssh: connect to host h port 22: No route to host'])).toBe(
      'ssh could not connect or lost the connection: ssh: connect to host h port 22: No route to host',
    );
    expect(exitReason('ssh', 127, null, ['bash: tierscope: command not found'])).toMatch(
      /install tierscope there/,
    );
    expect(exitReason('node', null, 'SIGSEGV', [])).toBe('the agent was killed by SIGSEGV');
  });

  it('the polkit policy authorizes exactly the helper the code runs, under the action id it names', () => {
    const policy = readFileSync('assets/org.tierscope.agent.policy', 'utf8');
    const actions = [...policy.matchAll(/<action id="([^"]+)">/g)].map((m) => m[1]);
    expect(actions).toEqual([POLKIT_ACTION_ID]);
    expect(policy).toContain(
      `<annotate key="org.freedesktop.policykit.exec.path">${AGENT_HELPER_PATH}</annotate>`,
    );
    // Never without authentication.
    expect(policy).not.toMatch(/<allow_\w+>yes<\/allow_\w+>/);
    // XML comments may not contain "--" (a malformed policy is ignored by polkit).
    for (const comment of policy.matchAll(/<!--([\s\S]*?)-->/g)) expect(comment[1]).not.toContain('--');
  });
});
