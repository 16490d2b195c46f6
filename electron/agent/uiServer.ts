import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import { TierscopeError } from '../engine/errors.js';
import { MAX_REQUEST_LINE_BYTES } from './lines.js';
import { AgentServer } from './server.js';
import { wsTransport } from './transports.js';

export interface UiServerOptions {
  /** Directory of the built renderer (index.html + assets), e.g. dist/renderer. */
  rendererDir: string;
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Listen address. Browser mode is loopback-only; the default is the point. */
  host?: string;
  /** Serve the WebSocket with this agent; by default a new one, closed with the UI server. */
  server?: AgentServer;
  /** Access token; default 256 random bits. Tests pass their own. */
  token?: string;
  /** Included in the printed URL so the UI opens attached to that process. */
  pid?: number;
  log?: (line: string) => void;
}

export interface UiServer {
  /** `http://127.0.0.1:P/?token=…[&pid=N]`: the one URL that opens the UI. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** The WebSocket endpoint for this server, with the token: `ws://127.0.0.1:P/agent?token=…`. */
  readonly agentUrl: string;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Browser mode: serves the built renderer and a WebSocket to an agent, on 127.0.0.1 only.
 *
 * Who may talk to it: anyone on this machine can reach a loopback port, so every request needs the
 * random token, either in the URL (`?token=`, which also sets a port-specific HttpOnly SameSite=Strict
 * cookie so the page's own assets load without it) or in that cookie; the token is compared in constant
 * time. Web pages the user visits can also reach loopback: the Host header must be 127.0.0.1:P or
 * localhost:P (DNS rebinding gives another name) and an Origin, when present, must be that same origin.
 * Failures get 403 and are logged. Pages get a CSP, no-referrer (the token must not leak in a Referer)
 * and no caching.
 */
export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? randomBytes(32).toString('base64url');
  const log = options.log ?? (() => undefined);
  const ownAgent = options.server === undefined;
  const agent = options.server ?? new AgentServer({ log });
  const rendererDir = path.resolve(options.rendererDir);
  let port = 0;
  const cookieName = (): string => `tierscope-token-${port}`;
  const allowedHosts = (): string[] => [`${host}:${port}`, `127.0.0.1:${port}`, `localhost:${port}`];

  /** Why a request may not proceed, or null when it may. */
  const refuse = (req: IncomingMessage, url: URL): string | null => {
    const hostHeader = req.headers.host;
    if (hostHeader === undefined || !allowedHosts().includes(hostHeader.toLowerCase())) {
      return `Host ${JSON.stringify(hostHeader ?? '')} is not this server (DNS rebinding?)`;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedHosts().some((h) => origin.toLowerCase() === `http://${h}`)) {
      return `Origin ${JSON.stringify(origin)} is not this server`;
    }
    const given = url.searchParams.get('token') ?? cookieValue(req.headers.cookie, cookieName());
    if (given === null || !sameSecret(given, token)) return 'missing or wrong token';
    return null;
  };

  const http = createServer((req, res) => {
    handleHttp(req, res).catch((err: unknown) => {
      log(`internal error serving ${req.url ?? '?'}: ${String(err)}`);
      if (res.headersSent) res.destroy();
      else sendText(res, 500, 'Internal error: see the log of tierscope ui\n');
    });
  });

  const handleHttp = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = parseUrl(req);
    const refused = url === null ? 'unparsable URL' : refuse(req, url);
    if (url === null || refused !== null) {
      log(`refused ${req.method ?? '?'} ${url?.pathname ?? '?'}: ${refused ?? ''}`);
      sendText(
        res,
        403,
        'Forbidden: open the URL that `tierscope ui` printed (it carries the access token).\n',
      );
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      sendText(res, 405, 'Method not allowed\n');
      return;
    }
    if (url.searchParams.has('token')) {
      res.setHeader('Set-Cookie', `${cookieName()}=${token}; HttpOnly; SameSite=Strict; Path=/`);
    }
    await serveFile(res, req.method === 'HEAD', rendererDir, url.pathname, port);
  };

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_REQUEST_LINE_BYTES });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = parseUrl(req);
    const refused =
      url === null ? 'unparsable URL' : url.pathname !== '/agent' ? 'not /agent' : refuse(req, url);
    if (refused !== null) {
      log(`refused WebSocket ${url?.pathname ?? '?'}: ${refused}`);
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      agent.serve(wsTransport(ws));
    });
  });
  // A client that vanishes mid-request must not take the server down.
  http.on('clientError', (_err, socket: Duplex) => {
    socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new TierscopeError(
              'busy',
              `port ${String(options.port)} on ${host} is in use: pick another --port, or 0 for any free one`,
            )
          : new TierscopeError(
              'permission',
              `cannot listen on ${host}:${String(options.port ?? 0)}: ${err.message}`,
            ),
      );
    });
    http.listen(options.port ?? 0, host, () => {
      resolve();
    });
  });
  const address = http.address();
  if (address === null || typeof address === 'string') throw new Error('the HTTP server has no TCP address');
  port = address.port;

  const query = `token=${token}${options.pid !== undefined ? `&pid=${options.pid}` : ''}`;
  return {
    url: `http://${host}:${port}/?${query}`,
    agentUrl: `ws://${host}:${port}/agent?token=${token}`,
    port,
    token,
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((resolve) => {
        http.close(() => {
          resolve();
        });
        http.closeAllConnections();
      });
      if (ownAgent) await agent.close();
    },
  };
}

function parseUrl(req: IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? '/', 'http://127.0.0.1');
  } catch {
    return null;
  }
}

function cookieValue(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function securityHeaders(res: ServerResponse): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Frame-Options', 'DENY');
}

function sendText(res: ServerResponse, status: number, text: string): void {
  securityHeaders(res);
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(text);
}

function contentSecurityPolicy(port: number): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    // Charts and the virtualized table set inline styles.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
}

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tierscope: renderer not built</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>The Tierscope UI is not built yet</h1>
<p>The server and its agent are running, but there is no built renderer to serve.</p>
<p>In the repository, run <code>npm run build:renderer</code>, then reload this page.</p>
</body></html>
`;

async function serveFile(
  res: ServerResponse,
  headOnly: boolean,
  rendererDir: string,
  pathname: string,
  port: number,
): Promise<void> {
  securityHeaders(res);
  let relative: string;
  try {
    relative = decodeURIComponent(pathname);
  } catch {
    sendText(res, 400, 'Bad request: malformed URL\n');
    return;
  }
  if (relative.includes('\0')) {
    sendText(res, 400, 'Bad request\n');
    return;
  }
  const index = path.join(rendererDir, 'index.html');
  const root = await realpath(rendererDir).catch(() => null);
  const indexExists = root !== null && (await isFile(index));
  // Paths without an extension are the single-page app's own routes: they all get index.html.
  const wantsPage = relative === '/' || path.posix.extname(relative) === '' || relative.endsWith('.html');
  if (!indexExists) {
    if (wantsPage) {
      res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
      res.writeHead(503, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(headOnly ? undefined : NOT_BUILT_PAGE);
    } else sendText(res, 404, 'Not found\n');
    return;
  }
  let file = path.join(root, path.posix.normalize(relative));
  if (relative === '/' || (path.posix.extname(relative) === '' && !(await isFile(file)))) file = index;
  // Resolve symlinks too: nothing outside the renderer directory is ever served.
  const real = await realpath(file).catch(() => null);
  if (real === null || !(real === root || real.startsWith(root + path.sep)) || !(await isFile(real))) {
    sendText(res, 404, 'Not found\n');
    return;
  }
  const type = CONTENT_TYPES[path.extname(real).toLowerCase()] ?? 'application/octet-stream';
  if (type.startsWith('text/html')) res.setHeader('Content-Security-Policy', contentSecurityPolicy(port));
  res.writeHead(200, { 'Content-Type': type });
  if (headOnly) {
    res.end();
    return;
  }
  const stream = createReadStream(real);
  stream.on('error', () => {
    res.destroy();
  });
  stream.pipe(res);
}

async function isFile(file: string): Promise<boolean> {
  const st = await stat(file).catch(() => null);
  return st?.isFile() ?? false;
}
