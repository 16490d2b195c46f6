import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import WebSocket from 'ws';
import { AgentError, createTransport, redactToken, type Transport } from '../contract/client.js';
import { frameLines, MAX_AGENT_LINE_BYTES } from './lines.js';

/**
 * Two transports wired to each other in memory, for tests and for running the agent inside the UI's own
 * process. Delivery is asynchronous (a microtask), as on every real transport, so no caller sees a
 * re-entrant callback. Closing either end ends both.
 */
export function inProcessPair(): [Transport, Transport] {
  const a = createTransport({
    send: (text) => {
      queueMicrotask(() => {
        b.deliver(text);
      });
    },
    close: () => {
      queueMicrotask(() => {
        b.end('the other side closed the connection');
      });
    },
  });
  const b = createTransport({
    send: (text) => {
      queueMicrotask(() => {
        a.deliver(text);
      });
    },
    close: () => {
      queueMicrotask(() => {
        a.end('the other side closed the connection');
      });
    },
  });
  return [a.transport, b.transport];
}

export interface SpawnAgentOptions {
  env?: NodeJS.ProcessEnv;
  /** Each line the agent writes to stderr (its log). Default: dropped, but the last lines explain an exit. */
  onStderr?: (line: string) => void;
  /** Longest line accepted from the agent (default MAX_AGENT_LINE_BYTES). */
  maxLineBytes?: number;
  /** After close(), how long to wait for the agent to exit on its own before SIGTERM (default 2000 ms). */
  graceMs?: number;
}

export interface SpawnedAgent {
  transport: Transport;
  child: ChildProcessWithoutNullStreams;
}

/** How many stderr lines are kept to explain an unexpected exit. */
const STDERR_TAIL_LINES = 5;

/**
 * Starts an agent (argv from localAgentCommand, pkexecAgentCommand or sshAgentCommand) and speaks the
 * protocol over its stdin/stdout, without a shell. The transport ends when the child has exited and its
 * pipes are closed, with a reason that says why: exit code or signal, what pkexec or ssh meant by it, and
 * the last line of the agent's stderr. close() ends the agent's stdin (the agent exits at EOF, the only
 * way to stop one that pkexec made root), then SIGTERMs it after graceMs.
 */
export function spawnAgent(
  command: string,
  args: readonly string[],
  options: SpawnAgentOptions = {},
): SpawnedAgent {
  const child = spawn(command, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    shell: false,
    ...(options.env !== undefined ? { env: options.env } : {}),
  });
  const tail: string[] = [];
  let spawnError: NodeJS.ErrnoException | null = null;
  const ends = createTransport({
    send: (text) => {
      if (text.includes('\n'))
        throw new AgentError('bad-request', 'a protocol message must be a single line');
      child.stdin.write(`${text}\n`);
    },
    close: () => {
      child.stdin.end();
      const grace = setTimeout(() => {
        try {
          child.kill('SIGTERM');
        } catch {
          // EPERM: a pkexec'd (root) agent cannot be signalled by us; it exits at EOF.
        }
      }, options.graceMs ?? 2000);
      grace.unref();
      child.once('exit', () => {
        clearTimeout(grace);
      });
    },
  });
  frameLines(child.stdout, {
    maxLineBytes: options.maxLineBytes ?? MAX_AGENT_LINE_BYTES,
    onLine: ends.deliver,
    onOversize: (bytes) => {
      options.onStderr?.(`[tierscope] dropped a ${bytes}-byte line from the agent: over the line limit`);
    },
  });
  frameLines(child.stderr, {
    maxLineBytes: 64 << 10,
    onLine: (line) => {
      tail.push(line);
      if (tail.length > STDERR_TAIL_LINES) tail.shift();
      options.onStderr?.(line);
    },
    onOversize: () => undefined,
  });
  // EPIPE on stdin when the agent is gone: the 'close' below reports the exit.
  child.stdin.on('error', () => undefined);
  child.on('error', (err: NodeJS.ErrnoException) => {
    spawnError = err;
    // A child that never started emits no 'close' when spawn fails early on some Node versions.
    if (child.pid === undefined) ends.end(startFailure(command, err));
  });
  child.on('close', (code, signal) => {
    ends.end(spawnError ? startFailure(command, spawnError) : exitReason(command, code, signal, tail));
  });
  return { transport: ends.transport, child };
}

function startFailure(command: string, err: NodeJS.ErrnoException): string {
  if (err.code === 'ENOENT') return `cannot start the agent: ${command} is not installed (not found in PATH)`;
  if (err.code === 'EACCES') return `cannot start the agent: ${command} is not executable`;
  return `cannot start the agent (${command}): ${err.message}`;
}

/** One line saying why the agent process ended, in terms of what was run (pkexec, ssh, the agent). */
export function exitReason(
  command: string,
  code: number | null,
  signal: NodeJS.Signals | null,
  stderrTail: readonly string[],
): string {
  const last = stderrTail.at(-1);
  const detail = last ? `: ${last}` : '';
  const program = path.basename(command);
  if (program === 'pkexec' && code === 126) {
    return 'elevation refused: the authentication dialog was dismissed (pkexec exit 126); capture continues without root';
  }
  if (program === 'pkexec' && code === 127) {
    return `elevation failed: not authorized, or no polkit authentication agent is running (pkexec exit 127)${detail}`;
  }
  if (program === 'ssh' && code === 255) return `ssh could not connect or lost the connection${detail}`;
  if (program === 'ssh' && code === 127) {
    return `the remote host has no tierscope command (ssh exit 127): install tierscope there${detail}`;
  }
  if (signal !== null) return `the agent was killed by ${signal}${detail}`;
  if (code === 0) return 'the agent exited';
  return `the agent exited with code ${String(code)}${detail}`;
}

/**
 * A Transport over a `ws` WebSocket: the server side of browser mode (a socket accepted by a
 * WebSocketServer) or a Node client (see connectWebSocket). Text frames only; binary ones are decoded as
 * UTF-8 and validated like any message.
 */
export function wsTransport(socket: WebSocket): Transport {
  const ends = createTransport({
    send: (text) => {
      socket.send(text);
    },
    close: () => {
      socket.close(1000, 'closed');
    },
  });
  socket.on('message', (data: WebSocket.RawData) => {
    const bytes = Array.isArray(data)
      ? Buffer.concat(data)
      : data instanceof ArrayBuffer
        ? Buffer.from(data)
        : data;
    const text = bytes.toString('utf8');
    ends.deliver(text);
  });
  socket.on('close', (code: number, reason: Buffer) => {
    const why = reason.toString('utf8');
    ends.end(`the WebSocket closed (code ${code}${why ? `: ${why}` : ''})`);
  });
  socket.on('error', (err: Error) => {
    ends.end(`the WebSocket failed: ${err.message}`);
  });
  return ends.transport;
}

export interface ConnectWebSocketOptions {
  /** Origin header to send (a browser always sends one; browser mode checks it). */
  origin?: string;
  /** Largest incoming message in bytes (default MAX_AGENT_LINE_BYTES). */
  maxPayloadBytes?: number;
}

/**
 * Connects from Node to a WebSocket agent endpoint with `ws` (Node 20 has no global WebSocket; browsers
 * and Node ≥ 22 use webSocketTransport from the contract). Rejects with AgentError('connect-failed'),
 * naming the HTTP status when the server refused the upgrade (403: token or Origin rejected).
 */
export function connectWebSocket(url: string, options: ConnectWebSocketOptions = {}): Promise<Transport> {
  const shown = redactToken(url);
  return new Promise<Transport>((resolve, reject) => {
    const socket = new WebSocket(url, {
      maxPayload: options.maxPayloadBytes ?? MAX_AGENT_LINE_BYTES,
      ...(options.origin !== undefined ? { origin: options.origin } : {}),
    });
    const fail = (why: string): void => {
      reject(new AgentError('connect-failed', `cannot connect to the agent at ${shown}: ${why}`));
    };
    socket.once('unexpected-response', (_req, res) => {
      fail(
        `the server refused with HTTP ${String(res.statusCode)} (a wrong token or Origin is refused with 403)`,
      );
      socket.terminate();
    });
    socket.once('error', (err: Error) => {
      fail(err.message);
    });
    socket.once('open', () => {
      resolve(wsTransport(socket));
    });
  });
}
