import { TierscopeError } from '../../engine/errors.js';
import { runLazyRebind } from '../../engine/migrate/index.js';
import { recordExperimentInSession } from '../../engine/migrate/record.js';
import {
  commonOptions,
  durationOption,
  intOption,
  printJson,
  stringOption,
  UsageError,
  type Command,
} from '../io.js';
import {
  nodeList,
  rangeOption,
  rateOption,
  renderExperiment,
  runExperimentCommand,
  sessionLinkFor,
} from './migrate.js';

export const rebindCommand: Command = {
  usage:
    'usage: tierscope rebind --pid N --range A-B --to NODE --lazy [--expire 60s] [--interval 1s] [--rate MBps]\n' +
    '                        [--session FILE] [--json]\n' +
    '  --lazy          move each page of the range when it is next touched (MPOL_MF_LAZY semantics); untouched\n' +
    '                  pages stay where they are. Needs per-page access bits (page_idle or idle_pages).\n' +
    '  --expire D      stop waiting for untouched pages after D (default: until Ctrl-C or all moved)\n' +
    '  --interval D    sampling interval: a touched page moves at most D after its first touch (default 1s)\n' +
    '  --rate R        copy at most R MB/s\n' +
    '  --session FILE  add the experiment to this finished recording of the process\n' +
    'For an immediate move of the range use tierscope migrate --range A-B --to NODE.\n',
  options: {
    ...commonOptions,
    pid: { type: 'string' },
    range: { type: 'string' },
    to: { type: 'string' },
    lazy: { type: 'boolean' },
    expire: { type: 'string' },
    interval: { type: 'string' },
    rate: { type: 'string' },
    session: { type: 'string' },
  },
  async run(values, io) {
    const pid = intOption(values, 'pid', true);
    if (pid === 0) throw new UsageError('--pid expects a process id (> 0)');
    if (values['lazy'] !== true) {
      throw new UsageError(
        'only lazy rebinds exist: pass --lazy (for an immediate move use tierscope migrate --range)',
      );
    }
    const range = rangeOption(values);
    if (range === null) throw new UsageError('--range is required');
    const to = nodeList(values, 'to', true);
    if (to.length !== 1) throw new UsageError('--to takes one node');
    const expireMs = durationOption(values, 'expire');
    const intervalMs = durationOption(values, 'interval');
    const rate = rateOption(values);
    const sessionPath = stringOption(values, 'session', false);
    const json = values['json'] === true;

    await runExperimentCommand(io, json, async (stop, progress) => {
      const link = await sessionLinkFor(sessionPath, pid, true);
      const { experiment, source } = await runLazyRebind({
        pid,
        range,
        toNode: to[0] ?? 0,
        rateBytesPerSecond: rate,
        signal: stop.signal,
        onEvent: progress.event,
        ...(expireMs !== undefined ? { expireMs } : {}),
        ...(intervalMs !== undefined ? { intervalMs } : {}),
        ...(link ? { session: link.timing } : {}),
      });
      progress.done();
      if (link) await recordExperimentInSession(link.path, experiment);
      if (json) printJson(io, { experiment, source, recordedIn: link?.path ?? null });
      else io.out(renderExperiment(experiment, null, link?.path ?? null));
      if (experiment.status === 'failed')
        throw new TierscopeError('busy', `the lazy rebind failed: ${experiment.detail}`);
    });
  },
};
