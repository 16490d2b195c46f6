// Sessions opened for a UI: handle → the in-memory model, owned by one connection (closed by
// closeSession or when that connection ends). A session model holds every interval in typed arrays,
// so each owner may keep only a few open at once.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { SessionView } from '../../contract/index.js';
import { TierscopeError } from '../errors.js';
import { openSession, type Session } from '../session/index.js';
import { buildSessionView } from './sessionView.js';

export interface OpenedSession {
  handle: string;
  owner: number;
  session: Session;
  /** Being recorded by this process when opened: the model is a snapshot of a growing file. */
  live: boolean;
}

export interface SessionRegistryOptions {
  /** Sessions one owner may hold open at once (default 8). */
  maxPerOwner?: number;
  /** Is this (resolved) path being recorded by this process? Its view is then marked live. */
  isLive?: (path: string) => boolean;
}

export class SessionRegistry {
  readonly #open = new Map<string, OpenedSession>();
  readonly #maxPerOwner: number;
  readonly #isLive: (path: string) => boolean;
  #next = 1;

  constructor(options: SessionRegistryOptions = {}) {
    this.#maxPerOwner = options.maxPerOwner ?? 8;
    this.#isLive = options.isLive ?? (() => false);
  }

  get size(): number {
    return this.#open.size;
  }

  /** Opens `file` for `owner` and returns its view (any readable format, a torn journal, a live one). */
  async open(file: string, owner: number): Promise<SessionView> {
    let held = 0;
    for (const s of this.#open.values()) if (s.owner === owner) held++;
    if (held >= this.#maxPerOwner) {
      throw new TierscopeError(
        'busy',
        `${held} sessions are already open on this connection (the limit): close one first`,
      );
    }
    const resolved = path.resolve(file);
    const session = await openSession(resolved);
    const handle = `s${this.#next++}-${randomBytes(4).toString('hex')}`;
    const live = this.#isLive(resolved);
    const view = buildSessionView(session, { handle, live });
    this.#open.set(handle, { handle, owner, session, live });
    return view;
  }

  /** The session behind `handle`, if `owner` opened it; not-found otherwise. */
  get(handle: string, owner: number): OpenedSession {
    const s = this.#open.get(handle);
    if (!s || s.owner !== owner) {
      throw new TierscopeError(
        'not-found',
        `no open session ${JSON.stringify(handle.slice(0, 64))} on this connection: it was closed, or opened by another connection; open the file again`,
      );
    }
    return s;
  }

  close(handle: string, owner: number): void {
    this.get(handle, owner);
    this.#open.delete(handle);
  }

  /** Closes everything `owner` opened (its connection ended). */
  closeOwner(owner: number): number {
    let closed = 0;
    for (const [handle, s] of this.#open) {
      if (s.owner !== owner) continue;
      this.#open.delete(handle);
      closed++;
    }
    return closed;
  }
}
