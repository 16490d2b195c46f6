// The recorder's source choice and factory: auto picks the finest available source and says why; a forced
// source that is unavailable is an error with the reason, never a silent fallback; the factory builds each
// source without touching the kernel (nothing opens or starts before start()).
import { describe, expect, it } from 'vitest';
import type { Capabilities, SourceAvailability } from '../../../electron/contract/caps.js';
import { DAMON_LIMITS, DamonSource } from '../../../electron/engine/access/damonSource.js';
import { IdlePagesSource } from '../../../electron/engine/access/idlePages.js';
import { PAGE_IDLE_LIMITS, PageIdleSource } from '../../../electron/engine/access/pageIdleSource.js';
import { REFS_LIMITS, RefsSource } from '../../../electron/engine/access/refs.js';
import { TierscopeError } from '../../../electron/engine/errors.js';
import { chooseSource, createSource } from '../../../electron/engine/record/sources.js';

function caps(available: Partial<Record<SourceAvailability['id'], boolean>>): Capabilities {
  const ids: SourceAvailability['id'][] = ['idle_pages', 'page_idle', 'damon', 'refs'];
  return {
    kernelRelease: '6.12.0',
    uid: 0,
    euid: 0,
    capSysAdmin: true,
    capSysNice: true,
    canMigrateOthers: true,
    damon: { kdamonds: 0, kdamondsRunning: 0 },
    sources: ids.map((id) => ({
      id,
      available: available[id] ?? false,
      reason: available[id] ? `${id} works` : `${id} is missing here`,
    })),
  };
}

function error(fn: () => unknown): TierscopeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TierscopeError);
    return err as TierscopeError;
  }
  throw new Error('expected an error');
}

describe('chooseSource', () => {
  it('auto takes the finest available source and names the finer ones it skipped', () => {
    const lab = chooseSource(caps({ page_idle: true, damon: true, refs: true }), 'auto');
    expect(lab.id).toBe('page_idle');
    expect(lab.reason).toMatch(
      /^auto: page_idle is the finest source available; finer sources unavailable: idle_pages \(idle_pages is missing here\)$/,
    );
    const host = chooseSource(caps({ refs: true }), 'auto');
    expect(host.id).toBe('refs');
    expect(host.reason).toContain('page_idle (page_idle is missing here); damon (damon is missing here)');
    expect(chooseSource(caps({ damon: true, refs: true }), 'auto').id).toBe('damon');
  });

  it('honours a forced source only when it is available, with the reason when not', () => {
    expect(chooseSource(caps({ page_idle: true, damon: true }), 'damon')).toEqual({
      id: 'damon',
      reason: 'chosen by the user (--source damon)',
    });
    const e = error(() => chooseSource(caps({ refs: true }), 'page_idle'));
    expect(e.code).toBe('unsupported');
    expect(e.message).toBe('access source page_idle is not usable here: page_idle is missing here');
    const none = error(() => chooseSource(caps({}), 'auto'));
    expect(none.message).toMatch(/no access source is usable .*refs: refs is missing here/);
  });
});

describe('createSource', () => {
  const options = { pageSizeBytes: 4096, intervalMs: 250 };
  it('builds every source, each with its limits, without opening anything', () => {
    const refs = createSource('refs', 1, options);
    expect(refs).toBeInstanceOf(RefsSource);
    expect(refs.limits).toBe(REFS_LIMITS);
    expect(createSource('idle_pages', 1, options)).toBeInstanceOf(IdlePagesSource);
    // PID 999999999 cannot exist: construction must not look at it (start() does).
    const pageIdle = createSource('page_idle', 999_999_999, options);
    expect(pageIdle).toBeInstanceOf(PageIdleSource);
    expect([pageIdle.id, pageIdle.limits]).toEqual(['page_idle', PAGE_IDLE_LIMITS]);
    const damon = createSource('damon', 999_999_999, options);
    expect(damon.limits).toBe(DAMON_LIMITS);
    if (!(damon instanceof DamonSource)) throw new Error('createSource did not build a DamonSource');
    // DAMON aggregates over the recording interval, 20 samples per aggregation.
    expect([damon.aggrUs, damon.sampleUs]).toEqual([250_000, 12_500]);
  });

  it('reports a page_idle or DAMON start on a kernel without them as a typed error', async () => {
    const root = '/nonexistent-tierscope-root';
    const s = createSource('page_idle', process.pid, { ...options, sysRoot: root, procRoot: root });
    await expect(s.start([])).rejects.toMatchObject({
      code: 'unsupported',
      message: expect.stringMatching(/CONFIG_IDLE_PAGE_TRACKING/) as string,
    });
    const d = createSource('damon', process.pid, { ...options, sysRoot: root, damonStateDir: root });
    await expect(d.start([{ id: 1, start: 0x10000n, end: 0x20000n }])).rejects.toMatchObject({
      code: 'unsupported',
      message: expect.stringMatching(/CONFIG_DAMON_SYSFS/) as string,
    });
  });
});
