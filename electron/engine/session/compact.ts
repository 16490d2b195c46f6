// Compaction: rewrites a session as one chunk per table per segment (≤ SEGMENT_INTERVALS intervals),
// rows ordered by VMA then interval so each VMA's slowly changing series sits together and zlib finds
// the repeats. It only ever writes a new file (a temp file in the destination directory, fsync'd, then
// renamed or linked into place): a source is never modified, damaged or not.
import { randomBytes } from 'node:crypto';
import { link, open, rename, unlink } from 'node:fs/promises';
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
  tableBytes: Record<DataTable | 'meta' | 'end', number>;
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
  readonly tableBytes = Object.fromEntries([...DATA_TABLES, 'meta', 'end'].map((t) => [t, 0])) as Record<
    DataTable | 'meta' | 'end',
    number
  >;

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

  async json(table: 'meta' | 'end', value: unknown): Promise<void> {
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
    if (source.end !== null) await segments.json('end', source.end);
    await fh.sync();
    return {
      bytes: size,
      intervalCount: source.intervalCount,
      rows: segments.rows,
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
