// Browser mode: the HTTP + WebSocket server of `tierscope ui`, its token, Host and Origin checks, static
// serving of the renderer, and the real command.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient, webSocketTransport } from '../../electron/contract/client.js';
import { connectWebSocket } from '../../electron/agent/transports.js';
import { startUiServer, type UiServer } from '../../electron/agent/uiServer.js';
import { cliEntryPath } from '../../electron/agent/commands.js';
import { waitForLine, wrap } from '../helpers/children.js';
import { agentError } from './harness.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP GET with exactly the headers given (fetch would not let us forge Host). */
function get(port: number, pathAndQuery: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: pathAndQuery, headers: { Host: `127.0.0.1:${port}`, ...headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

let rendererDir: string;
let ui: UiServer;
const TOKEN = 'test-token-0123456789abcdefghijklmnopqrstuv';

beforeAll(async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'tierscope-ui-test-'));
  rendererDir = path.join(root, 'renderer');
  await mkdir(path.join(rendererDir, 'assets'), { recursive: true });
  await writeFile(
    path.join(rendererDir, 'index.html'),
    '<!doctype html><title>T</title><script src="/assets/app.js"></script>',
  );
  await writeFile(path.join(rendererDir, 'assets/app.js'), 'console.log(1);');
  await writeFile(path.join(root, 'secret.txt'), 'outside the renderer');
  await symlink(path.join(root, 'secret.txt'), path.join(rendererDir, 'assets/link.txt'));
  ui = await startUiServer({ rendererDir, token: TOKEN, pid: 4242 });
});
afterAll(async () => {
  await ui.close();
  await rm(path.dirname(rendererDir), { recursive: true, force: true });
});

describe('HTTP', () => {
  it('prints a loopback URL with the token and pid', () => {
    expect(ui.url).toBe(`http://127.0.0.1:${ui.port}/?token=${TOKEN}&pid=4242`);
    expect(ui.agentUrl).toBe(`ws://127.0.0.1:${ui.port}/agent?token=${TOKEN}`);
  });

  it('refuses requests without the token, or with a wrong one', async () => {
    expect((await get(ui.port, '/')).status).toBe(403);
    expect((await get(ui.port, '/assets/app.js')).status).toBe(403);
    expect((await get(ui.port, `/?token=${TOKEN.slice(0, -1)}x`)).status).toBe(403);
    expect((await get(ui.port, '/?token=')).status).toBe(403);
  });

  it('serves index.html with the token: CSP, no referrer, a port-bound HttpOnly cookie', async () => {
    const res = await get(ui.port, `/?token=${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.body).toContain('<title>T</title>');
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).toContain(`ws://127.0.0.1:${ui.port}`);
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['set-cookie']).toEqual([
      `tierscope-token-${ui.port}=${TOKEN}; HttpOnly; SameSite=Strict; Path=/`,
    ]);
  });

  it('the cookie authorizes the page assets; SPA routes get index.html', async () => {
    const cookie = `tierscope-token-${ui.port}=${TOKEN}`;
    const js = await get(ui.port, '/assets/app.js', { Cookie: cookie });
    expect([js.status, js.headers['content-type'], js.body]).toEqual([
      200,
      'text/javascript; charset=utf-8',
      'console.log(1);',
    ]);
    expect((await get(ui.port, '/process/42', { Cookie: cookie })).body).toContain('<title>T</title>');
    // Another instance's cookie (another port) is not ours.
    expect((await get(ui.port, '/assets/app.js', { Cookie: `tierscope-token-1=${TOKEN}` })).status).toBe(403);
  });

  it('DNS rebinding: a foreign Host or Origin is refused even with the token', async () => {
    const q = `/?token=${TOKEN}`;
    expect((await get(ui.port, q, { Host: `evil.example:${ui.port}` })).status).toBe(403);
    expect((await get(ui.port, q, { Host: `127.0.0.1:${ui.port + 1}` })).status).toBe(403);
    expect((await get(ui.port, q, { Origin: 'http://evil.example' })).status).toBe(403);
    expect((await get(ui.port, q, { Host: `localhost:${ui.port}` })).status).toBe(200);
    expect((await get(ui.port, q, { Origin: `http://localhost:${ui.port}` })).status).toBe(200);
  });

  it('never serves anything outside the renderer directory', async () => {
    const q = `?token=${TOKEN}`;
    for (const p of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/assets/link.txt',
    ]) {
      const res = await get(ui.port, p + q);
      expect(res.body, p).not.toContain('outside the renderer');
    }
    expect((await get(ui.port, `/assets/link.txt${q}`)).status).toBe(404);
    expect((await get(ui.port, `/%E0%A4%A${q}`)).status).toBe(400);
  });

  it('without a built renderer: a 503 page that says how to build it', async () => {
    const empty = await startUiServer({ rendererDir: path.join(rendererDir, 'nonexistent') });
    try {
      const res = await get(empty.port, `/?token=${empty.token}`);
      expect(res.status).toBe(503);
      expect(res.body).toContain('npm run build:renderer');
      // The default token: 256 random bits, URL-safe.
      expect(empty.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    } finally {
      await empty.close();
    }
  });
});

describe('WebSocket /agent', () => {
  const origin = (): string => `http://127.0.0.1:${ui.port}`;

  it('refuses a missing or wrong token and a foreign Origin with 403', async () => {
    const base = `ws://127.0.0.1:${ui.port}/agent`;
    for (const [url, o] of [
      [base, origin()],
      [`${base}?token=nope`, origin()],
      [ui.agentUrl, 'http://evil.example'],
      [`ws://127.0.0.1:${ui.port}/other?token=${TOKEN}`, origin()],
    ] as const) {
      const err = await agentError(connectWebSocket(url, { origin: o }));
      expect(err.code).toBe('connect-failed');
      expect(err.message).toContain('refused with HTTP 403');
      expect(err.message).not.toContain(TOKEN);
    }
  });

  it('a call through ws works, with the same agent as every transport', async () => {
    const client = new AgentClient(await connectWebSocket(ui.agentUrl, { origin: origin() }));
    try {
      const hello = await client.call('hello', { protocolVersion: 1, client: 'ws-test' });
      expect(hello.protocolVersion).toBe(1);
      const err = await agentError(client.call('snapshot', { pid: 2 ** 22 + 1 }));
      expect(err.code).toBe('process-gone');
    } finally {
      client.close();
    }
  });

  it("the contract's webSocketTransport works with a standard WebSocket (ws as the global)", async () => {
    const g = globalThis as { WebSocket?: unknown };
    const saved = g.WebSocket;
    g.WebSocket = WebSocket;
    try {
      const client = new AgentClient(await webSocketTransport(ui.agentUrl));
      let heard = false;
      client.onDisconnect(() => (heard = true));
      await expect(client.call('hello', { protocolVersion: 1, client: 'std' })).resolves.toMatchObject({
        protocolVersion: 1,
      });
      const err = await agentError(webSocketTransport(`ws://127.0.0.1:${ui.port}/agent?token=wrong`));
      expect(err.code).toBe('connect-failed');
      expect(err.message).toContain('token=…');
      // The server going away is a disconnect with a reason.
      const other = await startUiServer({ rendererDir });
      const c2 = new AgentClient(await webSocketTransport(other.agentUrl));
      const lost2 = new Promise<string>((resolve) => c2.onDisconnect(resolve));
      await other.close();
      expect(await lost2).toMatch(/^the agent connection closed \(WebSocket code \d+/);
      expect(c2.connected).toBe(false);
      // A deliberate close is not a lost agent.
      client.close();
      expect([client.connected, heard]).toEqual([false, false]);
    } finally {
      g.WebSocket = saved;
    }
  });

  it('without a global WebSocket (Node 20) the contract transport says what to use', async () => {
    const g = globalThis as { WebSocket?: unknown };
    const saved = g.WebSocket;
    delete g.WebSocket;
    try {
      const err = await agentError(webSocketTransport(ui.agentUrl));
      expect(err.code).toBe('unsupported');
    } finally {
      if (saved !== undefined) g.WebSocket = saved;
    }
  });
});

describe('tierscope ui (the real command)', () => {
  it('prints the URL first, serves it on 127.0.0.1 with the token only, stops on SIGTERM', async () => {
    const proc = spawn(process.execPath, [cliEntryPath(), 'ui', '--port', '0', '--pid', '77', '--no-open'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TIERSCOPE_RENDERER_DIR: rendererDir },
    });
    const child = wrap(proc);
    try {
      const line = await waitForLine(proc, 'http');
      const m = /^http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]{43})&pid=77$/.exec(line);
      expect(m, line).not.toBeNull();
      const port = Number(m?.[1]);
      expect((await get(port, '/')).status).toBe(403);
      expect((await get(port, `/?token=${m?.[2] ?? ''}`)).body).toContain('<title>T</title>');
      const client = new AgentClient(
        await connectWebSocket(`ws://127.0.0.1:${port}/agent?token=${m?.[2] ?? ''}`, {
          origin: `http://localhost:${port}`,
        }),
      );
      await expect(client.call('hello', { protocolVersion: 1, client: 'cli-test' })).resolves.toMatchObject({
        uid: process.getuid?.(),
      });
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      expect(await exited).toEqual([0, null]);
      client.close();
    } finally {
      await child.kill();
    }
  });
});
