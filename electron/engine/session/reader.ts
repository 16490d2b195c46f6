// Public reading API: the whole session as an in-memory columnar model, or its records one by one.
import type { IntervalRecord } from '../../contract/index.js';
import { TierscopeError } from '../errors.js';
import { type OpenOptions, SessionFileReader } from './groups.js';
import { type Session, SessionBuilder } from './model.js';
import { groupToRecords } from './records.js';

/**
 * The groups were checked as they were read; this keeps a case those checks missed from surfacing as
 * anything but a parse error.
 */
function finish(path: string, build: () => Session): Session {
  try {
    return build();
  } catch (err) {
    if (err instanceof TierscopeError) throw err;
    throw new TierscopeError(
      'parse',
      `${path}: damaged: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
      },
    );
  }
}

/**
 * Opens a session of any readable format version (older ones are upgraded in memory; the file is never
 * changed). A torn tail — what a killed recorder leaves — is read up to the last complete interval and
 * reported in `recovered`; anything that is not a readable session throws TierscopeError('parse') naming
 * the file and the cause.
 */
export async function openSession(path: string, options: OpenOptions = {}): Promise<Session> {
  const reader = await SessionFileReader.open(path, options);
  try {
    const builder = new SessionBuilder(reader.meta);
    for await (const group of reader.groups()) builder.add(group);
    return finish(path, () =>
      builder.finish({
        path,
        fileBytes: reader.fileBytes,
        fileVersion: reader.fileVersion,
        layout: reader.layout,
        meta: reader.meta,
        end: reader.end,
        recovered: reader.recovered,
        experiments: reader.experiments,
      }),
    );
  } finally {
    await reader.close();
  }
}

/**
 * Yields the session's intervals as IntervalRecords, in order, reading one group at a time. Samples and
 * heat rows come ordered by VMA id, counters by name, addresses as /proc prints them (zero-padded to 8
 * digits). Damage met partway throws after the records before it were yielded.
 */
export async function* readSessionRecords(
  path: string,
  options: OpenOptions = {},
): AsyncGenerator<IntervalRecord, void, undefined> {
  const reader = await SessionFileReader.open(path, options);
  try {
    for await (const group of reader.groups()) {
      let records: IntervalRecord[];
      try {
        records = groupToRecords(group, reader.meta);
      } catch (err) {
        throw new TierscopeError(
          'parse',
          `${path}: damaged: ${err instanceof Error ? err.message : String(err)}`,
          {
            cause: err,
          },
        );
      }
      yield* records;
    }
  } finally {
    await reader.close();
  }
}
