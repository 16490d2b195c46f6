import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Capabilities, type SourceAvailability } from '../../electron/contract/caps.js';
import {
  probeCapabilities,
  parseCapEff,
  hasCap,
  CAP_SYS_ADMIN,
  CAP_SYS_NICE,
} from '../../electron/engine/caps.js';
import { rejection } from '../helpers/errors.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/sysfs');

function source(caps: Capabilities, id: SourceAvailability['id']): SourceAvailability {
  const s = caps.sources.find((x) => x.id === id);
  if (!s) throw new Error(`no source ${id}`);
  return s;
}

/** Asserts a source's availability and that its reason matches `reason`. */
function expectSource(
  caps: Capabilities,
  id: SourceAvailability['id'],
  available: boolean,
  reason: RegExp,
): void {
  const s = source(caps, id);
  expect(s.available).toBe(available);
  expect(s.reason).toMatch(reason);
}

describe('capability bits', () => {
  it('reads CapEff as a 64-bit mask', () => {
    const mask = parseCapEff('CapInh:\t0000000000000000\nCapEff:\t000001fffeffffff\n');
    expect(mask).toBe(0x1fffeffffffn);
    expect(hasCap(mask, CAP_SYS_ADMIN)).toBe(true);
    expect(hasCap(mask, CAP_SYS_NICE)).toBe(true);
    expect(hasCap(mask, 24)).toBe(false); // CAP_SYS_RESOURCE is the one bit missing in that mask
    expect(hasCap(parseCapEff('CapEff:\t0000000000800000\n'), CAP_SYS_ADMIN)).toBe(false);
    expect(() => parseCapEff('Uid:\t0\n', '/proc/self/status')).toThrow(/\/proc\/self\/status: no "CapEff/);
  });
});

describe('probeCapabilities on fixtures', () => {
  // Every test works on a private copy: whether a file may be opened depends on who owns it, and a
  // copy is always owned by whoever runs the tests.
  let tmp = '';
  afterEach(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
    tmp = '';
  });

  async function copyFixture(name: string): Promise<{ sysRoot: string; procRoot: string }> {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'tierscope-caps-'));
    await cp(path.join(fixtures, name), tmp, { recursive: true });
    return { sysRoot: path.join(tmp, 'sys'), procRoot: path.join(tmp, 'proc') };
  }
  const copyThree = (): Promise<{ sysRoot: string; procRoot: string }> => copyFixture('three-node');

  it("reads this machine's copy: root, full caps, one host kdamond running", async () => {
    const caps = Capabilities.parse(await probeCapabilities(await copyFixture('live-1node')));
    expect(caps).toMatchObject({
      kernelRelease: '6.18.44-fc-v657',
      uid: 0,
      euid: 0,
      capSysAdmin: true,
      capSysNice: true,
      canMigrateOthers: true,
      damon: { kdamonds: 1, kdamondsRunning: 1 },
    });
    expect(caps.sources.map((s) => s.id)).toEqual(['idle_pages', 'page_idle', 'damon', 'refs']);
    expectSource(caps, 'idle_pages', false, /out-of-tree/);
    expectSource(caps, 'page_idle', false, /^kernel built without CONFIG_IDLE_PAGE_TRACKING/);
    expectSource(
      caps,
      'damon',
      false,
      /1 kdamond\(s\) already exist .* \(1 running\) and belong to someone else/,
    );
    expectSource(caps, 'refs', true, /no per-page detail/);
  });

  it('reads the three-node tree: uid 4242 with only CAP_SYS_NICE', async () => {
    const caps = Capabilities.parse(await probeCapabilities(await copyThree()));
    expect(caps).toMatchObject({
      kernelRelease: '6.8.0-tierscope-lab',
      uid: 4242,
      euid: 4242,
      capSysAdmin: false,
      capSysNice: true,
      canMigrateOthers: false, // CAP_SYS_NICE without CAP_SYS_PTRACE cannot reach other users' processes
      damon: { kdamonds: 0, kdamondsRunning: 0 },
    });
    expect(source(caps, 'idle_pages').available).toBe(true);
    expectSource(caps, 'page_idle', false, /^needs root or CAP_SYS_ADMIN: .*pagemap/);
    expectSource(caps, 'damon', false, /^needs root/);
    expect(source(caps, 'refs').available).toBe(true);
  });

  it('reports a target PID that is not there as process-gone', async () => {
    const err = await rejection(probeCapabilities({ ...(await copyThree()), pid: 777 }));
    expect(err.code).toBe('process-gone');
    expect(err.message).toMatch(/^process 777 does not exist/);
  });

  describe('with modified copies', () => {
    it('offers DAMON when no kdamond exists and nr_kdamonds is writable for us (CAP_DAC_OVERRIDE)', async () => {
      const t = await copyThree();
      const status = path.join(t.procRoot, 'self/status');
      await writeFile(
        status,
        (await readFile(status, 'utf8')).replace(/^CapEff:.*$/m, 'CapEff:\t0000000000a00002'),
      );
      const caps = await probeCapabilities(t);
      expect(caps.capSysAdmin).toBe(true);
      expectSource(caps, 'damon', true, /not per page/);
      expect(source(caps, 'page_idle').available).toBe(true);
    });

    it('says which kernel options are missing when the files are absent', async () => {
      const t = await copyThree();
      await rm(path.join(t.sysRoot, 'kernel/mm/damon'), { recursive: true });
      await rm(path.join(t.procRoot, 'self/clear_refs'));
      await rm(path.join(t.procRoot, 'self/idle_pages'));
      const caps = await probeCapabilities(t);
      expect(caps.damon).toBeNull();
      expect(source(caps, 'damon').reason).toMatch(/^kernel built without CONFIG_DAMON_SYSFS/);
      expectSource(caps, 'refs', false, /^kernel built without CONFIG_PROC_PAGE_MONITOR/);
      expect(source(caps, 'idle_pages').available).toBe(false);
    });

    it('counts only kdamonds whose state is "on" and rejects an unknown state', async () => {
      const t = await copyThree();
      const dir = path.join(t.sysRoot, 'kernel/mm/damon/admin/kdamonds');
      for (const [i, state] of ['on', 'off', 'on'].entries()) {
        await mkdir(path.join(dir, String(i)));
        await writeFile(path.join(dir, String(i), 'state'), `${state}\n`);
      }
      const caps = await probeCapabilities(t);
      expect(caps.damon).toEqual({ kdamonds: 3, kdamondsRunning: 2 });
      expect(source(caps, 'damon').reason).toMatch(/^3 kdamond\(s\) already exist .* \(2 running\)/);

      await writeFile(path.join(dir, '1', 'state'), 'bogus\n');
      const err = await rejection(probeCapabilities(t));
      expect(err.code).toBe('parse');
      expect(err.message).toContain(path.join(dir, '1', 'state'));
    });

    it('names a missing osrelease and a garbage status', async () => {
      const t = await copyThree();
      const status = path.join(t.procRoot, 'self/status');
      await writeFile(status, 'Name:\tx\n');
      const err = await rejection(probeCapabilities(t));
      expect(err.code).toBe('parse');
      expect(err.message).toContain(status);

      await rm(path.join(t.procRoot, 'sys/kernel/osrelease'));
      const err2 = await rejection(probeCapabilities(t));
      expect(err2.code).toBe('unsupported');
      expect(err2.message).toContain(path.join(t.procRoot, 'sys/kernel/osrelease'));
    });
  });
});

describe('probeCapabilities on this machine', () => {
  it('finds no page_idle (with a reason), refs available, and leaves the host kdamond alone', async () => {
    const caps = Capabilities.parse(await probeCapabilities());
    expect(caps.kernelRelease).toBe(os.release());
    expect(caps.uid).toBe(process.getuid?.());
    expect(caps.euid).toBe(process.geteuid?.());
    expect(caps.sources.map((s) => s.id)).toEqual(['idle_pages', 'page_idle', 'damon', 'refs']);
    const pageIdle = source(caps, 'page_idle');
    expect(pageIdle.available).toBe(false);
    expect(pageIdle.reason).toMatch(/CONFIG_IDLE_PAGE_TRACKING|needs root/);
    expect(source(caps, 'idle_pages').available).toBe(false); // not in mainline kernels
    expect(source(caps, 'refs').available).toBe(true);
    if (caps.damon && caps.damon.kdamonds > 0) {
      expectSource(caps, 'damon', false, /belong to someone else/);
    }
  });

  it('judges refs for a child we spawned', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await once(child, 'spawn');
      const pid = child.pid ?? 0;
      const caps = await probeCapabilities({ pid });
      expect(source(caps, 'refs')).toMatchObject({ available: true });
      expect(source(caps, 'idle_pages').reason).toContain(`/proc/${pid}/idle_pages`);
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });
});
