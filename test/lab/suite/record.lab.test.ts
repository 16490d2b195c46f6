// `tierscope record` then `tierscope report --json` — the real CLI (scripts/tierscope.mjs → dist/), as
// separate processes — on the guest's real page_idle, DAMON and clear_refs, against workloads whose hot
// memory is known:
// - page_idle: the report's hot ranges are a memhog's scattered hot pages (recall and precision ≥ 95 %);
//   a target that exits mid-recording ends the session "process-exited" with every interval;
// - DAMON: a recorder killed with SIGKILL leaves a session `report` reads (recorder-killed) and a kdamond
//   that `caps` sees as Tierscope's leftover (DAMON stays available) and the next recording takes back;
//   ≥ 90 % of a contiguous hot 16 MiB is rated hot;
// - refs: the one hot VMA of a process ranks first, above larger idle ones.
// One file, so the guest loads the test-side modules once (every module load is slow in TCG: README).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDamonLeftovers } from '../../../electron/engine/access/damonSysfs.js';
import { buildReport } from '../../../electron/engine/report.js';
import { openSession } from '../../../electron/engine/session/index.js';
import { waitForLine } from '../../helpers/children.js';
import { MiB, PAGE, startMemhog, startTlbTicker, type Memhog } from './lab.js';
import {
  assertBuilt,
  capsJson,
  coveredBytes,
  recordTenIntervals,
  reportJson,
  startTierscope,
} from './recordCli.js';

const NR_KDAMONDS = '/sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds';
const DAMON_RECORD = '/run/tierscope/damon.json';
const nrKdamonds = (): string => readFileSync(NR_KDAMONDS, 'utf8').trim();

/** Every workload runs on CPU 1 next to this ticker: see startTlbTicker (TCG keeps stale TLB entries). */
let ticker: Memhog;
const hogs: Memhog[] = [];

beforeAll(async () => {
  assertBuilt();
  expect(nrKdamonds()).toBe('0');
  ticker = await startTlbTicker(1);
});
afterAll(async () => {
  for (const h of hogs) await h.stop();
  await ticker.stop();
  // Whatever a failed test left behind (removeDamonLeftovers refuses anything not Tierscope's own).
  if (nrKdamonds() !== '0' || existsSync(DAMON_RECORD)) await removeDamonLeftovers();
});

async function hog(options: string): Promise<Memhog> {
  const h = await startMemhog(options);
  hogs.push(h);
  return h;
}

describe('page_idle', () => {
  it('reports the hot pages of a scattered 10 % hot set of 256 MiB with recall and precision ≥ 95 %', async () => {
    const hotFile = '/tmp/tierscope-record-page-idle.hot';
    // 6554 hot pages scattered over 256 MiB, one read each every 20 ms. THP off: the model is per base
    // page, and page_idle sees a huge page as one folio. Its own first-touch faults are long past when
    // recording starts (the ticker's too), so no page sits in a per-CPU LRU batch.
    const h = await hog(
      `--size 256 --pattern scattered --hot-fraction 0.1 --thp off --cpu 1 --interval-ms 20 --hot-file ${hotFile}`,
    );
    const out = '/tmp/tierscope-page-idle.tierscope';
    // 10 intervals of 1 s (the default): the report's window is the last complete one (scans 5-9).
    await recordTenIntervals(['--pid', String(h.pid), '--out', out, '--source', 'page_idle', '--force']);
    const report = await reportJson(out);
    expect(report.source).toBe('page_idle');
    expect(report.end).toMatchObject({ reason: 'stopped', recorded: true });
    expect(report.window).toMatchObject({ complete: true, intervalIndex: 9 });

    const end = h.base + BigInt(h.sizeBytes);
    const P = BigInt(PAGE);
    const truth = new Set<bigint>();
    for (const line of readFileSync(hotFile, 'utf8').trim().split('\n')) {
      const [start, bytes] = line.split(' ');
      const s = BigInt(`0x${start ?? ''}`);
      for (let a = s; a < s + BigInt(bytes ?? 0); a += P) truth.add(a);
    }
    expect(truth.size).toBe(h.hotPages);
    // Page-level: a page of the region is reported hot when a hot range of the report contains it.
    let reported = 0;
    let truePositives = 0;
    for (const r of report.hotRanges) {
      for (let a = BigInt(`0x${r.start}`); a < BigInt(`0x${r.end}`); a += P) {
        if (a < h.base || a >= end) continue;
        reported++;
        if (truth.has(a)) truePositives++;
      }
    }
    const recall = truePositives / truth.size;
    const precision = reported === 0 ? 0 : truePositives / reported;
    console.log(
      `page_idle, 256 MiB memhog, ${truth.size} hot pages: ${reported} reported hot, ${truePositives} of them hot: ` +
        `recall ${(100 * recall).toFixed(2)} %, precision ${(100 * precision).toFixed(2)} % ` +
        `(${report.intervals} intervals, window at ${report.window.intervalIndex})`,
    );
    expect(recall).toBeGreaterThanOrEqual(0.95);
    expect(precision).toBeGreaterThanOrEqual(0.95);
    expect(report.vmas[0]?.start).toBe(h.base.toString(16));
    await h.stop();
  });

  it('ends "process-exited" when the target exits mid-recording, with every interval before it', async () => {
    const target = await hog('--size 16 --hot-fraction 0.25 --cpu 1 --interval-ms 20');
    const out = '/tmp/tierscope-page-idle-exit.tierscope';
    const run = startTierscope([
      'record',
      '--pid',
      String(target.pid),
      '--out',
      out,
      '--source',
      'page_idle',
      '--interval',
      '500ms',
      '--force',
    ]);
    try {
      await run.stderrLine(/ 10 intervals via page_idle/, 280_000);
    } finally {
      await target.stop(); // SIGKILL, reaped
    }
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    const m = /recorded (\d+) intervals of process \d+ \(memhog\) with page_idle: process-exited/.exec(
      result.stderr,
    );
    expect(m, result.stderr).not.toBeNull();
    const n = Number(m?.[1]);
    expect(n).toBeGreaterThanOrEqual(10);
    // The session itself, read in-process (the CLI's report is checked by the other tests).
    const session = await openSession(out);
    expect(session.end.reason).toBe('process-exited');
    expect(session.endRecorded).toBe(true);
    expect(session.recovered).toBeNull();
    expect(Array.from(session.intervals.index)).toEqual(Array.from({ length: n }, (_, i) => i));
    // Every interval scanned the target's 16 MiB, to the last one before the exit.
    for (let p = 0; p < n; p++)
      expect(session.totals.rssPages[p] ?? 0).toBeGreaterThanOrEqual((16 * MiB) / PAGE);
    expect(buildReport(session).window.complete).toBe(true);
  });
});

describe('damon', () => {
  it('survives SIGKILL: report reads the session (recorder-killed); caps still offers DAMON over the leftover', async () => {
    const h = await hog('--size 16 --hot-fraction 0.25 --cpu 1 --interval-ms 10');
    const out = '/tmp/tierscope-damon-killed.tierscope';
    const run = startTierscope([
      'record',
      '--pid',
      String(h.pid),
      '--out',
      out,
      '--source',
      'damon',
      '--interval',
      '500ms',
      '--force',
    ]);
    await run.stderrLine(/ 10 intervals via damon/, 280_000);
    run.proc.kill('SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');

    const report = await reportJson(out);
    expect(report.source).toBe('damon');
    expect(report.end).toMatchObject({ reason: 'recorder-killed', recorded: false });
    expect(report.intervals).toBeGreaterThanOrEqual(10);
    expect(report.window.complete).toBe(true);

    // The killed recorder could not stop its kdamond: it is still there, described by the record.
    expect(nrKdamonds()).toBe('1');
    expect(JSON.parse(readFileSync(DAMON_RECORD, 'utf8'))).toMatchObject({
      targetPid: h.pid,
      kdamondIndex: 0,
    });
    const caps = await capsJson();
    const available = Object.fromEntries(caps.sources.map((s) => [s.id, s]));
    expect(available['page_idle']?.available, available['page_idle']?.reason).toBe(true);
    expect(available['damon']?.available, available['damon']?.reason).toBe(true);
    expect(available['damon']?.reason).toMatch(/left by a Tierscope process that ended without cleaning up/);
    await h.stop();
  });

  it('rates ≥ 90 % of a contiguous hot 16 MiB of 64 MiB hot', async () => {
    // Continuous passes (no sleep) over the first 16 MiB.
    const h = await hog('--size 64 --hot-fraction 0.25 --pattern contiguous --thp off --cpu 1');
    const out = '/tmp/tierscope-damon.tierscope';
    // 10 intervals of 1 s (the default): DAMON's regions adapt over the first aggregations; the report's
    // window is the last complete one (scans 5-9).
    await recordTenIntervals(['--pid', String(h.pid), '--out', out, '--source', 'damon', '--force']);
    // The previous test's leftover was taken back, and this recording removed its own kdamond.
    expect(nrKdamonds()).toBe('0');
    expect(existsSync(DAMON_RECORD)).toBe(false);

    const report = await reportJson(out);
    expect(report.source).toBe('damon');
    expect(report.end).toMatchObject({ reason: 'stopped', recorded: true });
    expect(report.window).toMatchObject({ complete: true, intervalIndex: 9 });
    // Hot ranges = pages in DAMON regions seen accessed (nr_accesses > 0) in all 5 aggregations of the
    // window. Coverage: the share of the hot 16 MiB inside them. Spill: the share of the cold 48 MiB
    // inside them (regions straddling the boundary), printed and bounded only loosely.
    const hotEnd = h.base + 16n * BigInt(MiB);
    const end = h.base + BigInt(h.sizeBytes);
    const coverage = Number(coveredBytes(report.hotRanges, h.base, hotEnd)) / (16 * MiB);
    const spill = Number(coveredBytes(report.hotRanges, hotEnd, end)) / (48 * MiB);
    const coldRated = Number(coveredBytes(report.coldRanges, hotEnd, end)) / (48 * MiB);
    console.log(
      `damon, 64 MiB memhog with a contiguous hot 16 MiB: ${(100 * coverage).toFixed(1)} % of the hot bytes rated hot; ` +
        `of the cold bytes ${(100 * spill).toFixed(1)} % rated hot, ${(100 * coldRated).toFixed(1)} % cold ` +
        `(${report.intervals} intervals, window at ${report.window.intervalIndex})`,
    );
    expect(coverage).toBeGreaterThanOrEqual(0.9);
    // Not everything hot: a report calling the whole region hot would pass the line above trivially.
    expect(spill).toBeLessThan(0.5);
    expect(report.vmas[0]?.start).toBe(h.base.toString(16));
    await h.stop();
  });
});

// Three idle 12 MiB shared mappings and one hot 4 MiB one, each its own VMA (shared anonymous mappings
// never merge), all touched before READY; then the hot one is rewritten continuously.
const REFS_WORKLOAD = `
import ctypes, mmap, os
os.sched_setaffinity(0, {1})
idle = [mmap.mmap(-1, 12 << 20) for _ in range(3)]
hot = mmap.mmap(-1, 4 << 20)
for m in idle + [hot]:
    for i in range(0, len(m), 4096): m[i] = 1
addr = lambda m: ctypes.addressof(ctypes.c_char.from_buffer(m))
print("READY %x %s" % (addr(hot), " ".join("%x" % addr(m) for m in idle)), flush=True)
while True:
    for i in range(0, len(hot), 4096): hot[i] = (hot[i] + 1) & 255
`;

describe('refs', () => {
  it('ranks the hot VMA first, above three larger idle ones', async () => {
    const proc = spawn('python3', ['-c', REFS_WORKLOAD], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [, hotHex, ...idleHex] = (await waitForLine(proc, 'READY')).trim().split(' ');
      const out = '/tmp/tierscope-refs.tierscope';
      await recordTenIntervals([
        '--pid',
        String(proc.pid),
        '--out',
        out,
        '--source',
        'refs',
        '--interval',
        '500ms',
        '--force',
      ]);
      const report = await reportJson(out);
      expect(report.source).toBe('refs');
      expect(report.window.complete).toBe(true);
      const ranked = report.vmas.map((v) => `${v.start} hot ${v.hotBytes} rss ${v.rssBytes} ${v.path}`);
      expect(report.vmas[0]?.start, ranked.slice(0, 6).join('\n')).toBe(hotHex);
      // Per interval, for the failure message: pages of the hot VMA referenced / resident.
      const session = await openSession(out);
      const series = session.vmaSeries(report.vmas[0]?.id ?? -1);
      const perScan = series
        ? Array.from(series.accessedPages, (a, i) => `${a}/${series.rssPages[i] ?? 0}`).join(' ')
        : 'no series';
      expect(report.vmas[0]?.hotBytes, `referenced/resident pages per interval: ${perScan}`).toBeGreaterThan(
        0,
      );
      for (const idle of idleHex) {
        const v = report.vmas.find((x) => x.start === idle);
        expect(v?.rssBytes).toBe(12 * MiB);
        expect(v?.hotBytes).toBe(0);
      }
    } finally {
      const exited = once(proc, 'exit');
      proc.kill('SIGKILL');
      await exited;
    }
  });
});
