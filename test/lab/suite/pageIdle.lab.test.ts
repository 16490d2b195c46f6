// Idle page tracking end to end: pagemap gives the PFNs of a memhog's region, the page_idle bitmap marks
// them idle, memhog keeps reading its scattered hot pages, and reading the bitmap back must find accessed
// exactly the hot pages — nothing else in the region is touched after setup.
import { closeSync, openSync, readSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PageIdleBitmap } from '../../../electron/engine/access/pageIdle.js';
import { PAGE_PRESENT, PagemapReader } from '../../../electron/engine/access/pagemap.js';
import { MiB, PAGE, pollUntil, startMemhog, startTlbTicker, type Memhog } from './lab.js';

const KPF_LRU = 5; // include/uapi/linux/kernel-page-flags.h

/** Frames among `pfns` that are not on an LRU list, per /proc/kpageflags (one u64 of flags per frame). */
function framesOffLru(pfns: Float64Array): number[] {
  const fd = openSync('/proc/kpageflags', 'r');
  try {
    const entry = new BigUint64Array(1);
    const bytes = new Uint8Array(entry.buffer);
    const off: number[] = [];
    for (const pfn of pfns) {
      if (readSync(fd, bytes, 0, 8, pfn * 8) !== 8) throw new Error(`no kpageflags entry for PFN ${pfn}`);
      if (((entry[0] ?? 0n) >> BigInt(KPF_LRU)) & 1n) continue;
      off.push(pfn);
    }
    return off;
  } finally {
    closeSync(fd);
  }
}

interface Score {
  truePositives: number;
  falsePositives: number[];
  falseNegatives: number[];
}

describe('page_idle scan of a memhog with a scattered hot set', () => {
  let hog: Memhog;
  let ticker: Memhog;
  let pagemap: PagemapReader;
  let bitmap: PageIdleBitmap;
  let hot: Uint8Array;
  let pfns: Float64Array;

  beforeAll(async () => {
    // 10% of 64 MiB (1638 pages), scattered by a seeded shuffle; one read per hot page per pass, a pass
    // every 20 ms. THP off: the idle flag of a huge page lives on its head frame only.
    hog = await startMemhog(
      '--size 64 --pattern scattered --hot-fraction 0.1 --thp off --cpu 1 --interval-ms 20 --print-hot',
    );
    // Started after the hog on the same CPU: see startTlbTicker. Its own first-touch faults also push
    // the hog's last pages out of CPU 1's per-CPU LRU batch, where page_idle cannot see them.
    ticker = await startTlbTicker(1);
    hot = new Uint8Array(hog.pages);
    for (const r of hog.hotRanges) {
      const first = Number((r.start - hog.base) / BigInt(PAGE));
      for (let i = 0; i < r.bytes / PAGE; i++) hot[first + i] = 1;
    }
    expect(hot.reduce((n, h) => n + h, 0)).toBe(hog.hotPages);
    expect(hog.hotPages).toBe(Math.round(0.1 * ((64 * MiB) / PAGE)));
    pagemap = PagemapReader.open(hog.pid, { pageSizeBytes: PAGE });
    bitmap = PageIdleBitmap.open();
    pfns = pagemap.read(hog.base, hog.base + BigInt(hog.sizeBytes)).pfns;
  });
  afterAll(async () => {
    pagemap.close();
    bitmap.close();
    await hog.stop();
    await ticker.stop();
  });

  function score(accessed: Uint8Array): Score {
    const s: Score = { truePositives: 0, falsePositives: [], falseNegatives: [] };
    for (let i = 0; i < accessed.length; i++) {
      if (accessed[i] && hot[i]) s.truePositives++;
      else if (accessed[i]) s.falsePositives.push(i);
      else if (hot[i]) s.falseNegatives.push(i);
    }
    return s;
  }

  it('finds every page of the region present with a distinct PFN', () => {
    const pages = pagemap.read(hog.base, hog.base + BigInt(hog.sizeBytes));
    expect(pages.presentPages).toBe(hog.pages);
    expect(pages.flags.every((f) => (f & PAGE_PRESENT) !== 0)).toBe(true);
    expect(new Set(pages.pfns).size).toBe(hog.pages);
  });

  it('finds every frame on an LRU list, where page_idle can track it', async () => {
    // A page stays off the LRU only while it sits in a per-CPU batch after its first fault: briefly.
    const off = await pollUntil(
      () => framesOffLru(pfns),
      (o) => o.length === 0,
      {
        timeoutMs: 30_000,
        intervalMs: 500,
      },
    );
    expect(off).toEqual([]);
  });

  it.each([1, 2])('round %i: the accessed pages are exactly the hot pages', async () => {
    bitmap.markIdle(pfns);
    // Bits only go from idle to accessed, so re-reading until every hot page has been seen is safe: a
    // cold page read as accessed stays a false positive. Each pass takes ~20 ms; allow a minute.
    const last = await pollUntil(
      () => score(bitmap.readIdle(pfns)),
      (s) => s.falseNegatives.length === 0,
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    // The frames must not have changed under us (no migration, compaction or reclaim in the window),
    // else the bits would describe other pages.
    expect(pagemap.read(hog.base, hog.base + BigInt(hog.sizeBytes)).pfns).toEqual(pfns);
    expect({ falsePositives: last.falsePositives, falseNegatives: last.falseNegatives }).toEqual({
      falsePositives: [],
      falseNegatives: [],
    });
    expect(last.truePositives).toBe(hog.hotPages);
  });
});
