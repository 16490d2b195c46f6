/**
 * Hotness classes for selecting pages: per page, in how many of the last N scans it was accessed.
 *
 * Two providers: a short live measurement (N scans of the best page-granularity source this machine has:
 * idle_pages, else page_idle) run right before a move, or the last closed window of a recorded session
 * (its count runs). Sources without page identity (refs: per VMA; DAMON: per region) cannot say which
 * pages to move, so a live measurement refuses them and names what would work.
 */
import type { AccessSourceId, Capabilities, CountRun } from '../../contract/index.js';
import { HotnessModel } from '../access/hotness.js';
import type { AccessSource, ScanVma } from '../access/source.js';
import { TierscopeError } from '../errors.js';
import { createSource } from '../record/sources.js';
import { realClock, type Clock } from './batches.js';

/** Count per page of a piece of address space: 0..N accessed scans, or -1 when unknown. */
export interface PageCounts {
  /** N: hot = accessed in all N scans. */
  readonly scansPerWindow: number;
  /** Where the counts come from, for the experiment's detail. */
  readonly origin: string;
  /** Counts of the `pages` pages starting at `start` (page aligned). */
  countsOf(start: bigint, pages: number, pageSizeBytes: number): Int16Array;
}

export const UNKNOWN_COUNT = -1;

/** Counts from a live HotnessModel fed with page-granularity scans. */
export function countsFromModel(
  model: HotnessModel,
  vmas: readonly ScanVma[],
  origin: string,
  /** Scans actually done (fewer than the model's N when a measurement was cut short). */
  scans = model.scansPerWindow,
): PageCounts {
  // Known pages of each VMA with their count, from the model's class lists (the model keeps its "known"
  // bitset private; hot ∪ warm ∪ cold is exactly the known pages).
  const perVma = new Map<number, { vma: ScanVma; counts: Int16Array }>();
  for (const v of vmas) {
    const r = model.get(v.id);
    const raw = model.counts(v.id);
    if (!r || !raw) continue;
    const counts = new Int16Array(r.pages).fill(UNKNOWN_COUNT);
    for (const cls of ['hot', 'warm', 'cold'] as const) {
      for (const i of model.pageIndices(v.id, cls)) counts[i] = raw[i] ?? 0;
    }
    perVma.set(v.id, { vma: v, counts });
  }
  const sorted = [...perVma.values()].sort((a, b) => (a.vma.start < b.vma.start ? -1 : 1));
  return {
    scansPerWindow: scans,
    origin,
    countsOf(start, pages, pageSizeBytes) {
      const out = new Int16Array(pages).fill(UNKNOWN_COUNT);
      const size = BigInt(pageSizeBytes);
      const end = start + BigInt(pages) * size;
      for (const { vma, counts } of sorted) {
        if (vma.end <= start || vma.start >= end) continue;
        const lo = vma.start > start ? vma.start : start;
        const hi = vma.end < end ? vma.end : end;
        const from = Number((lo - vma.start) / size);
        const n = Number((hi - lo) / size);
        out.set(counts.subarray(from, from + n), Number((lo - start) / size));
      }
      return out;
    },
  };
}

/**
 * Counts from a session's count runs (its last closed window): runs are page-aligned address ranges with
 * an accessed count; addresses in no run are unknown.
 */
export function countsFromRuns(
  runs: readonly CountRun[],
  scansPerWindow: number,
  origin: string,
): PageCounts {
  const parsed = runs
    .map((r) => ({ start: BigInt(`0x${r.start}`), end: BigInt(`0x${r.end}`), count: r.accessedScans }))
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  return {
    scansPerWindow,
    origin,
    countsOf(start, pages, pageSizeBytes) {
      const out = new Int16Array(pages).fill(UNKNOWN_COUNT);
      const size = BigInt(pageSizeBytes);
      const end = start + BigInt(pages) * size;
      // First run ending after start.
      let lo = 0;
      let hi = parsed.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((parsed[mid]?.end ?? 0n) <= start) lo = mid + 1;
        else hi = mid;
      }
      for (let k = lo; k < parsed.length; k++) {
        const r = parsed[k];
        if (!r || r.start >= end) break;
        const a = r.start > start ? r.start : start;
        const b = r.end < end ? r.end : end;
        if (b <= a) continue;
        out.fill(
          Math.min(r.count, 32767),
          Number((a - start) / size),
          Number((b - start + size - 1n) / size),
        );
      }
      return out;
    },
  };
}

export interface LiveSourceChoice {
  id: AccessSourceId;
  create(): AccessSource;
}

/**
 * The finest page-granularity source available for `pid`, or a TierscopeError('unsupported') that lists
 * why each one is not usable and what to do instead. `purpose` finishes "… needs per-page access bits to …".
 */
export function choosePageSource(
  caps: Capabilities,
  pid: number,
  options: { procRoot?: string; sysRoot?: string; pageSizeBytes: number },
  purpose: string,
): LiveSourceChoice {
  const byId = new Map(caps.sources.map((s) => [s.id, s]));
  const factory = {
    pageSizeBytes: options.pageSizeBytes,
    intervalMs: 1000,
    ...(options.procRoot !== undefined ? { procRoot: options.procRoot } : {}),
    ...(options.sysRoot !== undefined ? { sysRoot: options.sysRoot } : {}),
  };
  for (const id of ['idle_pages', 'page_idle'] as const) {
    if (byId.get(id)?.available) return { id, create: () => createSource(id, pid, factory) };
  }
  const why = (['idle_pages', 'page_idle'] as const)
    .map((id) => `${id}: ${byId.get(id)?.reason ?? 'not probed'}`)
    .join('; ');
  const coarse = byId.get('refs')?.available
    ? ' (refs is available but counts referenced pages per VMA, not which pages)'
    : '';
  throw new TierscopeError(
    'unsupported',
    `${purpose} needs per-page access bits (idle_pages or page_idle), which are not usable here${coarse}: ${why}`,
  );
}

export interface MeasureOptions {
  source: AccessSource;
  vmas: readonly ScanVma[];
  scans: number;
  intervalMs: number;
  pageSizeBytes: number;
  signal?: AbortSignal;
  clock?: Clock;
  onScan?: (done: number, of: number) => void;
}

/**
 * N scans of `vmas`, `intervalMs` apart, into a fresh HotnessModel. The source is started and stopped here.
 * A signal that aborts ends the measurement early: the classes then cover the scans so far (the model's
 * window is what was filled).
 */
export async function measure(options: MeasureOptions): Promise<{ model: HotnessModel; scans: number }> {
  const { source, vmas, scans, intervalMs } = options;
  const clock = options.clock ?? realClock;
  if (!Number.isInteger(scans) || scans < 1 || scans > 255) {
    throw new TierscopeError('invalid-argument', `--scans must be 1..255, got ${scans}`);
  }
  const model = new HotnessModel({
    scansPerWindow: scans,
    heatBucketsPerVma: 1,
    pageSizeBytes: options.pageSizeBytes,
  });
  await source.start(vmas);
  let done = 0;
  try {
    for (; done < scans; done++) {
      await clock.sleep(intervalMs, options.signal);
      if (options.signal?.aborted) break;
      const result = await source.scan(vmas);
      const pageLevel = result.accesses.filter((a) => a.granularity === 'page');
      model.update(vmas, pageLevel);
      options.onScan?.(done + 1, scans);
    }
  } finally {
    await source.stop();
  }
  return { model, scans: done };
}
