import type { ChildProcessWithoutNullStreams, SpawnOptionsWithoutStdio } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { AgentError, createTransport, type Transport } from '../contract/client.js';
import { exitReason, type AgentCommand } from './agentCommand.js';

export type SpawnFn = (
  command: string,
  args: readonly string[],
  options: SpawnOptionsWithoutStdio,
) => ChildProcessWithoutNullStreams;

export interface AgentExit {
  code: number | null;
  signal: string | null;
  /** One line for the user. */
  reason: string;
}

export interface StdioAgent {
  transport: Transport;
  child: ChildProcessWithoutNullStreams;
  /** Resolves when the child has exited and its pipes closed. */
  exited: Promise<AgentExit>;
}

/** A snapshot of a 100 000-VMA process is ~40 MB of JSON; beyond this a line is garbage, not data. */
export const MAX_LINE_BYTES = 256 << 20;

/**
 * Splits chunks into lines without ever holding more than `maxBytes` of one line: an oversize line is
 * skipped up to its newline (and reported), so a broken agent cannot grow the main process's memory.
 */
export class LineSplitter {
  private decoder = new StringDecoder('utf8');
  private buffered = '';
  private skipping = false;

  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOversize: () => void,
  ) {}

  push(chunk: Buffer): void {
    let text = this.decoder.write(chunk);
    for (;;) {
      const nl = text.indexOf('\n');
      if (nl < 0) break;
      const piece = text.slice(0, nl);
      text = text.slice(nl + 1);
      if (this.skipping) {
        this.skipping = false;
        continue;
      }
      const line = (this.buffered + piece).replace(/\r$/, '');
      this.buffered = '';
      if (line.length > 0) this.onLine(line);
    }
    if (this.skipping) return;
    this.buffered += text;
    // Characters ≤ bytes, so this bound is conservative by at most 4×; good enough to stop runaway lines.
    if (this.buffered.length > this.maxBytes) {
      this.buffered = '';
      this.skipping = true;
      this.onOversize();
    }
  }
}

/**
 * Starts an agent (`tierscope agent --stdio`, through pkexec or ssh) and speaks the protocol over its
 * stdin/stdout, one JSON message per line. Non-blocking throughout: spawn, pipes and exit are all events.
 * close() ends stdin (an agent exits at EOF; the only way to stop one that pkexec made root), then
 * SIGTERMs after `graceMs`.
 */
export function spawnStdioAgent(
  spawn: SpawnFn,
  cmd: AgentCommand,
  baseEnv: NodeJS.ProcessEnv,
  log: (line: string) => void,
  graceMs = 2000,
): StdioAgent {
  const child = spawn(cmd.command, cmd.args, { env: { ...baseEnv, ...cmd.env }, shell: false });
  let lastStderr: string | undefined;
  let spawnError: NodeJS.ErrnoException | null = null;
  const ends = createTransport({
    send: (text) => {
      if (text.includes('\n')) throw new AgentError('bad-request', 'a protocol message must be one line');
      child.stdin.write(`${text}\n`);
    },
    close: () => {
      child.stdin.end();
      const timer = setTimeout(() => {
        try {
          child.kill('SIGTERM');
        } catch {
          // EPERM: a root (pkexec) agent cannot be signalled by us; it exits at EOF.
        }
      }, graceMs);
      timer.unref();
      child.once('exit', () => {
        clearTimeout(timer);
      });
    },
  });
  const stdout = new LineSplitter(MAX_LINE_BYTES, ends.deliver, () => {
    log('dropped an oversize line from the agent');
  });
  const stderr = new LineSplitter(
    64 << 10,
    (line) => {
      lastStderr = line;
      log(`agent: ${line}`);
    },
    () => undefined,
  );
  child.stdout.on('data', (chunk: Buffer) => {
    stdout.push(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr.push(chunk);
  });
  child.stdin.on('error', () => undefined); // EPIPE once the agent is gone: 'close' reports it
  const exited = new Promise<AgentExit>((resolve) => {
    child.on('error', (err: NodeJS.ErrnoException) => {
      spawnError = err;
      if (child.pid === undefined) {
        const reason =
          err.code === 'ENOENT'
            ? `cannot start the agent: ${cmd.command} is not installed.`
            : `cannot start the agent (${cmd.command}): ${err.message}.`;
        ends.end(reason);
        resolve({ code: null, signal: null, reason });
      }
    });
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      const reason = spawnError
        ? `cannot start the agent (${cmd.command}): ${spawnError.message}.`
        : exitReason(cmd.command, code, signal, lastStderr);
      ends.end(reason);
      resolve({ code, signal, reason });
    });
  });
  return { transport: ends.transport, child, exited };
}
