import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { exportSession, type ExportFormat } from '../../engine/export.js';
import { choiceOption, commonOptions, stringOption, UsageError, type Command } from '../io.js';

const FORMATS: readonly ExportFormat[] = ['json', 'csv', 'perfetto'];

export const exportCommand: Command = {
  usage:
    'usage: tierscope export FILE --format json|csv|perfetto [--out PATH]\n' +
    '  json      meta, VMAs and every interval as the contract defines them\n' +
    '  csv       one row per VMA per interval, bytes (pandas, polars, spreadsheets)\n' +
    '  perfetto  a trace the Perfetto UI opens: counters per VMA and per node\n' +
    '  --out     write to PATH instead of standard output\n',
  options: { ...commonOptions, format: { type: 'string' }, out: { type: 'string' } },
  positionals: { min: 1, max: 1, names: 'FILE' },
  async run(values, io, positionals) {
    const file = positionals[0] ?? '';
    const format = choiceOption(values, 'format', FORMATS);
    if (format === undefined) throw new UsageError('--format is required (json, csv or perfetto)');
    const outPath = stringOption(values, 'out', false);
    if (outPath === undefined) {
      await exportSession(file, format, process.stdout);
      return;
    }
    // Write beside, then rename: a failed export never leaves half a file under the requested name.
    const { rename, rm } = await import('node:fs/promises');
    const tmp = `${outPath}.partial-${process.pid}`;
    const stream = createWriteStream(tmp, { flags: 'wx' });
    try {
      await exportSession(file, format, stream);
      stream.end();
      await finished(stream);
      await rename(tmp, outPath);
    } catch (err) {
      stream.destroy();
      await rm(tmp, { force: true });
      throw err;
    }
    io.err(`exported ${file} as ${format} to ${outPath}\n`);
  },
};
