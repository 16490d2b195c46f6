// A bounds check of an Arrow IPC stream's flatbuffer metadata, run before apache-arrow decodes it.
// apache-arrow trusts the counts in the metadata: a record batch whose buffer count reads 469 million
// makes it build 469 million objects and run the process out of memory. Real counts are bounded by the
// bytes that hold them, so every vector length is checked against those bytes (and every offset against
// the buffer) first. Only what the store writes is accepted: no dictionaries, tensors or compression.
// Layout: https://arrow.apache.org/docs/format/Columnar.html#serialization-and-interprocess-communication-ipc
// (Message.fbs / Schema.fbs: vtable slot n sits at vtable offset 4 + 2n).
import { ColumnError } from './columns.js';

const HEADER_SCHEMA = 1;
const HEADER_RECORD_BATCH = 3;
const MAX_FIELD_DEPTH = 8;

class FlatView {
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private need(pos: number, size: number): void {
    if (!Number.isInteger(pos) || pos < 0 || pos + size > this.bytes.length) {
      throw new ColumnError('Arrow metadata points outside itself');
    }
  }
  u8(pos: number): number {
    this.need(pos, 1);
    return this.view.getUint8(pos);
  }
  u16(pos: number): number {
    this.need(pos, 2);
    return this.view.getUint16(pos, true);
  }
  u32(pos: number): number {
    this.need(pos, 4);
    return this.view.getUint32(pos, true);
  }
  i32(pos: number): number {
    this.need(pos, 4);
    return this.view.getInt32(pos, true);
  }
  /** int64 as a number; values beyond 2^53 only ever mean damage, and compare as huge. */
  i64(pos: number): number {
    this.need(pos, 8);
    return Number(this.view.getBigInt64(pos, true));
  }
  /** Position of field `slot` of the table at `table`, or null when absent. */
  field(table: number, slot: number): number | null {
    const vtable = table - this.i32(table);
    const vtableBytes = this.u16(vtable);
    const at = 4 + 2 * slot;
    if (at + 2 > vtableBytes) return null;
    const offset = this.u16(vtable + at);
    return offset === 0 ? null : table + offset;
  }
  /** Position of the table referenced from field `slot`, or null. */
  table(table: number, slot: number): number | null {
    const pos = this.field(table, slot);
    return pos === null ? null : pos + this.u32(pos);
  }
  /** Start and length of the vector in field `slot`, checked to fit with `elementBytes` per element. */
  vector(table: number, slot: number, elementBytes: number): { start: number; length: number } {
    const pos = this.field(table, slot);
    if (pos === null) return { start: 0, length: 0 };
    const vec = pos + this.u32(pos);
    const length = this.u32(vec);
    if (vec + 4 + length * elementBytes > this.bytes.length) {
      throw new ColumnError(`Arrow metadata claims ${length} entries in ${this.bytes.length} bytes`);
    }
    return { start: vec + 4, length };
  }
  /** The tables of a vector of tables. */
  tables(table: number, slot: number): number[] {
    const { start, length } = this.vector(table, slot, 4);
    return Array.from({ length }, (_, i) => start + 4 * i + this.u32(start + 4 * i));
  }
}

function checkKeyValues(fb: FlatView, table: number, slot: number): void {
  for (const kv of fb.tables(table, slot)) {
    for (const s of [0, 1]) {
      const pos = fb.field(kv, s);
      if (pos !== null) fb.vector(kv, s, 1);
    }
  }
}

function checkField(fb: FlatView, field: number, depth: number): void {
  if (depth > MAX_FIELD_DEPTH) throw new ColumnError('Arrow schema nests deeper than the store ever writes');
  if (fb.field(field, 0) !== null) fb.vector(field, 0, 1); // name
  if (fb.field(field, 4) !== null)
    throw new ColumnError('Arrow schema uses a dictionary, which the store never writes');
  checkKeyValues(fb, field, 6);
  for (const child of fb.tables(field, 5)) checkField(fb, child, depth + 1);
}

/** Throws ColumnError unless every message of the stream is within bounds and of a kind the store writes. */
export function checkArrowStream(bytes: Uint8Array): void {
  const whole = new FlatView(bytes);
  const maxRows = bytes.length * 8;
  let pos = 0;
  let sawSchema = false;
  while (pos < bytes.length) {
    if (bytes.length - pos < 8) throw new ColumnError('Arrow stream ends inside a message header');
    if (whole.i32(pos) !== -1) throw new ColumnError('Arrow stream lacks a message marker');
    const metaBytes = whole.i32(pos + 4);
    if (metaBytes === 0) return; // end-of-stream marker
    if (metaBytes < 0 || pos + 8 + metaBytes > bytes.length) {
      throw new ColumnError(`an Arrow message claims ${metaBytes} metadata bytes`);
    }
    const fb = new FlatView(bytes.subarray(pos + 8, pos + 8 + metaBytes));
    const message = fb.u32(0);
    const headerPos = fb.field(message, 1);
    const headerType = headerPos === null ? 0 : fb.u8(headerPos);
    const bodyPos = fb.field(message, 3);
    const bodyBytes = bodyPos === null ? 0 : fb.i64(bodyPos);
    const rest = bytes.length - (pos + 8 + metaBytes);
    if (bodyBytes < 0 || bodyBytes > rest)
      throw new ColumnError(`an Arrow message claims a ${bodyBytes}-byte body`);
    checkKeyValues(fb, message, 4);
    const header = fb.table(message, 2);
    if (header === null) throw new ColumnError('an Arrow message has no header');
    switch (headerType) {
      case HEADER_SCHEMA:
        if (sawSchema) throw new ColumnError('an Arrow stream has two schemas');
        sawSchema = true;
        for (const field of fb.tables(header, 1)) checkField(fb, field, 0);
        checkKeyValues(fb, header, 2);
        fb.vector(header, 3, 8);
        break;
      case HEADER_RECORD_BATCH: {
        if (!sawSchema) throw new ColumnError('an Arrow record batch comes before its schema');
        const lengthPos = fb.field(header, 0);
        const rows = lengthPos === null ? 0 : fb.i64(lengthPos);
        if (rows < 0 || rows > maxRows) throw new ColumnError(`an Arrow record batch claims ${rows} rows`);
        const nodes = fb.vector(header, 1, 16);
        for (let i = 0; i < nodes.length; i++) {
          const n = fb.i64(nodes.start + 16 * i);
          if (n < 0 || n > maxRows) throw new ColumnError(`an Arrow column claims ${n} values`);
        }
        fb.vector(header, 2, 16);
        if (fb.field(header, 3) !== null)
          throw new ColumnError('an Arrow record batch is compressed, which the store never does');
        fb.vector(header, 4, 8);
        break;
      }
      default:
        throw new ColumnError(`an Arrow message of kind ${headerType}, which the store never writes`);
    }
    pos += 8 + metaBytes + bodyBytes;
  }
}
