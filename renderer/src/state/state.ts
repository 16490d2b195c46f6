import type {
  Capabilities,
  ExportFormat,
  ProcessInfo,
  Result,
  Snapshot,
  Topology,
  VmaKind,
} from '../../../electron/contract/index.js';
import type { AgentTarget } from '../../../electron/contract/desktop.js';
import type { HistoryPoint } from '../logic/history.js';
import type { Theme } from '../logic/palette.js';
import type { NodePagesEntry, ProcessKey, ProcessSortKey } from '../logic/processes.js';
import type { SortSpec } from '../logic/sort.js';
import type { VmaSortKey } from '../logic/vmas.js';
import { initialSessionState, type SessionState } from './session.js';
import { initialWorkflowState, type WorkflowState } from './workflow.js';

/**
 * The whole UI state, immutable. Views are tabs; 'session' shows a recorded session (timelines, heatmap,
 * misplacement, its VMAs) from the `session` slice (session.ts).
 */
export type View = 'processes' | 'topology' | 'memory' | 'session' | 'experiments';

export interface UiError {
  code: string;
  message: string;
}

export interface Loadable<T> {
  data: T | null;
  loading: boolean;
  error: UiError | null;
  /** Epoch ms of the last successful load. */
  loadedAtMs: number | null;
}

export type Hello = Result<'hello'>;

export type ConnectionState =
  | { status: 'connecting' }
  | { status: 'connected'; hello: Hello | null; target: AgentTarget | null }
  /** Lost after having worked: everything shown stays, marked as of `sinceMs`. */
  | { status: 'lost'; reason: string; sinceMs: number; reconnecting: boolean; hello: Hello | null }
  /** Never connected (bad token, server gone) or no usable transport: nothing to show but the remedy. */
  | { status: 'failed'; message: string }
  /** Offline: a snapshot opened from a file, no agent involved. */
  | { status: 'offline' };

export type Notice = { id: number; tone: 'info' | 'warning' | 'error'; title: string; message: string };

/**
 * The process being looked at.
 * - loading: first snapshot on its way
 * - live: attached, snapshots arrive every interval
 * - paused: snapshot shown, no live updates (live off, or the agent was lost)
 * - ended: the agent detached (the process exited, or reads failed for good); last data kept
 * - gone: it had exited before the first snapshot (a dead PID picked)
 * - error: the first snapshot failed for another reason (permission, kernel thread …)
 * - file: a snapshot opened from disk
 */
export type TargetPhase = 'loading' | 'live' | 'paused' | 'ended' | 'gone' | 'error' | 'file';

export interface TargetState {
  pid: number;
  comm: string;
  /** From the process list or the first snapshot: a later snapshot with another start time is PID reuse. */
  startTimeTicks: number | null;
  phase: TargetPhase;
  snapshot: Snapshot | null;
  subscription: string | null;
  history: readonly HistoryPoint[];
  /** Why it is ended/gone/error, or where the file came from. */
  message: string | null;
  errorCode: string | null;
  filePath: string | null;
  selectedVmaId: string | null;
}

export interface VmaQuery {
  text: string;
  kinds: readonly VmaKind[];
  residentOnly: boolean;
  sort: SortSpec<VmaSortKey>;
  unit: 'bytes' | 'pages';
}

export interface ProcessQueryState {
  text: string;
  showKernelThreads: boolean;
  sort: SortSpec<ProcessSortKey>;
}

export type Dialog =
  | { type: 'launch' }
  | { type: 'remote' }
  /** Open a session by path (browser mode, a remote agent); the recent list is in it too. */
  | { type: 'open-session' }
  /**
   * Save As / Export: browser mode types a path, the desktop app picks one in main's save dialog.
   * `confirmPath`: the agent refused to overwrite that file, the dialog asks before replacing it.
   */
  | { type: 'session-file'; purpose: 'save' | 'export'; format: ExportFormat; confirmPath: string | null }
  | { type: 'shortcuts' }
  | null;

export interface AppState {
  mode: 'browser' | 'electron';
  connection: ConnectionState;
  view: View;
  theme: Theme;
  notices: readonly Notice[];
  topology: Loadable<Topology>;
  capabilities: Loadable<Capabilities>;
  processes: Loadable<readonly ProcessInfo[]>;
  processQuery: ProcessQueryState;
  /** Per-node residency of listed processes, filled lazily for the rows on screen. */
  nodePages: Readonly<Record<ProcessKey, NodePagesEntry>>;
  /** Processes found to have exited since the list was taken. */
  exited: Readonly<Record<ProcessKey, true>>;
  target: TargetState | null;
  vmaQuery: VmaQuery;
  live: { enabled: boolean; intervalMs: number };
  dialog: Dialog;
  /** The open recorded session and what is shown of it (state/session.ts). */
  session: SessionState;
  /** Recording, the migration panel, experiments of this run, recent sessions (state/workflow.ts). */
  workflow: WorkflowState;
}

export function emptyLoadable<T>(): Loadable<T> {
  return { data: null, loading: false, error: null, loadedAtMs: null };
}

export function initialState(mode: AppState['mode'], theme: Theme): AppState {
  return {
    mode,
    connection: { status: 'connecting' },
    view: 'processes',
    theme,
    notices: [],
    topology: emptyLoadable(),
    capabilities: emptyLoadable(),
    processes: emptyLoadable(),
    processQuery: { text: '', showKernelThreads: false, sort: { key: 'rss', direction: 'desc' } },
    nodePages: {},
    exited: {},
    target: null,
    vmaQuery: {
      text: '',
      kinds: [],
      residentOnly: true,
      sort: { key: 'rss', direction: 'desc' },
      unit: 'bytes',
    },
    live: { enabled: true, intervalMs: 1000 },
    dialog: null,
    session: initialSessionState(),
    workflow: initialWorkflowState(),
  };
}
