import type { Readable, Writable } from 'node:stream';
import { AgentError, createTransport, type Transport, type TransportEnds } from '../contract/client.js';
import { AgentServer, type AgentConnection, type AgentServerOptions } from './server.js';

/**
 * Default longest line the agent accepts. Requests are small (the largest is a launch argv); anything
 * bigger is garbage or an attack and is discarded without being buffered.
 */
export const MAX_REQUEST_LINE_BYTES = 1 << 20;
/**
 * Default longest line a UI accepts from an agent: a snapshot of a 100 000-VMA process is ~40 MB of
 * JSON; this leaves room, and still stops a broken agent from growing one string without end.
 */
export const MAX_AGENT_LINE_BYTES = 256 << 20;

export interface LineFramingOptions {
  /** Lines longer than this (bytes, without the newline) are discarded as they stream by. */
  maxLineBytes: number;
  onLine: (text: string) => void;
  /** A line was discarded for its length (bytes seen up to its newline or the end of input). */
  onOversize: (bytes: number) => void;
}

/**
 * Splits a byte stream into newline-terminated UTF-8 lines ("\r\n" accepted, empty lines skipped). An
 * oversize line is not accumulated: its bytes are counted and dropped until its newline, so memory stays
 * bounded by maxLineBytes whatever the peer sends.
 */
export function frameLines(input: Readable, options: LineFramingOptions): void {
  const { maxLineBytes, onLine, onOversize } = options;
  let pieces: Buffer[] = [];
  let pendingBytes = 0;
  let discarding = false;

  const emit = (line: Buffer): void => {
    let end = line.length;
    if (end > 0 && line[end - 1] === 0x0d) end--;
    if (end === 0) return;
    onLine(line.toString('utf8', 0, end));
  };

  input.on('data', (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let pos = 0;
    while (pos < bytes.length) {
      const nl = bytes.indexOf(0x0a, pos);
      const stop = nl < 0 ? bytes.length : nl;
      const length = stop - pos;
      if (discarding || pendingBytes + length > maxLineBytes) {
        if (!discarding) {
          discarding = true;
          pieces = [];
        }
        pendingBytes += length;
      } else {
        pieces.push(bytes.subarray(pos, stop));
        pendingBytes += length;
      }
      if (nl < 0) break;
      if (discarding) onOversize(pendingBytes);
      else emit(pieces.length === 1 && pieces[0] ? pieces[0] : Buffer.concat(pieces));
      pieces = [];
      pendingBytes = 0;
      discarding = false;
      pos = nl + 1;
    }
  });
  input.on('end', () => {
    if (discarding) onOversize(pendingBytes);
    else if (pendingBytes > 0) emit(Buffer.concat(pieces)); // a last line without its newline
    pieces = [];
  });
}

/** Writes one message as one line; JSON.stringify output never contains a raw newline. */
function writeLine(output: Writable, text: string): void {
  if (text.includes('\n')) throw new AgentError('bad-request', 'a protocol message must be a single line');
  output.write(`${text}\n`);
}

export interface LineTransportOptions {
  /** Longest incoming line in bytes (default MAX_REQUEST_LINE_BYTES). */
  maxLineBytes?: number;
  /** Hears about each discarded oversize line. */
  onOversize?: (bytes: number) => void;
}

/**
 * A Transport over any pair of byte streams, one JSON message per line: the agent's stdin/stdout, a
 * socket, a pipe. Ends when the input ends or either stream fails.
 */
export function lineTransport(
  input: Readable,
  output: Writable,
  options: LineTransportOptions = {},
): Transport {
  const ends: TransportEnds = createTransport({
    send: (text) => {
      // A destroyed stream drops writes without an 'error' event: the call would wait for nothing.
      if (output.destroyed || output.writableEnded) throw new Error('the output stream is closed');
      writeLine(output, text);
    },
    close: () => {
      output.end();
      input.destroy();
    },
  });
  frameLines(input, {
    maxLineBytes: options.maxLineBytes ?? MAX_REQUEST_LINE_BYTES,
    onLine: ends.deliver,
    onOversize: options.onOversize ?? (() => undefined),
  });
  const inputEnded = (): void => {
    ends.end('the other side closed its stream');
    // Half-closed is closed: the peer learns it too (our answers have been queued before this).
    if (!output.writableEnded) output.end();
  };
  input.on('end', inputEnded);
  input.on('close', inputEnded);
  input.on('error', (err: Error) => {
    ends.end(`reading failed: ${err.message}`);
  });
  output.on('error', (err: Error) => {
    // EPIPE: the reader is gone.
    ends.end(`writing failed: ${err.message}`);
  });
  output.on('close', () => {
    ends.end('the output stream closed');
  });
  return ends.transport;
}

export interface ServeLinesOptions extends AgentServerOptions {
  /** Serve with this server; by default a new one, closed (launched commands ended) with the connection. */
  server?: AgentServer;
  maxLineBytes?: number;
}

/**
 * Serves the agent protocol over a pair of byte streams (`tierscope agent --stdio` passes its stdin and
 * stdout). Oversize lines are discarded and logged; the connection goes on.
 */
export function serveLines(
  input: Readable,
  output: Writable,
  options: ServeLinesOptions = {},
): AgentConnection {
  const log = options.log ?? (() => undefined);
  const maxLineBytes = options.maxLineBytes ?? MAX_REQUEST_LINE_BYTES;
  const transport = lineTransport(input, output, {
    maxLineBytes,
    onOversize: (bytes) => {
      log(`dropped a ${bytes}-byte line: requests may be at most ${maxLineBytes} bytes`);
    },
  });
  const own = options.server === undefined;
  const server = options.server ?? new AgentServer(options);
  const connection = server.serve(transport);
  if (!own) return connection;
  const closed = connection.closed.then(() => server.close());
  return {
    closed,
    get subscriptionCount() {
      return connection.subscriptionCount;
    },
    close: () => {
      connection.close();
    },
  };
}
