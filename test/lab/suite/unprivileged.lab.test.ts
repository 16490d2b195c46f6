// What an unprivileged user gets when pointing Tierscope at a root-owned process: the suite runs as root,
// so the attempts run in a child started with setpriv as user nobody (as test/lab/run --user does), and
// report the typed errors they got. The root-owned memhog must be left exactly where it was.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMemhog, type Memhog } from './lab.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');

interface Outcome {
  attempt: string;
  ok: boolean;
  errorClass?: string;
  code?: string;
  message?: string;
}

describe('as user nobody, on a root-owned memhog', () => {
  let hog: Memhog;
  let outcomes: Map<string, Outcome>;

  beforeAll(async () => {
    hog = await startMemhog('--size 16 --cpu 0 --interval-ms 50');
    const { stdout } = await run(
      'setpriv',
      [
        ...'--reuid=nobody --regid=nogroup --init-groups --'.split(' '),
        ...[process.execPath, '--import', 'tsx', path.join(here, 'asNobody.ts')],
        ...[String(hog.pid), hog.base.toString(16), String(hog.sizeBytes)],
      ],
      { cwd: repo, timeout: 240_000 },
    );
    outcomes = new Map(
      stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Outcome)
        .map((o) => [o.attempt, o]),
    );
  });
  afterAll(async () => {
    await hog.stop();
  });

  function outcome(name: string): Outcome {
    const o = outcomes.get(name);
    if (!o) throw new Error(`no outcome for ${name}: ${JSON.stringify([...outcomes.values()])}`);
    return o;
  }

  it('really ran as nobody', () => {
    expect(outcome('whoami').message).toBe('65534');
  });

  it.each(['move_pages', 'migrate_pages'])("%s fails with the bridge's permission error", (name) => {
    const o = outcome(name);
    expect(o).toMatchObject({ ok: false, errorClass: 'NumaPermissionError', code: 'permission' });
    expect(o.message).toMatch(new RegExp(`${name}.*${hog.pid}`));
    expect(o.message).toMatch(/CAP_SYS_NICE|process owner|root/);
  });

  it('page_idle fails with a permission error naming the remedy', () => {
    const o = outcome('page_idle');
    expect(o).toMatchObject({ ok: false, errorClass: 'TierscopeError', code: 'permission' });
    expect(o.message).toMatch(/page_idle\/bitmap.*run Tierscope as root/);
  });

  it('pagemap of the root process is refused, and our own shows no PFNs', () => {
    expect(outcome('pagemap-of-root-process')).toMatchObject({ ok: false, code: 'permission' });
    const own = outcome('pagemap-own-pfns');
    expect(own).toMatchObject({ ok: false, errorClass: 'TierscopeError', code: 'permission' });
    expect(own.message).toMatch(/hidden.*CAP_SYS_ADMIN/);
  });

  it('left the memhog where it was', async () => {
    expect(await hog.nodes()).toEqual({ '0': hog.pages, unmapped: 0 });
    const sum = await hog.checksum();
    expect(sum.ok, sum.line).toBe(true);
  });
});
