// Paths and loaders for the procfs fixtures (test/fixtures/procfs/*/{maps,smaps,numa_maps}).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { TierscopeError } from '../../../electron/engine/errors.js';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/procfs/', import.meta.url));

/** Real captures (capture/capture.sh) and the hand-written multi-node set. */
export type FixtureName = 'zoo' | 'sleep' | 'node' | 'kthread' | 'multinode';

export function fixture(name: FixtureName, file: 'maps' | 'smaps' | 'numa_maps'): string {
  return readFileSync(`${FIXTURES}${name}/${file}`, 'utf8');
}

/** Runs fn and asserts it throws a TierscopeError('parse') whose message contains every fragment. */
export function expectParseError(fn: () => unknown, ...fragments: string[]): void {
  let caught: unknown = null;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(TierscopeError);
  const err = caught as TierscopeError;
  expect(err.code).toBe('parse');
  for (const fragment of fragments) expect(err.message).toContain(fragment);
}

export function sum(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/** Awaits a promise that must reject with a TierscopeError of this code whose message matches. */
export async function expectRejection(
  promise: Promise<unknown>,
  code: string,
  message: RegExp,
): Promise<void> {
  let caught: unknown = null;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(TierscopeError);
  expect((caught as TierscopeError).code).toBe(code);
  expect((caught as TierscopeError).message).toMatch(message);
}

/** Runs fn and asserts it throws a TierscopeError of this code whose message matches. */
export function expectThrow(fn: () => unknown, code: string, message: RegExp): void {
  let caught: unknown = null;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(TierscopeError);
  expect((caught as TierscopeError).code).toBe(code);
  expect((caught as TierscopeError).message).toMatch(message);
}
