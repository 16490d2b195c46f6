import { expect } from 'vitest';
import { TierscopeError } from '../../electron/engine/errors.js';

/** The TierscopeError a promise rejects with; fails the test if it resolves or rejects with anything else. */
export async function rejection(promise: Promise<unknown>): Promise<TierscopeError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(TierscopeError);
    return err as TierscopeError;
  }
  throw new Error('expected a rejection');
}

/** The TierscopeError a function throws; fails the test if it returns or throws anything else. */
export function thrown(fn: () => unknown): TierscopeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TierscopeError);
    return err as TierscopeError;
  }
  throw new Error('expected a throw');
}
