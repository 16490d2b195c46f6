// The main entry with `electron` and child_process mocked: what it registers before and after `ready`,
// the app:// handler (CSP header, no traversal), and that it starts the local agent without a shell.
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';

interface Recorded {
  privileged: unknown[];
  handlers: Map<string, (req: Request) => Promise<Response>>;
  ipcChannels: string[];
  windows: Record<string, unknown>[];
  appEvents: Map<string, (...args: unknown[]) => void>;
  permissionRequest: ((c: unknown, p: string, cb: (ok: boolean) => void) => void) | null;
  menuSet: boolean;
  spawned: {
    command: string;
    args: readonly string[];
    options: { env?: NodeJS.ProcessEnv; shell?: boolean };
  }[];
  ready: () => void;
}

const rec = vi.hoisted((): Recorded => ({
  privileged: [],
  handlers: new Map(),
  ipcChannels: [],
  windows: [],
  appEvents: new Map(),
  permissionRequest: null,
  menuSet: false,
  spawned: [],
  ready: () => undefined,
}));

vi.mock('electron', () => {
  const contents = {
    on: () => contents,
    setWindowOpenHandler: () => undefined,
    isDestroyed: () => false,
    getURL: () => 'app://tierscope/index.html',
    send: () => undefined,
  };
  class BrowserWindow {
    webContents = contents;
    constructor(options: Record<string, unknown>) {
      rec.windows.push(options);
    }
    once(): this {
      return this;
    }
    on(): this {
      return this;
    }
    loadURL(): Promise<void> {
      return Promise.resolve();
    }
  }
  return {
    app: {
      isPackaged: false,
      on: (event: string, cb: (...args: unknown[]) => void) => {
        rec.appEvents.set(event, cb);
      },
      whenReady: () =>
        new Promise<void>((resolve) => {
          rec.ready = resolve;
        }),
      quit: () => undefined,
    },
    BrowserWindow,
    dialog: {},
    ipcMain: {
      handle: (channel: string) => {
        rec.ipcChannels.push(channel);
      },
      removeHandler: () => undefined,
    },
    Menu: {
      buildFromTemplate: (t: unknown) => t,
      setApplicationMenu: () => {
        rec.menuSet = true;
      },
    },
    protocol: {
      registerSchemesAsPrivileged: (schemes: unknown[]) => {
        rec.privileged.push(...schemes);
      },
      handle: (scheme: string, handler: (req: Request) => Promise<Response>) => {
        rec.handlers.set(scheme, handler);
      },
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (h: Recorded['permissionRequest']) => {
          rec.permissionRequest = h;
        },
        setPermissionCheckHandler: () => undefined,
      },
    },
  };
});

vi.mock('node:child_process', () => ({
  spawn: (command: string, args: readonly string[], options: Recorded['spawned'][number]['options']) => {
    rec.spawned.push({ command, args, options });
    // A child that never answers: enough to see how it was started.
    const child = Object.assign(new EventEmitter(), {
      pid: 4242,
      stdin: new PassThrough(),
      stdout: new PassThrough(),
      stderr: new PassThrough(),
      kill: () => true,
    });
    return child;
  },
}));

await import('../../electron/main/index.js');

describe('main entry', () => {
  it('registers app:// as a privileged standard scheme before ready', () => {
    expect(rec.privileged).toEqual([
      { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } },
    ]);
    expect(rec.handlers.size).toBe(0);
    expect(rec.appEvents.has('web-contents-created')).toBe(true);
  });

  it('on ready: serves app://, denies permissions, registers IPC and the menu, opens one secure window, starts the agent', async () => {
    rec.ready();
    await vi.waitFor(() => {
      expect(rec.windows).toHaveLength(1);
    });
    expect(rec.ipcChannels.sort()).toEqual(['tierscope:call', 'tierscope:control']);
    expect(rec.menuSet).toBe(true);
    const prefs = rec.windows[0]?.['webPreferences'] as Record<string, unknown>;
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
    expect(String(prefs['preload'])).toMatch(/preload\/index\.cjs$/);

    const answers: boolean[] = [];
    rec.permissionRequest?.({}, 'notifications', (ok) => answers.push(ok));
    expect(answers).toEqual([false]);

    await vi.waitFor(() => {
      expect(rec.spawned).toHaveLength(1);
    });
    const agent = rec.spawned[0];
    expect(agent?.command).toBe(process.execPath);
    expect(agent?.args.slice(1)).toEqual(['agent', '--stdio']);
    expect(String(agent?.args[0])).toMatch(/cli\/bin\.js$/);
    expect(agent?.options.shell).toBe(false);
    expect(agent?.options.env?.['ELECTRON_RUN_AS_NODE']).toBe('1');
  });

  it('serves the renderer over app:// with the CSP header, and nothing outside it', async () => {
    const handler = rec.handlers.get('app');
    if (!handler) throw new Error('no app:// handler');
    const page = await handler(new Request('app://tierscope/index.html'));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(page.headers.get('content-security-policy')).toMatch(/connect-src 'none'/);
    expect(await page.text()).toMatch(/<div id="root">/);
    for (const url of [
      'app://tierscope/%2e%2e/%2e%2e/package.json',
      'app://tierscope/..%2f..%2fpackage.json',
      'app://tierscope/missing.js',
      'app://elsewhere/index.html',
    ]) {
      expect((await handler(new Request(url))).status, url).toBe(404);
    }
  });
});
