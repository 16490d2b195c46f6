/**
 * The DAMON access source: one kdamond (damonSysfs.ts) monitoring the target's virtual address ranges,
 * read back once per scan as regions with an access frequency.
 *
 * Timing: DAMON's aggregation interval is the recording interval, with 20 samples in it (sample
 * interval = aggregation / 20, at least 1 ms). A scan asks the kdamond for a snapshot of its regions
 * (update_schemes_tried_regions), which the kernel takes when it applies schemes at the end of the next
 * aggregation interval: so a scan returns within about one interval, and reports the access frequency of
 * one whole aggregation interval that ended a moment ago. accessRatio = nr_accesses / samples per
 * interval (the share of checks that found the sampled page accessed).
 *
 * Ranges: DAMON's targets are fixed when it starts — its own "update" would widen them to the whole
 * address space, diluting every region (damonSysfs.ts keeps it off). The initial ranges are the VMAs of
 * start(), adjacent ones merged, and the smallest gaps between them closed until at most
 * `maxInitialRanges` remain (each range is at least one region, and DAMON's region budget is better
 * spent splitting than on VMA count). VMAs that appear later are NOT added: a restart would discard
 * DAMON's adaptive regions and an interval of data each time a process maps something, which Node and
 * Java processes do all the time. Their pages are reported unknown (no region covers them), except where
 * they fall inside a covered gap, which DAMON then monitors like the rest. A VMA that grows past its
 * start-time end (the heap) is monitored up to the old end; the rest is unknown.
 *
 * Regions are clipped to each scan's VMAs; the parts of covered gaps outside every VMA are dropped.
 */
import type { AccessSourceId } from '../../contract/index.js';
import { TierscopeError } from '../errors.js';
import {
  DEFAULT_DAMON_ATTRS,
  startDamonVaddr,
  type AddressRange,
  type DamonRegion,
  type DamonSysfsIo,
  type DamonVaddrSession,
} from './damonSysfs.js';
import type { AccessSource, ScanResult, ScanVma, VmaAccess } from './source.js';

export const DAMON_LIMITS =
  'needs root and a DAMON no other tool is using; region granularity: DAMON rates adaptive regions ' +
  '(10-1000 per process) by sampling one page per region 20 times per interval, so all pages of a region ' +
  'share one rating and a few hot pages in a large cold region are missed or make it all hot; cannot tell ' +
  'idle pages from pages never faulted in (both cold); monitors only the address ranges of the VMAs present ' +
  'when recording started (memory mapped later elsewhere is unknown); accessed bits are cleared without a ' +
  'TLB flush, so pages used only through cached translations can read idle';

/** Samples per aggregation interval: DAMON's own default ratio (5 ms / 100 ms). */
export const DAMON_SAMPLES_PER_INTERVAL = 20;
/** Initial ranges at most (see the module comment). */
export const DEFAULT_DAMON_MAX_INITIAL_RANGES = 64;

export interface DamonSourceOptions {
  /** The recording interval: DAMON's aggregation interval. */
  intervalMs: number;
  sysRoot?: string;
  procRoot?: string;
  /** Where damonSysfs keeps its ownership record (default /run/tierscope). */
  stateDir?: string;
  /** DAMON sysfs file operations; tests pass a simulated kernel. */
  io?: DamonSysfsIo;
  /** Bounds of DAMON's adaptive region count (defaults 10 and 1000, DAMON's own). */
  minNrRegions?: number;
  maxNrRegions?: number;
  maxInitialRanges?: number;
}

/**
 * The ranges DAMON starts with: the VMAs in address order, touching or overlapping ones merged, then the
 * smallest gaps closed until at most `maxRanges` remain.
 */
export function initialRanges(vmas: readonly ScanVma[], maxRanges: number): AddressRange[] {
  if (!Number.isSafeInteger(maxRanges) || maxRanges < 1)
    throw new TierscopeError(
      'invalid-argument',
      `maxRanges must be a positive integer, got ${String(maxRanges)}`,
    );
  const sorted = vmas
    .filter((v) => v.end > v.start)
    .map((v) => ({ start: v.start, end: v.end }))
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const merged: AddressRange[] = [];
  for (const r of sorted) {
    const last = merged[merged.length - 1];
    if (last && r.start <= last.end) {
      if (r.end > last.end) last.end = r.end;
    } else merged.push({ ...r });
  }
  if (merged.length <= maxRanges) return merged;
  // Close the (count - maxRanges) smallest gaps; gap i lies between merged[i] and merged[i + 1].
  const gaps = merged.slice(1).map((r, i) => ({ i, bytes: r.start - (merged[i]?.end ?? r.start) }));
  gaps.sort((a, b) => (a.bytes < b.bytes ? -1 : a.bytes > b.bytes ? 1 : a.i - b.i));
  const close = new Set(gaps.slice(0, merged.length - maxRanges).map((g) => g.i));
  const out: AddressRange[] = [];
  for (const [i, r] of merged.entries()) {
    const last = out[out.length - 1];
    if (last && close.has(i - 1)) last.end = r.end;
    else out.push({ ...r });
  }
  return out;
}

/**
 * DAMON regions clipped to each VMA, with accessRatio = nrAccesses / maxNrAccesses (capped at 1). VMAs no
 * region overlaps get no record (unknown this scan). `regions` must be sorted and not overlapping, as
 * readRegions returns them.
 */
export function regionsToAccesses(
  vmas: readonly ScanVma[],
  regions: readonly DamonRegion[],
  maxNrAccesses: number,
): VmaAccess[] {
  if (!(maxNrAccesses > 0))
    throw new TierscopeError(
      'invalid-argument',
      `maxNrAccesses must be positive, got ${String(maxNrAccesses)}`,
    );
  const out: VmaAccess[] = [];
  for (const v of vmas) {
    // First region ending after v.start.
    let lo = 0;
    let hi = regions.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((regions[mid]?.end ?? v.end) <= v.start) lo = mid + 1;
      else hi = mid;
    }
    const clipped: { start: bigint; end: bigint; accessRatio: number }[] = [];
    for (let i = lo; i < regions.length; i++) {
      const r = regions[i];
      if (!r || r.start >= v.end) break;
      const start = r.start > v.start ? r.start : v.start;
      const end = r.end < v.end ? r.end : v.end;
      if (end <= start) continue;
      clipped.push({ start, end, accessRatio: Math.min(1, Math.max(0, r.nrAccesses / maxNrAccesses)) });
    }
    if (clipped.length > 0) out.push({ granularity: 'region', vmaId: v.id, regions: clipped });
  }
  return out;
}

export class DamonSource implements AccessSource {
  readonly id: AccessSourceId = 'damon';
  readonly limits = DAMON_LIMITS;
  readonly aggrUs: number;
  readonly sampleUs: number;
  private readonly options: DamonSourceOptions;
  private session: DamonVaddrSession | null = null;
  /** What DAMON was started with (for tests and diagnostics). */
  ranges: AddressRange[] = [];

  constructor(
    readonly pid: number,
    options: DamonSourceOptions,
  ) {
    if (!Number.isSafeInteger(pid) || pid <= 0)
      throw new TierscopeError('invalid-argument', `${pid} is not a process id; pass a positive integer PID`);
    if (!Number.isInteger(options.intervalMs) || options.intervalMs < 10)
      throw new TierscopeError(
        'invalid-argument',
        `DAMON's aggregation interval is the recording interval: ${String(options.intervalMs)} ms is too short, use 10 ms or more`,
      );
    this.options = options;
    this.aggrUs = options.intervalMs * 1000;
    this.sampleUs = Math.max(1000, Math.floor(this.aggrUs / DAMON_SAMPLES_PER_INTERVAL));
  }

  /** Starts Tierscope's kdamond on the ranges of `vmas` (throws DamonInUseError when DAMON is taken). */
  async start(vmas: readonly ScanVma[]): Promise<void> {
    await this.stop();
    const maxNrRegions = this.options.maxNrRegions ?? DEFAULT_DAMON_ATTRS.maxNrRegions;
    const ranges = initialRanges(vmas, this.options.maxInitialRanges ?? DEFAULT_DAMON_MAX_INITIAL_RANGES);
    if (ranges.length === 0)
      throw new TierscopeError(
        'process-gone',
        `process ${this.pid} has no resident memory to monitor: it exited, is exiting, or has not touched any memory yet`,
      );
    this.session = await startDamonVaddr(
      {
        pid: this.pid,
        regions: ranges,
        sampleUs: this.sampleUs,
        aggrUs: this.aggrUs,
        minNrRegions: this.options.minNrRegions ?? DEFAULT_DAMON_ATTRS.minNrRegions,
        maxNrRegions,
      },
      {
        ...(this.options.sysRoot !== undefined ? { sysRoot: this.options.sysRoot } : {}),
        ...(this.options.procRoot !== undefined ? { procRoot: this.options.procRoot } : {}),
        ...(this.options.stateDir !== undefined ? { stateDir: this.options.stateDir } : {}),
        ...(this.options.io !== undefined ? { io: this.options.io } : {}),
      },
    );
    this.ranges = ranges;
  }

  /**
   * The regions of the aggregation interval that ends next (waits for it). pagesScanned = the page checks
   * DAMON made in that interval: one per region per sample.
   */
  async scan(vmas: readonly ScanVma[]): Promise<ScanResult> {
    const session = this.session;
    if (!session)
      throw new TierscopeError('invalid-argument', 'DAMON source: scan() before start() (or after stop())');
    const regions = await session.readRegions();
    return {
      accesses: regionsToAccesses(vmas, regions, session.maxNrAccesses),
      pagesScanned: regions.length * session.maxNrAccesses,
    };
  }

  /** Turns the kdamond off and removes it (and the ownership record). */
  async stop(): Promise<void> {
    const session = this.session;
    this.session = null;
    if (session) await session.stop();
  }
}
