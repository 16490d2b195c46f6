// IPC edge of the main process: sender validation and schema validation before anything reaches the agent.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IPC, type AgentStatus, type AgentTarget, type Envelope } from '../../electron/contract/desktop.js';
import type { MethodName } from '../../electron/contract/protocol.js';
import { handleCall, handleControl, registerIpc, type IpcBackend } from '../../electron/main/ipc.js';
import { threeNodeSnapshot } from '../renderer/fixtures.js';

const trusted = { senderFrame: { url: 'app://tierscope/index.html', parent: null } } as never;
const foreign = { senderFrame: { url: 'https://evil.example/', parent: null } } as never;

function backend(): IpcBackend & {
  calls: [MethodName, unknown][];
  switches: AgentTarget[];
  exported: number;
} {
  const status: AgentStatus = { state: 'connected', target: { kind: 'local' } };
  const b = {
    calls: [] as [MethodName, unknown][],
    switches: [] as AgentTarget[],
    exported: 0,
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
