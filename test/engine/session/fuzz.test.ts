// Property tests: whatever happens to a session's bytes, opening it gives either TierscopeError('parse')
// or a valid session. With the checksums intact-or-failing (random mutations, cuts, insertions), an
// accepted session is exactly a prefix of what was recorded. With checksums recomputed over mutated
// payloads (what a broken writer or a crafted file looks like), every accepted record is still a valid
// IntervalRecord.
import fc from 'fast-check';
import { readFileSync, writeFileSync } from 'node:fs';
import { crc32, deflateSync, inflateSync } from 'node:zlib';
import { beforeAll, describe, expect, test } from 'vitest';
import { IntervalRecord, SessionMeta } from '../../../electron/contract/index.js';
import { TierscopeError } from '../../../electron/engine/errors.js';
import { compactSession, openSession, type OpenOptions } from '../../../electron/engine/session/index.js';
import { readAll, tempDir, writeSession } from './helpers.js';
import { canonical, syntheticSession } from './synthetic.js';
import { walkChunks } from './walk.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 250);
const file = tempDir();
const synth = syntheticSession({
  vmas: 4,
  intervals: 5,
  hotVmas: 1,
  heatBucketsPerVma: 3,
  scansPerWindow: 2,
});
const recorded = synth.all();
const records = recorded.map(canonical);
const originals: Record<'journal' | 'compacted', Buffer> = {
  journal: Buffer.alloc(0),
  compacted: Buffer.alloc(0),
};

beforeAll(async () => {
  await writeSession(file('fuzz-journal.tierscope'), synth.meta, recorded, { compact: false });
  originals.journal = readFileSync(file('fuzz-journal.tierscope'));
  await compactSession(file('fuzz-journal.tierscope'), file('fuzz-compacted.tierscope'));
  originals.compacted = readFileSync(file('fuzz-compacted.tierscope'));
});

type Outcome = { kind: 'error' } | { kind: 'session'; intervals: number; records: IntervalRecord[] };

/** Opens and reads `bytes`; anything thrown other than TierscopeError('parse') fails the property. */
async function outcome(bytes: Uint8Array, options: OpenOptions = {}): Promise<Outcome> {
  const path = file('fuzz-case.tierscope');
  writeFileSync(path, bytes);
  try {
    const session = await openSession(path, options);
    const read = await readAll(path, options);
    expect(SessionMeta.safeParse(session.meta).success).toBe(true);
    expect(read).toHaveLength(session.intervalCount);
    for (const rec of read)
      expect(IntervalRecord.safeParse(rec).success, JSON.stringify(rec).slice(0, 200)).toBe(true);
    return { kind: 'session', intervals: session.intervalCount, records: read };
  } catch (err) {
    if (err instanceof TierscopeError && err.code === 'parse') {
      expect(err.message).toContain(path);
      return { kind: 'error' };
    }
    throw err;
  }
}

/** Where in the file, as a fraction of its length (unbiased: fast-check leans to small integers, i.e. to the header). */
const at = fc.noBias(fc.integer({ min: 0, max: 999_999 })).map((n) => n / 1_000_000);
const mutation = fc.oneof(
  fc.record({ op: fc.constant('set' as const), at, value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('flip' as const), at, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('cut' as const), at }),
  fc.record({
    op: fc.constant('insert' as const),
    at,
    bytes: fc.uint8Array({ minLength: 1, maxLength: 20 }),
  }),
  fc.record({ op: fc.constant('delete' as const), at, length: fc.integer({ min: 1, max: 40 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function apply(bytes: Buffer, mutations: Mutation[]): Buffer {
  let out = Buffer.from(bytes);
  for (const m of mutations) {
    if (out.length === 0) break;
    const at = Math.min(out.length - 1, Math.floor(m.at * out.length));
    switch (m.op) {
      case 'set':
        out[at] = m.value;
        break;
      case 'flip':
        out[at] = (out[at] ?? 0) ^ (1 << m.bit);
        break;
      case 'cut':
        out = out.subarray(0, at);
        break;
      case 'insert':
        out = Buffer.concat([out.subarray(0, at), m.bytes, out.subarray(at)]);
        break;
      case 'delete':
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + m.length)]);
        break;
    }
  }
  return out;
}

describe.each(['journal', 'compacted'] as const)('random damage to a %s file', (form) => {
  test('gives a parse error or an exact prefix of the recording', async () => {
    const seen = { error: 0, partial: 0, whole: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        async (mutations, salvage) => {
          const result = await outcome(apply(originals[form], mutations), { salvage });
          if (result.kind === 'session') {
            expect(result.records).toEqual(records.slice(0, result.intervals));
            seen[result.intervals === records.length ? 'whole' : 'partial']++;
          } else {
            seen.error++;
          }
        },
      ),
      { numRuns: RUNS },
    );
    // The property was exercised on every branch, not vacuously.
    expect(seen.error).toBeGreaterThan(0);
    expect(seen.partial).toBeGreaterThan(0);
  });
});

/** Re-frames a chunk around a new payload with a valid checksum. */
function reframe(table: number, decoded: Buffer): Buffer {
  const payload = deflateSync(decoded);
  const header = Buffer.alloc(16);
  header.write('TCHK', 0, 'latin1');
  header.writeUInt8(table, 4);
  header.writeUInt8(1, 5);
  header.writeUInt32LE(payload.length, 8);
  header.writeUInt32LE(crc32(payload, crc32(header.subarray(4, 12))), 12);
  return Buffer.concat([header, payload]);
}

describe.each(['journal', 'compacted'] as const)(
  'mutated payloads with valid checksums in a %s file',
  (form) => {
    test('give a parse error or a session of valid records', async () => {
      const bytes = originals[form];
      const chunks = walkChunks(bytes);
      const seen = { error: 0, session: 0 };
      await fc.assert(
        fc.asyncProperty(
          fc.nat(),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
          async (which, edits) => {
            const chunk = chunks[which % chunks.length];
            if (chunk === undefined) return;
            const payload = Buffer.from(inflateSync(bytes.subarray(chunk.offset + 16, chunk.end)));
            for (const [at, value] of edits) if (payload.length > 0) payload[at % payload.length] = value;
            const mutated = Buffer.concat([
              bytes.subarray(0, chunk.offset),
              reframe(bytes.readUInt8(chunk.offset + 4), payload),
              bytes.subarray(chunk.end),
            ]);
            seen[(await outcome(mutated)).kind]++;
          },
        ),
        { numRuns: RUNS },
      );
      expect(seen.error).toBeGreaterThan(0);
      expect(seen.session).toBeGreaterThan(0);
    });
  },
);
