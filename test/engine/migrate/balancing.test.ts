// Only ever against a fake /proc and /sys in a temp directory: these switches are machine-wide, and tests
// must never change them on the host (the lab suite toggles them inside its VM).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TierscopeError } from '../../../electron/engine/errors.js';
import {
  BalancingOverride,
  parseBalancingMode,
  readBalancing,
} from '../../../electron/engine/migrate/balancing.js';

let root: string;
let roots: { procRoot: string; sysRoot: string };
const balancingFile = (): string => path.join(roots.procRoot, 'sys/kernel/numa_balancing');
const demotionFile = (): string => path.join(roots.sysRoot, 'kernel/mm/numa/demotion_enabled');

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'tierscope-balancing-'));
  roots = { procRoot: path.join(root, 'proc'), sysRoot: path.join(root, 'sys') };
  mkdirSync(path.dirname(balancingFile()), { recursive: true });
  mkdirSync(path.dirname(demotionFile()), { recursive: true });
  writeFileSync(balancingFile(), '1\n');
  writeFileSync(demotionFile(), 'false\n');
  writeFileSync(path.join(roots.procRoot, 'sys/kernel/numa_balancing_promote_rate_limit_MBps'), '65536\n');
  writeFileSync(
    path.join(roots.procRoot, 'vmstat'),
    'nr_free_pages 100\nnuma_hit 50\nnuma_hint_faults 7\npgpromote_success 3\npgdemote_kswapd 2\npgmigrate_success 9\n',
  );
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('readBalancing', () => {
  it('reads the mode, demotion, the promotion rate limit and the placement counters', async () => {
    expect(await readBalancing(roots)).toEqual({
      numaBalancing: { raw: 1, mode: 'normal' },
      demotionEnabled: false,
      promoteRateLimitMBps: 65536,
      counters: {
        numa_hit: 50,
        numa_hint_faults: 7,
        pgpromote_success: 3,
        pgdemote_kswapd: 2,
        pgmigrate_success: 9,
      },
    });
  });

  it('reports absent switches as null (a kernel without them)', async () => {
    rmSync(balancingFile());
    rmSync(demotionFile());
    const s = await readBalancing(roots);
    expect([s.numaBalancing, s.demotionEnabled]).toEqual([null, null]);
  });
});

describe('BalancingOverride', () => {
  it('refuses without confirmation and writes nothing', async () => {
    await expect(BalancingOverride.apply({ numaBalancing: 0 }, false, roots)).rejects.toThrow(
      /confirm it explicitly \(--yes\)/,
    );
    expect(readFileSync(balancingFile(), 'utf8')).toBe('1\n');
  });

  it('sets the switches and restores the previous values', async () => {
    const o = await BalancingOverride.apply({ numaBalancing: 2, demotionEnabled: true }, true, roots);
    expect(readFileSync(balancingFile(), 'utf8')).toBe('2\n');
    expect(readFileSync(demotionFile(), 'utf8')).toBe('true\n');
    expect(o.previous).toEqual({ numaBalancing: 1, demotionEnabled: false });
    await o.restore();
    expect(readFileSync(balancingFile(), 'utf8')).toBe('1\n');
    expect(readFileSync(demotionFile(), 'utf8')).toBe('false\n');
    // Restoring twice does not write again (someone may have changed it since).
    writeFileSync(balancingFile(), '3\n');
    await o.restore();
    expect(readFileSync(balancingFile(), 'utf8')).toBe('3\n');
  });

  it('restoreSync works where nothing async can run (an exit handler)', async () => {
    const o = await BalancingOverride.apply({ numaBalancing: 0 }, true, roots);
    expect(readFileSync(balancingFile(), 'utf8')).toBe('0\n');
    o.restoreSync();
    expect(readFileSync(balancingFile(), 'utf8')).toBe('1\n');
  });

  it('puts the first switch back when the second cannot be set', async () => {
    rmSync(demotionFile());
    mkdirSync(demotionFile()); // writing a directory fails
    const err = await BalancingOverride.apply({ numaBalancing: 0, demotionEnabled: true }, true, roots).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TierscopeError);
    expect(readFileSync(balancingFile(), 'utf8')).toBe('1\n');
  });

  it('names a switch this kernel does not have', async () => {
    rmSync(demotionFile());
    await expect(BalancingOverride.apply({ demotionEnabled: true }, true, roots)).rejects.toThrow(
      /has no demotion in reclaim/,
    );
  });
});

describe('parseBalancingMode', () => {
  it.each([
    ['0', 0],
    ['off', 0],
    ['normal', 1],
    ['memory-tiering', 2],
    ['3', 3],
    ['both', 3],
  ] as const)('%s → %d', (text, mode) => {
    expect(parseBalancingMode(text)).toBe(mode);
  });
  it('rejects others', () => {
    expect(parseBalancingMode('4')).toBeNull();
  });
});
