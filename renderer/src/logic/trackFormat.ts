// Values of session tracks as text, by unit: compact enough for a track label, exact in tooltips.
import { formatBytes, formatCount } from './format.js';
import type { TrackUnit } from './sessionTracks.js';

/** "1.25 GiB", "12,345", "3.2 %"; "—" for a missing value. */
export function formatTrackValue(value: number | null, unit: TrackUnit): string {
  if (value === null || !Number.isFinite(value)) return '—';
  switch (unit) {
    case 'bytes':
      return formatBytes(value);
    case 'count':
      return formatCount(value);
    case 'percent':
      return `${value < 10 ? value.toFixed(1) : value.toFixed(0)} %`;
  }
}
