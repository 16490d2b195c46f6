import type { AccessSourceId } from '../../contract/index.js';

/**
 * One interface over every way the kernel lets us see memory accesses (idle_pages, page_idle, DAMON,
 * clear_refs). A source answers, per scan, "what was accessed since the previous scan" at the finest
 * granularity it has; the hotness model (hotness.ts) turns N scans into hot/warm/cold.
 */

/** A VMA as the samplers see it: its session id and its address range [start, end). */
export interface ScanVma {
  id: number;
  start: bigint;
  end: bigint;
}

/** Per-page access flags, one byte per base page of the VMA. */
export const PAGE_IDLE = 0;
export const PAGE_ACCESSED = 1;
/** Not resident (or the source could not tell): excluded from hot/cold counts. */
export const PAGE_UNKNOWN = 255;

export type VmaAccess =
  | { granularity: 'page'; vmaId: number; flags: Uint8Array }
  | {
      granularity: 'region';
      vmaId: number;
      /** DAMON-style regions clipped to the VMA; accessRatio = nr_accesses / max possible, 0..1. */
      regions: { start: bigint; end: bigint; accessRatio: number }[];
    }
  | {
      granularity: 'vma';
      vmaId: number;
      /** Pages referenced since the last scan (smaps Referenced / page size) and resident pages. */
      accessedPages: number;
      residentPages: number;
    };

export interface ScanResult {
  accesses: VmaAccess[];
  /** Pages the scan looked at (cost accounting). */
  pagesScanned: number;
}

export interface AccessSource {
  readonly id: AccessSourceId;
  /** What this source cannot see, in words for the UI and CLI. */
  readonly limits: string;
  /**
   * Arms the source for the given VMAs (marks pages idle, clears refs, starts a kdamond): the first
   * scan() reports accesses since start().
   */
  start(vmas: readonly ScanVma[]): Promise<void>;
  /** Reports accesses since the previous scan (or start) and re-arms. VMAs may change between scans. */
  scan(vmas: readonly ScanVma[]): Promise<ScanResult>;
  /** Releases everything the source created (kdamonds, open files). Safe to call twice. */
  stop(): Promise<void>;
}
