import { describe, expect, it } from 'vitest';
import { processKey } from '../../renderer/src/logic/processes.js';
import { reducer, type Action } from '../../renderer/src/state/reducer.js';
import { selectVisibleProcesses, selectVisibleVmaRows } from '../../renderer/src/state/selectors.js';
import { initialState, type AppState } from '../../renderer/src/state/state.js';
import { proc, threeNodeSnapshot } from './fixtures.js';

function run(state: AppState, ...actions: Action[]): AppState {
  return actions.reduce(reducer, state);
}

const hello = { protocolVersion: 1, agentVersion: 't', hostname: 'h', uid: 0, privileged: true };

function liveState(): AppState {
  const snap = threeNodeSnapshot();
  return run(
    initialState('browser', 'dark'),
    { type: 'connection/connected', target: null },
    { type: 'connection/hello', hello },
    { type: 'target/select', process: { pid: 4242, comm: 'memhog', startTimeTicks: 1000 } },
    { type: 'target/attached', pid: 4242, subscription: 's1', startTimeTicks: 1000 },
    { type: 'target/live-snapshot', subscription: 's1', snapshot: snap },
  );
}

describe('reducer', () => {
  it('applies live snapshots of the current subscription only', () => {
    const s = liveState();
    expect(s.target?.phase).toBe('live');
    expect(s.target?.history).toHaveLength(1);
    const stale = reducer(s, {
      type: 'target/live-snapshot',
      subscription: 'old',
      snapshot: threeNodeSnapshot('2025-03-04T10:00:05.000Z'),
    });
    expect(stale).toBe(s);
    // The picker's per-node cell of the process comes from the same snapshot.
    expect(s.nodePages[processKey({ pid: 4242, startTimeTicks: 1000 })]?.status).toBe('ready');
  });

  it('keeps every piece of data when the agent is lost, pausing the live view', () => {
    const s = liveState();
    const lost = reducer(s, { type: 'connection/lost', reason: 'the agent was killed by SIGKILL.', atMs: 5 });
    expect(lost.connection).toEqual({
      status: 'lost',
      reason: 'the agent was killed by SIGKILL.',
      sinceMs: 5,
      reconnecting: false,
      hello,
    });
    expect(lost.target?.snapshot).toBe(s.target?.snapshot);
    expect(lost.target?.phase).toBe('paused');
    expect(lost.target?.subscription).toBeNull();
    // Reconnecting and coming back keep the hello until the new one arrives.
    const back = run(
      lost,
      { type: 'connection/reconnecting' },
      { type: 'connection/connected', target: null },
    );
    expect(back.connection).toEqual({ status: 'connected', hello, target: null });
  });

  it('a detach after data is "ended" (data kept); before any data it is "gone"', () => {
    const ended = reducer(liveState(), {
      type: 'target/detached',
      subscription: 's1',
      reason: 'process 4242 (memhog) exited',
      gone: true,
    });
    expect(ended.target?.phase).toBe('ended');
    expect(ended.target?.snapshot).not.toBeNull();
    expect(ended.exited[processKey({ pid: 4242, startTimeTicks: 1000 })]).toBe(true);

    const early = run(
      initialState('browser', 'dark'),
      { type: 'target/select', process: { pid: 7, comm: 'x', startTimeTicks: 70 } },
      { type: 'target/attached', pid: 7, subscription: 's9', startTimeTicks: 70 },
      { type: 'target/detached', subscription: 's9', reason: 'process 7 (x) exited', gone: true },
    );
    expect(early.target?.phase).toBe('gone');
  });

  it('a failed first read is gone or error by its code', () => {
    const base = run(initialState('browser', 'dark'), {
      type: 'target/select',
      process: { pid: 7, comm: 'x', startTimeTicks: 70 },
    });
    const gone = reducer(base, {
      type: 'target/failed',
      pid: 7,
      gone: true,
      error: { code: 'process-gone', message: 'process 7 does not exist' },
    });
    expect(gone.target?.phase).toBe('gone');
    expect(gone.exited[processKey({ pid: 7, startTimeTicks: 70 })]).toBe(true);
    const denied = reducer(base, {
      type: 'target/failed',
      pid: 7,
      gone: false,
      error: { code: 'permission', message: 'no permission' },
    });
    expect(denied.target?.phase).toBe('error');
    expect(denied.target?.errorCode).toBe('permission');
    // A response for another pid (the user moved on) changes nothing.
    expect(
      reducer(base, { type: 'target/failed', pid: 8, gone: true, error: { code: 'x', message: 'y' } }),
    ).toBe(base);
  });

  it('a new process list drops per-node entries of processes no longer listed and pending ones', () => {
    const a = proc({ pid: 1 });
    const b = proc({ pid: 2 });
    const s = run(
      initialState('browser', 'dark'),
      { type: 'processes/loaded', processes: [a, b], atMs: 1 },
      {
        type: 'nodePages/set',
        key: processKey(a),
        entry: { status: 'ready', pagesByNode: { '0': 1 }, pageSizeBytes: 4096 },
      },
      { type: 'nodePages/set', key: processKey(b), entry: { status: 'pending' } },
      { type: 'processes/loaded', processes: [a], atMs: 2 },
    );
    expect(Object.keys(s.nodePages)).toEqual([processKey(a)]);
  });

  it('shows a notice once however often it is raised', () => {
    const notice = { tone: 'warning' as const, title: 'Elevation refused', message: 'dismissed' };
    const s = run(
      initialState('electron', 'dark'),
      { type: 'notice/add', notice },
      { type: 'notice/add', notice },
    );
    expect(s.notices).toHaveLength(1);
    const id = s.notices[0]?.id ?? -1;
    expect(reducer(s, { type: 'notice/dismiss', id }).notices).toHaveLength(0);
  });

  it('selectors keep identity when unrelated state changes', () => {
    const s = run(liveState(), { type: 'processes/loaded', processes: [proc({ pid: 1 })], atMs: 1 });
    const rows = selectVisibleVmaRows(s);
    const procs = selectVisibleProcesses(s);
    const typed = reducer(s, { type: 'processes/query', query: { text: 'p1' } });
    expect(selectVisibleVmaRows(typed)).toBe(rows);
    const themed = reducer(s, { type: 'theme/set', theme: 'light' });
    expect(selectVisibleProcesses(themed)).toBe(procs);
    expect(
      selectVisibleVmaRows(reducer(s, { type: 'vmas/query', query: { kinds: ['heap'] } })).map((r) => r.kind),
    ).toEqual(['heap']);
  });
});
