// Size of a recorded session on disk, in bytes per VMA-sample (one VMA in one interval), for the journal
// written while recording and for the compacted file written on close. Target: ≤ 16 bytes per sample,
// compacted, on 1 000 VMAs × 600 intervals of slowly changing values with a few hot VMAs.
// The whole file counts (samples, heat, count runs, counters, VMAs, meta), not just the sample table.
// Run: node --import tsx bench/session-size.ts [--vmas N] [--intervals N] [--nodes 0,1] [--heat B]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { compactSession, createSessionWriter, openSession } from '../electron/engine/session/index.js';
import {
  DEFAULT_SYNTHETIC,
  type SyntheticOptions,
  syntheticSession,
} from '../test/engine/session/synthetic.js';

const { values } = parseArgs({
  options: {
    vmas: { type: 'string' },
    intervals: { type: 'string' },
    nodes: { type: 'string' },
    heat: { type: 'string' },
  },
});
const options: SyntheticOptions = {
  ...DEFAULT_SYNTHETIC,
  ...(values.vmas === undefined ? {} : { vmas: Number(values.vmas) }),
  ...(values.intervals === undefined ? {} : { intervals: Number(values.intervals) }),
  ...(values.nodes === undefined ? {} : { nodes: values.nodes.split(',').map(Number) }),
  ...(values.heat === undefined ? {} : { heatBucketsPerVma: Number(values.heat) }),
};

async function measure(label: string, o: SyntheticOptions, dir: string): Promise<void> {
  const session = syntheticSession(o);
  const journal = join(dir, `${label}-journal.tierscope`);
  const writer = await createSessionWriter(journal, session.meta, { compact: false });
  let samples = 0;
  const t0 = performance.now();
  for (let i = 0; i < o.intervals; i++) {
    const rec = session.next();
    samples += rec.samples.length;
    await writer.append(rec);
  }
  const closed = await writer.close({
    endedAt: '2025-01-02T03:14:05.000Z',
    reason: 'stopped',
    detail: 'bench',
  });
  const writeMs = performance.now() - t0;

  const t1 = performance.now();
  const compacted = await compactSession(journal, join(dir, `${label}-compacted.tierscope`));
  const compactMs = performance.now() - t1;

  const t2 = performance.now();
  const opened = await openSession(compacted.path);
  const openMs = performance.now() - t2;

  const perSample = (bytes: number): string => (bytes / samples).toFixed(2);
  console.log(
    `\n[${label}] ${o.vmas} VMAs × ${o.intervals} intervals, nodes [${o.nodes.join(',')}], ` +
      `${o.heatBucketsPerVma} heat buckets, ${o.hotVmas} hot VMAs, idle VMAs change in ${(o.idleChurn * 100).toFixed(0)}% ` +
      `of intervals → ${samples} VMA-samples`,
  );
  console.log(
    `journal (while recording): ${closed.journalBytes} bytes = ${perSample(closed.journalBytes)} B/sample`,
  );
  console.log(
    `compacted (after close):   ${compacted.bytes} bytes = ${perSample(compacted.bytes)} B/sample (target ≤ 16)`,
  );
  console.log('compacted, per table:');
  for (const [table, bytes] of Object.entries(compacted.tableBytes)) {
    console.log(
      `  ${table.padEnd(11)} ${String(bytes).padStart(9)} bytes  ${perSample(bytes).padStart(6)} B/sample`,
    );
  }
  console.log(
    `time: write + fdatasync ${writeMs.toFixed(0)} ms (${(writeMs / o.intervals).toFixed(2)} ms/interval), ` +
      `compact ${compactMs.toFixed(0)} ms, open ${openMs.toFixed(0)} ms (${opened.intervalCount} intervals)`,
  );
}

const dir = mkdtempSync(join(tmpdir(), 'tierscope-session-size-'));
try {
  await measure('realistic', options, dir);
  // Upper bound: every VMA's numbers change every interval.
  await measure('busy', { ...options, idleChurn: 1 }, dir);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
