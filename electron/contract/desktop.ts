import { z } from 'zod';
import {
  ErrorPayload,
  METHOD_NAMES,
  type EventData,
  type EventName,
  type MethodName,
  type Params,
  type Result,
} from './protocol.js';
import { Snapshot } from './vma.js';

/**
 * The Electron-only contract between the main process, the preload and the renderer. The agent protocol
 * (protocol.ts) is relayed unchanged; this file adds what only a desktop window has: which agent the main
 * process runs (local, pkexec-elevated, ssh remote), its status, menu commands and file dialogs.
 */

/** IPC channel names. Main validates every payload it receives on them; the preload only forwards. */
export const IPC = {
  /** invoke: CallRequest → Envelope (one agent protocol call). */
  call: 'tierscope:call',
  /** invoke: ControlRequest → Envelope (agent lifecycle and files). */
  control: 'tierscope:control',
  /** main → renderer: a protocol event ({ event, data }) from the agent. */
  event: 'tierscope:event',
  /** main → renderer: AgentStatus whenever the agent starts, is lost or a switch is refused. */
  status: 'tierscope:status',
  /** main → renderer: MenuCommand from the application menu. */
  command: 'tierscope:command',
} as const;

/**
 * An ssh destination: `host`, `user@host` or a Host alias from ~/.ssh/config (ports belong in that file).
 * Never starts with '-', so ssh cannot read it as an option.
 */
export const SshDestination = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9_][A-Za-z0-9._@-]*$/, 'an ssh destination: host, user@host or a Host alias');

export const AgentTarget = z.discriminatedUnion('kind', [
  /** `tierscope agent --stdio` as the user running the app. */
  z.object({ kind: z.literal('local') }),
  /** The same through pkexec: root, for page_idle, DAMON and other users' processes. */
  z.object({ kind: z.literal('elevated') }),
  /** `ssh DEST tierscope agent --stdio`: profile a server from the laptop. */
  z.object({ kind: z.literal('remote'), destination: SshDestination }),
]);
export type AgentTarget = z.infer<typeof AgentTarget>;

export const AgentStatus = z.discriminatedUnion('state', [
  z.object({ state: z.literal('starting'), target: AgentTarget }),
  z.object({ state: z.literal('connected'), target: AgentTarget }),
  /** The agent ended or stopped answering: the renderer keeps its data and offers to reconnect. */
  z.object({ state: z.literal('lost'), target: AgentTarget, reason: z.string() }),
  /**
   * A switch (elevation, remote) failed before the new agent answered; `current` is the agent still in use
   * (null when none is running). `refused` is true when the user or polkit declined (pkexec 126/127).
   */
  z.object({
    state: z.literal('switch-failed'),
    target: AgentTarget,
    current: AgentTarget.nullable(),
    refused: z.boolean(),
    reason: z.string(),
  }),
]);
export type AgentStatus = z.infer<typeof AgentStatus>;

export const CallRequest = z.object({
  method: z.enum(METHOD_NAMES as [MethodName, ...MethodName[]]),
  params: z.unknown(),
});
export type CallRequest = z.infer<typeof CallRequest>;

/** A dialog's file-type filter: a label and extensions without the dot (`*` for any file). */
export const FileFilter = z.object({
  name: z.string().min(1).max(64),
  extensions: z
    .array(z.string().regex(/^(\*|[A-Za-z0-9][A-Za-z0-9_-]{0,15})$/, 'an extension without the dot'))
    .min(1)
    .max(8),
});
export type FileFilter = z.infer<typeof FileFilter>;

/**
 * A file name the save dialog proposes: a base name only, so the renderer cannot steer the dialog into a
 * folder of its choosing (main opens it in the last folder used).
 */
export const DialogFileName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[^/\\\0]+$/, 'a file name without folders')
  .refine((name) => name !== '.' && name !== '..', 'a file name without folders');

export const ControlRequest = z.discriminatedUnion('op', [
  /** Restart the agent for the current target (after a loss). */
  z.object({ op: z.literal('reconnect') }),
  /** Replace the agent: elevate, go remote, or back to local. */
  z.object({ op: z.literal('switch'), target: AgentTarget }),
  /** Current status, for a renderer that (re)loads after the agent started. */
  z.object({ op: z.literal('status') }),
  /** Save dialog, then write the snapshot as JSON (the format of `tierscope snapshot --json`). */
  z.object({ op: z.literal('exportSnapshot'), snapshot: Snapshot }),
  /**
   * Open dialog for a session file (`.tierscope`); resolves with its path, or null when cancelled. The
   * renderer then calls openSession with it: only meaningful while the agent runs on this machine.
   */
  z.object({ op: z.literal('openSessionDialog') }),
  /**
   * Save dialog; resolves with the chosen path, or null when cancelled. Writes nothing: the renderer hands
   * the path to saveSessionAs / exportSession, which refuse to overwrite until the user confirms.
   */
  z.object({
    op: z.literal('saveDialog'),
    title: z.string().min(1).max(120),
    defaultName: DialogFileName,
    filters: z.array(FileFilter).min(1).max(8),
  }),
]);
export type ControlRequest = z.infer<typeof ControlRequest>;

export const MenuCommand = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('show-view'),
    view: z.enum(['processes', 'topology', 'memory', 'session', 'experiments']),
  }),
  z.object({ type: z.literal('launch') }),
  z.object({ type: z.literal('connect-remote') }),
  z.object({ type: z.literal('export-snapshot') }),
  z.object({ type: z.literal('toggle-theme') }),
  /** File → Open Session…: the renderer runs its open flow (dialog through openSessionDialog, or a path). */
  z.object({ type: z.literal('open-session') }),
  z.object({ type: z.literal('save-session-as') }),
  z.object({ type: z.literal('export-session') }),
  /** Session → Record / Stop: starts recording the open process, or stops the running recording. */
  z.object({ type: z.literal('toggle-recording') }),
  /** Session → Migrate…: opens the migration panel for the current selection. */
  z.object({ type: z.literal('migrate') }),
  /** Help → Keyboard Shortcuts. */
  z.object({ type: z.literal('show-shortcuts') }),
  /** File → Open snapshot: main read and validated it; the renderer shows it without an agent. */
  z.object({ type: z.literal('snapshot-opened'), path: z.string(), snapshot: Snapshot }),
]);
export type MenuCommand = z.infer<typeof MenuCommand>;

/** What every invoke resolves to: IPC rejections lose the error code, so errors travel as values. */
export type Envelope<T> = { ok: true; result: T } | { ok: false; error: ErrorPayload };
export const EnvelopeSchema = z.union([
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: ErrorPayload }),
]);

/** One function per protocol method, as the preload exposes them on `window.tierscope`. */
export type DesktopMethods = {
  [M in MethodName]: (params: Params<M>) => Promise<Envelope<Result<M>>>;
};

export interface DesktopApi extends DesktopMethods {
  /** Subscribes to a protocol event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, cb: (data: EventData<E>) => void): () => void;
  onStatus(cb: (status: AgentStatus) => void): () => void;
  onCommand(cb: (command: MenuCommand) => void): () => void;
  control(request: ControlRequest): Promise<Envelope<unknown>>;
}

/** The global the preload defines in the renderer's main world. */
export const DESKTOP_API_GLOBAL = 'tierscope';
