// Recording from the UI: which access sources to offer, the startRecording params, and the one-line
// progress shown while it runs.
import type {
  AccessSourceId,
  Capabilities,
  RecordingProgress,
  SessionEndReason,
  StartRecording,
} from '../../../electron/contract/index.js';
import { formatBytes, formatDurationMs } from './format.js';

export type SourceChoice = 'auto' | AccessSourceId;

export interface SourceOption {
  id: SourceChoice;
  label: string;
  available: boolean;
  /** Why it is (not) usable, from the agent's capabilities. */
  reason: string;
}

const SOURCE_LABELS: Record<AccessSourceId, string> = {
  idle_pages: 'idle_pages (per page)',
  page_idle: 'page_idle (per page)',
  damon: 'DAMON (per region)',
  refs: 'refs (per VMA)',
};

/**
 * 'auto' first (the agent picks the finest source it may use, and says why), then each source in the
 * agent's preference order; unavailable ones are listed, disabled, with the reason.
 */
export function sourceOptions(capabilities: Capabilities | null): SourceOption[] {
  const best = capabilities?.sources.find((s) => s.available);
  const auto: SourceOption = {
    id: 'auto',
    label: best ? `auto (${best.id})` : 'auto',
    available: true,
    reason: best
      ? `The finest source available: ${best.reason}`
      : 'The agent picks the finest source it may use when recording starts.',
  };
  return [
    auto,
    ...(capabilities?.sources ?? []).map((s) => ({
      id: s.id,
      label: SOURCE_LABELS[s.id],
      available: s.available,
      reason: s.reason,
    })),
  ];
}

export const RECORD_INTERVALS_MS: readonly number[] = [250, 500, 1000, 2000, 5000, 10_000];

export function buildStartRecording(input: {
  pid: number;
  startTimeTicks: number | null;
  source: SourceChoice;
  intervalMs: number;
}): StartRecording {
  return {
    pid: input.pid,
    ...(input.startTimeTicks === null ? {} : { startTimeTicks: input.startTimeTicks }),
    source: input.source,
    intervalMs: input.intervalMs,
    // Until stopped; the file goes to the agent's autosave folder (the journal is the autosave).
    durationMs: null,
    path: null,
  };
}

/**
 * "12 intervals · 12 s · hot 1.20 GiB · warm 300 MiB · cold 2.00 GiB · sampler 0.8 % CPU"; while the
 * first hotness window fills, "window 2/5 scans" says the classes are provisional.
 */
export function formatRecordingProgress(p: RecordingProgress): string {
  const parts = [
    `${p.intervals} interval${p.intervals === 1 ? '' : 's'}`,
    formatDurationMs(p.elapsedMs),
    `hot ${formatBytes(p.hotBytes)}`,
    `warm ${formatBytes(p.warmBytes)}`,
    `cold ${formatBytes(p.coldBytes)}`,
    `sampler ${formatCpuPercent(p.samplerCpuPercent)} CPU`,
  ];
  if (p.scansInWindow < p.scansPerWindow) parts.push(`window ${p.scansInWindow}/${p.scansPerWindow} scans`);
  return parts.join(' · ');
}

/** "0.8 %", "12 %": one decimal below 10 %. */
export function formatCpuPercent(percent: number): string {
  if (!Number.isFinite(percent) || percent < 0) return '—';
  return `${percent < 10 ? percent.toFixed(1) : Math.round(percent)} %`;
}

/** Why a recording ended, as a sentence start for a notice. */
export function describeRecordingEnd(reason: SessionEndReason): string {
  switch (reason) {
    case 'stopped':
      return 'Recording stopped';
    case 'duration-reached':
      return 'Recording reached its duration';
    case 'process-exited':
      return 'The recorded process exited';
    case 'pid-reused':
      return 'The recorded PID now names another process';
    case 'source-failed':
      return 'The access source failed';
    case 'recorder-killed':
      return 'The recorder was killed';
  }
}
