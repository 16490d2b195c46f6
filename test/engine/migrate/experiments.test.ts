// Live on this machine (one NUMA node, node 0): experiments on a child process this test starts. Real moves
// here can only find pages "already there"; multi-node behaviour is simulated with FakeKernel (the lab
// suite checks it against a real three-node kernel).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Experiment, type Vma } from '../../../electron/contract/index.js';
import type { AccessSource, ScanVma } from '../../../electron/engine/access/source.js';
import { PAGE_ACCESSED, PAGE_IDLE } from '../../../electron/engine/access/source.js';
import { TierscopeError } from '../../../electron/engine/errors.js';
import type { ExperimentEvent } from '../../../electron/engine/migrate/context.js';
import { runLazyRebind } from '../../../electron/engine/migrate/lazy.js';
import { countsFromRuns } from '../../../electron/engine/migrate/measure.js';
import {
  remapNode,
  runProcessMigration,
  splitSelection,
} from '../../../electron/engine/migrate/migrateProcess.js';
import {
  runMoveExperiment,
  type MoveExperimentOptions,
} from '../../../electron/engine/migrate/moveExperiment.js';
import { ExperimentRegistry } from '../../../electron/engine/migrate/registry.js';
import { readVmas } from '../../../electron/engine/procfs/vmas.js';
import { procHex } from '../../../electron/engine/procfs/text.js';
import { startQuietChild, type Child } from '../../helpers/children.js';
import { FakeClock, FakeKernel, PAGE } from './fakeKernel.js';

let child: Child;
let big: Vma;
let start: bigint;
let end: bigint;
let pages: number;
let registryDir: string;
let registry: ExperimentRegistry;

beforeAll(async () => {
  child = await startQuietChild(32);
  const vmas = await readVmas(child.pid, { pageSizeBytes: PAGE });
  big = vmas
    .filter((v) => v.kind === 'anon' || v.kind === 'heap')
    .sort((a, b) => b.rssBytes - a.rssBytes)[0] as Vma;
  start = BigInt(`0x${big.start}`);
  end = BigInt(`0x${big.end}`);
  pages = Number((end - start) / BigInt(PAGE));
  registryDir = mkdtempSync(path.join(tmpdir(), 'tierscope-exp-registry-'));
  registry = new ExperimentRegistry(registryDir);
});
afterAll(async () => {
  await child.kill();
  rmSync(registryDir, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<TierscopeError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TierscopeError) return e;
    throw e;
  }
  throw new Error('expected a TierscopeError');
}

const base = (extra: Partial<MoveExperimentOptions> = {}): MoveExperimentOptions => ({
  pid: child.pid,
  toNode: 0,
  selection: { range: { start, end } },
  measurement: false,
  registry,
  ...extra,
});

describe('move experiments on this one-node host', () => {
  it('dry run to node 0: everything resident is already there, nothing would move', async () => {
    const { experiment, plan } = await runMoveExperiment(base({ dryRun: true }));
    expect(Experiment.parse(experiment)).toEqual(experiment);
    expect(experiment).toMatchObject({
      kind: 'move-pages',
      dryRun: true,
      status: 'completed',
      toNodes: [0],
      after: null,
    });
    expect(plan.toMoveByNode).toEqual({});
    expect(plan.bytesToMove).toBe(0);
    expect(plan.alreadyThere + plan.notPresent).toBe(pages);
    expect(plan.alreadyThere).toBeGreaterThanOrEqual((32 << 20) / PAGE);
    expect(experiment.before?.selectionBytesByNode).toEqual({ '0': plan.alreadyThere * PAGE });
    expect(experiment.detail).toMatch(/^dry run: 0 pages would move to node 0/);
  });

  it('a real move to node 0 finds every page already there and says so, verified by re-query', async () => {
    const { experiment } = await runMoveExperiment(base({ benchmark: { command: 'echo 17 ops/s' } }));
    expect(experiment.status).toBe('completed');
    expect(experiment.histogram.moved).toBe(0);
    expect(experiment.histogram.alreadyThere + experiment.histogram.notPresent).toBe(
      experiment.pagesSelected,
    );
    expect(experiment.after?.selectionBytesByNode).toEqual(experiment.before?.selectionBytesByNode);
    expect(experiment.benchmark).toEqual({ command: 'echo 17 ops/s', before: 17, after: 17 });
    expect(experiment.selection.ranges).toEqual([{ start: big.start, end: big.end }]);
  });

  it('node 2 is refused with the reason, before anything happens', async () => {
    const err = await failure(runMoveExperiment(base({ toNode: 2 })));
    expect(err.code).toBe('unknown-node');
    expect(err.message).toBe(
      'target node 2 does not exist on this machine (nodes 0); pick one of the nodes with memory (0)',
    );
    const from = await failure(
      runMoveExperiment(base({ selection: { range: { start, end }, fromNodes: [3] } })),
    );
    expect(from.message).toMatch(/^--from node 3 does not exist on this machine/);
  });

  it('hot/cold selection without a per-page sampler (no page_idle, no idle_pages here) is refused with why', async () => {
    const live = base({ selection: { hotness: 'hot' } });
    delete live.measurement;
    const err = await failure(runMoveExperiment(live));
    expect(err.code).toBe('unsupported');
    expect(err.message).toMatch(
      /^selecting hot pages needs per-page access bits \(idle_pages or page_idle\)/,
    );
    const noClasses = await failure(runMoveExperiment(base({ selection: { hotness: 'cold' } })));
    expect(noClasses.message).toMatch(/--cold needs page classes: pass --session FILE/);
  });

  it('an experiment overlapping a running one is refused, naming it', async () => {
    const held = await registry.claim({
      id: 'exp-held',
      kind: 'lazy-rebind',
      pid: child.pid,
      startTimeTicks: (
        await import('../../../electron/engine/procfs/process.js').then((m) => m.readProcStat(child.pid))
      ).startTimeTicks,
      ranges: [{ start: procHex(start + 4096n), end: procHex(start + 8192n) }],
    });
    try {
      const err = await failure(runMoveExperiment(base()));
      expect(err.code).toBe('busy');
      expect(err.message).toMatch(
        /^experiment exp-held \(lazy-rebind of .*\) is still running on pages this experiment would touch/,
      );
      // A dry run without measurement touches nothing and is allowed.
      await expect(runMoveExperiment(base({ dryRun: true }))).resolves.toBeDefined();
    } finally {
      await held.release();
    }
  });

  it('a process that does not exist is named', async () => {
    const err = await failure(runMoveExperiment(base({ pid: 2 ** 22 + 12345 })));
    expect(err.code).toBe('process-gone');
  });
});

/** Places the child's resident range on a pretend node 1 of a simulated kernel. */
function fakeTwoNodes(): FakeKernel {
  return new FakeKernel().place(start, pages, 1);
}

describe('move experiments against a simulated second node', () => {
  it('moves a range from node 1 to node 0 in bounded batches, with progress and a verified result', async () => {
    const k = fakeTwoNodes();
    const events: ExperimentEvent[] = [];
    const { experiment, plan } = await runMoveExperiment(
      base({
        bridge: k,
        clock: new FakeClock(),
        planner: { initialPages: 256, maxPages: 1024 },
        onEvent: (e) => events.push(e),
      }),
    );
    expect(plan.toMoveByNode).toEqual({ '1': pages });
    expect(experiment.status).toBe('completed');
    expect(experiment.histogram.moved).toBe(pages);
    expect(experiment.before?.selectionBytesByNode).toEqual({ '1': pages * PAGE });
    expect(experiment.after?.selectionBytesByNode).toEqual({ '0': pages * PAGE });
    expect(k.pagesOn(0)).toBe(pages);
    expect(Math.max(...k.moveCalls)).toBeLessThanOrEqual(1024);
    const moving = events.filter((e) => e.phase === 'moving');
    expect(moving.length).toBe(k.moveCalls.length);
    expect(events.at(-1)?.phase).toBe('verifying');
  });

  it('cancel stops within one batch and is recorded as cancelled, the rest left in place', async () => {
    const k = fakeTwoNodes();
    const stop = new AbortController();
    const { experiment } = await runMoveExperiment(
      base({
        bridge: k,
        clock: new FakeClock(),
        planner: { initialPages: 512, maxPages: 512 },
        signal: stop.signal,
        onEvent: (e) => {
          if (e.phase === 'moving') stop.abort();
        },
      }),
    );
    expect(experiment.status).toBe('cancelled');
    // One batch (at most 512 pages; cut back to a 2 MiB boundary when the range is not aligned), then stop.
    expect(k.moveCalls.length).toBe(1);
    const first = k.moveCalls[0] ?? 0;
    expect(first).toBeLessThanOrEqual(512);
    expect(experiment.histogram.moved).toBe(first);
    expect(k.pagesOn(1)).toBe(pages - first);
    expect(experiment.after?.selectionBytesByNode).toEqual({
      '0': first * PAGE,
      '1': (pages - first) * PAGE,
    });
  });

  it('top-K with session classes moves exactly the K hottest pages, and places the experiment on the session clock', async () => {
    const k = fakeTwoNodes();
    // A session window: the first 100 pages hot (5/5), the next 50 warm (3/5), the rest cold.
    const at = (p: number): string => procHex(start + BigInt(p * PAGE));
    const classes = countsFromRuns(
      [
        { start: at(0), end: at(100), accessedScans: 5 },
        { start: at(100), end: at(150), accessedScans: 3 },
        { start: at(150), end: at(pages), accessedScans: 0 },
      ],
      5,
      'session test',
    );
    const sessionStart = Date.now() - 60_000;
    const { experiment, plan } = await runMoveExperiment(
      base({
        bridge: k,
        clock: new FakeClock(),
        classes,
        selection: { vmaAddress: start, hotness: 'top-k', topKPages: 120 },
        session: { startedAtMs: sessionStart },
      }),
    );
    expect(plan.classesFrom).toBe('session test');
    expect(experiment.pagesSelected).toBe(120);
    expect(experiment.histogram.moved).toBe(120);
    expect(experiment.selection).toMatchObject({ hotness: 'top-k', topK: 120 });
    expect(k.nodes.get(start + BigInt(119 * PAGE))).toBe(0);
    expect(k.nodes.get(start + BigInt(120 * PAGE))).toBe(1);
    expect(experiment.before?.hotBytesByNode).toEqual({ '1': 100 * PAGE });
    expect(experiment.after?.hotBytesByNode).toEqual({ '0': 100 * PAGE });
    expect(experiment.after?.coldBytesByNode).toEqual({ '1': (pages - 150) * PAGE });
    expect(experiment.before?.selectionAccessRate).toBeCloseTo((100 * 5 + 20 * 3) / (120 * 5));
    expect(experiment.startMs).toBeGreaterThanOrEqual(60_000);
    expect(experiment.endMs).toBeGreaterThanOrEqual(experiment.startMs ?? 0);
  });

  it('records a failed experiment (with what was done) when the process exits mid-move', async () => {
    const k = fakeTwoNodes();
    k.beforeMove = (call) => {
      if (call === 1) k.gone = true;
    };
    const { experiment } = await runMoveExperiment(
      base({ bridge: k, clock: new FakeClock(), planner: { initialPages: 512, maxPages: 512 } }),
    );
    expect(experiment.status).toBe('failed');
    const first = k.moveCalls[0] ?? 0;
    expect(experiment.detail).toMatch(new RegExp(`exited .* ${first} of ${pages} pages were handled before`));
    expect(experiment.histogram.moved).toBe(first);
    expect(experiment.after).toBeNull();
  });
});

describe('whole-process moves', () => {
  it('maps from-nodes to to-nodes as the kernel does (i-th lowest → i mod |to|)', () => {
    expect(remapNode(2, [1, 2], [0])).toBe(0);
    expect(remapNode(2, [1, 2], [0, 3])).toBe(3);
    expect(remapNode(1, [2, 1], [3, 0])).toBe(0);
    expect(remapNode(5, [1, 2], [0])).toBe(5);
    const piece = {
      vma: big,
      start: 0x1000n,
      end: 0x5000n,
      status: Int32Array.from([1, 2, 0, -2]),
      counts: null,
    };
    const { addresses, targets } = splitSelection([piece], [1, 2], [0], PAGE);
    expect([...addresses]).toEqual([0x1000n, 0x2000n]);
    expect([...targets]).toEqual([0, 0]);
  });

  it('has nothing to do when the process already lives on the targets', async () => {
    const { experiment, method } = await runProcessMigration({ pid: child.pid, toNodes: [0], registry });
    expect(method).toBe('migrate_pages');
    expect(experiment).toMatchObject({ kind: 'migrate-process', status: 'completed', fromNodes: [] });
    expect(experiment.detail).toMatch(/^nothing to do: the process has no pages outside nodes 0/);
  });

  it('runs migrate_pages on a worker thread and judges the result by re-query', async () => {
    const { experiment, kernelNotMigrated } = await runProcessMigration({
      pid: child.pid,
      fromNodes: [0],
      toNodes: [0],
      method: 'migrate_pages',
      registry,
    });
    expect(kernelNotMigrated).toBe(0);
    expect(experiment.status).toBe('completed');
    expect(experiment.detail).toMatch(/^migrate_pages took \d+ ms; the kernel reported 0 pages not migrated/);
    expect(experiment.after?.selectionBytesByNode['0']).toBeGreaterThan(32 << 20);
  });

  it('refuses a rate limit for migrate_pages (one uninterruptible call)', async () => {
    const err = await failure(
      runProcessMigration({
        pid: child.pid,
        toNodes: [0],
        fromNodes: [0],
        method: 'migrate_pages',
        rateBytesPerSecond: 1e6,
        registry,
      }),
    );
    expect(err.message).toMatch(/cannot be rate-limited; use the move_pages method \(--split\)/);
  });
});

/** A page source that reports, in its first scan, the given pages of the first range accessed; later scans nothing. */
class TouchSource implements AccessSource {
  readonly limits = 'test';
  private scans = 0;
  constructor(
    readonly id: 'page_idle' | 'refs',
    private readonly touched: (page: number) => boolean,
  ) {}
  start(): Promise<void> {
    return Promise.resolve();
  }
  scan(vmas: readonly ScanVma[]) {
    const first = this.scans++ === 0;
    return Promise.resolve({
      accesses: vmas.map((v) => {
        const n = Number((v.end - v.start) / BigInt(PAGE));
        return {
          granularity: 'page' as const,
          vmaId: v.id,
          flags: Uint8Array.from({ length: n }, (_, i) =>
            first && this.touched(i) ? PAGE_ACCESSED : PAGE_IDLE,
          ),
        };
      }),
      pagesScanned: 0,
    });
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
}

describe('lazy rebind', () => {
  it('moves exactly the touched pages; untouched ones stay pending until expiry', async () => {
    const k = fakeTwoNodes();
    const clock = new FakeClock();
    const events: ExperimentEvent[] = [];
    const { experiment } = await runLazyRebind({
      pid: child.pid,
      range: { start, end },
      toNode: 0,
      source: new TouchSource('page_idle', (i) => i % 4 === 0),
      bridge: k,
      clock,
      intervalMs: 1000,
      expireMs: 5000,
      registry,
      onEvent: (e) => events.push(e),
    });
    const touched = Math.ceil(pages / 4);
    expect(experiment).toMatchObject({
      kind: 'lazy-rebind',
      status: 'expired',
      pendingPages: pages - touched,
    });
    expect(experiment.histogram.moved).toBe(touched);
    expect(k.pagesOn(0)).toBe(touched);
    for (let i = 0; i < 8; i++) expect(k.nodes.get(start + BigInt(i * PAGE))).toBe(i % 4 === 0 ? 0 : 1);
    expect(experiment.after?.selectionBytesByNode).toEqual({
      '0': touched * PAGE,
      '1': (pages - touched) * PAGE,
    });
    expect(experiment.detail).toMatch(
      new RegExp(`^${touched} pages moved on touch, ${pages - touched} pending, 0 failed; expired after 5 s`),
    );
    const waiting = events.filter((e) => e.phase === 'waiting');
    expect(waiting.length).toBe(5);
    expect(waiting[0]).toMatchObject({ movedOnTouch: touched, pending: pages - touched });
    expect(Experiment.parse(experiment)).toEqual(experiment);
  });

  it('completes as soon as every page was touched, and cancel leaves pending pages where they are', async () => {
    const done = await runLazyRebind({
      pid: child.pid,
      range: { start, end },
      toNode: 0,
      source: new TouchSource('page_idle', () => true),
      bridge: fakeTwoNodes(),
      clock: new FakeClock(),
      registry,
    });
    expect(done.experiment).toMatchObject({ status: 'completed', pendingPages: 0 });
    const stop = new AbortController();
    const k = fakeTwoNodes();
    const cancelled = await runLazyRebind({
      pid: child.pid,
      range: { start, end },
      toNode: 0,
      source: new TouchSource('page_idle', (i) => i < 10),
      bridge: k,
      clock: new FakeClock(),
      registry,
      signal: stop.signal,
      onEvent: (e) => {
        if (e.phase === 'waiting') stop.abort();
      },
    });
    expect(cancelled.experiment).toMatchObject({ status: 'cancelled', pendingPages: pages - 10 });
    expect(k.pagesOn(0)).toBe(10);
  });

  it('is recorded as failed when the process exits while it waits', async () => {
    const k = fakeTwoNodes();
    const source = new TouchSource('page_idle', (i) => i < 3);
    const scan = source.scan.bind(source);
    let scans = 0;
    source.scan = (vmas) => {
      if (++scans === 2) {
        k.gone = true;
        return Promise.reject(new Error('pagemap: no such process'));
      }
      return scan(vmas);
    };
    const { experiment } = await runLazyRebind({
      pid: child.pid,
      range: { start, end },
      toNode: 0,
      source,
      bridge: k,
      clock: new FakeClock(),
      registry,
    });
    expect(experiment).toMatchObject({ status: 'failed', pendingPages: pages - 3, after: null });
    expect(experiment.histogram.moved).toBe(3);
    expect(experiment.detail).toMatch(/process \d+ (exited during the rebind|went away)/);
  });

  it('refuses a source without page identity (refs) with a clear error', async () => {
    const err = await failure(
      runLazyRebind({
        pid: child.pid,
        range: { start, end },
        toNode: 0,
        source: new TouchSource('refs', () => true),
        registry,
      }),
    );
    expect(err.code).toBe('unsupported');
    expect(err.message).toMatch(
      /needs page identity; the refs source has none \(it counts referenced pages per VMA\); use page_idle/,
    );
  });

  it('without a page source on this host, the default refuses and says why', async () => {
    const err = await failure(runLazyRebind({ pid: child.pid, range: { start, end }, toNode: 0, registry }));
    expect(err.message).toMatch(/^a lazy rebind needs per-page access bits/);
  });
});
