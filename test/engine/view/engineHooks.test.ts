// The engine hooks the agent's experiment methods rely on (added for them): onPlan of moves and lazy
// rebinds, the lazy rebind's dry run, selections of several ranges, and the recorder's onStart. On a
// child process this test starts; the second node is simulated (FakeKernel).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Experiment, type Vma } from '../../../electron/contract/index.js';
import {
  PAGE_ACCESSED,
  PAGE_IDLE,
  type AccessSource,
  type ScanVma,
} from '../../../electron/engine/access/source.js';
import { emptyHistogram } from '../../../electron/engine/migrate/histogram.js';
import {
  runLazyRebind,
  type LazyRebindOptions,
  type LazyRebindResult,
} from '../../../electron/engine/migrate/lazy.js';
import { runMoveExperiment, type MovePlan } from '../../../electron/engine/migrate/moveExperiment.js';
import { ExperimentRegistry } from '../../../electron/engine/migrate/registry.js';
import { resolvePieces } from '../../../electron/engine/migrate/selection.js';
import { readVmas } from '../../../electron/engine/procfs/vmas.js';
import { record, type RecordStarted } from '../../../electron/engine/record/recorder.js';
import { openSession } from '../../../electron/engine/session/index.js';
import { startQuietChild, type Child } from '../../helpers/children.js';
import { FakeClock, FakeKernel, PAGE } from '../migrate/fakeKernel.js';
import { expectTierscopeError } from '../session/helpers.js';

let child: Child;
let big: Vma;
let start: bigint;
let pages: number;
let dir: string;
let registry: ExperimentRegistry;

beforeAll(async () => {
  child = await startQuietChild(8);
  big = (await readVmas(child.pid, { pageSizeBytes: PAGE }))
    .filter((v) => v.kind === 'anon' || v.kind === 'heap')
    .sort((a, b) => b.rssBytes - a.rssBytes)[0] as Vma;
  start = BigInt(`0x${big.start}`);
  pages = Number((BigInt(`0x${big.end}`) - start) / BigInt(PAGE));
  dir = mkdtempSync(path.join(tmpdir(), 'tierscope-hooks-'));
  registry = new ExperimentRegistry(path.join(dir, 'experiments'));
});
afterAll(async () => {
  await child.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** Every page of every scanned range seen accessed in the first scan, none after. */
class TouchAll implements AccessSource {
  readonly id = 'page_idle' as const;
  readonly limits = 'test';
  private scans = 0;
  start(): Promise<void> {
    return Promise.resolve();
  }
  scan(vmas: readonly ScanVma[]) {
    const first = this.scans++ === 0;
    return Promise.resolve({
      accesses: vmas.map((v) => ({
        granularity: 'page' as const,
        vmaId: v.id,
        flags: new Uint8Array(Number((v.end - v.start) / BigInt(PAGE))).fill(
          first ? PAGE_ACCESSED : PAGE_IDLE,
        ),
      })),
      pagesScanned: 0,
    });
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
}

describe('resolvePieces with several ranges', () => {
  it('merges overlapping ranges, widens to pages, and keeps address order', () => {
    const vmas = [big];
    const r = (a: number, b: number): { start: bigint; end: bigint } => ({
      start: start + BigInt(a),
      end: start + BigInt(b),
    });
    const { pieces } = resolvePieces(
      vmas,
      { ranges: [r(10 * PAGE, 12 * PAGE), r(PAGE + 1, 3 * PAGE), r(2 * PAGE, 4 * PAGE)] },
      PAGE,
    );
    expect(pieces.map((p) => [Number(p.start - start) / PAGE, Number(p.end - start) / PAGE])).toEqual([
      [1, 4],
      [10, 12],
    ]);
    expect(() => resolvePieces(vmas, { ranges: [], range: null }, PAGE)).toThrow(
      /the selection has no range/,
    );
    expect(() => resolvePieces(vmas, { ranges: [r(0, PAGE)], range: r(0, PAGE) }, PAGE)).toThrow(
      /either one range or VMA, or a list of ranges/,
    );
  });
});

describe('onPlan', () => {
  it('a move reports its plan and running record before the first page moves', async () => {
    const k = new FakeKernel().place(start, pages, 1);
    const seen: { plan: MovePlan; running: Experiment; movedThen: number }[] = [];
    const { experiment, plan } = await runMoveExperiment({
      pid: child.pid,
      toNode: 0,
      selection: { range: { start, end: start + BigInt(pages * PAGE) } },
      measurement: false,
      registry,
      bridge: k,
      clock: new FakeClock(),
      onPlan: (p, running) => seen.push({ plan: p, running, movedThen: k.pagesOn(0) }),
    });
    expect(seen).toHaveLength(1);
    const [first] = seen;
    expect(first?.plan).toEqual(plan);
    expect(first?.movedThen).toBe(0);
    expect(Experiment.parse(first?.running)).toEqual(first?.running);
    expect(first?.running).toMatchObject({
      id: experiment.id,
      status: 'running',
      endedAt: null,
      after: null,
    });
    expect(experiment.status).toBe('completed');
    expect(k.pagesOn(0)).toBe(pages);
  });

  it('a target too full to take the move is refused before onPlan', async () => {
    const k = new FakeKernel().place(start, pages, 1);
    let planned = false;
    // A fake sysfs whose node 0 has almost no free memory.
    const sysRoot = path.join(dir, 'sys');
    const nodeDir = path.join(sysRoot, 'devices/system/node');
    mkdirSync(path.join(nodeDir, 'node0'), { recursive: true });
    for (const f of ['possible', 'online', 'has_memory']) writeFileSync(path.join(nodeDir, f), '0\n');
    writeFileSync(
      path.join(nodeDir, 'node0/meminfo'),
      'Node 0 MemTotal:       1024 kB\nNode 0 MemFree:           4 kB\nNode 0 MemUsed:        1020 kB\n',
    );
    await expectTierscopeError(
      runMoveExperiment({
        pid: child.pid,
        toNode: 0,
        selection: { range: { start, end: start + BigInt(pages * PAGE) } },
        measurement: false,
        registry,
        bridge: k,
        sysRoot,
        onPlan: () => (planned = true),
      }),
      'busy',
      /node 0/,
    );
    expect(planned).toBe(false);
    expect(k.pagesOn(0)).toBe(0);
  });

  it('a lazy rebind reports its plan (pages that would move on touch) and its dry run stops there', async () => {
    const k = new FakeKernel().place(start, pages - 2, 1).place(start + BigInt((pages - 2) * PAGE), 1, 0);
    const seen: MovePlan[] = [];
    // Every page of the range to node 0, on the fake kernel; `extra` says dry run or not and listens.
    const rebind = (extra: Partial<LazyRebindOptions>): Promise<LazyRebindResult> =>
      runLazyRebind({
        pid: child.pid,
        range: { start, end: start + BigInt(pages * PAGE) },
        toNode: 0,
        source: new TouchAll(),
        bridge: k,
        clock: new FakeClock(),
        registry,
        ...extra,
      });
    const { experiment } = await rebind({
      dryRun: true,
      onPlan: (p, running) => {
        seen.push(p);
        expect(running).toMatchObject({ status: 'running', kind: 'lazy-rebind', pendingPages: pages - 2 });
      },
    });
    expect(seen).toEqual([
      {
        pagesSelected: pages,
        toMoveByNode: { '1': pages - 2 },
        bytesToMove: (pages - 2) * PAGE,
        alreadyThere: 1,
        notPresent: 1,
        skipped: [],
        classesFrom: null,
      },
    ]);
    expect(experiment).toMatchObject({ dryRun: true, status: 'completed', pendingPages: pages - 2 });
    expect(experiment.detail).toMatch(/^dry run: \d+ pages would move to node 0 on their next touch/);
    expect(k.pagesOn(0)).toBe(1);
    // The real one moves what was touched.
    const real = await rebind({
      expireMs: 3000,
      onPlan: (p) => seen.push(p),
    });
    expect(seen).toHaveLength(2);
    expect(real.experiment).toMatchObject({ status: 'completed', dryRun: false, pendingPages: 0 });
    expect(k.pagesOn(0)).toBe(pages - 1);
  });
});

describe("the recorder's onStart", () => {
  it('comes once, with the chosen source, before the first interval; its appendExperiment writes into the journal', async () => {
    const out = path.join(dir, 'rec.tierscope');
    const stop = new AbortController();
    let started: RecordStarted | null = null;
    let intervalsAtStart = -1;
    let intervals = 0;
    const experiment = Experiment.parse({
      id: 'exp-hook',
      kind: 'move-pages',
      pid: child.pid,
      selection: { ranges: [{ start: big.start, end: big.end }], hotness: null, topK: null, fromNodes: null },
      fromNodes: null,
      toNodes: [0],
      dryRun: false,
      rateLimitBytesPerSecond: null,
      startedAt: new Date().toISOString(),
      endedAt: new Date().toISOString(),
      startMs: 0,
      endMs: 1,
      status: 'completed',
      detail: 'test',
      pagesSelected: 0,
      histogram: emptyHistogram(),
      pendingPages: 0,
      before: null,
      after: null,
      benchmark: null,
    });
    const result = await record({
      pid: child.pid,
      out,
      source: 'refs',
      intervalMs: 100,
      signal: stop.signal,
      onStart: (s) => {
        started = s;
        intervalsAtStart = intervals;
        void s.appendExperiment(experiment);
      },
      onProgress: (p) => {
        intervals = p.intervals;
        if (p.intervals >= 2) stop.abort();
      },
    });
    const s = started as RecordStarted | null;
    expect(s?.meta.source).toBe('refs');
    expect(s?.path).toBe(out);
    expect(intervalsAtStart).toBe(0);
    expect(result.end.reason).toBe('stopped');
    expect((await openSession(out)).experiments.map((e) => e.id)).toEqual(['exp-hook']);
    // Once the recording is closed, the journal takes nothing more.
    await expectTierscopeError(
      s?.appendExperiment(experiment) ?? Promise.resolve(),
      'invalid-argument',
      /already closed/,
    );
  });
});
