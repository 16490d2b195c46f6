// The container: a 16-byte file header, then framed chunks. This layer never changes between format
// versions (a change here would get a new file magic), so every build can at least walk any session and
// say which version wrote it. See docs/session-format.md for the byte layout.
import { open, type FileHandle } from 'node:fs/promises';
import { crc32, deflateSync, inflateSync } from 'node:zlib';
import { TierscopeError } from '../errors.js';

/** The newest format this build writes and reads. */
export const SESSION_FORMAT_VERSION = 2;

/** PNG-style: a high byte (catches 7-bit transfers), "TSS", CR LF (catches newline conversion), ^Z, LF. */
export const FILE_MAGIC = Uint8Array.from([0x89, 0x54, 0x53, 0x53, 0x0d, 0x0a, 0x1a, 0x0a]);
export const FILE_HEADER_BYTES = 16;
export const CHUNK_MAGIC = Uint8Array.from([0x54, 0x43, 0x48, 0x4b]); // "TCHK"
export const CHUNK_HEADER_BYTES = 16;
/** A chunk never inflates to more than this: bounds what a damaged or hostile file can make us allocate. */
export const MAX_CHUNK_DECODED_BYTES = 1 << 30;
const READ_AHEAD_BYTES = 1 << 20;

export const TABLE_IDS = {
  meta: 1,
  end: 2,
  vmas: 3,
  intervals: 4,
  samples: 5,
  heat: 6,
  count_runs: 7,
  counters: 8,
  // Format 2: one migration experiment (the contract's Experiment) as JSON, outside the interval groups.
  experiments: 9,
} as const;
export type TableName = keyof typeof TABLE_IDS;
const TABLE_BY_ID = new Map<number, TableName>(
  Object.entries(TABLE_IDS).map(([name, id]) => [id, name as TableName]),
);

export const CODECS = { none: 0, zlib: 1 } as const;

export type Layout = 'journal' | 'compacted';
const LAYOUT_BYTES: Record<Layout, number> = { journal: 0, compacted: 1 };

export function encodeFileHeader(version: number, layout: Layout): Buffer {
  const header = Buffer.alloc(FILE_HEADER_BYTES);
  header.set(FILE_MAGIC, 0);
  header.writeUInt32LE(version, 8);
  header.writeUInt8(LAYOUT_BYTES[layout], 12);
  return header;
}

/** CRC-32 (IEEE, as Python's zlib.crc32) over header bytes 4..12 (table, codec, reserved, length) + payload. */
function chunkCrc(header: Uint8Array, payload: Uint8Array): number {
  return crc32(payload, crc32(header.subarray(4, 12)));
}

/** Frames one chunk: the payload is compressed with zlib unless `level` is 0. */
export function encodeChunk(table: TableName, decoded: Uint8Array, level: number): Buffer {
  const payload = level === 0 ? decoded : deflateSync(decoded, { level });
  const header = Buffer.alloc(CHUNK_HEADER_BYTES);
  header.set(CHUNK_MAGIC, 0);
  header.writeUInt8(TABLE_IDS[table], 4);
  header.writeUInt8(level === 0 ? CODECS.none : CODECS.zlib, 5);
  header.writeUInt32LE(payload.length, 8);
  header.writeUInt32LE(chunkCrc(header, payload), 12);
  return Buffer.concat([header, payload]);
}

export interface FileHeader {
  version: number;
  layout: Layout;
}

export interface Chunk {
  /** Byte offset of the chunk header in the file. */
  offset: number;
  /** Offset one past the chunk's last byte. */
  end: number;
  table: TableName;
  /** The payload after decompression: JSON text (meta, end) or an Arrow IPC stream. */
  decoded: Buffer;
}

/**
 * Why a scan stopped before the end of the file.
 * - torn: the file ends inside a chunk, or nothing valid follows a damaged chunk: what a killed recorder
 *   (or a power loss after it) leaves. Everything before it is intact.
 * - bad: a damaged or invalid chunk with valid chunks after it, or a chunk that passed its checksum but
 *   cannot be decoded: the file was damaged after it was written, or written by something broken.
 */
export interface ScanStop {
  kind: 'torn' | 'bad';
  offset: number;
  reason: string;
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/** Names the format of a file that is not a session, from its first bytes, for the error message. */
export function sniffFormat(head: Uint8Array): string {
  const ascii = Buffer.from(head).toString('latin1');
  if (ascii.startsWith('ARROW1')) return 'an Arrow IPC file (open it with pyarrow.ipc.open_file)';
  if (startsWith(head, Uint8Array.from([0xff, 0xff, 0xff, 0xff]))) return 'an Arrow IPC stream';
  if (ascii.startsWith('PAR1')) return 'a Parquet file';
  if (startsWith(head, Uint8Array.from([0x1f, 0x8b]))) return 'a gzip file (decompress it first)';
  if (startsWith(head, Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd]))) return 'a zstd file (decompress it first)';
  if (ascii.startsWith('PK\x03\x04')) return 'a zip archive (extract it first)';
  if (ascii.startsWith('SQLite format 3')) return 'an SQLite database';
  if (ascii.startsWith('\x7fELF')) return 'an ELF executable';
  const trimmed = ascii.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    return 'a JSON document (perhaps `tierscope snapshot --json` output, which is not a recording)';
  }
  if (/^[\t\n\r\x20-\x7e]*$/.test(ascii)) return 'a text file';
  return 'unrecognised binary data';
}

function parseError(path: string, what: string): TierscopeError {
  return new TierscopeError('parse', `${path}: ${what}`);
}

/** Maps an fs error on the session file to a typed error naming the file and what to do. */
export function fileError(err: unknown, path: string, action: string): TierscopeError {
  if (err instanceof TierscopeError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const detail = err instanceof Error ? err.message : String(err);
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new TierscopeError('not-found', `cannot ${action} ${path}: no such file or directory`, {
        cause: err,
      });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new TierscopeError(
        'permission',
        `cannot ${action} ${path}: permission denied (${code}); choose a writable location or fix its permissions`,
        { cause: err },
      );
    case 'EEXIST':
      return new TierscopeError(
        'invalid-argument',
        `cannot ${action} ${path}: the file already exists; choose another name or pass --force to replace it`,
        { cause: err },
      );
    case 'EISDIR':
      return new TierscopeError('invalid-argument', `cannot ${action} ${path}: it is a directory`, {
        cause: err,
      });
    case 'ENOSPC':
    case 'EDQUOT':
      return new TierscopeError('io', `cannot ${action} ${path}: the disk is full (${code}); free space`, {
        cause: err,
      });
    default:
      return new TierscopeError('io', `cannot ${action} ${path}: ${detail}`, { cause: err });
  }
}

/** Reads chunks one by one, checking each; never writes. */
export class ChunkScanner {
  private pos = FILE_HEADER_BYTES;

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    readonly size: number,
    readonly header: FileHeader,
  ) {}

  /**
   * Opens and checks the header. Throws TierscopeError('parse') for anything that is not a session, and
   * for a session newer than `maxVersion`.
   */
  static async open(path: string, maxVersion: number): Promise<ChunkScanner> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      throw fileError(err, path, 'open session');
    }
    try {
      const stat = await fh.stat();
      if (!stat.isFile()) throw parseError(path, 'is not a regular file: pass the session file itself');
      const size = stat.size;
      const head = Buffer.alloc(Math.min(size, 64));
      await fh.read(head, 0, head.length, 0);
      if (size === 0) {
        throw parseError(
          path,
          'is empty (0 bytes): not a session, or its recorder stopped before writing anything',
        );
      }
      const magicPart = head.subarray(0, Math.min(size, FILE_MAGIC.length));
      if (!startsWith(FILE_MAGIC, magicPart)) {
        throw parseError(path, `is not a Tierscope session: it looks like ${sniffFormat(head)}`);
      }
      if (size < FILE_HEADER_BYTES) {
        throw parseError(
          path,
          `is truncated: ${size} bytes, shorter than the ${FILE_HEADER_BYTES}-byte session header (its recorder stopped before writing anything)`,
        );
      }
      const version = head.readUInt32LE(8);
      if (version > maxVersion) {
        throw parseError(
          path,
          `written by a newer Tierscope (format ${version}; this build reads up to ${maxVersion}): upgrade Tierscope`,
        );
      }
      const layout: Layout = head.readUInt8(12) === LAYOUT_BYTES.compacted ? 'compacted' : 'journal';
      return new ChunkScanner(path, fh, size, { version, layout });
    } catch (err) {
      await fh.close();
      throw err instanceof TierscopeError ? err : fileError(err, path, 'read session');
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  get offset(): number {
    return this.pos;
  }

  private ahead = Buffer.alloc(0);
  private aheadAt = 0;

  /**
   * Reads [offset, offset + length), or less at the end of the file. Small reads are served from a
   * read-ahead block: a journal is thousands of small chunks. Each refill is a new buffer, so slices
   * handed out earlier stay valid.
   */
  private async read(offset: number, length: number): Promise<Buffer> {
    const from = offset - this.aheadAt;
    if (from >= 0 && from + length <= this.ahead.length) return this.ahead.subarray(from, from + length);
    const want = Math.min(Math.max(length, READ_AHEAD_BYTES), Math.max(0, this.size - offset));
    const buf = Buffer.alloc(want);
    let done = 0;
    while (done < want) {
      const { bytesRead } = await this.fh.read(buf, done, want - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    this.ahead = buf.subarray(0, done);
    this.aheadAt = offset;
    return this.ahead.subarray(0, Math.min(length, done));
  }

  /** Checks the chunk framed at `offset` without decoding it: its end offset if valid, else null. */
  private async validAt(offset: number): Promise<number | null> {
    if (this.size - offset < CHUNK_HEADER_BYTES) return null;
    const header = await this.read(offset, CHUNK_HEADER_BYTES);
    if (!startsWith(header, CHUNK_MAGIC)) return null;
    const length = header.readUInt32LE(8);
    if (length > this.size - offset - CHUNK_HEADER_BYTES) return null;
    const payload = await this.read(offset + CHUNK_HEADER_BYTES, length);
    return chunkCrc(header, payload) === header.readUInt32LE(12)
      ? offset + CHUNK_HEADER_BYTES + length
      : null;
  }

  /** Offset of the first valid chunk after `from`, or null: decides torn tail versus damage in the middle. */
  private async findValidChunkAfter(from: number): Promise<number | null> {
    const BLOCK = 1 << 20;
    for (let start = from + 1; start < this.size; start += BLOCK) {
      const block = await this.read(start, Math.min(BLOCK + CHUNK_MAGIC.length - 1, this.size - start));
      let at = block.indexOf(CHUNK_MAGIC);
      while (at >= 0 && at < BLOCK) {
        if ((await this.validAt(start + at)) !== null) return start + at;
        at = block.indexOf(CHUNK_MAGIC, at + 1);
      }
    }
    return null;
  }

  private async damaged(offset: number, reason: string): Promise<ScanStop> {
    const next = await this.findValidChunkAfter(offset);
    return next === null
      ? { kind: 'torn', offset, reason }
      : { kind: 'bad', offset, reason: `${reason}, and valid data follows at byte ${next}` };
  }

  /** The next checked, decoded chunk; or `null` at a clean end of file; or why the scan must stop. */
  async next(): Promise<Chunk | ScanStop | null> {
    const offset = this.pos;
    const left = this.size - offset;
    if (left === 0) return null;
    if (left < CHUNK_HEADER_BYTES) {
      return this.damaged(
        offset,
        `the file ends ${left} bytes into a ${CHUNK_HEADER_BYTES}-byte chunk header`,
      );
    }
    const header = await this.read(offset, CHUNK_HEADER_BYTES);
    if (!startsWith(header, CHUNK_MAGIC))
      return this.damaged(offset, 'no chunk marker where a chunk should start');
    const length = header.readUInt32LE(8);
    if (length > left - CHUNK_HEADER_BYTES) {
      return this.damaged(
        offset,
        `the chunk is cut short (${length} payload bytes announced, ${left - CHUNK_HEADER_BYTES} present)`,
      );
    }
    const payload = await this.read(offset + CHUNK_HEADER_BYTES, length);
    if (chunkCrc(header, payload) !== header.readUInt32LE(12))
      return this.damaged(offset, 'checksum mismatch');
    // From here the bytes are exactly what a writer framed: problems are bad data, not damage.
    const end = offset + CHUNK_HEADER_BYTES + length;
    const tableId = header.readUInt8(4);
    const table = TABLE_BY_ID.get(tableId);
    if (table === undefined) return { kind: 'bad', offset, reason: `unknown table id ${tableId}` };
    const codec = header.readUInt8(5);
    let decoded: Buffer;
    if (codec === CODECS.none) {
      decoded = payload;
    } else if (codec === CODECS.zlib) {
      try {
        decoded = inflateSync(payload, { maxOutputLength: MAX_CHUNK_DECODED_BYTES });
      } catch (err) {
        return {
          kind: 'bad',
          offset,
          reason: `its ${table} payload does not decompress (${err instanceof Error ? err.message : String(err)})`,
        };
      }
    } else {
      return { kind: 'bad', offset, reason: `unknown codec ${codec} in a ${table} chunk` };
    }
    this.pos = end;
    return { offset, end, table, decoded };
  }
}
