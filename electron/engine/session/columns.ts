// Column sets: the store's in-memory currency between records, Arrow IPC and the model. A table is an
// ordered list of named typed arrays of equal length; specs say which Arrow type each one has on disk.
import {
  Bool,
  DataType,
  Field,
  FixedSizeList,
  List,
  Float64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Precision,
  Table,
  tableFromIPC,
  tableToIPC,
  Uint8,
  Uint32,
  Uint64,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { checkArrowStream } from './arrowCheck.js';

/**
 * On-disk kinds. `u8x` is a fixed-size list of uint8 (`width` per row), kept in memory row-major as one
 * Uint8Array; `bool` is kept in memory as a Uint8Array of 0/1.
 */
export type ColumnKind = 'u32' | 'u64' | 'f64' | 'bool' | 'utf8' | 'u8x' | 'list-u32' | 'list-u8';

export interface ColumnSpec {
  name: string;
  kind: ColumnKind;
  /** Row width of a `u8x` column. */
  width?: number;
}

export type ColumnValues = Uint32Array | BigUint64Array | Float64Array | Uint8Array | string[] | number[][];

export interface ColumnSet {
  rows: number;
  columns: Map<string, ColumnValues>;
}

/** Thrown by the decoders below; the caller wraps it into a TierscopeError that names file and chunk. */
export class ColumnError extends Error {
  override readonly name = 'ColumnError';
}

export function emptyValues(spec: ColumnSpec, rows: number): ColumnValues {
  switch (spec.kind) {
    case 'u32':
      return new Uint32Array(rows);
    case 'u64':
      return new BigUint64Array(rows);
    case 'f64':
      return new Float64Array(rows);
    case 'bool':
      return new Uint8Array(rows);
    case 'u8x':
      return new Uint8Array(rows * (spec.width ?? 0));
    case 'utf8':
      return new Array<string>(rows).fill('');
    case 'list-u32':
    case 'list-u8':
      return Array.from({ length: rows }, () => []);
  }
}

function rowWidth(spec: ColumnSpec): number {
  return spec.kind === 'u8x' ? (spec.width ?? 0) : 1;
}

function arrowType(spec: ColumnSpec): DataType {
  switch (spec.kind) {
    case 'u32':
      return new Uint32();
    case 'u64':
      return new Uint64();
    case 'f64':
      return new Float64();
    case 'bool':
      return new Bool();
    case 'utf8':
      return new Utf8();
    case 'u8x':
      return new FixedSizeList(spec.width ?? 0, new Field('item', new Uint8(), false));
    case 'list-u32':
      return new List(new Field('item', new Uint32(), false));
    case 'list-u8':
      return new List(new Field('item', new Uint8(), false));
  }
}

// ---- typed accessors (runtime-checked: a column's array type follows from its spec) ----

function get(set: ColumnSet, name: string): ColumnValues {
  const values = set.columns.get(name);
  if (values === undefined) throw new ColumnError(`column ${name} is missing`);
  return values;
}
export function u32(set: ColumnSet, name: string): Uint32Array {
  const v = get(set, name);
  if (!(v instanceof Uint32Array)) throw new ColumnError(`column ${name} is not uint32`);
  return v;
}
export function u64(set: ColumnSet, name: string): BigUint64Array {
  const v = get(set, name);
  if (!(v instanceof BigUint64Array)) throw new ColumnError(`column ${name} is not uint64`);
  return v;
}
export function f64(set: ColumnSet, name: string): Float64Array {
  const v = get(set, name);
  if (!(v instanceof Float64Array)) throw new ColumnError(`column ${name} is not float64`);
  return v;
}
export function u8(set: ColumnSet, name: string): Uint8Array {
  const v = get(set, name);
  if (!(v instanceof Uint8Array)) throw new ColumnError(`column ${name} is not uint8/bool`);
  return v;
}
export function strings(set: ColumnSet, name: string): string[] {
  const v = get(set, name);
  if (!Array.isArray(v) || (v.length > 0 && typeof v[0] !== 'string')) {
    throw new ColumnError(`column ${name} is not utf8`);
  }
  return v as string[];
}
export function lists(set: ColumnSet, name: string): number[][] {
  const v = get(set, name);
  if (!Array.isArray(v) || (v.length > 0 && !Array.isArray(v[0]))) {
    throw new ColumnError(`column ${name} is not a list`);
  }
  return v as number[][];
}

// ---- building ----

export function newColumnSet(specs: readonly ColumnSpec[], rows: number): ColumnSet {
  return { rows, columns: new Map(specs.map((s) => [s.name, emptyValues(s, rows)])) };
}

/** Concatenates sets of the same specs, in order. */
export function concatSets(specs: readonly ColumnSpec[], sets: readonly ColumnSet[]): ColumnSet {
  const only = sets.length === 1 ? sets[0] : undefined;
  if (only) return only; // nothing to join: no copy
  const rows = sets.reduce((n, s) => n + s.rows, 0);
  const out = newColumnSet(specs, rows);
  for (const spec of specs) {
    const target = get(out, spec.name);
    const w = rowWidth(spec);
    let at = 0;
    for (const set of sets) {
      const src = get(set, spec.name);
      if (Array.isArray(target)) {
        for (let i = 0; i < set.rows; i++) (target as unknown[])[at + i] = (src as unknown[])[i];
      } else {
        (target as Uint8Array).set(src as Uint8Array, at * w);
      }
      at += set.rows;
    }
  }
  return out;
}

/** Returns a new set whose row i is row order[i] of `set`. */
export function permuteSet(specs: readonly ColumnSpec[], set: ColumnSet, order: Uint32Array): ColumnSet {
  const out = newColumnSet(specs, order.length);
  for (const spec of specs) {
    const src = get(set, spec.name);
    const dst = get(out, spec.name);
    const w = rowWidth(spec);
    if (Array.isArray(src)) {
      for (let i = 0; i < order.length; i++) (dst as unknown[])[i] = src[order[i] ?? 0];
    } else if (w === 1) {
      const d = dst as Uint32Array;
      const s = src as Uint32Array;
      for (let i = 0; i < order.length; i++) d[i] = s[order[i] ?? 0] ?? 0;
    } else {
      const d = dst as Uint8Array;
      const s = src as Uint8Array;
      // Rows are a few dozen bytes (heat buckets): a byte loop beats a subarray + set per row.
      for (let i = 0, to = 0; i < order.length; i++) {
        const from = (order[i] ?? 0) * w;
        for (let b = 0; b < w; b++) d[to++] = s[from + b] ?? 0;
      }
    }
  }
  return out;
}

/** Row order sorting by `primary`, then `secondary`, then original position (so: stable). */
export function sortOrder(primary: Uint32Array, secondary: Uint32Array): Uint32Array {
  const order = new Uint32Array(primary.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort(
    (a, b) => (primary[a] ?? 0) - (primary[b] ?? 0) || (secondary[a] ?? 0) - (secondary[b] ?? 0) || a - b,
  );
  return order;
}

// ---- Arrow IPC ----

function columnData(spec: ColumnSpec, values: ColumnValues, rows: number) {
  switch (spec.kind) {
    case 'u32':
      return makeData({ type: new Uint32(), length: rows, nullCount: 0, data: values as Uint32Array });
    case 'u64':
      return makeData({ type: new Uint64(), length: rows, nullCount: 0, data: values as BigUint64Array });
    case 'f64':
      return makeData({ type: new Float64(), length: rows, nullCount: 0, data: values as Float64Array });
    case 'bool':
      return vectorFromArray(
        Array.from(values as Uint8Array, (b) => b !== 0),
        new Bool(),
      ).data[0];
    case 'utf8':
      return vectorFromArray(values as string[], new Utf8()).data[0];
    case 'u8x': {
      const width = spec.width ?? 0;
      const child = makeData({
        type: new Uint8(),
        length: rows * width,
        nullCount: 0,
        data: values as Uint8Array,
      });
      return makeData({
        type: new FixedSizeList(width, new Field('item', new Uint8(), false)),
        length: rows,
        nullCount: 0,
        child,
      });
    }
    case 'list-u32':
    case 'list-u8':
      // Variable-length lists exist only in format 0 files (written by the tests' v0 writer).
      return vectorFromArray(values as number[][], arrowType(spec)).data[0];
  }
}

/** Encodes a set as a complete Arrow IPC stream (schema, one record batch, end-of-stream marker). */
export function encodeArrowStream(
  specs: readonly ColumnSpec[],
  set: ColumnSet,
  metadata: ReadonlyMap<string, string>,
): Uint8Array {
  const fields = specs.map((s) => new Field(s.name, arrowType(s), false));
  const children = specs.map((s) => {
    const data = columnData(s, get(set, s.name), set.rows);
    if (data === undefined) throw new ColumnError(`column ${s.name} produced no data`);
    return data;
  });
  const schema = new Schema(fields, new Map(metadata));
  const struct = makeData({ type: new Struct(fields), length: set.rows, nullCount: 0, children });
  return tableToIPC(new Table([new RecordBatch(schema, struct)]), 'stream');
}

/** Parses an Arrow IPC stream; any failure of the Arrow reader becomes a ColumnError. */
export function decodeArrowStream(bytes: Uint8Array): Table {
  checkArrowStream(bytes);
  let table: Table;
  try {
    table = tableFromIPC(bytes);
  } catch (err) {
    throw new ColumnError(
      `not a valid Arrow IPC stream (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  // Every table has a uint32 column, so a real row count is bounded by the payload: a larger one is
  // damage, and must not make us allocate for it.
  if (table.numRows > bytes.length / 4) {
    throw new ColumnError(
      `an Arrow batch claims ${table.numRows} rows, more than its ${bytes.length} bytes can hold`,
    );
  }
  return table;
}

function isUnsignedInt(type: unknown, bits: number): boolean {
  return DataType.isInt(type) && !type.isSigned && type.bitWidth === bits;
}

function childType(type: { children: readonly { type: unknown }[] }): unknown {
  return type.children[0]?.type;
}

function kindMatches(spec: ColumnSpec, type: unknown): boolean {
  switch (spec.kind) {
    case 'u32':
      return isUnsignedInt(type, 32);
    case 'u64':
      return isUnsignedInt(type, 64);
    case 'f64':
      return DataType.isFloat(type) && type.precision === Precision.DOUBLE;
    case 'bool':
      return DataType.isBool(type);
    case 'utf8':
      return DataType.isUtf8(type);
    case 'u8x':
      return (
        DataType.isFixedSizeList(type) && type.listSize === spec.width && isUnsignedInt(childType(type), 8)
      );
    case 'list-u32':
      return DataType.isList(type) && isUnsignedInt(childType(type), 32);
    case 'list-u8':
      return DataType.isList(type) && isUnsignedInt(childType(type), 8);
  }
}

function describeType(spec: ColumnSpec): string {
  return spec.kind === 'u8x' ? `fixed_size_list<uint8>[${spec.width ?? 0}]` : spec.kind;
}

/**
 * Extracts the columns named by `specs` from an Arrow table, checking each one's type and that it has no
 * nulls (the store never writes any). Extra columns are ignored. Values are copied: Arrow's buffers are
 * views into the decompressed chunk and may be unaligned.
 */
export function tableToSet(table: Table, specs: readonly ColumnSpec[]): ColumnSet {
  const rows = table.numRows;
  const set = newColumnSet(specs, rows);
  for (const spec of specs) {
    const index = table.schema.fields.findIndex((f) => f.name === spec.name);
    const field = table.schema.fields[index];
    if (field === undefined) throw new ColumnError(`column ${spec.name} is missing`);
    const type: unknown = field.type;
    if (!kindMatches(spec, type)) {
      throw new ColumnError(`column ${spec.name} has type ${String(type)}, expected ${describeType(spec)}`);
    }
    const vector = table.getChildAt(index);
    if (vector === null) throw new ColumnError(`column ${spec.name} is missing`);
    if (vector.nullCount > 0) throw new ColumnError(`column ${spec.name} has null values`);
    const target = get(set, spec.name);
    let at = 0;
    for (const data of vector.data) {
      const n = data.length;
      // IPC-decoded data never has a slice offset; relying on that keeps the copies below simple.
      if (data.offset !== 0) throw new ColumnError(`column ${spec.name} is a slice`);
      switch (spec.kind) {
        case 'u32':
        case 'u64':
        case 'f64': {
          const src = data.values as Uint32Array;
          if (src.length < n) throw new ColumnError(`column ${spec.name} is shorter than its rows`);
          // One batch (the usual case): keep the decoded buffer as the column, no copy.
          if (vector.data.length === 1) set.columns.set(spec.name, src.subarray(0, n));
          else (target as Uint32Array).set(src.subarray(0, n), at);
          break;
        }
        case 'bool': {
          const bits = data.values as Uint8Array;
          if (bits.length * 8 < n) throw new ColumnError(`column ${spec.name} is shorter than its rows`);
          for (let i = 0; i < n; i++) (target as Uint8Array)[at + i] = ((bits[i >> 3] ?? 0) >> (i & 7)) & 1;
          break;
        }
        case 'utf8':
        case 'list-u32':
        case 'list-u8': {
          const arr = target as unknown[];
          for (let i = 0; i < n; i++) {
            const v: unknown = vector.get(at + i);
            if (spec.kind === 'utf8') {
              if (typeof v !== 'string')
                throw new ColumnError(`column ${spec.name} has a value that is not a string`);
              arr[at + i] = v;
            } else {
              if (v === null || typeof v !== 'object' || !(Symbol.iterator in v)) {
                throw new ColumnError(`column ${spec.name} has a value that is not a list`);
              }
              arr[at + i] = Array.from(v as Iterable<unknown>, Number);
            }
          }
          break;
        }
        case 'u8x': {
          const width = spec.width ?? 0;
          const child = data.children[0];
          if (child === undefined) throw new ColumnError(`column ${spec.name} has no values`);
          const src = (child.values as Uint8Array).subarray(0, n * width);
          if (src.length < n * width) throw new ColumnError(`column ${spec.name} is shorter than its rows`);
          if (vector.data.length === 1) set.columns.set(spec.name, src);
          else (target as Uint8Array).set(src, at * width);
          break;
        }
      }
      at += n;
    }
  }
  return set;
}
