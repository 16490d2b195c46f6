// Walks a session file group by group: checks and decodes chunks, upgrades older formats, applies the
// commit rule (rows count only once the `intervals` chunk that closes their group is read) and decides
// what a damaged file means. Never writes to the file.
import { Experiment, SessionEnd, SessionMeta } from '../../contract/index.js';
import { TierscopeError } from '../errors.js';
import {
  type ColumnSet,
  ColumnError,
  concatSets,
  decodeArrowStream,
  newColumnSet,
  tableToSet,
  u32,
} from './columns.js';
import { type Chunk, ChunkScanner, type Layout, SESSION_FORMAT_VERSION, type ScanStop } from './format.js';
import { checkGroupRows, checkGroupValues, type Group, groupIntervals, vmaRows } from './records.js';
import { DATA_TABLES, type DataTable, type TableSpecs } from './schema.js';
import { OLDEST_READABLE_VERSION, specsForVersion, type Upgrader, upgradeChain } from './upgrade.js';

/** What was left out when a file was read only in part. The file itself is never changed. */
export interface Recovered {
  /** Bytes after the last complete group (or end record) that were not read. */
  droppedBytes: number;
  reason: string;
}

export interface OpenOptions {
  /**
   * Read a file damaged in the middle up to the damage instead of failing. Off by default: damage in the
   * middle is not what a crash leaves, so the user should know before trusting a partial session.
   */
  salvage?: boolean;
}

type Json = Record<string, unknown>;

function parseJson(bytes: Buffer, what: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new ColumnError(
      `its ${what} is not valid JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ColumnError(`its ${what} is not a JSON object`);
  }
  return value as Json;
}

function firstIssue(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  const issue = error.issues[0];
  return issue === undefined
    ? 'invalid'
    : `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`;
}

export class SessionFileReader {
  end: SessionEnd | null = null;
  recovered: Recovered | null = null;
  /** Migration experiments (format 2+), in file order; a later record of the same id replaces an earlier one. */
  experiments: Experiment[] = [];
  intervalCount = 0;
  private committedEnd: number;
  private lastIndex = -1;
  private readonly knownVmas = new Set<number>();

  private constructor(
    readonly path: string,
    private readonly scanner: ChunkScanner,
    readonly meta: SessionMeta,
    /** Meta JSON at each step of the upgrade chain: metas[0] is the file's own. */
    private readonly metas: Json[],
    private readonly chain: Upgrader[],
    private readonly fileSpecs: TableSpecs,
    private readonly options: OpenOptions,
  ) {
    this.committedEnd = scanner.offset;
  }

  /** Format version the file was written in (before any upgrade). */
  get fileVersion(): number {
    return this.scanner.header.version;
  }
  get layout(): Layout {
    return this.scanner.header.layout;
  }
  get fileBytes(): number {
    return this.scanner.size;
  }

  private static fail(path: string, what: string): TierscopeError {
    return new TierscopeError('parse', `${path}: ${what}`);
  }

  static async open(path: string, options: OpenOptions = {}): Promise<SessionFileReader> {
    const scanner = await ChunkScanner.open(path, SESSION_FORMAT_VERSION);
    try {
      const version = scanner.header.version;
      if (version < OLDEST_READABLE_VERSION) {
        throw SessionFileReader.fail(
          path,
          `format ${version} is older than any this build reads (oldest: ${OLDEST_READABLE_VERSION}); open it with an older Tierscope and export it`,
        );
      }
      const first = await scanner.next();
      if (first !== null && 'kind' in first && first.kind === 'bad') {
        throw SessionFileReader.fail(
          path,
          `damaged at byte ${first.offset}: ${first.reason}; its session metadata is unreadable, and without it nothing in the file can be read`,
        );
      }
      if (first === null || 'kind' in first) {
        const why = first === null ? 'the file ends after its header' : first.reason;
        throw SessionFileReader.fail(
          path,
          `holds no session metadata (${why}): its recorder stopped before recording anything`,
        );
      }
      if (first.table !== 'meta') {
        throw SessionFileReader.fail(
          path,
          `damaged: its first chunk is ${first.table}, not the session metadata`,
        );
      }
      const chain = upgradeChain(version);
      const metas: Json[] = [];
      let fileSpecs: TableSpecs;
      let meta: SessionMeta;
      try {
        metas.push(parseJson(first.decoded, 'metadata'));
        for (const step of chain) metas.push(step.meta(metas[metas.length - 1] ?? {}));
        fileSpecs = specsForVersion(version, metas[0] ?? {});
        const checked = SessionMeta.safeParse(metas[metas.length - 1]);
        if (!checked.success) throw new ColumnError(`its metadata is invalid (${firstIssue(checked.error)})`);
        meta = checked.data;
      } catch (err) {
        if (err instanceof ColumnError) {
          throw SessionFileReader.fail(
            path,
            `damaged: ${err.message}; without valid metadata nothing in it can be read`,
          );
        }
        throw err;
      }
      return new SessionFileReader(path, scanner, meta, metas, chain, fileSpecs, options);
    } catch (err) {
      await scanner.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.scanner.close();
  }

  /** Handles a stop: a torn tail is recovered; damage throws unless salvaging. */
  private stop(stop: ScanStop, pendingGroup: boolean): void {
    const droppedBytes = this.fileBytes - this.committedEnd;
    if (stop.kind === 'torn') {
      const partial = pendingGroup
        ? '; the interval being written when the recorder stopped is left out'
        : '';
      this.recovered = { droppedBytes, reason: `${stop.reason} at byte ${stop.offset}${partial}` };
      return;
    }
    const where = `damaged at byte ${stop.offset}: ${stop.reason}`;
    if (this.options.salvage === true) {
      this.recovered = { droppedBytes, reason: where };
      return;
    }
    const n = this.intervalCount;
    throw SessionFileReader.fail(
      this.path,
      `${where}. The ${n} interval${n === 1 ? '' : 's'} before it ${n === 1 ? 'is' : 'are'} intact: open it with salvage (--salvage) to read ${n === 1 ? 'it' : 'them'}; the file is left unchanged`,
    );
  }

  private decodeGroup(chunks: Map<DataTable, Buffer[]>): Group {
    const raw = {} as Group;
    for (const table of DATA_TABLES) {
      const specs = this.fileSpecs[table];
      const sets: ColumnSet[] = (chunks.get(table) ?? []).map((bytes) =>
        tableToSet(decodeArrowStream(bytes), specs),
      );
      raw[table] =
        sets.length === 1
          ? (sets[0] as ColumnSet)
          : sets.length === 0
            ? newColumnSet(specs, 0)
            : concatSets(specs, sets);
    }
    let group = raw;
    this.chain.forEach((step, k) => {
      group = step.group(group, this.metas[k] ?? {}, this.metas[k + 1] ?? {});
    });
    const positions = groupIntervals(group);
    checkGroupRows(group, positions);
    checkGroupValues(group);
    const first = u32(group.intervals, 'interval')[0];
    if (first !== undefined && first <= this.lastIndex) {
      throw new ColumnError(`interval ${first} comes after interval ${this.lastIndex}`);
    }
    vmaRows(group.vmas); // checks every VMA kind, so the model never meets an unknown one
    for (const id of u32(group.vmas, 'vma_id')) {
      if (this.knownVmas.has(id)) throw new ColumnError(`VMA ${id} is introduced twice`);
      this.knownVmas.add(id);
    }
    for (const table of ['samples', 'heat'] as const) {
      for (const id of u32(group[table], 'vma_id')) {
        if (!this.knownVmas.has(id))
          throw new ColumnError(`a ${table} row refers to VMA ${id}, which was never introduced`);
      }
    }
    this.lastIndex = u32(group.intervals, 'interval').at(-1) ?? this.lastIndex;
    return group;
  }

  private readEnd(chunk: Chunk): SessionEnd {
    let json = parseJson(chunk.decoded, 'end record');
    for (const step of this.chain) json = step.end(json);
    const checked = SessionEnd.safeParse(json);
    if (!checked.success) throw new ColumnError(`its end record is invalid (${firstIssue(checked.error)})`);
    return checked.data;
  }

  private readExperiment(chunk: Chunk): void {
    if (this.fileVersion < 2)
      throw new ColumnError(`an experiments chunk in a format ${this.fileVersion} file`);
    const checked = Experiment.safeParse(parseJson(chunk.decoded, 'experiment record'));
    if (!checked.success)
      throw new ColumnError(`an experiment record is invalid (${firstIssue(checked.error)})`);
    const at = this.experiments.findIndex((e) => e.id === checked.data.id);
    if (at >= 0) this.experiments[at] = checked.data;
    else this.experiments.push(checked.data);
  }

  /**
   * Yields every committed group, checked and upgraded to the current format. When it returns, `end`,
   * `recovered` and `intervalCount` are final. Throws TierscopeError('parse') on damage (unless salvaging).
   */
  async *groups(): AsyncGenerator<Group, void, undefined> {
    let pending = new Map<DataTable, Buffer[]>();
    let groupStart = this.committedEnd;
    for (;;) {
      const next = await this.scanner.next();
      if (next === null) {
        if (pending.size > 0) {
          this.stop({ kind: 'torn', offset: groupStart, reason: 'the file ends inside an interval' }, true);
        }
        return;
      }
      if ('kind' in next) {
        this.stop(next, pending.size > 0);
        return;
      }
      if (this.end !== null) {
        this.stop(
          { kind: 'bad', offset: next.offset, reason: `a chunk (${next.table}) follows the end record` },
          false,
        );
        return;
      }
      try {
        switch (next.table) {
          case 'meta':
            throw new ColumnError('a second metadata chunk');
          case 'experiments':
            // Self-contained: not part of a group, committed by its own checksum.
            this.readExperiment(next);
            if (pending.size === 0) {
              this.committedEnd = next.end;
              groupStart = next.end;
            }
            break;
          case 'end':
            if (pending.size > 0) throw new ColumnError('the end record follows rows no interval committed');
            this.end = this.readEnd(next);
            this.committedEnd = next.end;
            break;
          case 'intervals': {
            const list = pending.get('intervals') ?? [];
            list.push(next.decoded);
            pending.set('intervals', list);
            const group = this.decodeGroup(pending);
            pending = new Map();
            this.committedEnd = next.end;
            groupStart = next.end;
            this.intervalCount += group.intervals.rows;
            yield group;
            break;
          }
          case 'vmas':
          case 'samples':
          case 'heat':
          case 'count_runs':
          case 'counters': {
            const list = pending.get(next.table) ?? [];
            list.push(next.decoded);
            pending.set(next.table, list);
            break;
          }
        }
      } catch (err) {
        // Anything a checksummed chunk's contents make the decoders throw (ColumnError, or an Arrow
        // reader error on crafted input) means bad data, never a crash.
        const reason = err instanceof Error ? err.message : String(err);
        this.stop(
          { kind: 'bad', offset: next.table === 'intervals' ? groupStart : next.offset, reason },
          false,
        );
        return;
      }
    }
  }
}
