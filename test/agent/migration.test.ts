// Migration experiments through the agent (in-process transport) on this one-node host: dry runs and
// real moves to node 0 of a child's range (every page is already there), the refusals, experiments
// recorded into finished and live sessions, and — against a simulated second node (FakeKernel) —
// progress, cancel, and the agent's end cancelling what runs.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Experiment, type EventData, type StartMigration, type Vma } from '../../electron/contract/index.js';
import { ExperimentRegistry } from '../../electron/engine/migrate/registry.js';
import { readProcStat } from '../../electron/engine/procfs/process.js';
import { procHex } from '../../electron/engine/procfs/text.js';
import { readVmas } from '../../electron/engine/procfs/vmas.js';
import { openSession } from '../../electron/engine/session/index.js';
import { FakeKernel } from '../engine/migrate/fakeKernel.js';
import { startQuietChild, type Child } from '../helpers/children.js';
import { startTestAgent, until, type TestAgent } from './agentFixture.js';
import { agentError, nextEvent } from './harness.js';

const PAGE = 4096;
let a: TestAgent;
let child: Child;
let big: Vma;
let start: bigint;
let pages: number;
let ticks: number;
/** A finished recording of the child (made through the agent). */
let session: string;

beforeAll(async () => {
  [a, child] = await Promise.all([Promise.resolve(startTestAgent()), startQuietChild(16)]);
  big = (await readVmas(child.pid, { pageSizeBytes: PAGE }))
    .filter((v) => v.kind === 'anon' || v.kind === 'heap')
    .sort((x, y) => y.rssBytes - x.rssBytes)[0] as Vma;
  start = BigInt(`0x${big.start}`);
  pages = Number((BigInt(`0x${big.end}`) - start) / BigInt(PAGE));
  ticks = (await readProcStat(child.pid)).startTimeTicks;
  session = join(a.dir, 'child.tierscope');
  const ended = nextEvent(a.client, 'recordingEnded', (d) => d.path === session);
  await a.client.call('startRecording', {
    pid: child.pid,
    source: 'refs',
    intervalMs: 100,
    scansPerWindow: 2,
    durationMs: 450,
    path: session,
  });
  await ended;
});
afterAll(async () => {
  await Promise.all([a.close(), child.kill()]);
  expect(a.dropped).toEqual([]);
});

const move = (extra: Partial<StartMigration> = {}): StartMigration => ({
  pid: child.pid,
  kind: 'move-pages',
  selection: {
    ranges: [{ start: big.start, end: big.end }],
    hotness: null,
    topKPages: null,
    fromNodes: null,
  },
  toNode: 0,
  rateBytesPerSecond: null,
  dryRun: true,
  expireMs: null,
  sessionPath: null,
  ...extra,
});

describe('startMigration on this one-node host', () => {
  it('dry run to node 0: the plan (everything resident is already there), no experiment, no events', async () => {
    const events: unknown[] = [];
    const offs = [
      a.client.on('experimentProgress', (d) => events.push(d)),
      a.client.on('experimentEnded', (d) => events.push(d)),
    ];
    const res = await a.client.call('startMigration', move({ startTimeTicks: ticks }));
    expect(res.experiment).toBeNull();
    expect(res.experimentId).toMatch(/^exp-/);
    expect(res.plan).toMatchObject({ toMoveByNode: {}, bytesToMove: 0, skipped: [], classesFrom: null });
    expect(res.plan.pagesSelected).toBe(pages);
    expect(res.plan.alreadyThere + res.plan.notPresent).toBe(pages);
    expect(res.plan.alreadyThere).toBeGreaterThanOrEqual((16 << 20) / PAGE);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(events).toEqual([]);
    expect(a.server.experimentCount).toBe(0);
    for (const off of offs) off();
  });

  it('several ranges are one selection: pages of each, overlaps counted once', async () => {
    const r = (from: number, to: number): { start: string; end: string } => ({
      start: procHex(start + BigInt(from * PAGE)),
      end: procHex(start + BigInt(to * PAGE)),
    });
    const res = await a.client.call(
      'startMigration',
      move({
        selection: {
          ranges: [r(0, 10), r(100, 120), r(5, 15)],
          hotness: null,
          topKPages: null,
          fromNodes: null,
        },
      }),
    );
    expect(res.plan.pagesSelected).toBe(15 + 20);
  });

  it('refusals come back with the engine codes and one-line messages', async () => {
    const badNode = await agentError(a.client.call('startMigration', move({ toNode: 7 })));
    expect([badNode.code, badNode.message]).toEqual([
      'unknown-node',
      'target node 7 does not exist on this machine (nodes 0); pick one of the nodes with memory (0)',
    ]);
    const dead = await startQuietChild(1);
    await dead.kill();
    const gone = await agentError(a.client.call('startMigration', move({ pid: dead.pid })));
    expect(gone.code).toBe('process-gone');
    const replaced = await agentError(a.client.call('startMigration', move({ startTimeTicks: ticks + 1 })));
    expect(replaced.code).toBe('process-gone');
    const nothing = await agentError(
      a.client.call(
        'startMigration',
        move({
          selection: {
            ranges: [{ start: '1000', end: '2000' }],
            hotness: null,
            topKPages: null,
            fromNodes: null,
          },
        }),
      ),
    );
    expect(nothing.code).toBe('invalid-argument');
    expect(nothing.message).toMatch(/^range 0*1000-0*2000 covers no movable mapping of the process/);
    const twoLazy = await agentError(
      a.client.call(
        'startMigration',
        move({
          kind: 'lazy-rebind',
          selection: {
            ranges: [
              { start: big.start, end: procHex(start + 4096n) },
              { start: procHex(start + 8192n), end: big.end },
            ],
            hotness: null,
            topKPages: null,
            fromNodes: null,
          },
        }),
      ),
    );
    expect(twoLazy.message).toBe('a lazy rebind takes one address range, got 2: start one per range');
    const topK = await agentError(
      a.client.call(
        'startMigration',
        move({
          selection: {
            ranges: [{ start: big.start, end: big.end }],
            hotness: 'top-k',
            topKPages: null,
            fromNodes: null,
          },
        }),
      ),
    );
    expect(topK.message).toBe('a top-k selection needs topKPages (how many of the hottest pages)');
    // No per-page sampler here (no idle_pages, no page_idle): hot pages and lazy rebinds are refused.
    const hot = await agentError(
      a.client.call(
        'startMigration',
        move({
          selection: {
            ranges: [{ start: big.start, end: big.end }],
            hotness: 'hot',
            topKPages: null,
            fromNodes: null,
          },
        }),
      ),
    );
    expect(hot.code).toBe('unsupported');
    expect(hot.message).toMatch(/^selecting hot pages needs per-page access bits/);
    const lazy = await agentError(
      a.client.call('startMigration', move({ kind: 'lazy-rebind', dryRun: false })),
    );
    expect(lazy.code).toBe('unsupported');
    for (const e of [badNode, gone, replaced, nothing, twoLazy, topK, hot, lazy])
      expect(e.message).not.toContain('\n');
    expect(a.server.experimentCount).toBe(0);
  });

  it('an experiment overlapping a running one (the machine-wide registry) is busy, naming it', async () => {
    const registry = new ExperimentRegistry(a.experimentsDir);
    const held = await registry.claim({
      id: 'exp-held',
      kind: 'move-pages',
      pid: child.pid,
      startTimeTicks: ticks,
      ranges: [{ start: procHex(start + 4096n), end: procHex(start + 8192n) }],
    });
    try {
      const err = await agentError(a.client.call('startMigration', move({ dryRun: false })));
      expect(err.code).toBe('busy');
      expect(err.message).toMatch(
        /^experiment exp-held \(move-pages of .*\) is still running on pages this experiment would touch/,
      );
    } finally {
      await held.release();
    }
  });

  it('a real move to node 0: answered with the running record, then ended and recorded in the session', async () => {
    const ended = nextEvent(a.client, 'experimentEnded', () => true);
    const res = await a.client.call('startMigration', move({ dryRun: false, sessionPath: session }));
    expect(res.experiment).toMatchObject({
      id: res.experimentId,
      status: 'running',
      endedAt: null,
      dryRun: false,
    });
    expect(Experiment.parse(res.experiment)).toEqual(res.experiment);
    const end = await ended;
    expect(end.sessionPath).toBe(session);
    expect(end.experiment).toMatchObject({ id: res.experimentId, status: 'completed', kind: 'move-pages' });
    expect(end.experiment.histogram.moved).toBe(0);
    expect(end.experiment.startMs).not.toBeNull();
    const view = await a.client.call('openSession', { path: session });
    expect(view.experiments.map((e) => e.id)).toContain(res.experimentId);
    await a.client.call('closeSession', { handle: view.handle });
    expect(a.server.experimentCount).toBe(0);
  });

  it('an experiment on a session this agent is recording goes into its journal', async () => {
    const path = join(a.dir, 'live.tierscope');
    const rec = await a.client.call('startRecording', {
      pid: child.pid,
      source: 'refs',
      intervalMs: 100,
      durationMs: null,
      path,
    });
    await new Promise((resolve) => setTimeout(resolve, 250));
    const ended = nextEvent(a.client, 'experimentEnded', () => true);
    const res = await a.client.call('startMigration', move({ dryRun: false, sessionPath: path }));
    const end = await ended;
    expect(end).toMatchObject({
      sessionPath: path,
      experiment: { id: res.experimentId, status: 'completed' },
    });
    await a.client.call('stopRecording', { recording: rec.recording });
    const s = await openSession(path);
    expect(s.experiments.map((e) => e.id)).toEqual([res.experimentId]);
    expect(s.endRecorded).toBe(true);
  });

  it('cancelExperiment of an unknown id is not-found', async () => {
    const err = await agentError(a.client.call('cancelExperiment', { experimentId: 'exp-none' }));
    expect(err.code).toBe('not-found');
  });
});

describe('against a simulated second node (FakeKernel: the child range on a pretend node 1)', () => {
  /** 16 pages/s: batches of 4 pages a quarter second apart, so the move lasts minutes unless cancelled. */
  const slow = (extra: Partial<StartMigration> = {}): StartMigration =>
    move({ dryRun: false, rateBytesPerSecond: 16 * PAGE, ...extra });

  it('plan by node, throttled progress, cancel between batches: ends cancelled with what moved', async () => {
    const k = new FakeKernel().place(start, pages, 1);
    const b = startTestAgent({ moveBridge: k });
    try {
      const progress: { data: EventData<'experimentProgress'>; at: number }[] = [];
      b.client.on('experimentProgress', (data) => progress.push({ data, at: Date.now() }));
      const ended = nextEvent(b.client, 'experimentEnded', () => true);
      const res = await b.client.call('startMigration', slow());
      expect(res.plan.toMoveByNode).toEqual({ '1': pages });
      expect(res.plan.bytesToMove).toBe(pages * PAGE);
      await until(() => progress.length >= 3, 10_000, 'three progress events');
      await b.client.call('cancelExperiment', { experimentId: res.experimentId });
      const end = await ended;
      expect(end.sessionPath).toBeNull();
      expect(end.experiment.status).toBe('cancelled');
      expect(end.experiment.detail).toMatch(/^cancelled by the user after \d+ batches/);
      const moved = end.experiment.histogram.moved;
      expect(moved).toBeGreaterThan(0);
      expect(moved).toBeLessThan(pages);
      expect(k.pagesOn(0)).toBe(moved);
      for (const p of progress) {
        expect(p.data).toMatchObject({
          experimentId: res.experimentId,
          kind: 'move-pages',
          pagesTotal: pages,
        });
      }
      // Batches, then the re-query of where the pages are.
      const phases = progress.map((p) => p.data.phase);
      expect(phases.at(-1)).toBe('verifying');
      expect(new Set(phases.slice(0, -1))).toEqual(new Set(['moving']));
      const lastMove = progress.filter((p) => p.data.phase === 'moving').at(-1)?.data;
      expect(lastMove?.partialHistogram?.moved).toBeLessThanOrEqual(moved);
      expect(lastMove?.pagesDone).toBeLessThan(pages);
      // At most four a second; the last is flushed right before the end, whenever that comes.
      progress.slice(1, -1).forEach((p, i) => {
        expect(p.at - (progress[i]?.at ?? 0)).toBeGreaterThanOrEqual(200);
      });
      expect(b.server.experimentCount).toBe(0);
    } finally {
      await b.close();
    }
  });

  it("the agent's end cancels a running experiment and still records it in its session", async () => {
    const k = new FakeKernel().place(start, pages, 1);
    const b = startTestAgent({ moveBridge: k });
    try {
      const res = await b.client.call('startMigration', slow({ sessionPath: session }));
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(b.server.experimentCount).toBe(1);
      await b.server.close();
      expect(b.server.experimentCount).toBe(0);
      const s = await openSession(session);
      const recorded = s.experiments.find((e) => e.id === res.experimentId);
      expect(recorded?.status).toBe('cancelled');
      expect(b.log.some((l) => l.includes(`experiment ${res.experimentId} ended: cancelled`))).toBe(true);
    } finally {
      await b.close();
    }
  });
});
