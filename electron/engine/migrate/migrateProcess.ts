/**
 * Whole-process moves: every page of a process on a set of nodes to another set (migratepages PID FROM TO).
 *
 * Two methods:
 * - migrate_pages: one syscall; the kernel walks every VMA itself (hugetlb, shared file pages with
 *   CAP_SYS_NICE — the same as numactl's migratepages). It cannot be interrupted or paced: it runs on a
 *   worker thread so progress can be polled from numa_maps meanwhile, and a cancel takes effect only when
 *   it returns.
 * - move_pages: the same selection split into bounded batches per VMA (see execute.ts), so a rate limit and
 *   cancel between batches work; shared pages are left where they are (MPOL_MF_MOVE, reported as shared),
 *   and hugetlb mappings are not moved.
 * 'auto' picks move_pages when a rate limit is asked, migrate_pages otherwise.
 *
 * Node mapping, as the kernel's (bitmap_remap): the i-th lowest from-node goes to the (i mod |to|)-th
 * lowest to-node.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CountByNode, Experiment, MoveHistogram, Vma } from '../../contract/index.js';
import { readVmas } from '../procfs/vmas.js';
import { TierscopeError } from '../errors.js';
import type { BatchPlannerOptions } from './batches.js';
import { realClock } from './batches.js';
import {
  benchmarkPhase,
  checkedExperiment,
  identifyTarget,
  newExperimentId,
  timelineMs,
  type CommonOptions,
  type Target,
} from './context.js';
import { bridgeQuery, executeMove, type MoveBridge } from './execute.js';
import { emptyHistogram, isAbsent } from './histogram.js';
import type { MigrateWorkerInput, MigrateWorkerOutput } from './migrateWorker.js';
import type { MovePlan } from './moveExperiment.js';
import { checkSourceNodes, checkTargetNode, checkTargetRoom } from './nodes.js';
import { pagesToBytes } from './placement.js';
import { withClaim, type ExperimentRegistry } from './registry.js';
import { queryPieces, resolvePieces, type Piece } from './selection.js';

export type ProcessMoveMethod = 'auto' | 'migrate_pages' | 'move_pages';

export interface ProcessMigrationOptions extends CommonOptions {
  pid: number;
  /** Nodes to move pages away from; default: every node the process has pages on, except the targets. */
  fromNodes?: readonly number[] | null;
  toNodes: readonly number[];
  method?: ProcessMoveMethod;
  rateBytesPerSecond?: number | null;
  dryRun?: boolean;
  force?: boolean;
  benchmark?: { command: string; timeoutMs?: number } | null;
  registry?: ExperimentRegistry | null;
  planner?: BatchPlannerOptions;
  bridge?: MoveBridge;
  /** numa_maps poll period while migrate_pages runs (default 250 ms). */
  pollMs?: number;
}

export interface ProcessMigrationResult {
  experiment: Experiment;
  plan: MovePlan;
  method: 'migrate_pages' | 'move_pages';
  /** migrate_pages: pages the kernel said it could not move; null for move_pages. */
  kernelNotMigrated: number | null;
  /** migrate_pages: how long the syscall itself took (on the worker); null for move_pages. */
  syscallMs: number | null;
}

/** The kernel's from→to mapping for one node (node itself when it is not in `from`). */
export function remapNode(node: number, from: readonly number[], to: readonly number[]): number {
  return nodeRemap(from, to)(node);
}

/** remapNode with the node lists sorted once, for per-page loops. */
function nodeRemap(from: readonly number[], to: readonly number[]): (node: number) => number {
  const f = [...new Set(from)].sort((a, b) => a - b);
  const t = [...new Set(to)].sort((a, b) => a - b);
  return (node) => {
    const i = f.indexOf(node);
    if (i < 0 || t.length === 0) return node;
    return t[i % t.length] ?? node;
  };
}

/** Resident pages per node of the whole process (numa_maps), from its VMAs. */
function pagesOf(vmas: readonly Vma[]): CountByNode {
  const total: CountByNode = {};
  for (const v of vmas)
    for (const [node, pages] of Object.entries(v.pagesByNode)) total[node] = (total[node] ?? 0) + pages;
  return total;
}

function readProcessVmas(pid: number, target: Target, procRoot: string | undefined): Promise<Vma[]> {
  return readVmas(pid, {
    pageSizeBytes: target.pageSizeBytes,
    ...(procRoot !== undefined ? { procRoot } : {}),
  });
}

async function processPagesByNode(
  pid: number,
  target: Target,
  procRoot: string | undefined,
): Promise<CountByNode> {
  return pagesOf(await readProcessVmas(pid, target, procRoot));
}

function sumOn(pages: CountByNode, nodes: readonly number[]): number {
  return nodes.reduce((n, node) => n + (pages[String(node)] ?? 0), 0);
}

let worker: Worker | null = null;
let nextRequest = 0;
const waiting = new Map<number, { resolve: (r: MigrateWorkerOutput) => void; reject: (e: Error) => void }>();

/** The shared migrate_pages worker, started on first use; unref'd while idle so it never keeps a process alive. */
function migrateWorker(): Worker {
  if (worker) return worker;
  const source = import.meta.url.endsWith('.ts');
  const url = new URL(source ? './migrateWorker.ts' : './migrateWorker.js', import.meta.url);
  // The built CLI runs plain JS. From source (tests, tsx) the worker needs the TypeScript loader, and
  // Node 20 does not apply `--import` hooks to a worker's entry module: register tsx first, then import.
  const w = source
    ? new Worker(
        `import(${JSON.stringify(tsxApi())}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`,
        { eval: true },
      )
    : new Worker(url);
  w.unref();
  const fail = (err: Error): void => {
    worker = null;
    for (const p of waiting.values()) p.reject(err);
    waiting.clear();
  };
  w.on('message', (reply: MigrateWorkerOutput) => {
    const p = waiting.get(reply.id);
    waiting.delete(reply.id);
    if (waiting.size === 0) w.unref();
    p?.resolve(reply);
  });
  w.on('error', fail);
  w.on('exit', (code) => {
    fail(new Error(`the migrate_pages worker exited with code ${code}`));
  });
  worker = w;
  return w;
}

function errorCode(code: string): TierscopeError['code'] {
  switch (code) {
    case 'permission':
    case 'process-gone':
    case 'unsupported':
      return code;
    case 'node-unavailable':
      return 'unknown-node';
    default:
      return 'invalid-argument';
  }
}

/** Runs migrate_pages on the worker thread; `onTick` is called every `pollMs` while it runs. */
export function migratePagesOffThread(
  input: MigrateWorkerInput,
  onTick: () => Promise<void>,
  pollMs: number,
): Promise<{ notMigrated: number; ms: number }> {
  const w = migrateWorker();
  const id = nextRequest++;
  return new Promise((resolve, reject) => {
    let ticking = false;
    const timer = setInterval(() => {
      if (ticking) return;
      ticking = true;
      void onTick().finally(() => {
        ticking = false;
      });
    }, pollMs);
    waiting.set(id, {
      resolve: (reply) => {
        clearInterval(timer);
        if (reply.ok) resolve({ notMigrated: reply.notMigrated, ms: reply.ms });
        else reject(new TierscopeError(errorCode(reply.code), reply.message));
      },
      reject: (err) => {
        clearInterval(timer);
        reject(err);
      },
    });
    w.ref();
    w.postMessage({ ...input, id });
  });
}

/** tsx's loader API, resolved from this package (only needed when running from TypeScript source). */
function tsxApi(): string {
  const resolve = (import.meta as { resolve?: (specifier: string) => string }).resolve;
  if (typeof resolve === 'function') {
    try {
      return resolve('tsx/esm/api');
    } catch {
      // fall through: resolve through require
    }
  }
  // require resolves the CommonJS build (index.cjs); the ESM build sits next to it.
  const cjs = createRequire(import.meta.url).resolve('tsx/esm/api');
  return pathToFileURL(cjs.replace(/\.cjs$/, '.mjs')).href;
}

export async function runProcessMigration(options: ProcessMigrationOptions): Promise<ProcessMigrationResult> {
  const { pid } = options;
  const target = await identifyTarget(pid, options);
  const toNodes = [...new Set(options.toNodes)].sort((a, b) => a - b);
  if (toNodes.length === 0)
    throw new TierscopeError('invalid-argument', 'name at least one target node (--to)');
  for (const n of toNodes) checkTargetNode(n, target.nodeSets);
  const vmasBefore = await readProcessVmas(pid, target, options.procRoot);
  const pagesBefore = pagesOf(vmasBefore);
  let fromNodes: number[];
  if (options.fromNodes) {
    checkSourceNodes(options.fromNodes, target.nodeSets);
    fromNodes = [...new Set(options.fromNodes)].sort((a, b) => a - b);
  } else {
    fromNodes = Object.keys(pagesBefore)
      .map(Number)
      .filter((n) => !toNodes.includes(n) && (pagesBefore[String(n)] ?? 0) > 0)
      .sort((a, b) => a - b);
  }
  const method: 'migrate_pages' | 'move_pages' =
    (options.method ?? 'auto') === 'auto'
      ? options.rateBytesPerSecond != null
        ? 'move_pages'
        : 'migrate_pages'
      : (options.method as 'migrate_pages' | 'move_pages');
  if (method === 'migrate_pages' && options.rateBytesPerSecond != null) {
    throw new TierscopeError(
      'invalid-argument',
      'migrate_pages is one uninterruptible syscall and cannot be rate-limited; use the move_pages method (--split) for --rate',
    );
  }

  const id = newExperimentId();
  return withClaim(
    options.registry,
    options.dryRun === true
      ? null
      : { id, kind: 'migrate-process', pid, startTimeTicks: target.process.startTimeTicks, ranges: null },
    () => migrateClaimed(options, target, id, fromNodes, toNodes, method, vmasBefore),
  );
}

async function migrateClaimed(
  options: ProcessMigrationOptions,
  target: Target,
  id: string,
  fromNodes: number[],
  toNodes: number[],
  method: 'migrate_pages' | 'move_pages',
  vmasBefore: Vma[],
): Promise<ProcessMigrationResult> {
  const { pid } = options;
  const pageSize = target.pageSizeBytes;
  const notes: string[] = [];
  const clock = options.clock ?? realClock;

  const benchBefore = await benchmarkPhase(options, 'before', notes);

  // Per-page picture of the movable VMAs: what the histogram is judged on (read again after a benchmark).
  const vmas = benchBefore ? await readProcessVmas(pid, target, options.procRoot) : vmasBefore;
  const pagesBefore = pagesOf(vmas);
  const { pieces: bare, skipped } = resolvePieces(vmas, {}, pageSize);
  const pieces = queryPieces(pid, bare, null, pageSize, bridgeQuery(options.bridge));
  const fromSet = new Set(fromNodes);
  const remap = nodeRemap(fromNodes, toNodes);
  let selected = 0;
  const toMoveByNode: CountByNode = {};
  for (const p of pieces) {
    for (const s of p.status) {
      if (s >= 0 && fromSet.has(s) && remap(s) !== s) {
        selected++;
        toMoveByNode[String(s)] = (toMoveByNode[String(s)] ?? 0) + 1;
      }
    }
  }
  const beforeAt = Date.now();
  const plan: MovePlan = {
    pagesSelected: selected,
    toMoveByNode,
    bytesToMove: selected * pageSize,
    alreadyThere: 0,
    notPresent: 0,
    skipped,
    classesFrom: null,
  };
  const before = {
    atMs: timelineMs(target, options, beforeAt),
    selectionBytesByNode: pagesToBytes(pagesBefore, pageSize),
    hotBytesByNode: {},
    coldBytesByNode: {},
    selectionAccessRate: null,
  };
  const base = {
    id,
    kind: 'migrate-process' as const,
    pid,
    selection: { ranges: [], hotness: null, topK: null, fromNodes },
    fromNodes,
    toNodes,
    dryRun: options.dryRun === true,
    rateLimitBytesPerSecond: options.rateBytesPerSecond ?? null,
    startedAt: new Date(target.startedAtMs).toISOString(),
    startMs: options.session ? timelineMs(target, options, target.startedAtMs) : null,
    pagesSelected: selected,
    pendingPages: 0,
    before,
  };
  const endRecord = (
    status: Experiment['status'],
    detail: string,
    histogram: MoveHistogram,
    after: Experiment['after'],
    benchAfter: number | null,
  ): Experiment => {
    const endAt = Date.now();
    return checkedExperiment({
      ...base,
      endedAt: new Date(endAt).toISOString(),
      endMs: options.session ? timelineMs(target, options, endAt) : null,
      status,
      detail: [detail, ...notes].join('; '),
      histogram,
      after,
      benchmark: options.benchmark
        ? { command: options.benchmark.command, before: benchBefore?.value ?? null, after: benchAfter }
        : null,
    });
  };
  if (fromNodes.length === 0 || (selected === 0 && method === 'move_pages')) {
    const why =
      fromNodes.length === 0
        ? `the process has no pages outside nodes ${toNodes.join(',')}`
        : 'no page to move';
    return {
      experiment: endRecord('completed', `nothing to do: ${why}`, emptyHistogram(), null, null),
      plan,
      method,
      kernelNotMigrated: null,
      syscallMs: null,
    };
  }
  if (options.dryRun === true) {
    return {
      experiment: endRecord(
        'completed',
        `dry run: ${selected} pages of the movable mappings would move (${method})`,
        emptyHistogram(),
        null,
        null,
      ),
      plan,
      method,
      kernelNotMigrated: null,
      syscallMs: null,
    };
  }
  for (const to of toNodes) {
    const incoming = Object.entries(toMoveByNode)
      .filter(([node]) => remap(Number(node)) === to)
      .reduce((n, [, pages]) => n + pages, 0);
    await checkTargetRoom(to, incoming * pageSize, {
      ...(options.sysRoot !== undefined ? { sysRoot: options.sysRoot } : {}),
      ...(options.force !== undefined ? { force: options.force } : {}),
    });
  }

  let status: Experiment['status'] = 'completed';
  let detail: string;
  let histogram: MoveHistogram;
  let kernelNotMigrated: number | null = null;
  let syscallMs: number | null = null;
  if (method === 'move_pages') {
    const { addresses, targets } = splitSelection(pieces, fromNodes, toNodes, pageSize);
    const result = await executeMove({
      pid,
      startTimeTicks: target.process.startTimeTicks,
      addresses,
      targets,
      pageSizeBytes: pageSize,
      rateBytesPerSecond: options.rateBytesPerSecond ?? null,
      onProgress: (progress) => options.onEvent?.({ phase: 'moving', progress }),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.planner ? { planner: options.planner } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.bridge ? { bridge: options.bridge } : {}),
    });
    status = result.status;
    detail = `move_pages: ${result.detail}`;
    histogram = result.histogram;
  } else {
    const fromTotal = sumOn(pagesBefore, fromNodes);
    const t0 = clock.now();
    // An object, not a let: it is set from a listener, which flow analysis does not see.
    const cancel = { asked: false };
    const onAbort = (): void => {
      cancel.asked = true;
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let result: { notMigrated: number; ms: number };
    try {
      if (options.signal?.aborted) {
        return {
          experiment: endRecord(
            'cancelled',
            'cancelled before migrate_pages started: nothing moved',
            emptyHistogram(),
            null,
            null,
          ),
          plan,
          method,
          kernelNotMigrated,
          syscallMs,
        };
      }
      result = await migratePagesOffThread(
        { pid, fromNodes, toNodes },
        async () => {
          const now = await processPagesByNode(pid, target, options.procRoot).catch(() => null);
          if (!now) return;
          const left = sumOn(now, fromNodes);
          options.onEvent?.({
            phase: 'moving',
            progress: {
              batches: 0,
              pagesDone: Math.max(0, fromTotal - left),
              pagesTotal: fromTotal,
              bytesMoved: Math.max(0, fromTotal - left) * pageSize,
              histogram: emptyHistogram(),
              elapsedMs: clock.now() - t0,
              lastBatchPages: 0,
              pagesPerMs: null,
            },
          });
        },
        options.pollMs ?? 250,
      );
    } catch (err) {
      if (err instanceof TierscopeError && err.code === 'process-gone') {
        return {
          experiment: endRecord(
            'failed',
            `process ${pid} exited during migrate_pages`,
            emptyHistogram(),
            null,
            null,
          ),
          plan,
          method,
          kernelNotMigrated,
          syscallMs,
        };
      }
      throw err;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    kernelNotMigrated = result.notMigrated;
    syscallMs = result.ms;
    detail = `migrate_pages took ${Math.round(result.ms)} ms; the kernel reported ${result.notMigrated} pages not migrated`;
    if (cancel.asked)
      detail += '; a cancel came while it ran, but migrate_pages cannot be interrupted: it ran to the end';
    histogram = judgeByRequery(pid, pieces, fromNodes, toNodes, pageSize, options.bridge);
  }

  options.onEvent?.({ phase: 'verifying' });
  let after: Experiment['after'] = null;
  try {
    const pagesAfter = await processPagesByNode(pid, target, options.procRoot);
    after = {
      atMs: timelineMs(target, options, Date.now()),
      selectionBytesByNode: pagesToBytes(pagesAfter, pageSize),
      hotBytesByNode: {},
      coldBytesByNode: {},
      selectionAccessRate: null,
    };
  } catch (err) {
    notes.push(`after-placement not read: ${err instanceof Error ? err.message : String(err)}`);
  }
  const benchAfter = status === 'completed' ? await benchmarkPhase(options, 'after', notes) : null;
  if (skipped.length) notes.push(...skipped.map((s) => `not in the per-page count: ${s}`));
  return {
    experiment: endRecord(status, detail, histogram, after, benchAfter?.value ?? null),
    plan,
    method,
    kernelNotMigrated,
    syscallMs,
  };
}

/** Addresses (ascending) and per-page targets of the pages on from-nodes that the mapping moves. */
export function splitSelection(
  pieces: readonly Piece[],
  fromNodes: readonly number[],
  toNodes: readonly number[],
  pageSizeBytes: number,
): { addresses: BigUint64Array; targets: Int32Array } {
  const from = new Set(fromNodes);
  const remap = nodeRemap(fromNodes, toNodes);
  const addr: bigint[] = [];
  const tgt: number[] = [];
  const size = BigInt(pageSizeBytes);
  for (const p of pieces) {
    p.status.forEach((s, i) => {
      if (s < 0 || !from.has(s)) return;
      const to = remap(s);
      if (to === s) return;
      addr.push(p.start + BigInt(i) * size);
      tgt.push(to);
    });
  }
  return { addresses: BigUint64Array.from(addr), targets: Int32Array.from(tgt) };
}

/**
 * migrate_pages says only how many pages it could not move. Re-query the pages that were on a from-node:
 * on their mapped target → moved; gone → not present; anywhere else → not migrated (reason unknown).
 */
function judgeByRequery(
  pid: number,
  pieces: readonly Piece[],
  fromNodes: readonly number[],
  toNodes: readonly number[],
  pageSizeBytes: number,
  bridge: MoveBridge | undefined,
): MoveHistogram {
  const h = emptyHistogram();
  const from = new Set(fromNodes);
  const remap = nodeRemap(fromNodes, toNodes);
  let now: Piece[];
  try {
    now = queryPieces(pid, pieces, null, pageSizeBytes, bridgeQuery(bridge));
  } catch {
    return h;
  }
  pieces.forEach((p, k) => {
    const after = now[k]?.status;
    p.status.forEach((s, i) => {
      if (s < 0 || !from.has(s)) return;
      const want = remap(s);
      if (want === s) return;
      const a = after?.[i] ?? -1;
      if (a === want) h.moved++;
      else if (isAbsent(a)) h.notPresent++;
      else h.otherFailures['not-migrated'] = (h.otherFailures['not-migrated'] ?? 0) + 1;
    });
  });
  return h;
}
