// A reader of the container written from docs/session-format.md alone, sharing no code with the store:
// the independent reader tests and the crash tests use it to look at files without trusting the reader
// they test.
import { crc32, inflateSync } from 'node:zlib';

export const TABLE_NAMES: Record<number, string> = {
  1: 'meta',
  2: 'end',
  3: 'vmas',
  4: 'intervals',
  5: 'samples',
  6: 'heat',
  7: 'count_runs',
  8: 'counters',
};

export interface WalkedChunk {
  offset: number;
  end: number;
  table: string;
  /** Decompressed payload. */
  payload: Buffer;
}

/** Every valid chunk from the start, stopping silently at the first one that is cut short or fails its CRC. */
export function walkChunks(file: Buffer): WalkedChunk[] {
  if (file.subarray(0, 8).toString('latin1') !== '\x89TSS\r\n\x1a\n') throw new Error('not a session');
  const chunks: WalkedChunk[] = [];
  let pos = 16;
  while (pos + 16 <= file.length) {
    if (file.subarray(pos, pos + 4).toString('latin1') !== 'TCHK') break;
    const table = file.readUInt8(pos + 4);
    const codec = file.readUInt8(pos + 5);
    const length = file.readUInt32LE(pos + 8);
    const crc = file.readUInt32LE(pos + 12);
    const payload = file.subarray(pos + 16, pos + 16 + length);
    if (payload.length < length) break;
    if (crc32(payload, crc32(file.subarray(pos + 4, pos + 12))) !== crc) break;
    chunks.push({
      offset: pos,
      end: pos + 16 + length,
      table: TABLE_NAMES[table] ?? `table${table}`,
      payload: codec === 1 ? inflateSync(payload) : payload,
    });
    pos += 16 + length;
  }
  return chunks;
}
