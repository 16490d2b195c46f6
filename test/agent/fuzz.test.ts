// Bad input at both receiving edges: whatever a peer sends, the agent answers with an error or drops it
// and keeps serving, and the client drops it without throwing at the UI.
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient, createTransport, type TransportEnds } from '../../electron/contract/client.js';
import { METHOD_NAMES, Methods, Response } from '../../electron/contract/index.js';
import { frameLines, lineTransport, serveLines } from '../../electron/agent/lines.js';
import { AgentServer } from '../../electron/agent/server.js';
import { inProcessPair } from '../../electron/agent/transports.js';
import { agentError, startHarness, type Harness } from './harness.js';

const HELLO = { protocolVersion: 1, client: 'fuzz' };

/** Any JSON value, or things shaped like requests with fields of the wrong types. */
const requestish = fc.oneof(
  fc.jsonValue(),
  fc.record(
    {
      id: fc.oneof(fc.integer({ min: -5, max: 1e6 }), fc.double(), fc.string(), fc.constant(null)),
      method: fc.oneof(fc.constantFrom(...METHOD_NAMES), fc.string(), fc.integer(), fc.constant('__proto__')),
      params: fc.oneof(
        fc.jsonValue(),
        fc.record({ pid: fc.oneof(fc.integer(), fc.string(), fc.double()), intervalMs: fc.integer() }),
        fc.record({ argv: fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 3 }) }),
        // Shapes of the session and experiment methods, with values that may or may not fit.
        fc.record(
          {
            handle: fc.oneof(fc.string(), fc.integer()),
            vmaIds: fc.array(fc.integer({ min: -2, max: 5 }), { maxLength: 3 }),
            fromPos: fc.integer({ min: -1, max: 5 }),
            toPos: fc.integer({ min: -1, max: 5 }),
            rows: fc.integer({ min: 0, max: 5000 }),
            columns: fc.integer({ min: 0, max: 5000 }),
            ranges: fc.array(fc.record({ start: fc.string(), end: fc.string() }), { maxLength: 2 }),
            path: fc.oneof(fc.string(), fc.constant(null)),
            recording: fc.string(),
            experimentId: fc.string(),
          },
          { requiredKeys: [] },
        ),
      ),
    },
    { requiredKeys: [] },
  ),
);

/** A request whose id is usable gets exactly one answer; everything else none. */
function hasUsableId(value: unknown): value is { id: number } {
  if (typeof value !== 'object' || value === null || !('id' in value)) return false;
  const id = value.id;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0;
}

/**
 * Methods with effects beyond an answer: a valid launch would start random programs, startRecording
 * write random files, startMigration move pages of random processes, and attach would stream events
 * into the count of answers. The fuzz sends them only when their params are invalid.
 */
const EFFECTFUL = [
  'launch',
  'attach',
  'startRecording',
  'startMigration',
  'exportSession',
  'saveSessionAs',
] as const;

function isValidEffectful(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const { method, params } = value as { method?: unknown; params?: unknown };
  const effectful = EFFECTFUL.find((m) => m === method);
  if (effectful === undefined) return false;
  return Methods[effectful][0].safeParse(params ?? {}).success;
}

describe('agent server under random input (in-process)', () => {
  it('answers every message with a usable id exactly once, drops the rest, and keeps serving', async () => {
    const server = new AgentServer({ launchOutput: 'ignore' });
    const [ui, agent] = inProcessPair();
    server.serve(agent);
    const received: unknown[] = [];
    ui.onMessage((t) => received.push(JSON.parse(t)));
    let sentinel = 1_000_000_000;

    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.string(),
            requestish.map((v) => JSON.stringify(v)),
          ),
          { maxLength: 8 },
        ),
        async (texts) => {
          received.length = 0;
          const expectedIds: number[] = [];
          for (const text of texts) {
            const value = safeParse(text);
            if (isValidEffectful(value)) continue;
            if (hasUsableId(value)) expectedIds.push(value.id);
            ui.send(text);
          }
          // The sentinel is answered after the engine reads /proc: every error answer, computed without I/O,
          // is out before it; valid random requests may still be on their way and are awaited by id.
          const id = ++sentinel;
          ui.send(JSON.stringify({ id, method: 'hello', params: HELLO }));
          await waitFor(() => received.some((r) => (r as { id?: number }).id === id));
          await waitFor(() => received.length >= expectedIds.length + 1);
          for (const r of received) expect(Response.safeParse(r).success).toBe(true);
          const ids = received.map((r) => (r as { id: number }).id).filter((i) => i !== id);
          expect(ids.sort()).toEqual([...expectedIds].sort());
        },
      ),
      { numRuns: 300 },
    );
    expect(server.droppedMessages).toBeGreaterThan(0);
    await server.close();
  });
});

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Waits (on the event loop, not on a clock) until `cond` holds. */
async function waitFor(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((resolve) => setImmediate(resolve));
}

describe('a real agent child under garbage', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('stdio child');
  });
  afterAll(async () => {
    await h.close();
  });

  it('survives random lines, a huge line and binary junk, then still answers', async () => {
    const raw = await h.raw();
    try {
      const lines = fc.sample(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          requestish.map((v) => JSON.stringify(v)),
        ),
        {
          numRuns: 400,
          seed: 42,
        },
      );
      let answered = 0;
      for (const line of lines) {
        const value = safeParse(line);
        if (isValidEffectful(value)) continue;
        if (hasUsableId(value)) answered++;
        raw.transport.send(line.replace(/\n/g, ' '));
      }
      // 3 MiB without a newline, then its end: over the 1 MiB request limit, discarded as it streams by.
      const child = h.child;
      if (!child?.stdin) throw new Error('no agent child');
      child.stdin.write('{"id":1,"method":"hello","params":{"client":"' + 'x'.repeat(3 << 20));
      child.stdin.write('"}}\n');
      raw.transport.send(JSON.stringify({ id: 4242, method: 'hello', params: HELLO }));
      await raw.receivedCount(answered + 1);
      const hello = raw.received.map((t) => Response.parse(JSON.parse(t))).find((r) => r.id === 4242);
      expect(hello?.ok).toBe(true);
      // The client on the first connection was sent the oversize line's answer? No: it was dropped.
      await expect(h.client.call('hello', HELLO)).resolves.toMatchObject({ protocolVersion: 1 });
      expect(
        h.log.some((l) => /dropped a \d+-byte line: requests may be at most 1048576 bytes/.test(l)),
      ).toBe(true);
      expect(child.exitCode).toBeNull();
    } finally {
      await raw.close();
    }
  });
});

describe('line framing', () => {
  it('yields the same lines however the bytes are split into chunks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.string({ unit: 'grapheme', minLength: 1 }).filter((s) => !/[\r\n]/.test(s)),
          { maxLength: 10 },
        ),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 20 }),
        async (lines, cuts) => {
          const bytes = Buffer.from(lines.map((l) => `${l}\r\n`).join(''), 'utf8');
          const input = new PassThrough();
          const got: string[] = [];
          frameLines(input, {
            maxLineBytes: 1 << 20,
            onLine: (l) => got.push(l),
            onOversize: () => undefined,
          });
          let pos = 0;
          for (let i = 0; pos < bytes.length; i++) {
            const size = cuts[i % cuts.length] ?? 1;
            input.write(bytes.subarray(pos, pos + size));
            pos += size;
          }
          input.end();
          await new Promise((resolve) => input.once('end', resolve));
          expect(got).toEqual(lines);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('discards an oversize line without buffering it and goes on with the next', async () => {
    const input = new PassThrough();
    const got: string[] = [];
    const oversize: number[] = [];
    frameLines(input, { maxLineBytes: 10, onLine: (l) => got.push(l), onOversize: (n) => oversize.push(n) });
    input.write('short\n0123456789');
    input.write('ABCDEF'); // now 16 bytes: over the limit
    input.write('GH\nafter\n\n0123456789\n');
    input.end('tail');
    await new Promise((resolve) => input.once('end', resolve));
    expect(got).toEqual(['short', 'after', '0123456789', 'tail']);
    expect(oversize).toEqual([18]);
  });

  it('serveLines: an agent over plain streams; EOF ends the connection', async () => {
    const toAgent = new PassThrough();
    const fromAgent = new PassThrough();
    const connection = serveLines(toAgent, fromAgent, { launchOutput: 'ignore' });
    const client = new AgentClient(lineTransport(fromAgent, toAgent));
    await expect(client.call('hello', HELLO)).resolves.toMatchObject({ protocolVersion: 1 });
    toAgent.end();
    await connection.closed;
    const err = await agentError(client.call('hello', HELLO));
    expect(err.code).toBe('disconnected');
  });
});

describe('client under a malformed agent', () => {
  let ends: TransportEnds;
  let sent: string[];
  let client: AgentClient;
  let dropped: string[];
  beforeAll(() => {
    sent = [];
    dropped = [];
    ends = createTransport({ send: (t) => sent.push(t), close: () => undefined });
    client = new AgentClient(ends.transport, { onDropped: (r) => dropped.push(r) });
  });

  it('drops random text and JSON without throwing, and still matches real answers', async () => {
    const snapshots: unknown[] = [];
    client.on('snapshot', (d) => snapshots.push(d));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          requestish.map((v) => JSON.stringify(v)),
        ),
        (text) => {
          expect(() => {
            ends.deliver(text);
          }).not.toThrow();
        },
      ),
      { numRuns: 500 },
    );
    expect(dropped.length).toBeGreaterThan(400);
    expect(snapshots).toEqual([]);
    const call = client.call('detach', { subscription: 's' });
    const { id } = JSON.parse(sent.at(-1) ?? '{}') as { id: number };
    ends.deliver(JSON.stringify({ id, ok: true, result: {} }));
    await expect(call).resolves.toEqual({});
    expect(client.connected).toBe(true);
  });

  it('a result of the wrong shape rejects that call with invalid-response; a bad event is dropped', async () => {
    const call = client.call('topology', {});
    const { id } = JSON.parse(sent.at(-1) ?? '{}') as { id: number };
    const before = dropped.length;
    ends.deliver(JSON.stringify({ event: 'snapshot', data: { subscription: 1, snapshot: {} } }));
    ends.deliver(JSON.stringify({ event: 'detached', data: { subscription: 'x' } }));
    ends.deliver(JSON.stringify({ id, ok: true, result: { nodes: 'many' } }));
    const err = await agentError(call);
    expect(err.code).toBe('invalid-response');
    expect(err.message).toMatch(/^the agent's answer to topology does not match the protocol \(nodes: /);
    expect(dropped.length).toBe(before + 3);
  });

  it('bad params are refused locally, before anything is sent', async () => {
    const count = sent.length;
    const err = await agentError(client.call('snapshot', { pid: -1 }));
    expect(err.code).toBe('bad-request');
    expect(sent.length).toBe(count);
  });
});
