// Pure parts of the main process: agent commands, app:// file resolution, line framing, the menu, files.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';
import type { MenuCommand } from '../../electron/contract/desktop.js';
import { AGENT_HELPER_PATH, agentCommand, exitReason, wasRefused } from '../../electron/main/agentCommand.js';
import { LineSplitter } from '../../electron/main/agentProcess.js';
import { contentTypeOf, insideRoot, resolveAppFile } from '../../electron/main/appProtocol.js';
import { menuTemplate } from '../../electron/main/menu.js';
import { readSnapshotFile, writeSnapshotFile } from '../../electron/main/snapshotFiles.js';
import { threeNodeSnapshot } from '../renderer/fixtures.js';

const paths = {
  execPath: '/opt/Tierscope/tierscope-desktop',
  cliEntry: '/opt/app.asar/dist/electron/cli/bin.js',
};

describe('agent commands', () => {
  it('runs the local agent with Electron as Node, without a shell', () => {
    expect(agentCommand({ kind: 'local' }, { ...paths, helperInstalled: false })).toEqual({
      command: paths.execPath,
      args: [paths.cliEntry, 'agent', '--stdio'],
      env: { ELECTRON_RUN_AS_NODE: '1' },
    });
  });

  it('elevates through the installed helper, else through env(1) since pkexec clears the environment', () => {
    expect(agentCommand({ kind: 'elevated' }, { ...paths, helperInstalled: true })).toEqual({
      command: 'pkexec',
      args: [AGENT_HELPER_PATH],
      env: {},
    });
    const fallback = agentCommand({ kind: 'elevated' }, { ...paths, helperInstalled: false });
    expect(fallback.command).toBe('pkexec');
    expect(fallback.args).toEqual([
      '/usr/bin/env',
      'ELECTRON_RUN_AS_NODE=1',
      paths.execPath,
      paths.cliEntry,
      'agent',
      '--stdio',
    ]);
  });

  it('reaches a remote agent over ssh, the destination after --, never as an option', () => {
    const cmd = agentCommand(
      { kind: 'remote', destination: 'perf@db-7' },
      { ...paths, helperInstalled: false },
    );
    expect(cmd.command).toBe('ssh');
    expect(cmd.args).toContain('BatchMode=yes');
    expect(cmd.args.slice(cmd.args.indexOf('--'))).toEqual([
      '--',
      'perf@db-7',
      'tierscope',
      'agent',
      '--stdio',
    ]);
    for (const destination of ['-oProxyCommand=touch /tmp/x', 'a b', 'host;rm', '']) {
      expect(() =>
        agentCommand({ kind: 'remote', destination }, { ...paths, helperInstalled: false }),
      ).toThrow();
    }
  });

  it('tells a refused elevation from a broken agent', () => {
    expect(wasRefused('pkexec', 126)).toBe(true);
    expect(wasRefused('pkexec', 127)).toBe(true);
    expect(wasRefused('pkexec', 1)).toBe(false);
    expect(wasRefused('ssh', 126)).toBe(false);
    expect(exitReason('pkexec', 126, null, undefined)).toMatch(/dismissed/);
    expect(exitReason('ssh', 255, null, 'Permission denied (publickey).')).toMatch(/Permission denied/);
    expect(exitReason('/usr/bin/node', null, 'SIGKILL', undefined)).toMatch(/killed by SIGKILL/);
  });
});

describe('app:// files', () => {
  const root = '/app/dist/renderer';
  it('maps app URLs to files under the renderer directory', () => {
    expect(resolveAppFile(root, 'app://tierscope/')).toBe(path.join(root, 'index.html'));
    expect(resolveAppFile(root, 'app://tierscope/assets/index-abc.js')).toBe(
      path.join(root, 'assets/index-abc.js'),
    );
  });

  it('never resolves outside the root, whatever the dots and encodings', () => {
    // URL parsing already folds plain dot segments ("/../../etc/passwd" → "/etc/passwd", under the root);
    // encoded ones survive parsing and must be caught after decoding.
    for (const url of [
      'app://tierscope/../../etc/passwd',
      'app://tierscope/%2e%2e/%2e%2e/etc/passwd',
      'app://tierscope/assets/..%2f..%2f..%2fetc/passwd',
      'app://tierscope/%2E%2E%2F%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
    ]) {
      const file = resolveAppFile(root, url);
      expect(file === null || file.startsWith(`${root}/`), `${url} → ${String(file)}`).toBe(true);
    }
    expect(resolveAppFile(root, 'app://tierscope/assets/..%2f..%2f..%2fetc/passwd')).toBeNull();
  });

  it('refuses other hosts and schemes, NUL and backslashes', () => {
    for (const url of [
      'app://tierscope/a%00.js',
      'app://tierscope/..%5c..%5cetc',
      'app://other/index.html',
      'file:///etc/passwd',
      'not a url',
    ]) {
      expect(resolveAppFile(root, url), url).toBeNull();
    }
    expect(insideRoot('/r', '/r/a')).toBe(true);
    expect(insideRoot('/r', '/rx/a')).toBe(false);
    expect(contentTypeOf('x.js')).toMatch(/javascript/);
    expect(contentTypeOf('x.exe')).toBe('application/octet-stream');
  });
});

describe('LineSplitter', () => {
  it('splits across chunks, handles CRLF and multi-byte characters split mid-sequence', () => {
    const lines: string[] = [];
    const s = new LineSplitter(
      1000,
      (l) => lines.push(l),
      () => undefined,
    );
    const bytes = Buffer.from('{"a":"é"}\r\n\n{"b":2}\n{"c"');
    const cut = bytes.indexOf(0xa9); // second byte of é
    s.push(bytes.subarray(0, cut));
    s.push(bytes.subarray(cut));
    s.push(Buffer.from(':3}\n'));
    expect(lines).toEqual(['{"a":"é"}', '{"b":2}', '{"c":3}']);
  });

  it('skips an oversize line without holding it, then carries on', () => {
    const lines: string[] = [];
    let oversize = 0;
    const s = new LineSplitter(
      10,
      (l) => lines.push(l),
      () => oversize++,
    );
    s.push(Buffer.from('x'.repeat(8)));
    s.push(Buffer.from('x'.repeat(8)));
    s.push(Buffer.from('xxx\nok\n'));
    expect(oversize).toBe(1);
    expect(lines).toEqual(['ok']);
  });
});

describe('menu', () => {
  function items(template: MenuItemConstructorOptions[]): Map<string, MenuItemConstructorOptions> {
    const out = new Map<string, MenuItemConstructorOptions>();
    for (const top of template) {
      for (const item of (top.submenu ?? []) as MenuItemConstructorOptions[]) {
        if (item.label) out.set(`${top.label ?? ''} > ${item.label}`, item);
      }
    }
    return out;
  }

  it('has File, Capture, Session and Help items that all do something', () => {
    const sent: MenuCommand[] = [];
    const done: string[] = [];
    const template = menuTemplate(
      {
        send: (c) => sent.push(c),
        openSnapshot: () => done.push('open'),
        elevate: () => done.push('elevate'),
        useLocalAgent: () => done.push('local'),
        reconnect: () => done.push('reconnect'),
        quit: () => done.push('quit'),
      },
      { devTools: false },
    );
    const all = items(template);
    expect([...all.keys()].filter((k) => k.startsWith('File'))).toEqual([
      'File > Open Session…',
      'File > Save Session As…',
      'File > Export Session…',
      'File > Open Snapshot…',
      'File > Export Snapshot as JSON…',
      'File > Quit',
    ]);
    expect([...all.keys()].filter((k) => k.startsWith('Session') || k.startsWith('Help'))).toEqual([
      'Session > Record / Stop',
      'Session > Migrate Selection…',
      'Help > Keyboard Shortcuts',
    ]);
    expect([...all.keys()].filter((k) => k.startsWith('Capture'))).toEqual([
      'Capture > Attach to Process…',
      'Capture > Launch Command…',
      'Capture > Elevate (pkexec)…',
      'Capture > Connect to Remote (ssh)…',
      'Capture > Use Local Agent',
      'Capture > Reconnect Agent',
    ]);
    for (const [label, item] of all) {
      expect(item.click, label).toBeTypeOf('function');
      (item.click as () => void)();
    }
    expect(done).toEqual(['open', 'quit', 'elevate', 'local', 'reconnect']);
    for (const command of [
      'open-session',
      'save-session-as',
      'export-session',
      'toggle-recording',
      'migrate',
      'show-shortcuts',
    ] as const) {
      expect(sent).toContainEqual({ type: command });
    }
    expect(sent).toContainEqual({ type: 'launch' });
    expect(sent).toContainEqual({ type: 'connect-remote' });
    expect(sent).toContainEqual({ type: 'show-view', view: 'processes' });
    expect(JSON.stringify(template)).not.toMatch(/toggleDevTools/);
    expect(
      JSON.stringify(
        menuTemplate(
          {
            send: () => 0,
            openSnapshot: () => 0,
            elevate: () => 0,
            useLocalAgent: () => 0,
            reconnect: () => 0,
            quit: () => 0,
          },
          { devTools: true },
        ),
      ),
    ).toMatch(/toggleDevTools/);
  });

  it('gives every registered accelerator one item, and registers no bare key (it would eat typing)', () => {
    const noop = (): number => 0;
    const template = menuTemplate(
      { send: noop, openSnapshot: noop, elevate: noop, useLocalAgent: noop, reconnect: noop, quit: noop },
      { devTools: false },
    );
    const registered = [...items(template).values()]
      .filter((i) => i.accelerator !== undefined && i.registerAccelerator !== false)
      .map((i) => String(i.accelerator));
    expect(new Set(registered).size).toBe(registered.length);
    for (const accelerator of registered) expect(accelerator).toMatch(/^CmdOrCtrl\+/);
    const byLabel = items(template);
    expect(byLabel.get('File > Open Session…')?.accelerator).toBe('CmdOrCtrl+O');
    expect(byLabel.get('File > Save Session As…')?.accelerator).toBe('CmdOrCtrl+S');
    expect(byLabel.get('File > Export Session…')?.accelerator).toBe('CmdOrCtrl+E');
    expect(byLabel.get('Session > Record / Stop')?.accelerator).toBe('CmdOrCtrl+R');
    expect(byLabel.get('Session > Migrate Selection…')).toMatchObject({
      accelerator: 'M',
      registerAccelerator: false,
    });
  });
});

describe('snapshot files', () => {
  it('round-trips a snapshot and rejects what is not one, naming the file', async () => {
    let written = '';
    await writeSnapshotFile('/x.json', threeNodeSnapshot(), (_f, t) => {
      written = t;
      return Promise.resolve();
    });
    const back = await readSnapshotFile('/x.json', () => Promise.resolve(Buffer.from(written)));
    expect(back).toEqual(threeNodeSnapshot());
    await expect(readSnapshotFile('/bad.json', () => Promise.resolve(Buffer.from('{')))).rejects.toThrow(
      /bad.json is not JSON/,
    );
    await expect(
      readSnapshotFile('/other.json', () => Promise.resolve(Buffer.from('{"pid": 3}'))),
    ).rejects.toThrow(/other.json is not a Tierscope snapshot/);
  });
});
