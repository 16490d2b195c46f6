// Exports and copies written for the UI: complete files only, never over an existing one unless asked,
// never over the session itself, nothing left behind on failure.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSessionWriter, openSession } from '../../../electron/engine/session/index.js';
import { exportSessionFile, saveSessionCopy } from '../../../electron/engine/view/files.js';
import { expectTierscopeError, readAll, tempDir, writeSession } from '../session/helpers.js';
import { syntheticSession } from '../session/synthetic.js';

const temp = tempDir();
const synth = syntheticSession({ vmas: 12, intervals: 10, nodes: [0, 1], heatBucketsPerVma: 4 });
const records = synth.all();
let session: string;

beforeAll(async () => {
  session = temp('source.tierscope');
  await writeSession(session, synth.meta, records);
});

/** Names in the temp dir that look like our temp files (".name.exporting-…", ".name.compacting-…"). */
const leftovers = (): string[] => readdirSync(dirname(session)).filter((n) => n.startsWith('.'));

describe('exportSessionFile', () => {
  it('writes each format completely and reports its size', async () => {
    for (const format of ['json', 'csv', 'perfetto'] as const) {
      const out = temp(`export.${format}`);
      const written = await exportSessionFile(session, format, {
        path: out,
        overwrite: false,
        protectedPaths: [],
      });
      expect(written).toEqual({ path: out, bytes: statSync(out).size });
      const text = readFileSync(out, 'utf8');
      if (format === 'csv') expect(text.split('\n')[0]).toMatch(/^interval,start_ms,end_ms,vma_id/);
      else expect(() => JSON.parse(text) as unknown).not.toThrow();
      if (format === 'json') {
        expect((JSON.parse(text) as { intervals: unknown[] }).intervals).toHaveLength(records.length);
      }
    }
    expect(leftovers()).toEqual([]);
  });

  it('refuses an existing file unless overwrite, naming it; overwrite replaces it', async () => {
    const out = temp('taken.csv');
    writeFileSync(out, 'keep me');
    await expectTierscopeError(
      exportSessionFile(session, 'csv', { path: out, overwrite: false, protectedPaths: [] }),
      'invalid-argument',
      new RegExp(
        `^${out.replace(/[.]/g, '\\.')} already exists: choose another name, or allow overwriting it$`,
      ),
    );
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    await exportSessionFile(session, 'csv', { path: out, overwrite: true, protectedPaths: [] });
    expect(readFileSync(out, 'utf8')).toMatch(/^interval,/);
    expect(leftovers()).toEqual([]);
  });

  it('never writes over the session itself or a protected path, even with overwrite', async () => {
    const before = readFileSync(session);
    await expectTierscopeError(
      exportSessionFile(session, 'json', { path: session, overwrite: true, protectedPaths: [session] }),
      'invalid-argument',
      /it is the session itself/,
    );
    expect(readFileSync(session).equals(before)).toBe(true);
  });

  it('a failed export leaves nothing: no file under the name, no temp file', async () => {
    const out = temp('never.json');
    await expectTierscopeError(
      exportSessionFile(temp('missing.tierscope'), 'json', {
        path: out,
        overwrite: false,
        protectedPaths: [],
      }),
      'not-found',
      /no such file or directory/,
    );
    expect(() => statSync(out)).toThrow();
    expect(leftovers()).toEqual([]);
    await expectTierscopeError(
      exportSessionFile(session, 'json', {
        path: join(temp('no-dir'), 'x.json'),
        overwrite: false,
        protectedPaths: [],
      }),
      'not-found',
      /no such file or directory/,
    );
  });
});

describe('saveSessionCopy', () => {
  it('writes a compacted copy that reads back the same; refuses an existing name unless overwrite', async () => {
    const out = temp('copy.tierscope');
    const written = await saveSessionCopy(session, {
      path: out,
      overwrite: false,
      protectedPaths: [session],
    });
    expect(written).toEqual({ path: out, bytes: statSync(out).size });
    expect(await readAll(out)).toEqual(await readAll(session));
    await expectTierscopeError(
      saveSessionCopy(session, { path: out, overwrite: false, protectedPaths: [session] }),
      'invalid-argument',
      /copy\.tierscope already exists/,
    );
    await saveSessionCopy(session, { path: out, overwrite: true, protectedPaths: [session] });
    expect((await openSession(out)).endRecorded).toBe(true);
    expect(leftovers()).toEqual([]);
  });

  it('a session still being recorded is copied as far as it is written, without an end record', async () => {
    const live = temp('live.tierscope');
    const writer = await createSessionWriter(live, synth.meta, { compact: false });
    for (const r of records.slice(0, 4)) await writer.append(r);
    const out = temp('live-copy.tierscope');
    await saveSessionCopy(live, { path: out, overwrite: false, protectedPaths: [live] });
    const copy = await openSession(out);
    expect([copy.intervalCount, copy.endRecorded, copy.layout]).toEqual([4, false, 'compacted']);
    await writer.abort();
  });
});
