// The session writer. While recording, the file is a journal: each interval is appended as one write
// of its chunks (intervals chunk last: it commits the rest) followed by fdatasync, so a recorder killed
// at any instant leaves every complete interval readable. close() appends the end record, syncs, then
// compacts into a new file that atomically replaces the journal.
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Experiment, type IntervalRecord, SessionEnd, SessionMeta } from '../../contract/index.js';
import { TierscopeError } from '../errors.js';
import { encodeArrowStream } from './columns.js';
import { compactInPlace, syncDir } from './compact.js';
import { encodeChunk, encodeFileHeader, fileError, SESSION_FORMAT_VERSION } from './format.js';
import { checkRecord, type RecordCheckState, recordToGroup } from './records.js';
import { DATA_TABLES, schemaMetadata, type TableSpecs, tableSpecs } from './schema.js';

/** Journal chunks trade size for speed: compaction recompresses at level 9. */
const JOURNAL_ZLIB_LEVEL = 6;

export interface SessionWriterOptions {
  /** Replace an existing file at the path (`--force`). Without it an existing file is an error. */
  force?: boolean;
  /** Compact on close (default true). Off leaves the journal form, e.g. to measure it. */
  compact?: boolean;
  /** fdatasync after every interval (default true). Off only where durability is not the point (benches). */
  sync?: boolean;
}

export interface SessionCloseResult {
  path: string;
  intervalCount: number;
  /** Size of the journal with its end record. */
  journalBytes: number;
  /** Final size of the file (the compacted size when compaction succeeded). */
  bytes: number;
  compacted: boolean;
  /** Why compaction failed; the complete journal is then kept as the session (it opens the same). */
  compactError?: string;
}

export interface SessionWriter {
  readonly path: string;
  /** Intervals durably written so far. */
  readonly intervalCount: number;
  /**
   * Appends one interval; resolves once it is on disk. Calls may overlap: they are written in call order.
   * A record the store cannot keep is rejected (TierscopeError 'invalid-argument') without touching the file.
   */
  append(interval: IntervalRecord): Promise<void>;
  /**
   * Appends a finished migration experiment (one self-contained chunk, synced like an interval). Writes
   * are in call order with the intervals. An invalid record is rejected without touching the file.
   */
  appendExperiment(experiment: Experiment): Promise<void>;
  /** Writes the end record, syncs, compacts. */
  close(end: SessionEnd): Promise<SessionCloseResult>;
  /**
   * Stops without an end record: the file stays as a crash would leave it (it opens as recorder-killed,
   * with every appended interval), except that a file with no interval at all is removed.
   */
  abort(): Promise<{ removed: boolean }>;
}

function invalidArgument(what: string): TierscopeError {
  return new TierscopeError('invalid-argument', what);
}

class JournalWriter implements SessionWriter {
  private size: number;
  private count = 0;
  private tail: Promise<void> = Promise.resolve();
  private failed: TierscopeError | null = null;
  private state: 'open' | 'closing' | 'closed' = 'open';
  private readonly check: RecordCheckState = { lastIndex: -1, knownVmas: new Set() };

  constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    private readonly meta: SessionMeta,
    private readonly specs: TableSpecs,
    headerBytes: number,
    private readonly options: SessionWriterOptions,
  ) {
    this.size = headerBytes;
  }

  get intervalCount(): number {
    return this.count;
  }

  /** Writes `bytes` at the committed end; on failure cuts back to it, so no torn bytes stay before later ones. */
  private async commit(bytes: Buffer, intervals: number): Promise<void> {
    if (this.failed !== null) throw this.failed;
    try {
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await this.fh.write(bytes, done, bytes.length - done, this.size + done);
        done += bytesWritten;
      }
      if (this.options.sync !== false) await this.fh.datasync();
    } catch (err) {
      await this.fh.truncate(this.size).catch(() => undefined);
      this.failed = fileError(err, this.path, 'write session');
      throw this.failed;
    }
    this.size += bytes.length;
    this.count += intervals;
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    const run = this.tail.then(job);
    this.tail = run.catch(() => undefined);
    return run;
  }

  append(interval: IntervalRecord): Promise<void> {
    try {
      if (this.state !== 'open') throw invalidArgument(`${this.path}: the session writer is already closed`);
      const rec = checkRecord(interval, this.meta, this.check);
      const group = recordToGroup(rec, this.meta, this.specs);
      const chunks: Buffer[] = [];
      for (const table of DATA_TABLES) {
        const set = group[table];
        if (set.rows === 0 && table !== 'intervals') continue;
        const ipc = encodeArrowStream(this.specs[table], set, schemaMetadata(table, SESSION_FORMAT_VERSION));
        chunks.push(encodeChunk(table, ipc, JOURNAL_ZLIB_LEVEL));
      }
      const bytes = Buffer.concat(chunks);
      return this.enqueue(() => this.commit(bytes, 1));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  appendExperiment(experiment: Experiment): Promise<void> {
    try {
      if (this.state !== 'open') throw invalidArgument(`${this.path}: the session writer is already closed`);
      const checked = Experiment.safeParse(experiment);
      if (!checked.success) {
        const issue = checked.error.issues[0];
        throw invalidArgument(
          `${this.path}: invalid experiment record (${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'})`,
        );
      }
      const chunk = encodeChunk('experiments', Buffer.from(JSON.stringify(checked.data)), JOURNAL_ZLIB_LEVEL);
      return this.enqueue(() => this.commit(chunk, 0));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  async close(end: SessionEnd): Promise<SessionCloseResult> {
    if (this.state !== 'open') throw invalidArgument(`${this.path}: the session writer is already closed`);
    const checked = SessionEnd.safeParse(end);
    if (!checked.success) {
      throw invalidArgument(
        `${this.path}: invalid end record (${checked.error.issues[0]?.message ?? 'invalid'})`,
      );
    }
    this.state = 'closing';
    try {
      await this.enqueue(() =>
        this.commit(encodeChunk('end', Buffer.from(JSON.stringify(checked.data)), 9), 0),
      );
    } finally {
      this.state = 'closed';
      await this.fh.close();
    }
    const journalBytes = this.size;
    const result: SessionCloseResult = {
      path: this.path,
      intervalCount: this.count,
      journalBytes,
      bytes: journalBytes,
      compacted: false,
    };
    if (this.options.compact === false) return result;
    try {
      const compacted = await compactInPlace(this.path);
      return { ...result, bytes: compacted.bytes, compacted: true };
    } catch (err) {
      return { ...result, compactError: err instanceof Error ? err.message : String(err) };
    }
  }

  async abort(): Promise<{ removed: boolean }> {
    if (this.state === 'closed') return { removed: false };
    this.state = 'closed';
    await this.tail;
    await this.fh.close();
    if (this.count > 0) return { removed: false };
    await unlink(this.path).catch(() => undefined);
    return { removed: true };
  }
}

/**
 * Creates a session file at `path` and writes its header and metadata durably. `meta.formatVersion` is
 * set to the version this build writes. Fails with a TierscopeError when the file exists (unless
 * `force`), the directory is missing or not writable, or `meta` is invalid.
 */
export async function createSessionWriter(
  path: string,
  meta: SessionMeta,
  options: SessionWriterOptions = {},
): Promise<SessionWriter> {
  const checked = SessionMeta.safeParse({ ...meta, formatVersion: SESSION_FORMAT_VERSION });
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw invalidArgument(
      `invalid session metadata: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const sessionMeta = checked.data;
  if (new Set(sessionMeta.nodes).size !== sessionMeta.nodes.length) {
    throw invalidArgument(`invalid session metadata: node ids repeat (${sessionMeta.nodes.join(',')})`);
  }
  if (options.force === true) {
    await unlink(path).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(err, path, 'replace');
    });
  }
  let fh: FileHandle;
  try {
    fh = await open(path, 'wx', 0o644);
  } catch (err) {
    throw fileError(err, path, 'create session');
  }
  try {
    const head = Buffer.concat([
      encodeFileHeader(SESSION_FORMAT_VERSION, 'journal'),
      encodeChunk('meta', Buffer.from(JSON.stringify(sessionMeta)), 9),
    ]);
    let done = 0;
    while (done < head.length) done += (await fh.write(head, done, head.length - done, done)).bytesWritten;
    await fh.datasync();
    await syncDir(dirname(path));
    return new JournalWriter(path, fh, sessionMeta, tableSpecs(sessionMeta), head.length, options);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw fileError(err, path, 'write session');
  }
}
