// The window's security settings, with `electron` mocked at its edge (the binary cannot run here).
import { describe, expect, it, vi } from 'vitest';

const created = vi.hoisted(() => ({
  windows: [] as { options: Record<string, unknown>; loaded: string[] }[],
}));

vi.mock('electron', () => {
  class FakeContents {
    handlers = new Map<string, ((...args: unknown[]) => void)[]>();
    openHandler: (() => { action: string }) | null = null;
    on(event: string, cb: (...args: unknown[]) => void): this {
      this.handlers.set(event, [...(this.handlers.get(event) ?? []), cb]);
      return this;
    }
    setWindowOpenHandler(h: () => { action: string }): void {
      this.openHandler = h;
    }
  }
  class BrowserWindow {
    webContents = new FakeContents();
    record: { options: Record<string, unknown>; loaded: string[] };
    constructor(options: Record<string, unknown>) {
      this.record = { options, loaded: [] };
      created.windows.push(this.record);
    }
    once(): this {
      return this;
    }
    loadURL(url: string): Promise<void> {
      this.record.loaded.push(url);
      return Promise.resolve();
    }
  }
  return { BrowserWindow };
});

const { createMainWindow, denyPermissions } = await import('../../electron/main/window.js');
const {
  APP_INDEX_URL,
  CONTENT_SECURITY_POLICY,
  isAppUrl,
  isTrustedSender,
  lockNavigation,
  secureWebPreferences,
} = await import('../../electron/main/security.js');

interface Captured {
  handlers: Map<string, ((...args: unknown[]) => void)[]>;
  openHandler: (() => { action: string }) | null;
}

function fire(contents: Captured, event: string, url?: string): boolean {
  let prevented = false;
  const e = {
    preventDefault: () => {
      prevented = true;
    },
  };
  for (const h of contents.handlers.get(event) ?? []) h(e, url);
  return prevented;
}

describe('main window', () => {
  it('is created with context isolation, sandbox and no Node, and loads only app://', () => {
    const win = createMainWindow('/app/dist/electron/preload/index.cjs');
    const record = created.windows.at(-1);
    const prefs = record?.options['webPreferences'] as Record<string, unknown>;
    expect(prefs).toMatchObject({
      preload: '/app/dist/electron/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(record?.loaded).toEqual(['app://tierscope/index.html']);
    expect(APP_INDEX_URL).toBe('app://tierscope/index.html');

    const contents = win.webContents as unknown as Captured;
    expect(fire(contents, 'will-navigate', 'https://evil.example/')).toBe(true);
    expect(fire(contents, 'will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(fire(contents, 'will-redirect', 'http://127.0.0.1:8080/')).toBe(true);
    expect(fire(contents, 'will-navigate', 'app://tierscope/index.html')).toBe(false);
    expect(fire(contents, 'will-attach-webview')).toBe(true);
    expect(contents.openHandler?.()).toEqual({ action: 'deny' });
  });

  it('denies every permission request and check', () => {
    let requestHandler: ((c: unknown, p: string, cb: (ok: boolean) => void) => void) | null = null;
    let checkHandler: (() => boolean) | null = null;
    denyPermissions({
      setPermissionRequestHandler: (h) => {
        requestHandler = h as typeof requestHandler;
      },
      setPermissionCheckHandler: (h) => {
        checkHandler = h as typeof checkHandler;
      },
    });
    const answers: boolean[] = [];
    (requestHandler as unknown as (c: unknown, p: string, cb: (ok: boolean) => void) => void)(
      {},
      'media',
      (ok) => answers.push(ok),
    );
    expect(answers).toEqual([false]);
    expect((checkHandler as unknown as () => boolean)()).toBe(false);
  });
});

describe('content security policy', () => {
  const directives = new Map(
    CONTENT_SECURITY_POLICY.split(';').map((d) => {
      const [name = '', ...values] = d.trim().split(/\s+/);
      return [name, values] as const;
    }),
  );

  it('allows only the app’s own scripts, no eval, no inline script, no network', () => {
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('connect-src')).toEqual(["'none'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval|unsafe-inline/);
  });

  it('is no looser than the meta policy of the built index.html', async () => {
    const { readFile } = await import('node:fs/promises');
    const html = await readFile(new URL('../../renderer/index.html', import.meta.url), 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1] ?? '';
    expect(meta).toMatch(/script-src 'self'/);
    expect(meta).not.toMatch(/unsafe-eval|unsafe-inline/);
  });

  it('secureWebPreferences never enables Node', () => {
    const prefs = secureWebPreferences('/p.cjs');
    expect(prefs.nodeIntegration).toBe(false);
    expect(prefs.contextIsolation).toBe(true);
    expect(prefs.sandbox).toBe(true);
  });
});

describe('IPC sender validation', () => {
  it('accepts only the app’s own top-level frame', () => {
    expect(isTrustedSender({ senderFrame: { url: 'app://tierscope/index.html', parent: null } })).toBe(true);
    expect(isTrustedSender({ senderFrame: { url: 'app://tierscope/', parent: null } })).toBe(true);
    // a subframe, another origin, a look-alike host, userinfo tricks, a destroyed frame
    expect(isTrustedSender({ senderFrame: { url: 'app://tierscope/index.html', parent: {} } })).toBe(false);
    expect(isTrustedSender({ senderFrame: { url: 'https://tierscope/index.html', parent: null } })).toBe(
      false,
    );
    expect(isTrustedSender({ senderFrame: { url: 'app://tierscope.evil/index.html', parent: null } })).toBe(
      false,
    );
    expect(isTrustedSender({ senderFrame: { url: 'app://x@tierscope/', parent: null } })).toBe(false);
    expect(isTrustedSender({ senderFrame: { url: 'file:///index.html', parent: null } })).toBe(false);
    expect(isTrustedSender({ senderFrame: null })).toBe(false);
    expect(isAppUrl('not a url')).toBe(false);
  });

  it('locks any web contents it is given', () => {
    const handlers = new Map<string, ((...args: unknown[]) => void)[]>();
    let open: (() => unknown) | null = null;
    lockNavigation({
      on: ((event: string, cb: (...args: unknown[]) => void) => {
        handlers.set(event, [...(handlers.get(event) ?? []), cb]);
      }) as never,
      setWindowOpenHandler: ((h: () => unknown) => {
        open = h;
      }) as never,
    });
    expect([...handlers.keys()].sort()).toEqual(['will-attach-webview', 'will-navigate', 'will-redirect']);
    expect((open as unknown as () => unknown)()).toEqual({ action: 'deny' });
  });
});
