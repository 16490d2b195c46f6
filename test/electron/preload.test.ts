// The preload with `electron` mocked: what it exposes to the page, and that it only forwards on fixed channels.
import { describe, expect, it, vi } from 'vitest';
import { IPC } from '../../electron/contract/desktop.js';
import { METHOD_NAMES } from '../../electron/contract/protocol.js';

const bridge = vi.hoisted(() => ({
  exposed: new Map<string, unknown>(),
  invoked: [] as [string, unknown][],
  listeners: new Map<string, Set<(event: unknown, payload: unknown) => void>>(),
}));

vi.mock('electron', () => ({
  contextBridge: {
    exposeInMainWorld: (key: string, api: unknown) => {
      bridge.exposed.set(key, api);
    },
  },
  ipcRenderer: {
    invoke: (channel: string, payload: unknown) => {
      bridge.invoked.push([channel, payload]);
      return Promise.resolve({ ok: true, result: { echoed: payload } });
    },
    on: (channel: string, cb: (event: unknown, payload: unknown) => void) => {
      const set = bridge.listeners.get(channel) ?? new Set();
      set.add(cb);
      bridge.listeners.set(channel, set);
    },
    removeListener: (channel: string, cb: (event: unknown, payload: unknown) => void) => {
      bridge.listeners.get(channel)?.delete(cb);
    },
  },
}));

await import('../../electron/preload/index.js');
const api = bridge.exposed.get('tierscope') as Record<string, unknown>;

function emit(channel: string, payload: unknown): void {
  for (const cb of bridge.listeners.get(channel) ?? []) cb({ sender: 'main' }, payload);
}

describe('preload', () => {
  it('exposes one function per protocol method plus subscriptions and control, nothing else', () => {
    expect([...bridge.exposed.keys()]).toEqual(['tierscope']);
    expect(Object.keys(api).sort()).toEqual(
      [...METHOD_NAMES, 'on', 'onStatus', 'onCommand', 'control'].sort(),
    );
    for (const value of Object.values(api)) expect(typeof value).toBe('function');
    expect(api).not.toHaveProperty('ipcRenderer');
    expect(api).not.toHaveProperty('invoke');
  });

  it('sends each method on the call channel with its name', async () => {
    const snapshot = api['snapshot'] as (p: unknown) => Promise<unknown>;
    const result = await snapshot({ pid: 42 });
    expect(bridge.invoked.at(-1)).toEqual([IPC.call, { method: 'snapshot', params: { pid: 42 } }]);
    expect(result).toEqual({ ok: true, result: { echoed: { method: 'snapshot', params: { pid: 42 } } } });
    await (api['control'] as (r: unknown) => Promise<unknown>)({ op: 'status' });
    expect(bridge.invoked.at(-1)).toEqual([IPC.control, { op: 'status' }]);
  });

  it('delivers only the subscribed event and unsubscribes cleanly', () => {
    const on = api['on'] as (e: string, cb: (d: unknown) => void) => () => void;
    const got: unknown[] = [];
    const off = on('detached', (d) => got.push(d));
    emit(IPC.event, { event: 'snapshot', data: { subscription: 's', snapshot: {} } });
    emit(IPC.event, {
      event: 'detached',
      data: { subscription: 's', code: 'process-gone', reason: 'exited' },
    });
    expect(got).toEqual([{ subscription: 's', code: 'process-gone', reason: 'exited' }]);
    off();
    emit(IPC.event, { event: 'detached', data: { subscription: 't', code: 'x', reason: 'y' } });
    expect(got).toHaveLength(1);
    expect(bridge.listeners.get(IPC.event)?.size).toBe(0);
  });

  it('hands status and menu commands to their own listeners, without the IPC event object', () => {
    const statuses: unknown[] = [];
    const commands: unknown[] = [];
    const offS = (api['onStatus'] as (cb: (s: unknown) => void) => () => void)((s) => statuses.push(s));
    const offC = (api['onCommand'] as (cb: (c: unknown) => void) => () => void)((c) => commands.push(c));
    emit(IPC.status, { state: 'lost', target: { kind: 'local' }, reason: 'killed' });
    emit(IPC.command, { type: 'launch' });
    expect(statuses).toEqual([{ state: 'lost', target: { kind: 'local' }, reason: 'killed' }]);
    expect(commands).toEqual([{ type: 'launch' }]);
    offS();
    offC();
  });
});
