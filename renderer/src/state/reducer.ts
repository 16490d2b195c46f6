import type { Capabilities, ProcessInfo, Snapshot, Topology } from '../../../electron/contract/index.js';
import type { AgentTarget } from '../../../electron/contract/desktop.js';
import { appendHistory, historyPoint } from '../logic/history.js';
import type { Theme } from '../logic/palette.js';
import { processKey, type NodePagesEntry, type ProcessKey } from '../logic/processes.js';
import { isSessionAction, sessionReducer, type SessionAction } from './session.js';
import { isWorkflowAction, workflowReducer, type WorkflowAction } from './workflow.js';
import type {
  AppState,
  Dialog,
  Hello,
  Loadable,
  Notice,
  ProcessQueryState,
  TargetState,
  UiError,
  View,
  VmaQuery,
} from './state.js';

export type Action =
  | { type: 'connection/connecting' }
  | { type: 'connection/connected'; target: AgentTarget | null }
  | { type: 'connection/hello'; hello: Hello }
  | { type: 'connection/lost'; reason: string; atMs: number }
  | { type: 'connection/reconnecting' }
  | { type: 'connection/reconnect-failed'; message: string }
  | { type: 'connection/failed'; message: string }
  | { type: 'view/show'; view: View }
  | { type: 'theme/set'; theme: Theme }
  | { type: 'dialog/set'; dialog: Dialog }
  | { type: 'notice/add'; notice: Omit<Notice, 'id'> }
  | { type: 'notice/dismiss'; id: number }
  | { type: 'topology/loading' }
  | { type: 'topology/loaded'; topology: Topology; atMs: number }
  | { type: 'topology/failed'; error: UiError }
  | { type: 'capabilities/loaded'; capabilities: Capabilities; atMs: number }
  | { type: 'capabilities/failed'; error: UiError }
  | { type: 'processes/loading' }
  | { type: 'processes/loaded'; processes: readonly ProcessInfo[]; atMs: number }
  | { type: 'processes/failed'; error: UiError }
  | { type: 'processes/query'; query: Partial<ProcessQueryState> }
  | { type: 'nodePages/set'; key: ProcessKey; entry: NodePagesEntry }
  | { type: 'target/select'; process: Pick<ProcessInfo, 'pid' | 'comm'> & { startTimeTicks: number | null } }
  | { type: 'target/snapshot'; pid: number; snapshot: Snapshot }
  | { type: 'target/attached'; pid: number; subscription: string; startTimeTicks: number }
  | { type: 'target/live-snapshot'; subscription: string; snapshot: Snapshot }
  | { type: 'target/detached'; subscription: string; reason: string; gone: boolean }
  | { type: 'target/paused'; pid: number }
  | { type: 'target/failed'; pid: number; error: UiError; gone: boolean }
  | { type: 'target/opened-file'; path: string; snapshot: Snapshot }
  | { type: 'target/select-vma'; id: string | null }
  | { type: 'target/clear' }
  | { type: 'vmas/query'; query: Partial<VmaQuery> }
  | { type: 'live/set'; live: Partial<AppState['live']> }
  | SessionAction
  | WorkflowAction;

let nextNoticeId = 1;

/** The exited marks after the target's live view ended: its row marked when the process is gone. */
function exitedAfter(exited: AppState['exited'], t: TargetState, gone: boolean): AppState['exited'] {
  if (!gone || t.startTimeTicks === null) return exited;
  return { ...exited, [processKey({ pid: t.pid, startTimeTicks: t.startTimeTicks })]: true as const };
}

/** Where a target's live view ends: 'ended' with a snapshot to keep showing, else 'gone' or 'error'. */
function endPhase(t: TargetState, gone: boolean): TargetState['phase'] {
  return t.snapshot ? 'ended' : gone ? 'gone' : 'error';
}

function loaded<T>(data: T, atMs: number): Loadable<T> {
  return { data, loading: false, error: null, loadedAtMs: atMs };
}

export function reducer(state: AppState, action: Action): AppState {
  // The session slice has its own reducer (state/session.ts); everything 'session/…' goes there.
  if (isSessionAction(action)) return sessionReducer(state, action);
  // Recording, migration, recent sessions (state/workflow.ts): everything 'workflow/…'.
  if (isWorkflowAction(action)) return workflowReducer(state, action);
  switch (action.type) {
    case 'connection/connecting':
      return { ...state, connection: { status: 'connecting' } };
    case 'connection/connected': {
      const previous = state.connection;
      const hello = previous.status === 'lost' ? previous.hello : null;
      return { ...state, connection: { status: 'connected', hello, target: action.target } };
    }
    case 'connection/hello':
      return state.connection.status === 'connected'
        ? { ...state, connection: { ...state.connection, hello: action.hello } }
        : state;
    case 'connection/lost': {
      const c = state.connection;
      if (c.status === 'lost' || c.status === 'failed' || c.status === 'offline') return state;
      const hello = c.status === 'connected' ? c.hello : null;
      // Keep every piece of data; only what depended on the live link changes: no subscription any more.
      const target =
        state.target && state.target.phase === 'live'
          ? { ...state.target, phase: 'paused' as const, subscription: null }
          : state.target;
      return {
        ...state,
        target,
        connection: {
          status: 'lost',
          reason: action.reason,
          sinceMs: action.atMs,
          reconnecting: false,
          hello,
        },
      };
    }
    case 'connection/reconnecting':
      return state.connection.status === 'lost'
        ? { ...state, connection: { ...state.connection, reconnecting: true } }
        : state;
    case 'connection/reconnect-failed':
      return state.connection.status === 'lost'
        ? {
            ...state,
            connection: { ...state.connection, reconnecting: false, reason: action.message },
          }
        : state;
    case 'connection/failed':
      return { ...state, connection: { status: 'failed', message: action.message } };
    case 'view/show':
      return { ...state, view: action.view };
    case 'theme/set':
      return { ...state, theme: action.theme };
    case 'dialog/set':
      return { ...state, dialog: action.dialog };
    case 'notice/add':
      // The same notice twice (e.g. two refused elevations) shows once.
      if (state.notices.some((n) => n.title === action.notice.title && n.message === action.notice.message)) {
        return state;
      }
      return { ...state, notices: [...state.notices, { ...action.notice, id: nextNoticeId++ }] };
    case 'notice/dismiss':
      return { ...state, notices: state.notices.filter((n) => n.id !== action.id) };
    case 'topology/loading':
      return { ...state, topology: { ...state.topology, loading: true } };
    case 'topology/loaded':
      return { ...state, topology: loaded(action.topology, action.atMs) };
    case 'topology/failed':
      return { ...state, topology: { ...state.topology, loading: false, error: action.error } };
    case 'capabilities/loaded':
      return { ...state, capabilities: loaded(action.capabilities, action.atMs) };
    case 'capabilities/failed':
      return { ...state, capabilities: { ...state.capabilities, loading: false, error: action.error } };
    case 'processes/loading':
      return { ...state, processes: { ...state.processes, loading: true } };
    case 'processes/loaded': {
      // Per-node entries of processes no longer listed are dropped; the others stay (same identity key).
      const keys = new Set(action.processes.map(processKey));
      const nodePages: Record<ProcessKey, NodePagesEntry> = {};
      for (const [k, v] of Object.entries(state.nodePages) as [ProcessKey, NodePagesEntry][]) {
        if (keys.has(k) && v.status !== 'pending') nodePages[k] = v;
      }
      return { ...state, processes: loaded(action.processes, action.atMs), nodePages, exited: {} };
    }
    case 'processes/failed':
      return { ...state, processes: { ...state.processes, loading: false, error: action.error } };
    case 'processes/query':
      return { ...state, processQuery: { ...state.processQuery, ...action.query } };
    case 'nodePages/set': {
      const exited =
        action.entry.status === 'error' && action.entry.code === 'process-gone'
          ? { ...state.exited, [action.key]: true as const }
          : state.exited;
      return { ...state, nodePages: { ...state.nodePages, [action.key]: action.entry }, exited };
    }
    case 'target/select':
      return {
        ...state,
        view: 'memory',
        target: {
          pid: action.process.pid,
          comm: action.process.comm,
          startTimeTicks: action.process.startTimeTicks,
          phase: 'loading',
          snapshot: null,
          subscription: null,
          history: [],
          message: null,
          errorCode: null,
          filePath: null,
          selectedVmaId: null,
        },
      };
    case 'target/snapshot': {
      const t = state.target;
      if (t?.pid !== action.pid || t.phase === 'file') return state;
      return {
        ...state,
        target: {
          ...t,
          comm: action.snapshot.comm,
          startTimeTicks: action.snapshot.startTimeTicks,
          phase: t.phase === 'loading' || t.phase === 'ended' ? 'paused' : t.phase,
          snapshot: action.snapshot,
          history: appendHistory(t.history, historyPoint(action.snapshot)),
          message: null,
          errorCode: null,
        },
        nodePages: withNodePages(state.nodePages, action.snapshot),
      };
    }
    case 'target/attached': {
      const t = state.target;
      if (t?.pid !== action.pid) return state;
      return {
        ...state,
        target: {
          ...t,
          phase: 'live',
          subscription: action.subscription,
          startTimeTicks: action.startTimeTicks,
        },
      };
    }
    case 'target/live-snapshot': {
      const t = state.target;
      if (!t || t.subscription !== action.subscription) return state;
      return {
        ...state,
        target: {
          ...t,
          comm: action.snapshot.comm,
          snapshot: action.snapshot,
          history: appendHistory(t.history, historyPoint(action.snapshot)),
        },
        nodePages: withNodePages(state.nodePages, action.snapshot),
      };
    }
    case 'target/detached': {
      const t = state.target;
      if (!t || t.subscription !== action.subscription) return state;
      // Never got a snapshot: there is nothing to keep showing, so it is the plain 'gone'/'error' state.
      return {
        ...state,
        exited: exitedAfter(state.exited, t, action.gone),
        target: { ...t, phase: endPhase(t, action.gone), subscription: null, message: action.reason },
      };
    }
    case 'target/paused': {
      const t = state.target;
      if (t?.pid !== action.pid || t.phase !== 'live') return state;
      return { ...state, target: { ...t, phase: 'paused', subscription: null } };
    }
    case 'target/failed': {
      const t = state.target;
      if (t?.pid !== action.pid) return state;
      // With data already on screen a failure ends the live view; without, it is the whole story.
      return {
        ...state,
        exited: exitedAfter(state.exited, t, action.gone),
        target: {
          ...t,
          phase: endPhase(t, action.gone),
          subscription: null,
          message: action.error.message,
          errorCode: action.error.code,
        },
      };
    }
    case 'target/opened-file':
      return {
        ...state,
        view: 'memory',
        target: {
          pid: action.snapshot.pid,
          comm: action.snapshot.comm,
          startTimeTicks: action.snapshot.startTimeTicks,
          phase: 'file',
          snapshot: action.snapshot,
          subscription: null,
          history: [historyPoint(action.snapshot)],
          message: null,
          errorCode: null,
          filePath: action.path,
          selectedVmaId: null,
        },
      };
    case 'target/select-vma':
      return state.target ? { ...state, target: { ...state.target, selectedVmaId: action.id } } : state;
    case 'target/clear':
      return { ...state, target: null };
    case 'vmas/query':
      return { ...state, vmaQuery: { ...state.vmaQuery, ...action.query } };
    case 'live/set':
      return { ...state, live: { ...state.live, ...action.live } };
  }
}

/** A snapshot is also the freshest per-node figure for the process picker's row of that process. */
function withNodePages(
  nodePages: Readonly<Record<ProcessKey, NodePagesEntry>>,
  snapshot: Snapshot,
): Readonly<Record<ProcessKey, NodePagesEntry>> {
  return {
    ...nodePages,
    [processKey(snapshot)]: {
      status: 'ready',
      pagesByNode: snapshot.totals.pagesByNode,
      pageSizeBytes: snapshot.pageSizeBytes,
    },
  };
}
