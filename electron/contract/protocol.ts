import { z } from 'zod';
import { Capabilities } from './caps.js';
import { CountByNode } from './common.js';
import { ProcessInfo } from './process.js';
import { Topology } from './topology.js';
import { Experiment } from './experiment.js';
import {
  ExperimentProgress,
  ExportFormat,
  Heatmap,
  HeatmapRequest,
  MigrationPlan,
  RecordingProgress,
  SessionHandle,
  SessionView,
  StartMigration,
  StartRecording,
  VmaSeries,
} from './sessionView.js';
import { SessionEnd } from './session.js';
import { Snapshot } from './vma.js';

/**
 * The agent protocol: one typed, JSON-framed conversation between a UI (Electron main, a browser) and an
 * agent (the engine, in-process, a stdio child, a pkexec-elevated child, `ssh host tierscope agent
 * --stdio`, or behind a WebSocket). Every receiving edge parses what it gets with these schemas; nothing
 * unvalidated reaches the engine or the UI. Framing on byte streams: one JSON message per line.
 */
export const PROTOCOL_VERSION = 1;

const Pid = z.number().int().positive();
/**
 * The start time (ticks after boot) the caller saw the process with, e.g. in the picker: with it the agent
 * refuses a PID that has since been reused by another process (error process-gone) instead of showing the
 * wrong process's memory.
 */
const ExpectedStart = z.number().int().nonnegative().optional();

/** Per-node residency of one process, from numa_maps alone (cheap enough for every row of a picker). */
export const ProcessNodes = z.object({
  pid: Pid,
  startTimeTicks: z.number().int().nonnegative(),
  /** Resident base pages (of the agent's pageSizeBytes) per node id. */
  pagesByNode: CountByNode,
});
export type ProcessNodes = z.infer<typeof ProcessNodes>;

/** method → [params schema, result schema]. Adding a method = one line here plus its handler. */
export const Methods = {
  hello: [
    z.object({ protocolVersion: z.number().int().positive(), client: z.string() }),
    z.object({
      protocolVersion: z.number().int().positive(),
      agentVersion: z.string(),
      hostname: z.string(),
      uid: z.number().int().nonnegative(),
      /** CAP_SYS_ADMIN: page_idle, DAMON and other users' processes are in reach. */
      privileged: z.boolean(),
    }),
  ],
  topology: [z.object({}), Topology],
  capabilities: [z.object({ pid: Pid.optional() }), Capabilities],
  listProcesses: [z.object({}), z.array(ProcessInfo)],
  /**
   * Resident pages per node for the picker's per-node columns. Processes that exited or may not be read
   * are left out of the result (not an error): the picker shows them without per-node numbers.
   */
  processNodes: [
    z.object({ pids: z.array(Pid).max(65_536) }),
    z.object({ pageSizeBytes: z.number().int().positive(), processes: z.array(ProcessNodes) }),
  ],
  snapshot: [z.object({ pid: Pid, startTimeTicks: ExpectedStart }), Snapshot],
  /**
   * Live updates: the first snapshot is taken before the reply (so a dead PID is an error here), then a
   * `snapshot` event right away and every intervalMs until detach, or a `detached` event when the process
   * exits.
   */
  attach: [
    z.object({ pid: Pid, intervalMs: z.number().int().min(100).max(60_000), startTimeTicks: ExpectedStart }),
    z.object({ subscription: z.string(), pid: Pid, startTimeTicks: z.number().int().nonnegative() }),
  ],
  detach: [z.object({ subscription: z.string() }), z.object({})],
  /**
   * Starts a command (argv, no shell) as the agent's user and returns its identity, to attach to. Its
   * stdin is /dev/null and its output goes to the agent's log (stderr), never into the protocol stream.
   */
  launch: [
    z.object({ argv: z.array(z.string().min(1)).min(1).max(4096), cwd: z.string().min(1).optional() }),
    z.object({ pid: Pid, startTimeTicks: z.number().int().nonnegative() }),
  ],

  // Sessions (sessionView.ts). Paths are on the agent's machine.
  /** Opens a session file (any readable format version, a crash-torn journal, one still being recorded). */
  openSession: [z.object({ path: z.string().min(1) }), SessionView],
  closeSession: [z.object({ handle: SessionHandle }), z.object({})],
  vmaSeries: [
    z.object({ handle: SessionHandle, vmaIds: z.array(z.number().int().nonnegative()).min(1).max(256) }),
    z.object({ series: z.array(VmaSeries) }),
  ],
  heatmap: [HeatmapRequest, Heatmap],
  /** Writes the session as JSON, CSV or a Perfetto trace; refuses to overwrite unless `overwrite`. */
  exportSession: [
    z.object({
      handle: SessionHandle,
      format: ExportFormat,
      path: z.string().min(1),
      overwrite: z.boolean(),
    }),
    z.object({ path: z.string(), bytes: z.number().int().nonnegative() }),
  ],
  /** Copies the session file (compacted) to `path`. */
  saveSessionAs: [
    z.object({ handle: SessionHandle, path: z.string().min(1), overwrite: z.boolean() }),
    z.object({ path: z.string(), bytes: z.number().int().nonnegative() }),
  ],
  /** Starts recording; `recordingProgress` events follow, then one `recordingEnded`. */
  startRecording: [
    StartRecording,
    z.object({ recording: z.string(), path: z.string(), source: z.string(), sourceReason: z.string() }),
  ],
  /** Stops a recording cleanly (as Ctrl-C does); resolves once the file is closed. */
  stopRecording: [
    z.object({ recording: z.string() }),
    z.object({ path: z.string(), intervals: z.number().int().nonnegative(), end: SessionEnd }),
  ],

  // Migration experiments (experiment.ts, sessionView.ts).
  /**
   * Starts a move_pages experiment or a lazy rebind. The reply comes once the plan is known (a dry run
   * ends there: `experiment` is null); then `experimentProgress` events and one `experimentEnded`.
   */
  startMigration: [
    StartMigration,
    z.object({ experimentId: z.string(), plan: MigrationPlan, experiment: Experiment.nullable() }),
  ],
  /** Cancels between batches; the experiment ends 'cancelled' with what had moved. */
  cancelExperiment: [z.object({ experimentId: z.string() }), z.object({})],
} as const;

export type MethodName = keyof typeof Methods;
export type Params<M extends MethodName> = z.infer<(typeof Methods)[M][0]>;
export type Result<M extends MethodName> = z.infer<(typeof Methods)[M][1]>;

export const METHOD_NAMES = Object.keys(Methods) as MethodName[];

export const Request = z.object({
  id: z.number().int().nonnegative(),
  method: z.enum(METHOD_NAMES as [MethodName, ...MethodName[]]),
  params: z.unknown(),
});
export type Request = z.infer<typeof Request>;

/**
 * Error codes a UI can branch on; `message` is the one-line cause + remedy shown to the user. Engine codes
 * (TierscopeError: process-gone, kernel-thread, permission, parse, not-found, unsupported,
 * invalid-argument, unknown-node, busy) and native-bridge codes (NumaSyscallError) pass through unchanged;
 * the protocol adds these. The client adds its own local ones (see client.ts).
 */
export const ProtocolErrorCode = z.enum([
  /** The request named no method this agent knows (an older agent, or garbage). */
  'unknown-method',
  /** The request was not an {id, method, params} object, or its params did not match the method's schema. */
  'bad-request',
  /** hello: the two sides speak different protocol versions. */
  'protocol-version',
  /** A bug in the agent: the message says what failed; the agent's log (stderr) has the stack. */
  'internal',
]);
export type ProtocolErrorCode = z.infer<typeof ProtocolErrorCode>;

export const ErrorPayload = z.object({
  code: z.string(),
  message: z.string(),
});
export type ErrorPayload = z.infer<typeof ErrorPayload>;

export const Response = z.union([
  z.object({ id: z.number().int().nonnegative(), ok: z.literal(true), result: z.unknown() }),
  z.object({ id: z.number().int().nonnegative(), ok: z.literal(false), error: ErrorPayload }),
]);
export type Response = z.infer<typeof Response>;

export const Events = {
  snapshot: z.object({ subscription: z.string(), snapshot: Snapshot }),
  /** The attached process ended (or a read failed for good): no more snapshots for this subscription. */
  detached: z.object({
    subscription: z.string(),
    /** 'process-gone' when the process exited (or its PID was reused); otherwise the failing read's code. */
    code: z.string(),
    /** One line for the user, e.g. "process 4242 (memhog) exited". */
    reason: z.string(),
  }),
  recordingProgress: RecordingProgress,
  recordingEnded: z.object({
    recording: z.string(),
    path: z.string(),
    intervals: z.number().int().nonnegative(),
    end: SessionEnd,
  }),
  experimentProgress: ExperimentProgress,
  /** The experiment's final record (also written into its session, when it had one). */
  experimentEnded: z.object({ experiment: Experiment, sessionPath: z.string().nullable() }),
} as const;
export type EventName = keyof typeof Events;
export type EventData<E extends EventName> = z.infer<(typeof Events)[E]>;

export const Event = z.object({
  event: z.enum(Object.keys(Events) as [EventName, ...EventName[]]),
  data: z.unknown(),
});
export type Event = z.infer<typeof Event>;

/** Anything an agent sends: a response to a request, or an event. */
export const AgentMessage = z.union([Response, Event]);
export type AgentMessage = z.infer<typeof AgentMessage>;
