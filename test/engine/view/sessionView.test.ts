// The SessionView and VmaSeries of opened sessions, checked against the records read back one by one
// (readSessionRecords: an independent path through the file) and against buildReport.
import { open as openFile, truncate } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { SessionView, VmaSeries, type IntervalRecord } from '../../../electron/contract/index.js';
import { buildReport } from '../../../electron/engine/report.js';
import { createSessionWriter, openSession } from '../../../electron/engine/session/index.js';
import { buildSessionView, buildVmaSeries } from '../../../electron/engine/view/sessionView.js';
import { readAll, tempDir, writeSession } from '../session/helpers.js';
import { syntheticSession } from '../session/synthetic.js';

const temp = tempDir();
const FIXTURES = 'test/fixtures/sessions';

const hexKey = (h: string): bigint => BigInt(`0x${h}`);

/** What the view must say, computed from the records alone. */
function expectMatchesRecords(view: SessionView, records: IntervalRecord[], pageSizeBytes: number): void {
  expect(view.intervalCount).toBe(records.length);
  const t = view.timeline;
  expect(t.startMs).toEqual(records.map((r) => r.startMs));
  expect(t.endMs).toEqual(records.map((r) => r.endMs));
  expect(t.scansInWindow).toEqual(records.map((r) => r.scansInWindow));
  const sum = (r: IntervalRecord, pick: (s: IntervalRecord['samples'][number]) => number): number =>
    r.samples.reduce((a, s) => a + pick(s), 0);
  expect(t.rssPages).toEqual(records.map((r) => sum(r, (s) => s.rssPages)));
  expect(t.hotPages).toEqual(records.map((r) => sum(r, (s) => s.hotPages)));
  expect(t.coldPages).toEqual(records.map((r) => sum(r, (s) => s.coldPages)));
  view.meta.nodes.forEach((_, k) => {
    expect(t.pagesByNode[k]).toEqual(records.map((r) => sum(r, (s) => s.pagesByNode[k] ?? 0)));
    expect(t.hotPagesByNode[k]).toEqual(records.map((r) => sum(r, (s) => s.hotPagesByNode[k] ?? 0)));
  });
  // Counters: sorted names, null where an interval did not report one.
  const names = [...new Set(records.flatMap((r) => Object.keys(r.counters)))].sort();
  expect(t.counters.names).toEqual(names);
  names.forEach((name, k) => {
    expect(t.counters.values[k]).toEqual(records.map((r) => r.counters[name] ?? null));
  });

  // VMAs: every one introduced, sorted by address, with the largest RSS and the last position sampled.
  const introduced = records.flatMap((r) => r.newVmas);
  expect(view.vmas.map((v) => v.id).sort((a, b) => a - b)).toEqual(
    introduced.map((v) => v.id).sort((a, b) => a - b),
  );
  const starts = view.vmas.map((v) => hexKey(v.start));
  expect(starts).toEqual([...starts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  for (const v of view.vmas) {
    const rows = records.flatMap((r, pos) =>
      r.samples.filter((s) => s.vmaId === v.id).map((s) => ({ pos, s })),
    );
    expect(v.maxRssBytes).toBe(Math.max(0, ...rows.map((x) => x.s.rssPages)) * pageSizeBytes);
    if (rows.length > 0) expect(v.lastPos).toBe(Math.max(...rows.map((x) => x.pos)));
  }
}

describe('buildSessionView on committed fixtures (older formats upgraded on open, a real lab capture)', () => {
  for (const name of ['v0-prototype', 'v1-before-experiments', 'lab-memhog-page_idle']) {
    it(`${name}: timeline, VMAs and report agree with the records`, async () => {
      const file = `${FIXTURES}/${name}.tierscope`;
      const session = await openSession(file);
      const view = buildSessionView(session, { handle: 'h1', live: false });
      expect(SessionView.parse(view)).toEqual(view);
      expect(view).toMatchObject({ handle: 'h1', path: file, live: false, fileVersion: session.fileVersion });
      expectMatchesRecords(view, await readAll(file), session.meta.pageSizeBytes);
      // The summary at the report window is the report's own numbers.
      const report = buildReport(session);
      expect(view.report).toEqual(report);
      for (const r of report.vmas) {
        const v = view.vmas.find((x) => x.id === r.id);
        expect(v).toMatchObject({
          rssBytes: r.rssBytes,
          hotBytes: r.hotBytes,
          warmBytes: r.warmBytes,
          coldBytes: r.coldBytes,
          bytesByNode: r.bytesByNode,
          hotBytesByNode: r.hotBytesByNode,
          coldBytesByNode: r.coldBytesByNode,
        });
      }
      // VMAs the report window did not sample show zeros there.
      for (const v of view.vmas.filter((x) => !report.vmas.some((r) => r.id === x.id))) {
        expect([v.rssBytes, v.hotBytes, ...Object.values(v.bytesByNode)].every((x) => x === 0)).toBe(true);
      }
    });
  }
});

describe('buildSessionView on sessions written here', () => {
  const synth = syntheticSession({
    vmas: 40,
    intervals: 24,
    nodes: [0, 1],
    heatBucketsPerVma: 8,
    lateShare: 0.3,
  });
  const records = synth.all();

  it('a finished session: end recorded, experiments listed, series per VMA', async () => {
    const file = temp('finished.tierscope');
    await writeSession(file, synth.meta, records);
    const session = await openSession(file);
    const view = buildSessionView(session, { handle: 'h', live: false });
    expectMatchesRecords(view, records, 4096);
    expect(view).toMatchObject({ endRecorded: true, recovered: null, experiments: [], fileVersion: 2 });
    expect(view.end.reason).toBe('stopped');

    for (const v of view.vmas.slice(0, 10)) {
      const series = buildVmaSeries(session, v.id);
      expect(VmaSeries.parse(series)).toEqual(series);
      const rows = records.flatMap((r, pos) =>
        r.samples.filter((s) => s.vmaId === v.id).map((s) => ({ pos, s })),
      );
      expect(series?.intervalPos).toEqual(rows.map((x) => x.pos));
      expect(series?.rssPages).toEqual(rows.map((x) => x.s.rssPages));
      expect(series?.hotPagesByNode[1]).toEqual(rows.map((x) => x.s.hotPagesByNode[1]));
    }
    expect(buildVmaSeries(session, 999_999)).toBeUndefined();
  });

  it('a journal still being written (live): no end record, "still being recorded", no torn-tail warning', async () => {
    const file = temp('live.tierscope');
    const writer = await createSessionWriter(file, synth.meta, { compact: false });
    for (const r of records.slice(0, 5)) await writer.append(r);
    // Half an interval more, as a reader may catch the recorder mid-write.
    const size = (await (await openFile(file, 'r')).stat()).size;
    await writer.append(records[5] as IntervalRecord);
    const full = (await (await openFile(file, 'r')).stat()).size;
    await truncate(file, size + Math.floor((full - size) / 2));

    const session = await openSession(file);
    const live = buildSessionView(session, { handle: 'h', live: true });
    expect(SessionView.parse(live)).toEqual(live);
    expect(live).toMatchObject({ live: true, endRecorded: false, recovered: null, intervalCount: 5 });
    expect(live.end.detail).toBe(
      'still being recorded by this agent: 5 intervals so far; open it again to see newer ones',
    );
    expect(live.report.end.detail).toBe(live.end.detail);
    // Not live (its recorder was killed): the same file reads as recovered.
    const crashed = buildSessionView(session, { handle: 'h', live: false });
    expect(crashed.end.reason).toBe('recorder-killed');
    expect(crashed.recovered).toMatch(/bytes after the last complete interval were not read/);
    await writer.abort();
  });

  it('a recording with no interval yet opens with an empty report', async () => {
    const file = temp('empty.tierscope');
    const writer = await createSessionWriter(file, synth.meta, { compact: false });
    const session = await openSession(file);
    const view = buildSessionView(session, { handle: 'h', live: true });
    expect(SessionView.parse(view)).toEqual(view);
    expect(view).toMatchObject({ intervalCount: 0, vmas: [], live: true });
    expect(view.timeline.startMs).toEqual([]);
    expect(view.report).toMatchObject({
      intervals: 0,
      vmas: [],
      window: { complete: false },
      totals: { rssBytes: 0, hotBytesByNode: { '0': 0, '1': 0 } },
    });
    await writer.abort();
  });
});
