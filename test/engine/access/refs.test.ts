import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HotnessModel } from '../../../electron/engine/access/hotness.js';
import { RefsSource, refsFromSmaps, REFS_LIMITS } from '../../../electron/engine/access/refs.js';
import type { ScanResult, ScanVma, VmaAccess } from '../../../electron/engine/access/source.js';
import { TierscopeError } from '../../../electron/engine/errors.js';
import { parseMaps } from '../../../electron/engine/procfs/maps.js';
import { parseSmaps } from '../../../electron/engine/procfs/smaps.js';
import { waitForLine, wrap, type Child } from '../../helpers/children.js';
import { fixture } from '../procfs/fixtures.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

function smapsRecord(range: string, rssKB: number, referencedKB: number | null): string {
  return [
    `${range} rw-p 00000000 00:00 0 `,
    `Size:               ${rssKB} kB`,
    `Rss:                ${rssKB} kB`,
    ...(referencedKB === null ? [] : [`Referenced:         ${referencedKB} kB`]),
    `VmFlags: rd wr mr mw me ac `,
  ].join('\n');
}

function refsOf(result: ScanResult, vmaId: number): VmaAccess | undefined {
  return result.accesses.find((a) => a.vmaId === vmaId);
}

function accessed(result: ScanResult, vmaId: number): number {
  const a = refsOf(result, vmaId);
  if (a?.granularity !== 'vma') throw new Error(`no vma-granularity record for VMA ${vmaId}`);
  return a.accessedPages;
}

async function rejection(promise: Promise<unknown>): Promise<TierscopeError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(TierscopeError);
    return err as TierscopeError;
  }
  throw new Error('expected a rejection');
}

describe('refsFromSmaps', () => {
  const smaps = parseSmaps(
    [
      smapsRecord('10000-20000', 64, 16), // VMA 1 exactly
      smapsRecord('20000-28000', 32, 32), // VMA 2, split in two by mprotect …
      smapsRecord('28000-30000', 32, 8), // … second piece
      smapsRecord('40000-50000', 64, 64), // straddles VMA 3 (40000-48000): it grew since the list was made
    ].join('\n') + '\n',
  );

  test('exact and split VMAs are summed in pages; a straddling or absent one gets no record', () => {
    const vmas: ScanVma[] = [
      { id: 1, start: 0x10000n, end: 0x20000n },
      { id: 2, start: 0x20000n, end: 0x30000n },
      { id: 3, start: 0x40000n, end: 0x48000n },
      { id: 4, start: 0x90000n, end: 0x91000n },
    ];
    const result = refsFromSmaps(vmas, smaps, 4096);
    expect(result.accesses).toEqual([
      { granularity: 'vma', vmaId: 1, accessedPages: 4, residentPages: 16 },
      { granularity: 'vma', vmaId: 2, accessedPages: 10, residentPages: 16 },
    ]);
    expect(result.pagesScanned).toBe(16 + 8 + 8 + 16);
  });

  test('on a real capture: every VMA of sleep, Referenced / 4 KiB', () => {
    const entries = parseSmaps(fixture('sleep', 'smaps'));
    const vmas = entries.map((e, id) => ({ id, start: e.start, end: e.end }));
    const result = refsFromSmaps(vmas, entries, 4096);
    expect(result.accesses.length).toBe(entries.length);
    entries.forEach((e, id) => {
      expect(refsOf(result, id)).toEqual({
        granularity: 'vma',
        vmaId: id,
        accessedPages: (e.fieldsKB.Referenced ?? -1) / 4,
        residentPages: (e.fieldsKB.Rss ?? -1) / 4,
      });
    });
  });

  test('a kernel without Referenced: unsupported', () => {
    const noRef = parseSmaps(smapsRecord('10000-20000', 64, null) + '\n');
    expect(() => refsFromSmaps([{ id: 1, start: 0x10000n, end: 0x20000n }], noRef, 4096)).toThrow(
      /no Referenced field/,
    );
  });
});

/**
 * A child with two 64 MiB anonymous VMAs (far beyond any TLB's reach, see refs.ts on the undercount) kept apart by PROT_NONE guards (so neither merges with a
 * neighbour): it rewrites one byte of every page of the hot one in a loop, and touches the idle one only
 * when told "touch" on stdin. Each command is answered after the next full pass over the hot region, so a
 * scan made after the answer knows every hot page was touched since the previous scan (no timing).
 */
const CHILD = `
import ctypes, mmap, os, select, sys
SZ = 64 << 20
libc = ctypes.CDLL(None, use_errno=True)
m = mmap.mmap(-1, 5 * SZ)
base = ctypes.addressof(ctypes.c_char.from_buffer(m))
for g in (0, 2, 4):
    if libc.mprotect(ctypes.c_void_p(base + g * SZ), ctypes.c_size_t(SZ), 0) != 0:
        raise OSError(ctypes.get_errno(), 'mprotect')
HOT, IDLE = SZ, 3 * SZ
for i in range(0, SZ, 4096):
    m[HOT + i] = 1
    m[IDLE + i] = 1
print('READY', hex(base + HOT), hex(base + IDLE), SZ, flush=True)
while True:
    reply = None
    if select.select([sys.stdin], [], [], 0.002)[0]:
        line = sys.stdin.readline()
        if not line:
            break
        if line.startswith('touch'):
            for i in range(0, SZ, 4096):
                m[IDLE + i] = (m[IDLE + i] + 1) & 255
        reply = 'TOUCHED' if line.startswith('touch') else 'SYNCED'
    for i in range(0, SZ, 4096):
        m[HOT + i] = (m[HOT + i] + 1) & 255
    if reply:
        print(reply, flush=True)
`;

async function startTwoRegionChild(): Promise<{
  child: Child;
  hot: bigint;
  idle: bigint;
  sizeBytes: bigint;
}> {
  const proc = spawn('python3', ['-c', CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await waitForLine(proc, 'READY');
  const [, hot, idle, size] = line.trim().split(/\s+/);
  return {
    child: wrap(proc),
    hot: BigInt(hot ?? '0'),
    idle: BigInt(idle ?? '0'),
    sizeBytes: BigInt(size ?? '0'),
  };
}

describe('RefsSource on a live child', () => {
  let child: Child;
  let vmas: ScanVma[];
  let regionPages: number;
  beforeAll(async () => {
    const c = await startTwoRegionChild();
    child = c.child;
    regionPages = Number(c.sizeBytes / 4096n);
    const maps = parseMaps(readFileSync(`/proc/${child.pid}/maps`, 'utf8'));
    const entry = (address: bigint) => {
      const e = maps.find((m) => m.start <= address && address < m.end);
      if (!e) throw new Error(`no VMA at ${address.toString(16)}`);
      return e;
    };
    // The guards make each region exactly one VMA.
    expect(entry(c.hot)).toMatchObject({ start: c.hot, end: c.hot + c.sizeBytes });
    expect(entry(c.idle)).toMatchObject({ start: c.idle, end: c.idle + c.sizeBytes });
    vmas = [
      { id: 1, start: c.hot, end: c.hot + c.sizeBytes },
      { id: 2, start: c.idle, end: c.idle + c.sizeBytes },
    ];
  });
  afterAll(async () => {
    await child.kill();
  });

  test('touching a region raises its Referenced; after clear_refs it falls; the hot VMA ranks first', async () => {
    const source = new RefsSource(child.pid, { pageSizeBytes: 4096 });
    expect(source.limits).toBe(REFS_LIMITS);
    expect(source.id).toBe('refs');
    const model = new HotnessModel({ scansPerWindow: 3, heatBucketsPerVma: 4 });
    await source.start(vmas);
    try {
      const sync = async (command: string, answer: string) => {
        child.proc.stdin?.write(`${command}\n`);
        await waitForLine(child.proc, answer);
      };
      await sync('sync', 'SYNCED');
      const quiet = await source.scan(vmas);
      model.update(vmas, quiet.accesses);
      // Every hot page was written since start(); translations still cached in the TLB hide a few of them.
      expect(refsOf(quiet, 1)).toMatchObject({ residentPages: regionPages });
      expect(accessed(quiet, 1)).toBeGreaterThanOrEqual(0.75 * regionPages);
      expect(accessed(quiet, 1)).toBeLessThanOrEqual(regionPages);
      expect(refsOf(quiet, 2)).toMatchObject({ accessedPages: 0, residentPages: regionPages });

      await sync('touch', 'TOUCHED');
      const touched = await source.scan(vmas);
      model.update(vmas, touched.accesses);
      expect(accessed(touched, 2)).toBeGreaterThanOrEqual(0.75 * regionPages);

      await sync('sync', 'SYNCED');
      const after = await source.scan(vmas);
      const [hot, idle] = model.update(vmas, after.accesses);
      // clear_refs after the previous read: the idle region is back to nothing referenced.
      expect(refsOf(after, 2)).toMatchObject({ accessedPages: 0 });

      // Over the window: the hot VMA was referenced in every scan, the idle one in one of three.
      expect(hot).toMatchObject({ granularity: 'vma', scansInWindow: 3, knownPages: regionPages });
      expect(hot?.hotPages).toBeGreaterThanOrEqual(0.75 * regionPages);
      expect(idle).toMatchObject({ hotPages: 0, knownPages: regionPages });
      expect(idle?.warmPages).toBeGreaterThanOrEqual(0.75 * regionPages);
      const ranked = [hot, idle].sort((a, b) => (b?.accessedPages ?? 0) - (a?.accessedPages ?? 0));
      expect(ranked[0]?.vmaId).toBe(1);
    } finally {
      await source.stop();
      await source.stop(); // twice is fine
    }
    await expect(source.scan(vmas)).rejects.toThrow(/scan\(\) before start\(\)/);
  });

  test('as nobody, on root’s process: permission, naming clear_refs and what grants it', () => {
    const script =
      `import { RefsSource } from ${JSON.stringify(`${REPO}electron/engine/access/refs.ts`)};\n` +
      `try { await new RefsSource(${child.pid}, { pageSizeBytes: 4096 }).start([]); console.log('{"code":"none"}'); }\n` +
      `catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }\n`;
    const run = spawnSync(
      'runuser',
      ['-u', 'nobody', '--', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: REPO,
        encoding: 'utf8',
        timeout: 15_000,
      },
    );
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as {
      code?: string;
      message?: string;
    };
    expect(out.code).toBe('permission');
    expect(out.message).toMatch(/clear_refs/);
    expect(out.message).toMatch(/owner.*or root/);
  });
});

describe('RefsSource: the process goes away', () => {
  test('a PID that does not exist: process-gone at start', async () => {
    const err = await rejection(new RefsSource(2 ** 22 + 13, { pageSizeBytes: 4096 }).start([]));
    expect(err.code).toBe('process-gone');
  });

  test('the process exits between scans: process-gone at the next scan', async () => {
    const { child, hot, sizeBytes } = await startTwoRegionChild();
    const vmas = [{ id: 1, start: hot, end: hot + sizeBytes }];
    const source = new RefsSource(child.pid, { pageSizeBytes: 4096 });
    await source.start(vmas);
    await child.kill();
    const err = await rejection(source.scan(vmas));
    expect(err.code).toBe('process-gone');
    await source.stop();
  });

  test('bad arguments', () => {
    expect(() => new RefsSource(0)).toThrow(/not a process id/);
    expect(() => new RefsSource(1, { pageSizeBytes: 1000 })).toThrow(/multiple of 1 KiB/);
  });
});
