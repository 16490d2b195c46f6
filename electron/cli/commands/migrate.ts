import type { CountByNode, Experiment } from '../../contract/index.js';
import { TierscopeError } from '../../engine/errors.js';
import {
  DEFAULT_MEASUREMENT,
  describeHistogram,
  linkSession,
  parseAddress,
  parseRange,
  parseRate,
  runMoveExperiment,
  runProcessMigration,
  type ExperimentEvent,
  type MovePlan,
  type SessionLink,
} from '../../engine/migrate/index.js';
import { recordExperimentInSession } from '../../engine/migrate/record.js';
import { readProcStat } from '../../engine/procfs/process.js';
import { parseRangeList } from '../../engine/sysfs/topology.js';
import { pageSizeBytes } from '../../../native-bridge/index.js';
import {
  commonOptions,
  durationOption,
  intOption,
  printJson,
  stringOption,
  UsageError,
  type CliIo,
  type Command,
  type OptionValues,
} from '../io.js';
import { formatMiB, renderTable, type Column } from '../table.js';

export const migrateCommand: Command = {
  usage:
    'usage: tierscope migrate --pid N (--vma ADDR | --range A-B | --hot | --cold | --top-k K | --all) --to NODE\n' +
    '                         [--from NODES] [--rate MBps] [--dry-run] [--session FILE] [--json]\n' +
    '                         [--scans N] [--interval D] [--no-measure] [--bench-cmd CMD] [--force] [--split]\n' +
    '  --vma ADDR      the mapping that contains ADDR (hex; e.g. its start as `tierscope snapshot` prints it)\n' +
    '  --range A-B     hex address range [A, B); clipped to the movable mappings it overlaps\n' +
    '  --hot, --cold   pages accessed in all / none of the last N scans (narrowed by --vma/--range if given)\n' +
    '  --top-k K       the K hottest pages (a page count, or a size such as 64MiB)\n' +
    '  --all           the whole process: every page on --from moves to --to (migrate_pages, like migratepages)\n' +
    '  --to NODE       target node (a CPU-less memory node is fine); with --all a node list such as 0-1\n' +
    '  --from NODES    only pages now on these nodes (e.g. 2, or 1-2); with --all default: all but --to\n' +
    '  --rate R        copy at most R MB/s (e.g. 200, 1.5GB/s, 512MiB/s)\n' +
    '  --dry-run       show what would move, per node; move nothing\n' +
    '  --session FILE  hot/cold classes from this finished recording of the process; the experiment is added to it\n' +
    '  --scans N       live measurement for page classes: N scans (default 3) ...\n' +
    '  --interval D    ... D apart (default 1s); needs page_idle or idle_pages\n' +
    '  --no-measure    no live measurement (the record then has no hot/cold placement)\n' +
    '  --bench-cmd CMD run CMD (sh -c) before and after the move; its last printed number is recorded\n' +
    '  --force         move even if the target node looks too full\n' +
    '  --split         with --all: bounded move_pages batches (cancellable, --rate) instead of one migrate_pages\n' +
    'Ctrl-C cancels between batches; pages already moved stay moved.\n',
  options: {
    ...commonOptions,
    pid: { type: 'string' },
    vma: { type: 'string' },
    range: { type: 'string' },
    hot: { type: 'boolean' },
    cold: { type: 'boolean' },
    'top-k': { type: 'string' },
    all: { type: 'boolean' },
    to: { type: 'string' },
    from: { type: 'string' },
    rate: { type: 'string' },
    'dry-run': { type: 'boolean' },
    session: { type: 'string' },
    scans: { type: 'string' },
    interval: { type: 'string' },
    'no-measure': { type: 'boolean' },
    'bench-cmd': { type: 'string' },
    force: { type: 'boolean' },
    split: { type: 'boolean' },
  },
  async run(values, io) {
    const pid = intOption(values, 'pid', true);
    if (pid === 0) throw new UsageError('--pid expects a process id (> 0)');
    const all = values['all'] === true;
    const hotFlags = [values['hot'] === true, values['cold'] === true, values['top-k'] !== undefined].filter(
      Boolean,
    ).length;
    if (hotFlags > 1) throw new UsageError('pass only one of --hot, --cold, --top-k');
    if (all && (hotFlags > 0 || values['vma'] !== undefined || values['range'] !== undefined)) {
      throw new UsageError(
        '--all moves the whole process: it takes no --vma, --range, --hot, --cold or --top-k',
      );
    }
    if (!all && hotFlags === 0 && values['vma'] === undefined && values['range'] === undefined) {
      throw new UsageError('say what to move: --vma ADDR, --range A-B, --hot, --cold, --top-k K or --all');
    }
    const toNodes = nodeList(values, 'to', true);
    if (!all && toNodes.length !== 1)
      throw new UsageError('--to takes one node (a node list only with --all)');
    const fromNodes = values['from'] !== undefined ? nodeList(values, 'from', true) : null;
    const rate = rateOption(values);
    const dryRun = values['dry-run'] === true;
    const json = values['json'] === true;
    const benchCmd = stringOption(values, 'bench-cmd', false);
    const sessionPath = stringOption(values, 'session', false);
    if (values['split'] === true && !all) throw new UsageError('--split applies to --all only');

    await runExperimentCommand(io, json, async (stop, progress) => {
      const link = await sessionLinkFor(sessionPath, pid, !dryRun);
      const common = {
        pid,
        dryRun,
        rateBytesPerSecond: rate,
        signal: stop.signal,
        onEvent: progress.event,
        ...(values['force'] === true ? { force: true } : {}),
        ...(benchCmd !== undefined ? { benchmark: { command: benchCmd } } : {}),
        ...(link ? { session: link.timing } : {}),
      };
      let experiment: Experiment;
      let plan: MovePlan;
      let extra: Record<string, unknown> = {};
      if (all) {
        const r = await runProcessMigration({
          ...common,
          toNodes,
          fromNodes,
          method: values['split'] === true ? 'move_pages' : 'auto',
        });
        experiment = r.experiment;
        plan = r.plan;
        extra = { method: r.method, kernelNotMigrated: r.kernelNotMigrated };
      } else {
        const topK = topKOption(values);
        const scans = intOption(values, 'scans', false);
        const intervalMs = durationOption(values, 'interval');
        if (
          link &&
          (values['hot'] === true || values['cold'] === true || topK !== null) &&
          link.classes === null
        ) {
          throw new TierscopeError(
            'invalid-argument',
            `${link.path} has no closed hotness window (record at least ${link.session.meta.scansPerWindow} intervals) to take hot/cold classes from`,
          );
        }
        const r = await runMoveExperiment({
          ...common,
          toNode: toNodes[0] ?? 0,
          selection: {
            vmaAddress: addressOption(values),
            range: rangeOption(values),
            hotness:
              values['hot'] === true
                ? 'hot'
                : values['cold'] === true
                  ? 'cold'
                  : topK !== null
                    ? 'top-k'
                    : null,
            topKPages: topK,
            fromNodes,
          },
          classes: link?.classes ?? null,
          measurement:
            values['no-measure'] === true || link
              ? false
              : {
                  scans: scans ?? DEFAULT_MEASUREMENT.scans,
                  intervalMs: intervalMs ?? DEFAULT_MEASUREMENT.intervalMs,
                },
        });
        experiment = r.experiment;
        plan = r.plan;
      }
      progress.done();
      let recordedIn: string | null = null;
      if (link && !dryRun) {
        await recordExperimentInSession(link.path, experiment);
        recordedIn = link.path;
      }
      if (json) printJson(io, { experiment, plan, recordedIn, ...extra });
      else io.out(renderExperiment(experiment, plan, recordedIn));
      if (experiment.status === 'failed') {
        throw new TierscopeError(
          'busy',
          `the move failed: ${experiment.detail.split('; ')[0] ?? experiment.detail}`,
        );
      }
    });
  },
};

/**
 * What `migrate` and `rebind` share around the experiment itself: Ctrl-C / SIGTERM abort `stop` (the
 * engine cancels between batches), the progress line, and both undone however `work` ends.
 */
export async function runExperimentCommand(
  io: CliIo,
  json: boolean,
  work: (stop: AbortController, progress: ReturnType<typeof progressPrinter>) => Promise<void>,
): Promise<void> {
  const stop = new AbortController();
  const onSignal = (): void => {
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const progress = progressPrinter(io, json);
  try {
    await work(stop, progress);
  } finally {
    progress.done();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * The session named by --session, checked before anything runs (an experiment that could not be recorded
 * must not move pages); null without --session.
 */
export async function sessionLinkFor(
  path: string | undefined,
  pid: number,
  forRecording: boolean,
): Promise<SessionLink | null> {
  if (path === undefined) return null;
  const stat = await readProcStat(pid);
  return linkSession(path, pid, stat.startTimeTicks, { forRecording });
}

export function nodeList(values: OptionValues, name: string, required: boolean): number[] {
  const raw = required ? stringOption(values, name, true) : stringOption(values, name, false);
  if (raw === undefined) return [];
  try {
    const nodes = parseRangeList(raw, `--${name}`);
    if (nodes.length === 0) throw new UsageError(`--${name} names no node`);
    return nodes;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--${name} expects a node or node list such as 0, 2 or 0-1, got '${raw}'`);
  }
}

export function rateOption(values: OptionValues): number | null {
  const raw = stringOption(values, 'rate', false);
  if (raw === undefined) return null;
  const rate = parseRate(raw);
  if (rate === null)
    throw new UsageError(`--rate expects MB/s such as 200, 1.5GB/s or 512MiB/s, got '${raw}'`);
  return rate;
}

function addressOption(values: OptionValues): bigint | null {
  const raw = stringOption(values, 'vma', false);
  if (raw === undefined) return null;
  const a = parseAddress(raw);
  if (a === null) throw new UsageError(`--vma expects a hex address such as 7f3a2c000000, got '${raw}'`);
  return a;
}

export function rangeOption(values: OptionValues): { start: bigint; end: bigint } | null {
  const raw = stringOption(values, 'range', false);
  if (raw === undefined) return null;
  const r = parseRange(raw);
  if (r === null)
    throw new UsageError(`--range expects hex START-END such as 7f3a2c000000-7f3a30000000, got '${raw}'`);
  if (r.start >= r.end) throw new UsageError(`--range ${raw} is empty: START must be below END`);
  return r;
}

function topKOption(values: OptionValues): number | null {
  const raw = stringOption(values, 'top-k', false);
  if (raw === undefined) return null;
  const m = /^(\d+(?:\.\d+)?)\s*(k|m|g|kib|mib|gib|kb|mb|gb)?$/i.exec(raw.trim());
  if (!m?.[1]) throw new UsageError(`--top-k expects a page count or a size such as 64MiB, got '${raw}'`);
  const unit = m[2]?.toLowerCase();
  if (unit === undefined) {
    if (!/^\d+$/.test(m[1]) || Number(m[1]) < 1)
      throw new UsageError(`--top-k expects a positive page count, got '${raw}'`);
    return Number(m[1]);
  }
  const scale = unit.startsWith('k') ? 2 ** 10 : unit.startsWith('m') ? 2 ** 20 : 2 ** 30;
  const pages = Math.ceil((Number(m[1]) * scale) / pageSizeBytes());
  if (pages < 1) throw new UsageError(`--top-k ${raw} is less than a page`);
  return pages;
}

/** Progress on stderr: one line rewritten in place on a terminal, a line per phase change otherwise. */
export function progressPrinter(
  io: CliIo,
  quiet: boolean,
): { event: (e: ExperimentEvent) => void; done: () => void } {
  const tty = process.stderr.isTTY;
  let open = false;
  let lastPhase = '';
  let lastLogMs = 0;
  const show = (line: string, phase: string): void => {
    if (tty) {
      io.err(`\r\x1b[K${line}`);
      open = true;
      return;
    }
    const now = Date.now();
    if (phase !== lastPhase || now - lastLogMs > 2000) {
      io.err(line + '\n');
      lastLogMs = now;
    }
    lastPhase = phase;
  };
  return {
    event(e) {
      if (quiet && !tty) return;
      switch (e.phase) {
        case 'benchmark':
          show(`running the benchmark command (${e.when})`, `bench-${e.when}`);
          break;
        case 'measuring':
          show(
            `measuring page classes (${e.when}) with ${e.source}: scan ${e.scan}/${e.of}`,
            `measure-${e.when}`,
          );
          break;
        case 'moving': {
          const p = e.progress;
          const rate = p.elapsedMs > 0 ? (p.bytesMoved / 2 ** 20 / (p.elapsedMs / 1000)).toFixed(1) : '0.0';
          show(
            `moving: ${p.pagesDone}/${p.pagesTotal} pages${p.batches ? ` in ${p.batches} batches` : ''}, ${formatMiB(p.bytesMoved)} MiB copied (${rate} MiB/s)`,
            'moving',
          );
          break;
        }
        case 'waiting':
          show(
            `lazy rebind: ${e.movedOnTouch} pages moved on touch, ${e.pending} pending, ${e.failed} failed (round ${e.rounds}, ${Math.round(e.elapsedMs / 1000)} s)`,
            'waiting',
          );
          break;
        case 'verifying':
          show('verifying: re-querying where the pages are', 'verify');
          break;
      }
    },
    done() {
      if (open) io.err('\n');
      open = false;
    },
  };
}

/** The experiment as a human reads it: what, plan per node, result, before/after placement. */
export function renderExperiment(e: Experiment, plan: MovePlan | null, recordedIn: string | null): string {
  const lines: string[] = [];
  const what =
    e.kind === 'migrate-process'
      ? `whole process, nodes ${e.fromNodes?.length ? e.fromNodes.join(',') : '(none)'} → ${e.toNodes.join(',')}`
      : `${e.selection.hotness ? `${e.selection.hotness === 'top-k' ? `top ${e.selection.topK ?? '?'} hottest` : e.selection.hotness} pages of ` : ''}${e.selection.ranges.length === 1 ? `${e.selection.ranges[0]?.start}-${e.selection.ranges[0]?.end}` : `${e.selection.ranges.length} ranges`}${e.selection.fromNodes ? ` on nodes ${e.selection.fromNodes.join(',')}` : ''} → node ${e.toNodes.join(',')}`;
  lines.push(`${e.kind} ${e.id}${e.dryRun ? ' (dry run)' : ''}: process ${e.pid}, ${what}`);
  if (plan) {
    if (plan.classesFrom) lines.push(`page classes: ${plan.classesFrom}`);
    const page = pageSizeBytes();
    const moving = Object.entries(plan.toMoveByNode)
      .map(([node, pages]) => `node ${node}: ${pages} pages (${formatMiB(pages * page)} MiB)`)
      .join(', ');
    lines.push(
      `${e.dryRun ? 'would move' : 'to move'}: ${moving || 'nothing'}; already on target: ${plan.alreadyThere}; not present: ${plan.notPresent}; selected: ${plan.pagesSelected} pages`,
    );
    for (const s of plan.skipped) lines.push(`left out: ${s}`);
  }
  if (!e.dryRun) {
    const seconds = e.endedAt ? ((Date.parse(e.endedAt) - Date.parse(e.startedAt)) / 1000).toFixed(1) : '?';
    lines.push(
      `result: ${e.status} in ${seconds} s: ${describeHistogram(e.histogram)}${e.kind === 'lazy-rebind' ? `, pending ${e.pendingPages}` : ''}`,
    );
  }
  lines.push(`detail: ${e.detail}`);
  const table = placementTable(e);
  if (table) lines.push('', table.trimEnd());
  if (e.benchmark) {
    const b = e.benchmark;
    lines.push(`benchmark (${b.command}): before ${b.before ?? 'n/a'}, after ${b.after ?? 'n/a'}`);
  }
  if (recordedIn) lines.push(`recorded in ${recordedIn}`);
  return lines.join('\n') + '\n';
}

function placementTable(e: Experiment): string | null {
  const b = e.before;
  const a = e.after;
  if (!b && !a) return null;
  const maps: { label: string; v: CountByNode | undefined }[] = [
    { label: 'selection before', v: b?.selectionBytesByNode },
    { label: 'selection after', v: a?.selectionBytesByNode },
    { label: 'hot before', v: b?.hotBytesByNode },
    { label: 'hot after', v: a?.hotBytesByNode },
    { label: 'cold before', v: b?.coldBytesByNode },
    { label: 'cold after', v: a?.coldBytesByNode },
  ];
  const nodes = [...new Set(maps.flatMap((m) => Object.keys(m.v ?? {})))].sort(
    (x, y) => Number(x) - Number(y),
  );
  if (nodes.length === 0) return null;
  const columns: Column[] = [
    { header: 'MiB', align: 'left' },
    ...nodes.map((n): Column => ({ header: `node${n}`, align: 'right' })),
  ];
  const rows = maps
    .filter((m) => m.v !== undefined && (Object.keys(m.v).length > 0 || m.label.startsWith('selection')))
    .map((m) => [m.label, ...nodes.map((n) => formatMiB(m.v?.[n] ?? 0))]);
  let out = renderTable(columns, rows);
  const rate = (x: number | null | undefined): string => (x == null ? 'n/a' : `${(100 * x).toFixed(1)}%`);
  if (b?.selectionAccessRate != null || a?.selectionAccessRate != null) {
    out += `selection accessed per scan: before ${rate(b?.selectionAccessRate)}, after ${rate(a?.selectionAccessRate)}\n`;
  }
  return out;
}
