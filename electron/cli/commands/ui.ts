import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentServer } from '../../agent/server.js';
import { startUiServer } from '../../agent/uiServer.js';
import { UsageError, intOption, type CliIo, type Command } from '../io.js';
import { VERSION } from '../version.js';

export const uiCommand: Command = {
  usage:
    'usage: tierscope ui [--port P] [--pid N | --session FILE] [--no-open]\n' +
    '  Browser mode: serves the UI and an agent on 127.0.0.1 only, behind a random token in the URL.\n' +
    '  The URL is the first line printed. Stop with Ctrl-C.\n' +
    '  --port P    port to listen on (default 0: any free port)\n' +
    '  --pid N     open the UI on process N\n' +
    '  --session FILE\n' +
    '              open the UI on a recorded session (no process needed)\n' +
    '  --no-open   do not start a browser, only print the URL\n' +
    '  The renderer is served from dist/renderer (TIERSCOPE_RENDERER_DIR overrides); build it with\n' +
    '  `npm run build:renderer`.\n',
  options: {
    port: { type: 'string' },
    pid: { type: 'string' },
    session: { type: 'string' },
    'no-open': { type: 'boolean' },
    help: { type: 'boolean' },
  },
  async run(values, io) {
    const port = intOption(values, 'port', false) ?? 0;
    if (port > 65_535) throw new UsageError(`--port expects 0-65535, got ${port}`);
    const pid = intOption(values, 'pid', false);
    const sessionOption = values['session'];
    const session = typeof sessionOption === 'string' ? path.resolve(sessionOption) : null;
    if (session !== null && !existsSync(session))
      throw new UsageError(`--session: ${session} does not exist`);
    const log = (line: string): void => {
      io.err(`tierscope ui: ${line}\n`);
    };
    const rendererDir = process.env['TIERSCOPE_RENDERER_DIR'] ?? defaultRendererDir();
    const agent = new AgentServer({ agentVersion: VERSION, log });
    const ui = await startUiServer({
      rendererDir,
      port,
      server: agent,
      log,
      ...(pid !== undefined && pid > 0 ? { pid } : {}),
    });
    // The renderer opens ?session=PATH through the agent at start (a path on this machine).
    const url = session === null ? ui.url : `${ui.url}&session=${encodeURIComponent(session)}`;
    // First stdout line, alone: scripts and tests read it.
    io.out(`${url}\n`);
    if (!existsSync(path.join(rendererDir, 'index.html'))) {
      log(`the renderer is not built (${rendererDir}/index.html is missing): run \`npm run build:renderer\``);
    }
    const opened = values['no-open'] === true ? null : await openBrowser(url, io);
    log('serving on 127.0.0.1 only; press Ctrl-C to stop');

    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await ui.close();
    await agent.close();
    if (opened) await rm(opened, { recursive: true, force: true });
  },
};

/** dist/renderer of the package this module belongs to (source tree or dist/). */
function defaultRendererDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'tierscope')
          return path.join(dir, 'dist', 'renderer');
      } catch {
        // not ours; keep looking
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve('dist', 'renderer');
    dir = parent;
  }
}

/**
 * Opens the URL with xdg-open through a private redirect file: a URL on a command line is readable by
 * every local user in /proc/PID/cmdline, and this one carries the token. Returns the temp directory to
 * remove at exit, or null when no browser could be started (the URL is printed anyway).
 */
async function openBrowser(url: string, io: CliIo): Promise<string | null> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tierscope-ui-'));
  const file = path.join(dir, 'open.html');
  const escaped = url.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  await writeFile(
    file,
    `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${escaped}"><title>Tierscope</title><a href="${escaped}">Open Tierscope</a>\n`,
    { mode: 0o600 },
  );
  return new Promise<string | null>((resolve) => {
    const child = spawn('xdg-open', [file], { stdio: 'ignore', detached: true });
    child.once('error', (err: NodeJS.ErrnoException) => {
      io.err(
        `tierscope ui: cannot start a browser (xdg-open: ${err.code === 'ENOENT' ? 'not installed' : err.message}): open the URL above yourself\n`,
      );
      void rm(dir, { recursive: true, force: true });
      resolve(null);
    });
    child.once('spawn', () => {
      child.unref();
      resolve(dir);
    });
  });
}
