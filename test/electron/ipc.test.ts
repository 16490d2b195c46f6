// IPC edge of the main process: sender validation and schema validation before anything reaches the agent.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IPC, type AgentStatus, type AgentTarget, type Envelope } from '../../electron/contract/desktop.js';
import type { MethodName } from '../../electron/contract/protocol.js';
import {
  handleCall,
  handleControl,
  registerIpc,
  remoteAgentHost,
  type IpcBackend,
  type SaveDialogRequest,
} from '../../electron/main/ipc.js';
import { threeNodeSnapshot } from '../renderer/fixtures.js';

const trusted = { senderFrame: { url: 'app://tierscope/index.html', parent: null } } as never;
const foreign = { senderFrame: { url: 'https://evil.example/', parent: null } } as never;

function backend(status: AgentStatus = { state: 'connected', target: { kind: 'local' } }): IpcBackend & {
  calls: [MethodName, unknown][];
  switches: AgentTarget[];
  exported: number;
  dialogs: unknown[];
} {
  const b = {
    calls: [] as [MethodName, unknown][],
    switches: [] as AgentTarget[],
    exported: 0,
    dialogs: [] as unknown[],
    openSessionDialog: () => {
      b.dialogs.push('open');
      return Promise.resolve('/home/u/run.tierscope');
    },
    saveDialog: (request: SaveDialogRequest) => {
      b.dialogs.push(request);
      return Promise.resolve(null);
    },
    call: (method: MethodName, params: unknown): Promise<Envelope<unknown>> => {
      b.calls.push([method, params]);
      return Promise.resolve({ ok: true, result: 'relayed' });
    },
    status: () => status,
    reconnect: () => Promise.resolve({ ok: true as const, result: status }),
    switchTo: (target: AgentTarget) => {
      b.switches.push(target);
      return Promise.resolve({ ok: true as const, result: status });
    },
    exportSnapshot: () => {
      b.exported++;
      return Promise.resolve('/tmp/x.json');
    },
  };
  return b;
}

describe('IPC call channel', () => {
  it('relays a well-formed call from the app’s frame', async () => {
    const b = backend();
    const r = await handleCall(b, trusted, { method: 'snapshot', params: { pid: 42 } });
    expect(r).toEqual({ ok: true, result: 'relayed' });
    expect(b.calls).toEqual([['snapshot', { pid: 42 }]]);
  });

  it('refuses a frame that is not the app, before looking at the request', async () => {
    const b = backend();
    const r = await handleCall(b, foreign, { method: 'listProcesses', params: {} });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.code).toBe('forbidden');
    expect(b.calls).toEqual([]);
  });

  it('refuses unknown methods and malformed requests without reaching the agent', async () => {
    const b = backend();
    for (const raw of [null, 'snapshot', { method: 'rm -rf', params: {} }, { params: {} }, { method: 42 }]) {
      const r = await handleCall(b, trusted, raw);
      expect(!r.ok && r.error.code).toBe('bad-request');
    }
    expect(b.calls).toEqual([]);
  });

  it('never throws whatever the renderer sends (fuzz)', async () => {
    const b = backend();
    await fc.assert(
      fc.asyncProperty(fc.anything(), async (raw) => {
        const r = await handleCall(b, trusted, raw);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 300 },
    );
    // Whatever got through named a real method (params are checked again in AgentHost.call).
    for (const [method] of b.calls) expect(typeof method).toBe('string');
  });
});

describe('IPC control channel', () => {
  it('switches agents only to valid targets', async () => {
    const b = backend();
    expect((await handleControl(b, trusted, { op: 'switch', target: { kind: 'elevated' } })).ok).toBe(true);
    const badHost = await handleControl(b, trusted, {
      op: 'switch',
      target: { kind: 'remote', destination: '-oProxyCommand=sh' },
    });
    expect(!badHost.ok && badHost.error.code).toBe('bad-request');
    expect(b.switches).toEqual([{ kind: 'elevated' }]);
  });

  it('answers status, exports only valid snapshots, refuses foreign frames', async () => {
    const b = backend();
    expect(await handleControl(b, trusted, { op: 'status' })).toEqual({
      ok: true,
      result: { state: 'connected', target: { kind: 'local' } },
    });
    expect(await handleControl(b, trusted, { op: 'exportSnapshot', snapshot: threeNodeSnapshot() })).toEqual({
      ok: true,
      result: '/tmp/x.json',
    });
    const bad = await handleControl(b, trusted, { op: 'exportSnapshot', snapshot: { pid: 'x' } });
    expect(bad.ok).toBe(false);
    expect(b.exported).toBe(1);
    const refused = await handleControl(b, foreign, { op: 'reconnect' });
    expect(!refused.ok && refused.error.code).toBe('forbidden');
  });

  it('shows the session dialogs only with a valid request, and only for an agent on this machine', async () => {
    const b = backend();
    expect(await handleControl(b, trusted, { op: 'openSessionDialog' })).toEqual({
      ok: true,
      result: '/home/u/run.tierscope',
    });
    const save = {
      op: 'saveDialog',
      title: 'Export session',
      defaultName: 'memhog-4242.csv',
      filters: [{ name: 'CSV', extensions: ['csv'] }],
    };
    expect(await handleControl(b, trusted, save)).toEqual({ ok: true, result: null });
    expect(b.dialogs).toEqual([
      'open',
      { title: 'Export session', defaultName: 'memhog-4242.csv', filters: save.filters },
    ]);
    // Folders in the name, bad extensions, no filters, extra junk: refused before any dialog.
    for (const bad of [
      { ...save, defaultName: '../../.bashrc' },
      { ...save, defaultName: '/etc/passwd' },
      { ...save, defaultName: '..' },
      { ...save, defaultName: 'a\u0000b' },
      { ...save, filters: [] },
      { ...save, filters: [{ name: 'x', extensions: ['.csv'] }] },
      { ...save, filters: [{ name: 'x', extensions: ['c s v'] }] },
      { ...save, title: '' },
      { op: 'saveDialog' },
    ]) {
      const r = await handleControl(b, trusted, bad);
      expect(!r.ok && r.error.code, JSON.stringify(bad)).toBe('bad-request');
    }
    expect(b.dialogs).toHaveLength(2);
    const foreignOpen = await handleControl(b, foreign, { op: 'openSessionDialog' });
    expect(!foreignOpen.ok && foreignOpen.error.code).toBe('forbidden');

    const remote = backend({ state: 'connected', target: { kind: 'remote', destination: 'perf@db-7' } });
    const r = await handleControl(remote, trusted, { op: 'openSessionDialog' });
    expect(!r.ok && r.error.code).toBe('unsupported');
    expect(!r.ok && r.error.message).toMatch(/perf@db-7/);
    expect(remote.dialogs).toEqual([]);
  });

  it('reports a dialog that fails as an error value', async () => {
    const b = backend();
    b.openSessionDialog = () => Promise.reject(new Error('no portal'));
    const r = await handleControl(b, trusted, { op: 'openSessionDialog' });
    expect(r).toEqual({ ok: false, error: { code: 'io', message: 'The file dialog failed: no portal' } });
  });

  it('knows where the agent runs, also after a refused switch', () => {
    expect(remoteAgentHost({ state: 'connected', target: { kind: 'local' } })).toBeNull();
    expect(
      remoteAgentHost({ state: 'lost', target: { kind: 'remote', destination: 'h' }, reason: 'x' }),
    ).toBe('h');
    expect(
      remoteAgentHost({
        state: 'switch-failed',
        target: { kind: 'elevated' },
        current: { kind: 'remote', destination: 'h2' },
        refused: true,
        reason: 'x',
      }),
    ).toBe('h2');
    expect(
      remoteAgentHost({
        state: 'switch-failed',
        target: { kind: 'remote', destination: 'h3' },
        current: null,
        refused: false,
        reason: 'x',
      }),
    ).toBeNull();
  });

  it('registers exactly the two invoke channels and removes them', () => {
    const handled = new Map<string, unknown>();
    const off = registerIpc(
      {
        handle: ((channel: string, fn: unknown) => handled.set(channel, fn)) as never,
        removeHandler: (channel: string) => {
          handled.delete(channel);
        },
      },
      backend(),
    );
    expect([...handled.keys()].sort()).toEqual([IPC.call, IPC.control].sort());
    off();
    expect(handled.size).toBe(0);
  });
});
