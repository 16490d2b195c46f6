// DAMON vaddr monitoring through Tierscope's sysfs client, on the guest's real DAMON: a memhog of 64 MiB
// reading its first 16 MiB continuously. DAMON's adaptive regions must find the boundary: the hot 16 MiB
// in regions with high nr_accesses, the untouched 48 MiB in regions with none. Cleanup must leave DAMON
// as it found it.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DamonInUseError,
  inspectDamon,
  startDamonVaddr,
  type DamonRegion,
  type DamonVaddrSession,
} from '../../../electron/engine/access/damonSysfs.js';
import { MiB, pollUntil, startMemhog, startTlbTicker, type Memhog } from './lab.js';

const NR_KDAMONDS = '/sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds';
const RECORD = '/run/tierscope/damon.json';

interface Rating {
  /** Hot bytes inside regions rated hot, / hot bytes. */
  hotCovered: number;
  /** Cold bytes inside regions with no access at all, / cold bytes. */
  coldClean: number;
  regions: DamonRegion[];
}

describe('DAMON vaddr on a memhog with a contiguous hot 16 MiB', () => {
  let hog: Memhog;
  let ticker: Memhog;
  let session: DamonVaddrSession | null = null;
  let nrBefore: string;
  let hotEnd: bigint;
  let end: bigint;

  beforeAll(async () => {
    nrBefore = readFileSync(NR_KDAMONDS, 'utf8').trim();
    // Continuous passes (no sleep) on CPU 1: every hot page is read every pass, far more often than
    // DAMON's 5 ms sampling, so a sampled hot page is found accessed — once the TLB is flushed (see
    // startTlbTicker).
    ticker = await startTlbTicker(1);
    hog = await startMemhog('--size 64 --hot-fraction 0.25 --pattern contiguous --thp off --cpu 1');
    hotEnd = hog.base + 16n * BigInt(MiB);
    end = hog.base + BigInt(hog.sizeBytes);
  });
  afterAll(async () => {
    await session?.stop();
    await hog.stop();
    await ticker.stop();
  });

  /** A region is rated hot when at least half of the last aggregation's samples found it accessed. */
  function rate(regions: DamonRegion[], maxNrAccesses: number): Rating {
    let hotCovered = 0n;
    let coldClean = 0n;
    for (const r of regions) {
      const hotPart = (r.end < hotEnd ? r.end : hotEnd) - r.start;
      const coldPart = r.end - (r.start > hotEnd ? r.start : hotEnd);
      if (r.nrAccesses * 2 >= maxNrAccesses && hotPart > 0n) hotCovered += hotPart;
      if (r.nrAccesses === 0 && coldPart > 0n) coldClean += coldPart;
    }
    return {
      hotCovered: Number(hotCovered) / Number(hotEnd - hog.base),
      coldClean: Number(coldClean) / Number(end - hotEnd),
      regions,
    };
  }

  it('starts a kdamond of its own and refuses a second one while it runs', async () => {
    const s = await startDamonVaddr({
      pid: hog.pid,
      regions: [{ start: hog.base, end }],
      sampleUs: 5_000,
      aggrUs: 100_000,
      minNrRegions: 10,
      maxNrRegions: 1_000,
    });
    session = s;
    expect(readFileSync(NR_KDAMONDS, 'utf8').trim()).toBe('1');
    expect(s.kdamondPid).toBeGreaterThan(0);
    expect(readFileSync(`/proc/${s.kdamondPid ?? 0}/comm`, 'utf8').trim()).toMatch(/^kdamond\.\d+$/);
    const found = await inspectDamon();
    expect(found.ownerAlive).toBe(true);
    expect(found.mayStart).toBe(false);
    await expect(
      startDamonVaddr({ pid: hog.pid, regions: [{ start: hog.base, end }] }),
    ).rejects.toBeInstanceOf(DamonInUseError);
  });

  it('rates the hot 16 MiB hot and keeps the other 48 MiB cold', async () => {
    const s = session;
    if (!s) throw new Error('no DAMON session (the previous test failed)');
    // Adaptive splitting needs some aggregation intervals to find the boundary; each read waits one.
    const rating = await pollUntil(
      async () => rate(await s.readRegions(), s.maxNrAccesses),
      (r) => r.hotCovered >= 0.9 && r.coldClean >= 0.9,
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    const shown = rating.regions.map(
      (r) => `${(r.start - hog.base) / BigInt(MiB)}-${(r.end - hog.base) / BigInt(MiB)}MiB:${r.nrAccesses}`,
    );
    // The regions tile exactly the range we gave: explicit initial regions, never widened.
    expect(rating.regions[0]?.start).toBe(hog.base);
    expect(rating.regions.at(-1)?.end).toBe(end);
    for (let i = 1; i < rating.regions.length; i++) {
      expect(rating.regions[i]?.start).toBe(rating.regions[i - 1]?.end);
    }
    expect(rating.hotCovered, shown.join(' ')).toBeGreaterThanOrEqual(0.9);
    expect(rating.coldClean, shown.join(' ')).toBeGreaterThanOrEqual(0.9);
  });

  it('stops and removes its kdamond, leaving nr_kdamonds as it was', async () => {
    const s = session;
    if (!s) throw new Error('no DAMON session (the first test failed)');
    expect(await s.stop()).toEqual({ removed: true, note: null });
    session = null;
    expect(readFileSync(NR_KDAMONDS, 'utf8').trim()).toBe(nrBefore);
    expect(existsSync(RECORD)).toBe(false);
    expect((await inspectDamon()).mayStart).toBe(true);
  });
});
