// Regenerates test/fixtures/sessions/v0-prototype.tierscope (a format 0 session, as an earlier build
// wrote it) and v0-prototype.expected.json (what this build must read from it after upgrading).
// Run: node --import tsx test/engine/session/makeV0Fixture.ts
import { rmSync, writeFileSync } from 'node:fs';
import type { IntervalRecord, SessionEnd } from '../../../electron/contract/index.js';
import { canonical, syntheticSession } from './synthetic.js';
import { writeFormat0 } from './v0Writer.js';

const dir = new URL('../../fixtures/sessions/', import.meta.url).pathname;
const session = syntheticSession({
  vmas: 6,
  intervals: 8,
  nodes: [0, 1],
  heatBucketsPerVma: 4,
  hotVmas: 1,
  scansPerWindow: 2,
  seed: 10,
  lateShare: 0.4,
});
const records = session.all();
const end: SessionEnd = {
  endedAt: '2025-01-02T03:04:13.000Z',
  reason: 'process-exited',
  detail: 'exit status 0',
};

const path = `${dir}v0-prototype.tierscope`;
rmSync(path, { force: true });
writeFormat0(path, session.meta, records, end);

// Format 0 cannot tell an empty window close from no window close: without runs, countRuns reads null.
const upgraded = (rec: IntervalRecord): IntervalRecord => {
  const c = canonical(rec);
  return { ...c, countRuns: c.countRuns !== null && c.countRuns.length > 0 ? c.countRuns : null };
};
writeFileSync(
  `${dir}v0-prototype.expected.json`,
  JSON.stringify(
    {
      meta: { ...session.meta, sourceLimits: 'not recorded (format 0 session)' },
      end,
      records: records.map(upgraded),
    },
    null,
    1,
  ) + '\n',
);
console.log(`wrote ${path}`);
