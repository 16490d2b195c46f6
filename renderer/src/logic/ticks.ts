/**
 * Axis ticks for byte values at powers of two (16 MiB, 32 MiB, 64 MiB …): round in the binary units the
 * axis labels use, unlike a charting library's decimal steps (19.1 MiB, 38.1 MiB …).
 */
export function byteTicks(maxBytes: number, targetCount = 4): number[] {
  if (!Number.isFinite(maxBytes) || maxBytes <= 0) return [0];
  const step = 2 ** Math.max(0, Math.ceil(Math.log2(maxBytes / targetCount)));
  const ticks = [0];
  while ((ticks[ticks.length - 1] ?? 0) < maxBytes) ticks.push(ticks.length * step);
  return ticks;
}
