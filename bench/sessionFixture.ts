// The session the UI benchmarks open: 1 h at 1 Hz of a 1 000-VMA process (issue 7's size), written once
// with the engine's own writer from the synthetic generator (test/engine/session/synthetic.ts) and kept
// under $TIERSCOPE_BENCH_DIR (default /tmp/tierscope-bench) so later runs skip the ~1 min write + compact.
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactSession, createSessionWriter } from '../electron/engine/session/index.js';
import { DEFAULT_SYNTHETIC, syntheticSession } from '../test/engine/session/synthetic.js';

export const HOUR_SESSION = { vmas: 1000, intervals: 3600 } as const;

export async function hourSession(): Promise<string> {
  const dir = process.env['TIERSCOPE_BENCH_DIR'] ?? join(tmpdir(), 'tierscope-bench');
  const path = join(dir, `hour-${HOUR_SESSION.vmas}vmas-${HOUR_SESSION.intervals}.tierscope`);
  if (existsSync(path)) return path;
  mkdirSync(dir, { recursive: true });
  const options = { ...DEFAULT_SYNTHETIC, ...HOUR_SESSION };
  const session = syntheticSession(options);
  const journal = `${path}.journal`;
  const writer = await createSessionWriter(journal, session.meta, { compact: false });
  for (let i = 0; i < options.intervals; i++) await writer.append(session.next());
  await writer.close({ endedAt: '2025-01-02T04:13:05.000Z', reason: 'stopped', detail: 'bench' });
  const compacted = await compactSession(journal, `${path}.tmp`);
  renameSync(compacted.path, path);
  return path;
}
