import type { Writable } from 'node:stream';
import { once } from 'node:events';
import type { SessionVma } from '../contract/index.js';
import { openSession, readSessionRecords, type Session } from './session/index.js';

export type ExportFormat = 'json' | 'csv' | 'perfetto';

/** Writes with back-pressure, so a long session streams instead of building one giant string. */
async function put(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/** Writes the session at `source` (a path, or a session already opened: not read again) as `format`. */
export async function exportSession(
  source: string | Session,
  format: ExportFormat,
  out: Writable,
): Promise<void> {
  const session = typeof source === 'string' ? await openSession(source) : source;
  switch (format) {
    case 'json':
      return exportJson(session, out);
    case 'csv':
      return exportCsv(session, out);
    case 'perfetto':
      return exportPerfetto(session, out);
  }
}

/** {meta, end, vmas, intervals: IntervalRecord[]}: the contract's shapes, one interval at a time. */
async function exportJson(session: Session, out: Writable): Promise<void> {
  await put(out, `{"meta":${JSON.stringify(session.meta)},"end":${JSON.stringify(session.end)},`);
  await put(
    out,
    `"endRecorded":${String(session.endRecorded)},"vmas":${JSON.stringify(session.vmas)},"intervals":[`,
  );
  let first = true;
  for await (const record of readSessionRecords(session.path, { salvage: session.recovered !== null })) {
    await put(out, (first ? '\n' : ',\n') + JSON.stringify(record));
    first = false;
  }
  await put(out, '\n]}\n');
}

function csvField(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One row per VMA per interval (tidy: loads straight into pandas/polars/a spreadsheet). Bytes, not pages. */
async function exportCsv(session: Session, out: Writable): Promise<void> {
  const { meta } = session;
  const page = meta.pageSizeBytes;
  const nodeCols = (prefix: string): string[] => meta.nodes.map((n) => `${prefix}node${n}_bytes`);
  const header = [
    'interval',
    'start_ms',
    'end_ms',
    'vma_id',
    'vma_start',
    'vma_end',
    'kind',
    'path',
    'rss_bytes',
    'accessed_bytes',
    'hot_bytes',
    'warm_bytes',
    'cold_bytes',
    ...nodeCols(''),
    ...nodeCols('hot_'),
    ...nodeCols('cold_'),
  ];
  await put(out, header.join(',') + '\n');
  const s = session.sampleRows;
  const iv = session.intervals;
  const vmaText = new Map<number, string>();
  const describe = (v: SessionVma | undefined): string =>
    v ? `${v.start},${v.end},${v.kind},${csvField(v.path)}` : ',,,';
  // In interval order, through the index: no reordered copy of every column.
  for (const r of s.order) {
    const p = s.intervalPos[r] ?? 0;
    const id = s.vmaId[r] ?? 0;
    let vt = vmaText.get(id);
    if (vt === undefined) {
      vt = describe(session.vma(id));
      vmaText.set(id, vt);
    }
    const bytes = (col: Uint32Array | undefined): number => (col?.[r] ?? 0) * page;
    const row = [
      iv.index[p],
      (iv.startMs[p] ?? 0).toFixed(1),
      (iv.endMs[p] ?? 0).toFixed(1),
      id,
      vt,
      bytes(s.rssPages),
      bytes(s.accessedPages),
      bytes(s.hotPages),
      bytes(s.warmPages),
      bytes(s.coldPages),
      ...s.pagesByNode.map(bytes),
      ...s.hotPagesByNode.map(bytes),
      ...s.coldPagesByNode.map(bytes),
    ];
    await put(out, row.join(',') + '\n');
  }
}

/**
 * A trace in the Chrome JSON trace format, which the Perfetto UI (ui.perfetto.dev) and chrome://tracing
 * open: counter tracks for the process (hot/warm/cold bytes, resident and hot/cold bytes per node), one
 * hot/warm/cold counter per VMA, the kernel counters, and an instant event where the recording ended.
 * Timestamps are microseconds since the recording started.
 */
async function exportPerfetto(session: Session, out: Writable): Promise<void> {
  const { meta } = session;
  const page = meta.pageSizeBytes;
  const pid = meta.target.pid;
  const us = (ms: number): number => Math.round(ms * 1000);
  const events: string[] = [];
  const emit = (e: object): void => {
    events.push(JSON.stringify(e));
  };
  emit({ ph: 'M', name: 'process_name', pid, tid: 0, args: { name: `${meta.target.comm} (${pid})` } });
  emit({ ph: 'M', name: 'thread_name', pid, tid: 1, args: { name: `tierscope ${meta.source}` } });

  const t = session.totals;
  const iv = session.intervals;
  for (let p = 0; p < session.intervalCount; p++) {
    const ts = us(iv.endMs[p] ?? 0);
    const mib = (pages: number | undefined): number => ((pages ?? 0) * page) / 1048576;
    emit({
      ph: 'C',
      name: 'hotness (MiB)',
      pid,
      tid: 0,
      ts,
      args: { hot: mib(t.hotPages[p]), warm: mib(t.warmPages[p]), cold: mib(t.coldPages[p]) },
    });
    const perNode = (cols: Float64Array[]): Record<string, number> =>
      Object.fromEntries(meta.nodes.map((n, k) => [`node${n}`, mib(cols[k]?.[p])]));
    emit({ ph: 'C', name: 'resident by node (MiB)', pid, tid: 0, ts, args: perNode(t.pagesByNode) });
    emit({ ph: 'C', name: 'hot by node (MiB)', pid, tid: 0, ts, args: perNode(t.hotPagesByNode) });
    emit({ ph: 'C', name: 'cold by node (MiB)', pid, tid: 0, ts, args: perNode(t.coldPagesByNode) });
    emit({ ph: 'C', name: 'sampler CPU (ms)', pid, tid: 0, ts, args: { cpu: iv.samplerCpuMs[p] ?? 0 } });
    const c = session.counters;
    const kernel: Record<string, number> = {};
    c.names.forEach((name, k) => {
      const v = c.values[k]?.[p];
      if (v !== undefined && !Number.isNaN(v)) kernel[name] = v;
    });
    if (Object.keys(kernel).length) emit({ ph: 'C', name: 'kernel counters', pid, tid: 0, ts, args: kernel });
  }
  const s = session.sampleRows;
  for (const r of s.order) {
    const v = session.vma(s.vmaId[r] ?? 0);
    if (!v) continue;
    const mib = (col: Uint32Array): number => ((col[r] ?? 0) * page) / 1048576;
    emit({
      ph: 'C',
      name: `VMA ${v.start}-${v.end} ${v.path || `[${v.kind}]`} (MiB)`,
      pid,
      tid: 0,
      ts: us(iv.endMs[s.intervalPos[r] ?? 0] ?? 0),
      args: { hot: mib(s.hotPages), warm: mib(s.warmPages), cold: mib(s.coldPages) },
    });
  }
  const lastMs = iv.endMs[session.intervalCount - 1] ?? 0;
  emit({
    ph: 'i',
    s: 'p',
    name: `end: ${session.end.reason}`,
    pid,
    tid: 1,
    ts: us(lastMs),
    args: { detail: session.end.detail },
  });
  await put(out, `{"displayTimeUnit":"ms","traceEvents":[\n`);
  for (let i = 0; i < events.length; i++) await put(out, (i ? ',\n' : '') + (events[i] ?? ''));
  await put(
    out,
    `\n],"metadata":{"tierscope-source":${JSON.stringify(meta.source)},"started-at":${JSON.stringify(meta.startedAt)}}}\n`,
  );
}
