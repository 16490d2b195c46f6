import { AccessSourceId } from '../../contract/index.js';
import { record, type RecordProgress } from '../../engine/record/recorder.js';
import { TierscopeError } from '../../engine/errors.js';
import {
  choiceOption,
  commonOptions,
  durationOption,
  intOption,
  stringOption,
  type CliIo,
  type Command,
} from '../io.js';
import { formatMiB } from '../table.js';
import { VERSION } from '../version.js';

const SOURCES = ['auto', ...AccessSourceId.options] as const;

export const recordCommand: Command = {
  usage:
    'usage: tierscope record --pid N --out FILE [--source auto|idle_pages|page_idle|damon|refs]\n' +
    '                        [--interval 1s] [--scans N] [--duration 60s] [--max-cpu PCT] [--force]\n' +
    '  --interval D   time between scans (default 1s)\n' +
    '  --scans N      hotness window: hot = accessed in all of the last N scans (default 5)\n' +
    '  --duration D   stop after D (default: until Ctrl-C or the process exits)\n' +
    '  --max-cpu PCT  cap the sampler at PCT% of one core by stretching intervals\n' +
    '  --force        overwrite FILE if it exists\n',
  options: {
    ...commonOptions,
    pid: { type: 'string' },
    out: { type: 'string' },
    source: { type: 'string' },
    interval: { type: 'string' },
    scans: { type: 'string' },
    duration: { type: 'string' },
    'max-cpu': { type: 'string' },
    force: { type: 'boolean' },
  },
  async run(values, io) {
    const pid = intOption(values, 'pid', true);
    const out = stringOption(values, 'out', true);
    const source = choiceOption(values, 'source', SOURCES) ?? 'auto';
    const intervalMs = durationOption(values, 'interval');
    const scans = intOption(values, 'scans', false);
    const durationMs = durationOption(values, 'duration');
    const maxCpu = intOption(values, 'max-cpu', false);

    // Ctrl-C / SIGTERM stop the recording cleanly: the session gets its end record and is compacted.
    const stop = new AbortController();
    const onSignal = (): void => {
      stop.abort();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const progress = progressPrinter(io, durationMs);
    try {
      const result = await record({
        pid,
        out,
        source,
        signal: stop.signal,
        onProgress: progress.update,
        tierscopeVersion: VERSION,
        ...(intervalMs !== undefined ? { intervalMs } : {}),
        ...(scans !== undefined ? { scansPerWindow: scans } : {}),
        ...(durationMs !== undefined ? { durationMs } : {}),
        ...(maxCpu !== undefined ? { maxCpuPercent: maxCpu } : {}),
        ...(values['force'] === true ? { force: true } : {}),
      });
      progress.done();
      const { end, file, meta } = result;
      io.err(
        `recorded ${file.intervalCount} intervals of process ${meta.target.pid} (${meta.target.comm}) with ${meta.source}: ` +
          `${end.reason}${end.detail ? ` (${end.detail})` : ''}; ${file.path}, ${(file.bytes / 1024).toFixed(1)} KiB\n`,
      );
      if (end.reason === 'source-failed') {
        throw new TierscopeError(
          'unsupported',
          `recording stopped early: ${end.detail}; the ${file.intervalCount} intervals before it are saved in ${file.path}`,
        );
      }
    } finally {
      progress.done();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};

/** One status line, rewritten in place on a terminal; a line every 10 intervals in a log. */
function progressPrinter(
  io: CliIo,
  durationMs: number | undefined,
): { update: (p: RecordProgress) => void; done: () => void } {
  const tty = process.stderr.isTTY;
  let open = false;
  return {
    update(p) {
      const elapsed = (p.elapsedMs / 1000).toFixed(0);
      const of = durationMs !== undefined ? `/${(durationMs / 1000).toFixed(0)}` : '';
      const window =
        p.scansInWindow < p.scansPerWindow ? ` (window ${p.scansInWindow}/${p.scansPerWindow})` : '';
      const line =
        `recording ${elapsed}${of} s, ${p.intervals} intervals via ${p.source}: ` +
        `hot ${formatMiB(p.hotBytes)} / warm ${formatMiB(p.warmBytes)} / cold ${formatMiB(p.coldBytes)} MiB of ${formatMiB(p.rssBytes)}${window}; ` +
        `sampler ${p.samplerCpuPercent.toFixed(1)}% CPU, ${Math.round(p.pagesScannedPerSecond)} pages/s`;
      if (tty) {
        io.err(`\r\x1b[K${line}`);
        open = true;
      } else if (p.intervals % 10 === 0 || p.intervals === 1) {
        io.err(line + '\n');
      }
    },
    done() {
      if (open) io.err('\n');
      open = false;
    },
  };
}
