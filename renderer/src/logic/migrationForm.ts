// The migration panel's form: what a user picks (scope, action, target node, hotness filter, rate) and
// its translation into the protocol's StartMigration, with the field errors and warnings shown in place.
// Pure: the panel feeds it the topology, the selection and the open session.
import type { StartMigration } from '../../../electron/contract/index.js';
import { mergeRanges, parseHex, type HexRange } from './addressAxis.js';
import { formatBytes } from './format.js';
import type { NodeSummary } from './topology.js';

export type MigrationAction = 'promote' | 'demote' | 'lazy-rebind';
/** What to migrate: the session's selection (VMAs or a brushed range), the VMA picked in Memory, all. */
export type MigrationScope = 'selection' | 'vma' | 'process';
export type HotnessChoice = 'any' | 'hot' | 'cold' | 'top-k';

export interface MigrationForm {
  scope: MigrationScope;
  action: MigrationAction;
  toNode: number | null;
  hotness: HotnessChoice;
  /** Text fields stay text until validated, so a half-typed value is not lost or coerced. */
  topKPages: string;
  /** MB/s (10^6 bytes, as `tierscope migrate --rate`); empty = as fast as the kernel goes. */
  rateMBps: string;
  /** Only pages now on these nodes; empty = any node. */
  fromNodes: readonly number[];
  /** lazy-rebind: give up on untouched pages after this many seconds; empty = until cancelled. */
  expireSeconds: string;
  /** Take page classes from the open session and record the experiment into it. */
  useSession: boolean;
}

export interface NodeOption {
  id: number;
  label: string;
  cpuLess: boolean;
  /** On the slowest tiers (any rank but the fastest), or CPU-less when the kernel reports no tiers. */
  slow: boolean;
  freeBytes: number;
}

/** Slow: a tier below the fastest; with no tier information, a CPU-less node (CXL, PMEM) is the slow one. */
function isSlow(n: NodeSummary): boolean {
  return n.tierRank === null ? n.cpuLess : n.tierRank > 0;
}

export function nodeOptions(nodes: readonly NodeSummary[]): NodeOption[] {
  return nodes.map((n) => {
    const marks = [
      n.cpuLess ? 'CPU-less' : null,
      isSlow(n) ? 'slow tier' : n.tierRank === 0 ? 'fast tier' : null,
    ]
      .filter((m) => m !== null)
      .join(', ');
    return {
      id: n.id,
      label: `node ${n.id}${marks ? ` (${marks})` : ''} · ${formatBytes(n.freeBytes)} free`,
      cpuLess: n.cpuLess,
      slow: isSlow(n),
      freeBytes: n.freeBytes,
    };
  });
}

/** Promote: the first fast node with CPUs; demote: the first slow node; lazy rebind: like promote. */
export function defaultTargetNode(action: MigrationAction, options: readonly NodeOption[]): number | null {
  switch (action) {
    case 'promote':
    case 'lazy-rebind':
      return (options.find((o) => !o.slow && !o.cpuLess) ?? options.find((o) => !o.slow))?.id ?? null;
    case 'demote':
      return options.find((o) => o.slow)?.id ?? null;
  }
}

export function initialMigrationForm(
  options: readonly NodeOption[],
  scope: MigrationScope,
  sessionAvailable: boolean,
): MigrationForm {
  return {
    scope,
    action: 'promote',
    toNode: defaultTargetNode('promote', options),
    hotness: 'hot',
    topKPages: '',
    rateMBps: '',
    fromNodes: [],
    expireSeconds: '',
    useSession: sessionAvailable,
  };
}

/** Picking an action also picks what usually goes with it: hot pages up, cold pages down, whole ranges lazily. */
export function withAction(
  form: MigrationForm,
  action: MigrationAction,
  options: readonly NodeOption[],
): MigrationForm {
  const hotness: HotnessChoice = action === 'promote' ? 'hot' : action === 'demote' ? 'cold' : 'any';
  return { ...form, action, hotness, toNode: defaultTargetNode(action, options) ?? form.toNode };
}

const VSYSCALL_KINDS = new Set(['vsyscall', 'vdso', 'vvar']);

/**
 * The whole process as one range, lowest to highest mapping: the agent clips a range to the movable
 * mappings it overlaps (kernel mappings are never touched), so gaps cost nothing and one range stays far
 * below the protocol's 4 096.
 */
export function wholeProcessRange(
  vmas: readonly { start: string; end: string; kind: string }[],
): HexRange | null {
  let lo: bigint | null = null;
  let hi: bigint | null = null;
  for (const v of vmas) {
    if (VSYSCALL_KINDS.has(v.kind)) continue;
    const s = parseHex(v.start);
    const e = parseHex(v.end);
    if (e <= s) continue;
    if (lo === null || s < lo) lo = s;
    if (hi === null || e > hi) hi = e;
  }
  return lo === null || hi === null ? null : { start: lo.toString(16), end: hi.toString(16) };
}

export function rangesBytes(ranges: readonly HexRange[]): number {
  let total = 0n;
  for (const r of ranges) {
    const size = parseHex(r.end) - parseHex(r.start);
    if (size > 0n) total += size;
  }
  return Number(total);
}

/** "0x7f00…–0x7f04… (64.0 MiB)" for one range, "3 ranges, 96.0 MiB" for several. */
export function describeRanges(ranges: readonly HexRange[]): string {
  const first = ranges[0];
  if (!first) return 'nothing';
  const size = formatBytes(rangesBytes(ranges));
  if (ranges.length === 1) return `0x${first.start}–0x${first.end} (${size})`;
  return `${ranges.length} ranges, ${size}`;
}

export type MigrationField = 'scope' | 'toNode' | 'hotness' | 'topKPages' | 'rateMBps' | 'expireSeconds';

export interface MigrationContext {
  pid: number | null;
  startTimeTicks: number | null;
  /** The ranges of each scope available now; null where that scope has nothing. */
  scopes: Readonly<Record<MigrationScope, readonly HexRange[] | null>>;
  nodes: readonly NodeOption[];
  /** The open session of the same process (classes and recording); null when there is none. */
  sessionPath: string | null;
  /** Source of a recording of this same process running now through the agent; null when none. */
  recordingSource?: string | null;
}

/** Sources that read (and clear) per-page accessed bits, as lazy rebinds and live measurements do. */
const ACCESSED_BIT_SOURCES = new Set(['page_idle', 'idle_pages']);

export interface MigrationValidation {
  params: StartMigration | null;
  errors: Partial<Record<MigrationField, string>>;
  warnings: string[];
}

/** Protocol limit of MigrationSelection.ranges. */
export const MAX_MIGRATION_RANGES = 4096;
const MAX_RATE_MBPS = 1_000_000;
const MAX_EXPIRE_SECONDS = 7 * 24 * 3600;

function positiveNumber(text: string): number | null {
  const t = text.trim();
  if (!/^\d+(\.\d+)?$/.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) && n > 0 ? n : null;
}

/**
 * The StartMigration a form asks for (dry run or real), or the reasons it cannot be sent yet. Warnings do
 * not block: a promote to a slow node is odd but may be exactly the experiment someone wants.
 */
export function validateMigration(
  form: MigrationForm,
  ctx: MigrationContext,
  dryRun: boolean,
): MigrationValidation {
  const errors: Partial<Record<MigrationField, string>> = {};
  const warnings: string[] = [];

  if (ctx.pid === null) errors.scope = 'Open a process or a session of a process first.';
  const raw = ctx.scopes[form.scope];
  const ranges = raw ? mergeRanges(raw) : [];
  if (ctx.pid !== null && ranges.length === 0) {
    errors.scope =
      form.scope === 'selection'
        ? 'Nothing is selected: select VMAs or brush a range in the session, or choose another scope.'
        : form.scope === 'vma'
          ? 'No VMA is selected in the Memory view.'
          : 'The process has no mappings to move.';
  } else if (ranges.length > MAX_MIGRATION_RANGES) {
    errors.scope = `The selection has ${ranges.length} ranges; at most ${MAX_MIGRATION_RANGES} can be moved at once.`;
  }

  const target = ctx.nodes.find((n) => n.id === form.toNode);
  if (form.toNode === null) errors.toNode = 'Choose a target node.';
  else if (!target) errors.toNode = `Node ${form.toNode} is not in this machine's topology.`;
  else if (form.action === 'promote' && target.slow) {
    warnings.push(
      `Node ${target.id} is on a slow tier: promoting there moves pages away from the fast memory.`,
    );
  } else if (form.action === 'demote' && !target.slow && ctx.nodes.some((n) => n.slow)) {
    warnings.push(`Node ${target.id} is on the fast tier: demoting there keeps the pages in fast memory.`);
  }
  if (target && form.fromNodes.length === 1 && form.fromNodes[0] === target.id) {
    warnings.push(
      `Only pages on node ${target.id} are selected, and they are already there: nothing will move.`,
    );
  }

  let topKPages: number | null = null;
  if (form.action === 'lazy-rebind' && form.hotness !== 'any') {
    errors.hotness =
      'A lazy rebind moves whole ranges as they are touched: hotness filters are for promote and demote.';
  }
  if (form.hotness === 'top-k') {
    const t = form.topKPages.trim();
    const k = /^\d+$/.test(t) ? Number(t) : null;
    if (k === null || k < 1 || !Number.isSafeInteger(k))
      errors.topKPages = 'Enter how many pages (a whole number ≥ 1).';
    else topKPages = k;
  }

  let rateBytesPerSecond: number | null = null;
  if (form.rateMBps.trim() !== '') {
    const mbps = positiveNumber(form.rateMBps);
    if (mbps === null || mbps > MAX_RATE_MBPS)
      errors.rateMBps = 'Enter MB/s above 0, or leave empty for no limit.';
    else rateBytesPerSecond = Math.max(1, Math.round(mbps * 1e6));
  }

  let expireMs: number | null = null;
  if (form.action === 'lazy-rebind' && form.expireSeconds.trim() !== '') {
    const s = positiveNumber(form.expireSeconds);
    if (s === null || s > MAX_EXPIRE_SECONDS)
      errors.expireSeconds = 'Enter seconds above 0, or leave empty to wait until cancelled.';
    else expireMs = Math.max(1, Math.round(s * 1000));
  }

  const sessionPath = form.useSession ? ctx.sessionPath : null;
  if (form.hotness !== 'any' && sessionPath === null) {
    warnings.push(
      'Page classes come from a short live measurement before the move (needs idle_pages or page_idle); record a session to use its classes.',
    );
  }

  // docs/migration.md, "Things to know": two readers of the same accessed bits each see fewer accesses.
  const measuresLive = form.action === 'lazy-rebind' || (form.hotness !== 'any' && sessionPath === null);
  if (measuresLive && ctx.recordingSource && ACCESSED_BIT_SOURCES.has(ctx.recordingSource)) {
    warnings.push(
      `A ${ctx.recordingSource} recording of this process is running: ${form.action === 'lazy-rebind' ? 'the lazy rebind' : 'the live measurement'} reads the same accessed bits, so both see fewer accesses. Stop the recording first, or take the classes from its session.`,
    );
  }

  if (Object.keys(errors).length > 0 || ctx.pid === null || form.toNode === null) {
    return { params: null, errors, warnings };
  }
  const params: StartMigration = {
    pid: ctx.pid,
    ...(ctx.startTimeTicks === null ? {} : { startTimeTicks: ctx.startTimeTicks }),
    kind: form.action === 'lazy-rebind' ? 'lazy-rebind' : 'move-pages',
    selection: {
      ranges,
      hotness: form.hotness === 'any' ? null : form.hotness,
      topKPages,
      fromNodes: form.fromNodes.length > 0 ? [...form.fromNodes].sort((a, b) => a - b) : null,
    },
    toNode: form.toNode,
    rateBytesPerSecond,
    dryRun,
    expireMs,
    sessionPath,
  };
  return { params, errors, warnings };
}
