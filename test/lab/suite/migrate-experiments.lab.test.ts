// Migration experiments against the three-node guest (issue 5's "done when"): promoting memhog's hot set
// from the CPU-less node 2 to node 0, a lazy rebind of 64 MiB of which the workload touches 25 %, cancel
// within one batch, whole-process moves on a worker thread, and the balancing switches (toggled here, in
// the disposable guest, never on a host). Every move is checked against ground truth — memhog's own hot
// list, a fresh move_pages query, numa_maps — and memhog's checksum proves the data survived.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Experiment } from '../../../electron/contract/index.js';
import { readBalancing, BalancingOverride } from '../../../electron/engine/migrate/balancing.js';
import type { ExperimentEvent } from '../../../electron/engine/migrate/context.js';
import { runLazyRebind } from '../../../electron/engine/migrate/lazy.js';
import { runProcessMigration } from '../../../electron/engine/migrate/migrateProcess.js';
import { runMoveExperiment } from '../../../electron/engine/migrate/moveExperiment.js';
import { ExperimentRegistry } from '../../../electron/engine/migrate/registry.js';
import { fillPageAddresses, queryPageNodes } from '../../../native-bridge/index.js';
import { PAGE, regionVma, startMemhog, startTlbTicker, type Memhog } from './lab.js';

let registryDir: string;
let registry: ExperimentRegistry;
beforeAll(() => {
  registryDir = mkdtempSync(path.join(tmpdir(), 'lab-registry-'));
  registry = new ExperimentRegistry(registryDir);
});
afterAll(() => {
  rmSync(registryDir, { recursive: true, force: true });
});

/** Per page of the region: 1 when memhog touches it in its loop. */
function hotMask(hog: Memhog): Uint8Array {
  const hot = new Uint8Array(hog.pages);
  for (const r of hog.hotRanges) {
    const first = Number((r.start - hog.base) / BigInt(PAGE));
    for (let i = 0; i < r.bytes / PAGE; i++) hot[first + i] = 1;
  }
  return hot;
}

/** Where each page of the region is now (a fresh move_pages query). */
function regionNodes(hog: Memhog): Int32Array {
  return queryPageNodes(hog.pid, fillPageAddresses(new BigUint64Array(hog.pages), hog.base, PAGE));
}

/** Hot and cold pages of the region per node. */
function split(hog: Memhog, hot: Uint8Array): { hot: Record<string, number>; cold: Record<string, number> } {
  const nodes = regionNodes(hog);
  const out = { hot: {} as Record<string, number>, cold: {} as Record<string, number> };
  nodes.forEach((n, i) => {
    const side = hot[i] ? out.hot : out.cold;
    side[String(n)] = (side[String(n)] ?? 0) + 1;
  });
  return out;
}

async function expectChecksum(hog: Memhog): Promise<void> {
  const sum = await hog.checksum();
  expect(sum.ok, sum.line).toBe(true);
}

describe('promote the hot set from node 2 to node 0', () => {
  let hog: Memhog;
  let ticker: Memhog;
  beforeAll(async () => {
    // 10 % of 64 MiB hot, scattered; everything first placed on the CPU-less node 2 (mbind), running on CPU 0.
    hog = await startMemhog(
      '--size 64 --node 2 --pattern scattered --hot-fraction 0.1 --thp off --cpu 0 --interval-ms 10 --print-hot',
    );
    // Accessed bits under TCG need address-space switches on the workload's CPU (test/lab/README.md).
    ticker = await startTlbTicker(0);
  });
  afterAll(async () => {
    await hog.stop();
    await ticker.stop();
  });

  it('leaves ≥ 99 % of the hot pages on node 0 (re-query and numa_maps) and every cold page on node 2', async () => {
    const hot = hotMask(hog);
    expect(split(hog, hot)).toEqual({ hot: { '2': hog.hotPages }, cold: { '2': hog.pages - hog.hotPages } });
    const events: ExperimentEvent[] = [];
    const { experiment, plan } = await runMoveExperiment({
      pid: hog.pid,
      toNode: 0,
      selection: { vmaAddress: hog.base, hotness: 'hot', fromNodes: [2] },
      measurement: { scans: 3, intervalMs: 2000 },
      registry,
      onEvent: (e) => events.push(e),
    });
    expect(Experiment.parse(experiment)).toEqual(experiment);
    expect(plan.classesFrom).toMatch(/^page_idle, 3 scans/);
    expect(experiment.status).toBe('completed');

    const now = split(hog, hot);
    const hotOn0 = now.hot['0'] ?? 0;
    console.log(
      `promote: ${hotOn0}/${hog.hotPages} hot pages on node 0 (${((100 * hotOn0) / hog.hotPages).toFixed(2)} %), cold on node 2: ${now.cold['2'] ?? 0}/${hog.pages - hog.hotPages}; ${experiment.detail}`,
    );
    expect(
      hotOn0 / hog.hotPages,
      JSON.stringify({ now, histogram: experiment.histogram }),
    ).toBeGreaterThanOrEqual(0.99);
    expect(now.cold).toEqual({ '2': hog.pages - hog.hotPages });
    // numa_maps agrees: exactly the moved pages on node 0, the rest still on node 2.
    const vma = await regionVma(hog.pid, hog.base, hog.sizeBytes);
    expect(vma.pagesByNode).toEqual({ '0': hotOn0, '2': hog.pages - hotOn0 });
    // The experiment's own account matches the ground truth.
    expect(experiment.histogram.moved).toBe(hotOn0);
    expect(experiment.after?.selectionBytesByNode['0']).toBe(hotOn0 * PAGE);
    expect(experiment.before?.hotBytesByNode['2'] ?? 0).toBeGreaterThanOrEqual(0.99 * hog.hotPages * PAGE);
    expect(experiment.after?.hotBytesByNode['0'] ?? 0).toBeGreaterThanOrEqual(0.99 * hog.hotPages * PAGE);
    expect(experiment.after?.coldBytesByNode).toEqual({ '2': (hog.pages - hog.hotPages) * PAGE });
    expect(experiment.before?.selectionAccessRate).toBe(1);
    expect(events.some((e) => e.phase === 'moving')).toBe(true);
    await expectChecksum(hog);
  });
});

describe('lazy rebind of 64 MiB of which the workload touches 25 %', () => {
  let hog: Memhog;
  let ticker: Memhog;
  beforeAll(async () => {
    hog = await startMemhog(
      '--size 64 --node 2 --pattern scattered --hot-fraction 0.25 --thp off --cpu 0 --interval-ms 10 --print-hot',
    );
    ticker = await startTlbTicker(0);
  });
  afterAll(async () => {
    await hog.stop();
    await ticker.stop();
  });

  it('moves the touched 25 % (±2 points) to node 0 and nothing else', async () => {
    const hot = hotMask(hog);
    const { experiment, source } = await runLazyRebind({
      pid: hog.pid,
      range: { start: hog.base, end: hog.base + BigInt(hog.sizeBytes) },
      toNode: 0,
      intervalMs: 1000,
      expireMs: 8000,
      registry,
    });
    expect(source).toBe('page_idle');
    expect(experiment.status).toBe('expired');
    const now = split(hog, hot);
    const movedShare = (now.hot['0'] ?? 0) / hog.pages;
    console.log(
      `lazy rebind: ${now.hot['0'] ?? 0} of ${hog.pages} pages moved (${(100 * movedShare).toFixed(2)} %; touched ${hog.hotPages}), cold moved: ${hog.pages - hog.hotPages - (now.cold['2'] ?? 0)}; ${experiment.detail}`,
    );
    expect(Math.abs(movedShare - 0.25), JSON.stringify(now)).toBeLessThanOrEqual(0.02);
    expect(now.cold).toEqual({ '2': hog.pages - hog.hotPages }); // nothing untouched moved
    expect(experiment.histogram.moved).toBe(now.hot['0'] ?? 0);
    expect(experiment.pendingPages).toBe(hog.pages - (now.hot['0'] ?? 0));
    expect((await regionVma(hog.pid, hog.base, hog.sizeBytes)).pagesByNode).toEqual({
      '0': now.hot['0'] ?? 0,
      '2': hog.pages - (now.hot['0'] ?? 0),
    });
    await expectChecksum(hog);
  });
});

describe('cancel and whole-process moves', () => {
  let hog: Memhog;
  beforeAll(async () => {
    hog = await startMemhog('--size 32 --node 2 --thp off --cpu 0 --interval-ms 10');
  });
  afterEach(async () => {
    await expectChecksum(hog);
  });
  afterAll(async () => {
    await hog.stop();
  });

  it('cancel stops within one batch: the batch in flight finishes, nothing after it moves', async () => {
    const stop = new AbortController();
    const { experiment } = await runMoveExperiment({
      pid: hog.pid,
      toNode: 0,
      selection: { vmaAddress: hog.base },
      rateBytesPerSecond: 4e6, // batches of ≤ 1 MB (a quarter second of budget)
      measurement: false,
      registry,
      signal: stop.signal,
      onEvent: (e) => {
        if (e.phase === 'moving') stop.abort();
      },
    });
    expect(experiment.status).toBe('cancelled');
    const moved = experiment.histogram.moved;
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThanOrEqual(Math.floor(1e6 / PAGE));
    expect((await regionVma(hog.pid, hog.base, hog.sizeBytes)).pagesByNode).toEqual({
      '0': moved,
      '2': hog.pages - moved,
    });
  });

  it('migrate_pages moves the whole process on a worker thread, with progress, and back', async () => {
    const progress: number[] = [];
    const there = await runProcessMigration({
      pid: hog.pid,
      toNodes: [1],
      registry,
      pollMs: 50,
      onEvent: (e) => e.phase === 'moving' && progress.push(e.progress.pagesDone),
    });
    expect(there.method).toBe('migrate_pages');
    expect(there.kernelNotMigrated).toBe(0);
    expect(there.experiment.status).toBe('completed');
    expect(there.experiment.histogram.otherFailures).toEqual({});
    expect(Object.keys(there.experiment.after?.selectionBytesByNode ?? {})).toEqual(['1']);
    expect((await regionVma(hog.pid, hog.base, hog.sizeBytes)).pagesByNode).toEqual({ '1': hog.pages });
    // Split into move_pages batches: the same result, and every page judged on its own.
    const back = await runProcessMigration({
      pid: hog.pid,
      fromNodes: [1],
      toNodes: [2],
      method: 'move_pages',
      registry,
    });
    expect(back.experiment.status).toBe('completed');
    expect(back.experiment.histogram.moved + back.experiment.histogram.shared).toBeGreaterThanOrEqual(
      hog.pages,
    );
    expect((await regionVma(hog.pid, hog.base, hog.sizeBytes)).pagesByNode).toEqual({ '2': hog.pages });
    expect(progress.every((p, i) => i === 0 || p >= (progress[i - 1] ?? 0))).toBe(true);
  });
});

describe('kernel balancing switches (in the guest only)', () => {
  it('sets memory-tiering balancing and demotion, then restores what was there', async () => {
    const before = await readBalancing();
    expect(before.numaBalancing?.raw).toBe(0); // the suite's global setup turned it off
    const o = await BalancingOverride.apply({ numaBalancing: 2, demotionEnabled: true }, true);
    try {
      const during = await readBalancing();
      expect(during.numaBalancing).toEqual({ raw: 2, mode: 'memory-tiering' });
      expect(during.demotionEnabled).toBe(true);
      expect(Object.keys(during.counters)).toContain('numa_hint_faults');
    } finally {
      await o.restore();
    }
    const after = await readBalancing();
    expect([after.numaBalancing?.raw, after.demotionEnabled]).toEqual([
      before.numaBalancing?.raw,
      before.demotionEnabled,
    ]);
  });
});
