// Electron main process: the window, the menu, and the agent child it relays to. It does no profiling
// itself (the agent does, in its own process), so it never blocks: every step is an event or a promise.
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { access, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session } from 'electron';
import { IPC, type AgentStatus, type MenuCommand } from '../contract/desktop.js';
import { agentCommand, AGENT_HELPER_PATH } from './agentCommand.js';
import { AgentHost } from './agentHost.js';
import { spawnStdioAgent } from './agentProcess.js';
import { contentTypeOf, insideRoot, resolveAppFile } from './appProtocol.js';
import { autosaveDirectory, FileDialogs } from './fileDialogs.js';
import { registerIpc } from './ipc.js';
import { menuTemplate } from './menu.js';
import { APP_SCHEME, CONTENT_SECURITY_POLICY, isAppUrl, lockNavigation } from './security.js';
import { readSnapshotFile, writeSnapshotFile } from './snapshotFiles.js';
import { createMainWindow, denyPermissions } from './window.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// dist/electron/main → dist/renderer, dist/electron/preload, dist/electron/cli (inside app.asar when packaged).
const RENDERER_DIR = path.resolve(here, '../../renderer');
const PRELOAD = path.resolve(here, '../preload/index.cjs');
// The agent child runs the one-file CLI bundle (dist/bundle, starts twice as fast) unless a later tsc left
// it older than the modules: the rule of cliEntryPath() in electron/agent/commands.ts (main may not import it).
const CLI_MODULES = path.resolve(here, '../cli/bin.js');
const CLI_BUNDLE = path.resolve(here, '../../bundle/bin.js');
const CLI_ENTRY =
  existsSync(CLI_BUNDLE) &&
  existsSync(CLI_MODULES) &&
  statSync(CLI_BUNDLE).mtimeMs >= statSync(CLI_MODULES).mtimeMs
    ? CLI_BUNDLE
    : CLI_MODULES;

// Before ready: app:// behaves like a secure, standard origin (fetch, relative URLs, CSP 'self').
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

let window: BrowserWindow | null = null;

function log(line: string): void {
  process.stderr.write(`tierscope main: ${line}\n`);
}

function send(channel: string, payload: unknown): void {
  const contents = window?.webContents;
  if (contents && !contents.isDestroyed() && isAppUrl(contents.getURL())) contents.send(channel, payload);
}

const host = new AgentHost({
  command: async (target) => {
    const helperInstalled = await access(AGENT_HELPER_PATH).then(
      () => true,
      () => false,
    );
    return agentCommand(target, { execPath: process.execPath, cliEntry: CLI_ENTRY, helperInstalled });
  },
  start: (command) => spawnStdioAgent(spawn, command, process.env, log),
  onStatus: (status: AgentStatus) => {
    send(IPC.status, status);
  },
  onEvent: (event, data) => {
    send(IPC.event, { event, data });
  },
  log,
});

async function serveApp(request: Request): Promise<Response> {
  const file = resolveAppFile(RENDERER_DIR, request.url);
  const notFound = new Response('Not found', { status: 404 });
  if (file === null) return notFound;
  const [root, real] = await Promise.all([
    realpath(RENDERER_DIR).catch(() => null),
    realpath(file).catch(() => null),
  ]);
  if (root === null || real === null || !insideRoot(root, real)) return notFound;
  const body = await readFile(real).catch(() => null);
  if (body === null) return notFound;
  return new Response(body, {
    headers: {
      'Content-Type': contentTypeOf(real),
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
    },
  });
}

async function openSnapshot(): Promise<void> {
  if (!window) return;
  const picked = await dialog.showOpenDialog(window, {
    title: 'Open snapshot',
    filters: [{ name: 'Tierscope snapshot', extensions: ['json'] }],
    properties: ['openFile'],
  });
  const file = picked.filePaths[0];
  if (picked.canceled || file === undefined) return;
  try {
    const snapshot = await readSnapshotFile(file);
    const command: MenuCommand = { type: 'snapshot-opened', path: file, snapshot };
    send(IPC.command, command);
  } catch (err) {
    await dialog.showMessageBox(window, {
      type: 'error',
      message: 'Cannot open the snapshot',
      detail: err instanceof Error ? err.message : String(err),
    });
  }
}

const fileDialogs = new FileDialogs(
  dialog,
  () => window,
  async () => {
    const autosave = autosaveDirectory(process.env, app.getPath('home'));
    return access(autosave).then(
      () => autosave,
      () => app.getPath('home'),
    );
  },
  () => {
    // getPath throws when the platform has no such folder configured; home always exists.
    try {
      return app.getPath('documents');
    } catch {
      return app.getPath('home');
    }
  },
);

async function exportSnapshot(snapshot: Parameters<typeof writeSnapshotFile>[1]): Promise<string | null> {
  if (!window) return null;
  const saved = await dialog.showSaveDialog(window, {
    title: 'Export snapshot',
    defaultPath: `tierscope-snapshot-${snapshot.pid}.json`,
    filters: [{ name: 'JSON', extensions: ['json'] }],
  });
  if (saved.canceled || saved.filePath === '') return null;
  await writeSnapshotFile(saved.filePath, snapshot);
  return saved.filePath;
}

// Every web contents (the window, and anything that might ever be created) gets the same locks.
app.on('web-contents-created', (_event, contents) => {
  lockNavigation(contents);
});

app.on('window-all-closed', () => {
  app.quit();
});

app.on('before-quit', () => {
  host.stop();
});

void app.whenReady().then(() => {
  protocol.handle(APP_SCHEME, serveApp);
  denyPermissions(session.defaultSession);
  registerIpc(ipcMain, {
    call: (method, params) => host.call(method, params),
    status: () => host.status,
    reconnect: () => host.reconnect(),
    switchTo: (target) => host.start(target),
    exportSnapshot,
    openSessionDialog: () => fileDialogs.openSession(),
    saveDialog: (request) => fileDialogs.save(request),
  });
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      menuTemplate(
        {
          send: (command) => {
            send(IPC.command, command);
          },
          openSnapshot: () => void openSnapshot(),
          elevate: () => void host.start({ kind: 'elevated' }),
          useLocalAgent: () => void host.start({ kind: 'local' }),
          reconnect: () => void host.reconnect(),
          quit: () => {
            app.quit();
          },
        },
        { devTools: !app.isPackaged },
      ),
    ),
  );
  window = createMainWindow(PRELOAD);
  window.on('closed', () => {
    window = null;
  });
  void host.start({ kind: 'local' });
});
