import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import type { IntervalRecord, SessionEnd, SessionMeta } from '../../../electron/contract/index.js';
import { TierscopeError } from '../../../electron/engine/errors.js';
import {
  createSessionWriter,
  type OpenOptions,
  readSessionRecords,
  type SessionCloseResult,
  type SessionWriterOptions,
} from '../../../electron/engine/session/index.js';

/** A temp directory for this test file, removed after it. */
export function tempDir(): (name: string) => string {
  const dir = mkdtempSync(join(tmpdir(), 'tierscope-session-test-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return (name) => join(dir, name);
}

export const END: SessionEnd = { endedAt: '2025-01-02T03:14:05.000Z', reason: 'stopped', detail: 'Ctrl-C' };

export async function writeSession(
  path: string,
  meta: SessionMeta,
  records: IntervalRecord[],
  options: SessionWriterOptions & { end?: SessionEnd | null } = {},
): Promise<SessionCloseResult | null> {
  const writer = await createSessionWriter(path, meta, options);
  for (const rec of records) await writer.append(rec);
  if (options.end === null) {
    await writer.abort();
    return null;
  }
  return writer.close(options.end ?? END);
}

export async function readAll(path: string, options: OpenOptions = {}): Promise<IntervalRecord[]> {
  const out: IntervalRecord[] = [];
  for await (const rec of readSessionRecords(path, options)) out.push(rec);
  return out;
}

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Awaits a rejection and checks it is a TierscopeError of `code` whose message matches. */
export async function expectTierscopeError(
  promise: Promise<unknown>,
  code: TierscopeError['code'],
  message: RegExp,
): Promise<TierscopeError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a rejection').toBeInstanceOf(TierscopeError);
  const err = caught as TierscopeError;
  expect(err.code).toBe(code);
  expect(err.message).toMatch(message);
  return err;
}
