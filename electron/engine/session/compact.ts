// Compaction: rewrites a session as one chunk per table per segment (≤ SEGMENT_INTERVALS intervals),
// rows ordered by VMA then interval so each VMA's slowly changing series sits together and zlib finds
// the repeats. It only ever writes a new file (a temp file in the destination directory, fsync'd, then
// renamed or linked into place): a source is never modified, damaged or not.
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { Experiment } from '../../contract/index.js';
import { basename, dirname, join, resolve } from 'node:path';
import { TierscopeError } from '../errors.js';
import {
  type ColumnSet,
  concatSets,
  encodeArrowStream,
  permuteSet,
  sortOrder,
  strings,
  u32,
} from './columns.js';
import { encodeChunk, encodeFileHeader, fileError, SESSION_FORMAT_VERSION } from './format.js';
import { type OpenOptions, type Recovered, SessionFileReader } from './groups.js';
import type { Group } from './records.js';
import { DATA_TABLES, type DataTable, schemaMetadata, type TableSpecs, tableSpecs } from './schema.js';

/** A compacted chunk holds at most this many intervals (and about SEGMENT_SAMPLE_ROWS samples). */
export const SEGMENT_INTERVALS = 1000;
export const SEGMENT_SAMPLE_ROWS = 1 << 20;
const COMPACT_ZLIB_LEVEL = 9;

export interface CompactOptions extends OpenOptions {
  /** Replace `destPath` if it exists. */
  force?: boolean;
  /** Intervals per segment (default SEGMENT_INTERVALS). */
  segmentIntervals?: number;
}

export interface CompactResult {
  path: string;
  bytes: number;
  intervalCount: number;
  /** Row count per table, as written. */
  rows: Record<DataTable, number>;
  /** Format version of the source (the result is always SESSION_FORMAT_VERSION). */
  sourceVersion: number;
  /** What of the source could not be read (torn tail, or damage read with salvage). */
  recovered: Recovered | null;
  /** Compressed bytes per table, for the size bench. */
  tableBytes: Record<DataTable | 'meta' | 'end' | 'experiments', number>;
  /** Migration experiments written (format 2+). */
  experimentCount: number;
}

/** Rows sorted for compression: per VMA for samples and heat, per name for counters. */
function orderForCompaction(table: DataTable, set: ColumnSet): Uint32Array | null {
  switch (table) {
    case 'samples':
    case 'heat':
      return sortOrder(u32(set, 'vma_id'), u32(set, 'interval'));
    case 'counters': {
      const names = strings(set, 'name');
      const rank = new Map([...new Set(names)].sort().map((n, i) => [n, i]));
      return sortOrder(
        Uint32Array.from(names, (n) => rank.get(n) ?? 0),
        u32(set, 'interval'),
      );
    }
    case 'vmas':
    case 'count_runs':
    case 'intervals':
      return null;
  }
}

class SegmentWriter {
  private parts: Group[] = [];
  private intervals = 0;
  private sampleRows = 0;
  readonly rows = Object.fromEntries(DATA_TABLES.map((t) => [t, 0])) as Record<DataTable, number>;
  readonly tableBytes = Object.fromEntries(
    [...DATA_TABLES, 'meta', 'end', 'experiments'].map((t) => [t, 0]),
  ) as Record<DataTable | 'meta' | 'end' | 'experiments', number>;

  constructor(
    private readonly specs: TableSpecs,
    private readonly emit: (bytes: Buffer) => Promise<void>,
    private readonly segmentIntervals: number,
  ) {}

  async add(group: Group): Promise<void> {
    this.parts.push(group);
    this.intervals += group.intervals.rows;
    this.sampleRows += group.samples.rows;
    if (this.intervals >= this.segmentIntervals || this.sampleRows >= SEGMENT_SAMPLE_ROWS) await this.flush();
  }

  async json(table: 'meta' | 'end' | 'experiments', value: unknown): Promise<void> {
    const chunk = encodeChunk(table, Buffer.from(JSON.stringify(value)), COMPACT_ZLIB_LEVEL);
    this.tableBytes[table] += chunk.length;
    await this.emit(chunk);
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const chunks: Buffer[] = [];
    for (const table of DATA_TABLES) {
      const specs = this.specs[table];
      let set = concatSets(
        specs,
        this.parts.map((g) => g[table]),
      );
      if (set.rows === 0 && table !== 'intervals') continue;
      const order = orderForCompaction(table, set);
      if (order !== null) set = permuteSet(specs, set, order);
      const chunk = encodeChunk(
        table,
        encodeArrowStream(specs, set, schemaMetadata(table, SESSION_FORMAT_VERSION)),
        COMPACT_ZLIB_LEVEL,
      );
      this.rows[table] += set.rows;
      this.tableBytes[table] += chunk.length;
      chunks.push(chunk);
    }
    this.parts = [];
    this.intervals = 0;
    this.sampleRows = 0;
    await this.emit(Buffer.concat(chunks));
  }
}

export function tempPathFor(destPath: string, purpose: string): string {
  return join(
    dirname(destPath),
    `.${basename(destPath)}.${purpose}-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
}

/** fsyncs a directory so a rename or create in it survives a power loss. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes the compacted form of `source` to `tmpPath` (created exclusively) and fsyncs it. */
async function writeCompacted(
  source: SessionFileReader,
  tmpPath: string,
  segmentIntervals: number,
  extraExperiments: readonly Experiment[] = [],
): Promise<Omit<CompactResult, 'path'>> {
  const fh = await open(tmpPath, 'wx', 0o644);
  let size = 0;
  const emit = async (bytes: Buffer): Promise<void> => {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, size + done);
      done += bytesWritten;
    }
    size += bytes.length;
  };
  try {
    await emit(encodeFileHeader(SESSION_FORMAT_VERSION, 'compacted'));
    const segments = new SegmentWriter(tableSpecs(source.meta), emit, segmentIntervals);
    await segments.json('meta', { ...source.meta, formatVersion: SESSION_FORMAT_VERSION });
    for await (const group of source.groups()) await segments.add(group);
    await segments.flush();
    // Experiments after the intervals they span and before the end record; an added record replaces an
    // earlier one with the same id.
    const experiments = [...source.experiments];
    for (const e of extraExperiments) {
      const at = experiments.findIndex((x) => x.id === e.id);
      if (at >= 0) experiments[at] = e;
      else experiments.push(e);
    }
    for (const e of experiments) await segments.json('experiments', e);
    if (source.end !== null) await segments.json('end', source.end);
    await fh.sync();
    return {
      bytes: size,
      intervalCount: source.intervalCount,
      rows: segments.rows,
      experimentCount: experiments.length,
      sourceVersion: source.fileVersion,
      recovered: source.recovered,
      tableBytes: segments.tableBytes,
    };
  } finally {
    await fh.close();
  }
}

/**
 * Re-reads a freshly written compacted file and checks it holds what was written: the guard that lets
 * the writer replace its journal with it.
 */
async function verifyCompacted(tmpPath: string, expected: Omit<CompactResult, 'path'>): Promise<void> {
  const check = await SessionFileReader.open(tmpPath);
  try {
    const rows = Object.fromEntries(DATA_TABLES.map((t) => [t, 0])) as Record<DataTable, number>;
    for await (const group of check.groups()) for (const t of DATA_TABLES) rows[t] += group[t].rows;
    const same =
      check.recovered === null &&
      check.intervalCount === expected.intervalCount &&
      check.experiments.length === expected.experimentCount &&
      DATA_TABLES.every((t) => rows[t] === expected.rows[t]);
    if (!same) throw new Error('the compacted copy does not read back as written');
  } finally {
    await check.close();
  }
}

/**
 * Writes a compacted copy of the session at `srcPath` to `destPath`, in the current format (so this is
 * also the on-disk upgrade of an older session). `srcPath` is only read. Without `force`, an existing
 * `destPath` is an error, and the check is atomic (link, not rename).
 */
export async function compactSession(
  srcPath: string,
  destPath: string,
  options: CompactOptions = {},
): Promise<CompactResult> {
  const source = await SessionFileReader.open(srcPath, options);
  const tmp = tempPathFor(destPath, 'compacting');
  try {
    let result: Omit<CompactResult, 'path'>;
    try {
      result = await writeCompacted(source, tmp, Math.max(1, options.segmentIntervals ?? SEGMENT_INTERVALS));
    } finally {
      await source.close();
    }
    if (resolve(srcPath) === resolve(destPath) && result.recovered !== null) {
      // Replacing it would drop the unreadable bytes for good: keep the original, write elsewhere.
      throw new TierscopeError(
        'invalid-argument',
        `${srcPath} was only partly readable (${result.recovered.reason}); write the compacted copy to another path so the original stays as it is`,
      );
    }
    await verifyCompacted(tmp, result);
    try {
      if (options.force === true) {
        await rename(tmp, destPath);
      } else {
        await link(tmp, destPath);
        await unlink(tmp);
      }
      await syncDir(dirname(destPath));
    } catch (err) {
      throw fileError(err, destPath, 'write compacted session');
    }
    return { path: destPath, ...result };
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    if (err instanceof TierscopeError) throw err;
    throw fileError(err, destPath, 'write compacted session');
  }
}

/** The writer's close: compacts its own complete journal and atomically replaces it. */
export async function compactInPlace(path: string): Promise<CompactResult> {
  return compactSession(path, path, { force: true });
}

/** How long addExperimentToSession waits for another writer of the same session (ms). */
const LOCK_WAIT_MS = 10_000;

/**
 * An exclusive lock file next to the session, so two experiments added at once cannot both rewrite it
 * from the same original (the later rename would drop the other's record). A lock whose owner is gone
 * is stale and taken over.
 */
async function lockSession(path: string): Promise<() => Promise<void>> {
  const lock = join(dirname(path), `.${basename(path)}.lock`);
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await writeFile(lock, String(process.pid), { flag: 'wx' });
      return () => unlink(lock).catch(() => undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fileError(err, lock, 'lock session');
    }
    const owner = Number(await readFile(lock, 'utf8').catch(() => ''));
    let alive = false;
    try {
      if (Number.isInteger(owner) && owner > 0) {
        process.kill(owner, 0);
        alive = true;
      }
    } catch (err) {
      alive = (err as NodeJS.ErrnoException).code === 'EPERM';
    }
    if (!alive) {
      await unlink(lock).catch(() => undefined);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new TierscopeError(
        'busy',
        `${path} is being rewritten by process ${owner} (lock ${lock}); try again when it is done`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Adds a finished migration experiment to a finished session: the session is rewritten (compacted, with
 * the record before its end record) into a temp file, verified, and renamed over the original, so a
 * reader sees the old file or the new one, never a mix. Refuses a session without an end record (its
 * recorder may still be writing it: a live recorder takes experiments through SessionWriter.appendExperiment)
 * and one that is only partly readable (rewriting it would drop the unreadable part).
 */
export async function addExperimentToSession(path: string, experiment: Experiment): Promise<CompactResult> {
  const checked = Experiment.safeParse(experiment);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new TierscopeError(
      'invalid-argument',
      `invalid experiment record (${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'})`,
    );
  }
  const unlock = await lockSession(path);
  const tmp = tempPathFor(path, 'adding-experiment');
  try {
    const source = await SessionFileReader.open(path);
    let result: Omit<CompactResult, 'path'>;
    let ended: boolean;
    try {
      result = await writeCompacted(source, tmp, SEGMENT_INTERVALS, [checked.data]);
      ended = source.end !== null;
    } finally {
      await source.close();
    }
    if (!ended) {
      throw new TierscopeError(
        'busy',
        `${path} has no end record: it is still being recorded (or its recorder was killed), and only its recorder may write to it; stop the recording first`,
      );
    }
    if (result.recovered !== null) {
      throw new TierscopeError(
        'invalid-argument',
        `${path} is only partly readable (${result.recovered.reason}); compact it to another file first (nothing was added)`,
      );
    }
    await verifyCompacted(tmp, result);
    try {
      await rename(tmp, path);
      await syncDir(dirname(path));
    } catch (err) {
      throw fileError(err, path, 'write session');
    }
    return { path, ...result };
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    if (err instanceof TierscopeError) throw err;
    throw fileError(err, path, 'add the experiment to');
  } finally {
    await unlock();
  }
}
