// Files that are not readable sessions: each must give one TierscopeError('parse') naming the file, the
// cause and the remedy, and must never be modified. Damage in the middle (unlike a torn tail) is an
// error, readable only on request (salvage).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { crc32, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { TierscopeError } from '../../../electron/engine/errors.js';
import { compactSession, openSession } from '../../../electron/engine/session/index.js';
import { expectTierscopeError, readAll, sha256, tempDir, writeSession } from './helpers.js';
import { canonical, syntheticSession } from './synthetic.js';
import { walkChunks } from './walk.js';

const file = tempDir();
const synth = syntheticSession({
  vmas: 4,
  intervals: 4,
  hotVmas: 1,
  heatBucketsPerVma: 2,
  scansPerWindow: 2,
});
const records = synth.all();

/** Frames a chunk by hand (independently of the store's encoder): any table id, codec and payload. */
function frame(tableId: number, codec: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(16);
  header.write('TCHK', 0, 'latin1');
  header.writeUInt8(tableId, 4);
  header.writeUInt8(codec, 5);
  header.writeUInt32LE(payload.length, 8);
  header.writeUInt32LE(crc32(payload, crc32(header.subarray(4, 12))), 12);
  return Buffer.concat([header, payload]);
}

async function journalBytes(name: string): Promise<Buffer> {
  const path = file(name);
  await writeSession(path, synth.meta, records, { compact: false });
  return readFileSync(path);
}

/** Writes `bytes`, expects the parse error, and checks the file was left as it was. */
async function expectBad(name: string, bytes: Buffer | string, message: RegExp): Promise<TierscopeError> {
  const path = file(name);
  writeFileSync(path, bytes);
  const before = sha256(path);
  const err = await expectTierscopeError(openSession(path), 'parse', message);
  expect(err.message).toContain(path);
  expect(sha256(path)).toBe(before);
  return err;
}

describe('not a session', () => {
  test.each([
    [
      'garbage.bin',
      Buffer.from([
        0x00, 0x13, 0x37, 0xfe, 0x81, 0x02, 0x99, 0x10, 0x00, 0x00, 0xff, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
      ]),
      /is not a Tierscope session: it looks like unrecognised binary data/,
    ],
    [
      'notes.txt',
      'these are my notes about the run\n',
      /is not a Tierscope session: it looks like a text file/,
    ],
    [
      'snapshot.json',
      '  {"formatVersion":1,"pid":42,"vmas":[]}',
      /it looks like a JSON document \(perhaps `tierscope snapshot --json` output/,
    ],
    [
      'table.arrow',
      Buffer.concat([Buffer.from('ARROW1\0\0'), Buffer.alloc(40)]),
      /it looks like an Arrow IPC file/,
    ],
    ['data.parquet', Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(40)]), /it looks like a Parquet file/],
    ['session.tierscope.gz', gzipSync(Buffer.from('x')), /it looks like a gzip file \(decompress it first\)/],
  ])('%s', async (name, bytes, message) => {
    await expectBad(name, bytes, message);
  });

  test('a directory, and a missing file', async () => {
    const dir = file('a-directory.tierscope');
    mkdirSync(dir);
    await expectTierscopeError(openSession(dir), 'parse', /a-directory\.tierscope: is not a regular file/);
    await expectTierscopeError(
      openSession(file('missing.tierscope')),
      'not-found',
      /missing\.tierscope: no such file/,
    );
  });
});

describe('versions', () => {
  test('a session from a newer Tierscope says so and what to do', async () => {
    const bytes = await journalBytes('v7-src.tierscope');
    bytes.writeUInt32LE(7, 8);
    await expectBad(
      'v7.tierscope',
      bytes,
      /v7\.tierscope: written by a newer Tierscope \(format 7; this build reads up to 2\): upgrade Tierscope$/,
    );
  });
});

describe('damage in the middle', () => {
  test('a CRC mismatch is an error naming the byte; salvage reads up to it; the file is untouched', async () => {
    const bytes = await journalBytes('crc-src.tierscope');
    const chunks = walkChunks(bytes);
    const target = chunks.filter((c) => c.table === 'samples')[2];
    if (target === undefined) throw new Error('no third samples chunk');
    bytes.writeUInt8(bytes.readUInt8(target.offset + 21) ^ 0x40, target.offset + 21); // one payload bit
    const err = await expectBad(
      'crc.tierscope',
      bytes,
      new RegExp(
        `damaged at byte ${target.offset}: checksum mismatch, and valid data follows at byte ${target.end}\\. The 2 intervals before it are intact: open it with salvage \\(--salvage\\)`,
      ),
    );
    expect(err.message).toMatch(/the file is left unchanged/);
    const path = file('crc.tierscope');
    const before = sha256(path);
    const salvaged = await openSession(path, { salvage: true });
    expect(salvaged.intervalCount).toBe(2);
    expect(salvaged.recovered?.reason).toMatch(/damaged at byte \d+: checksum mismatch/);
    expect(salvaged.recovered?.droppedBytes).toBe(
      bytes.length - (chunks.filter((c) => c.table === 'intervals')[1]?.end ?? 0),
    );
    expect(await readAll(path, { salvage: true })).toEqual(records.slice(0, 2).map(canonical));
    // Compacting a damaged file in place is refused; a copy elsewhere is fine, and the original stays.
    await expectTierscopeError(
      compactSession(path, path, { force: true, salvage: true }),
      'invalid-argument',
      /only partly readable.*another path/,
    );
    const copy = await compactSession(path, file('crc-salvaged.tierscope'), { salvage: true });
    expect(copy.intervalCount).toBe(2);
    expect(sha256(path)).toBe(before);
  });

  test('a flipped bit in a chunk header (length, table id) is caught by the checksum too', async () => {
    const bytes = await journalBytes('hdr-src.tierscope');
    const target = walkChunks(bytes).filter((c) => c.table === 'heat')[1];
    if (target === undefined) throw new Error('no heat chunk');
    const lengthFlip = Buffer.from(bytes);
    lengthFlip.writeUInt8(lengthFlip.readUInt8(target.offset + 8) ^ 0x01, target.offset + 8);
    await expectBad(
      'hdr-length.tierscope',
      lengthFlip,
      /damaged at byte \d+: (checksum mismatch|the chunk is cut short).*valid data follows/,
    );
    const tableFlip = Buffer.from(bytes);
    tableFlip[target.offset + 4] = 5; // heat → samples: a valid payload, routed to the wrong table
    await expectBad(
      'hdr-table.tierscope',
      tableFlip,
      new RegExp(`damaged at byte ${target.offset}: checksum mismatch`),
    );
  });

  test('chunks that pass their checksum but are not what a writer makes', async () => {
    const bytes = await journalBytes('forged-src.tierscope');
    const commits = walkChunks(bytes).filter((c) => c.table === 'intervals');
    const at = commits[0]?.end ?? 0;
    const splice = (chunk: Buffer): Buffer =>
      Buffer.concat([bytes.subarray(0, at), chunk, bytes.subarray(at)]);
    await expectBad(
      'forged-table.tierscope',
      splice(frame(99, 1, deflateSync('x'))),
      /damaged at byte \d+: unknown table id 99/,
    );
    await expectBad(
      'forged-codec.tierscope',
      splice(frame(5, 7, Buffer.from('x'))),
      /unknown codec 7 in a samples chunk/,
    );
    await expectBad(
      'forged-zlib.tierscope',
      splice(frame(5, 1, Buffer.from('not zlib'))),
      /its samples payload does not decompress/,
    );
    await expectBad(
      'forged-arrow.tierscope',
      splice(Buffer.concat([frame(5, 1, deflateSync('hello, not arrow')), frame(4, 0, Buffer.alloc(0))])),
      /damaged at byte \d+: .*(Arrow|arrow|metadata|bytes)/,
    );
    await expectBad(
      'forged-meta.tierscope',
      splice(frame(1, 1, deflateSync('{}'))),
      /a second metadata chunk/,
    );
    // A samples chunk of another session (other nodes) does not fit this one's columns.
    const other = syntheticSession({ vmas: 4, intervals: 1, nodes: [0, 3], heatBucketsPerVma: 2 });
    const otherPath = file('other-nodes.tierscope');
    await writeSession(otherPath, other.meta, other.all(), { compact: false });
    const foreign = walkChunks(readFileSync(otherPath)).find((c) => c.table === 'samples');
    if (foreign === undefined) throw new Error('no samples chunk');
    await expectBad(
      'forged-columns.tierscope',
      splice(
        Buffer.concat([
          frame(5, 0, foreign.payload),
          frame(4, 0, walkChunks(bytes)[2]?.payload ?? Buffer.alloc(0)),
        ]),
      ),
      /damaged at byte \d+: column n1_pages is missing/,
    );
  });

  test('data after the end record, and invalid metadata', async () => {
    const path = file('end-src.tierscope');
    await writeSession(path, synth.meta, records.slice(0, 2), { compact: false });
    const bytes = readFileSync(path);
    const intervals = walkChunks(bytes).find((c) => c.table === 'intervals');
    if (intervals === undefined) throw new Error('no intervals chunk');
    await expectBad(
      'after-end.tierscope',
      Buffer.concat([bytes, frame(4, 0, intervals.payload)]),
      /damaged at byte \d+: a chunk \(intervals\) follows the end record/,
    );
    const header = bytes.subarray(0, 16);
    const badMeta = { ...synth.meta, intervalMs: 'fast' };
    await expectBad(
      'bad-meta.tierscope',
      Buffer.concat([header, frame(1, 1, deflateSync(JSON.stringify(badMeta)))]),
      /bad-meta\.tierscope: damaged: its metadata is invalid \(intervalMs: /,
    );
    await expectBad(
      'json-meta.tierscope',
      Buffer.concat([header, frame(1, 0, Buffer.from('{oops'))]),
      /its metadata is not valid JSON/,
    );
    await expectBad(
      'first-not-meta.tierscope',
      Buffer.concat([header, frame(4, 0, intervals.payload)]),
      /its first chunk is intervals, not the session metadata/,
    );
  });
});
