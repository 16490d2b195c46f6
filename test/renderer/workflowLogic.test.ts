// Pure logic of the session chrome and the migration panel: the recent list, shortcuts, file names,
// recording progress, the migration form → StartMigration, and what the panel and the list show.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { MenuItemConstructorOptions } from 'electron';
import {
  MigrationPlan,
  StartMigration,
  StartRecording,
  type Capabilities,
} from '../../electron/contract/index.js';
import type { MenuCommand } from '../../electron/contract/desktop.js';
import { menuTemplate } from '../../electron/main/menu.js';
import {
  deltasText,
  experimentRow,
  experimentViewport,
  formatExperimentProgress,
  formatMBps,
  histogramRows,
  mergeExperiments,
  placementTable,
  planSummary,
  progressFraction,
} from '../../renderer/src/logic/experimentRows.js';
import {
  defaultTargetNode,
  describeRanges,
  initialMigrationForm,
  nodeOptions,
  validateMigration,
  wholeProcessRange,
  withAction,
  type MigrationContext,
  type MigrationForm,
} from '../../renderer/src/logic/migrationForm.js';
import {
  addRecentSession,
  loadRecentSessions,
  MAX_RECENT_SESSIONS,
  parseRecentSessions,
  RECENT_SESSIONS_KEY,
  removeRecentSession,
  saveRecentSessions,
  splitSessionPath,
  type KeyValueStorage,
} from '../../renderer/src/logic/recentSessions.js';
import {
  buildStartRecording,
  describeRecordingEnd,
  formatCpuPercent,
  formatRecordingProgress,
  sourceOptions,
} from '../../renderer/src/logic/recording.js';
import {
  checkTypedPath,
  defaultSessionFileName,
  EXPORT_KINDS,
  isOverwriteRefusal,
  SESSION_FILE_KIND,
  siblingPath,
} from '../../renderer/src/logic/sessionFiles.js';
import { matchShortcut, SHORTCUTS, type KeyInput } from '../../renderer/src/logic/shortcuts.js';
import { summarizeNodes } from '../../renderer/src/logic/topology.js';
import { labTopology } from './fixtures.js';
import { experiment, MiB } from './sessionFixtures.js';

function memoryStorage(
  initial: Record<string, string> = {},
): KeyValueStorage & { data: Map<string, string> } {
  const data = new Map(Object.entries(initial));
  return {
    data,
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => {
      data.set(k, v);
    },
  };
}

describe('recent sessions', () => {
  it('puts the newest first, once, and keeps ten', () => {
    let list: string[] = [];
    for (let i = 0; i < 12; i++) list = addRecentSession(list, `/s/${i}.tierscope`);
    expect(list).toHaveLength(MAX_RECENT_SESSIONS);
    expect(list[0]).toBe('/s/11.tierscope');
    expect(list.at(-1)).toBe('/s/2.tierscope');
    list = addRecentSession(list, '/s/5.tierscope');
    expect(list[0]).toBe('/s/5.tierscope');
    expect(list.filter((p) => p === '/s/5.tierscope')).toHaveLength(1);
    expect(removeRecentSession(list, '/s/5.tierscope')).not.toContain('/s/5.tierscope');
    expect(addRecentSession(['/a'], '  ')).toEqual(['/a']);
  });

  it('survives whatever the storage holds', () => {
    for (const raw of [null, '', '{', 'null', '42', '{"a":1}', '"x"', '[[]]']) {
      expect(parseRecentSessions(raw), String(raw)).toEqual([]);
    }
    expect(parseRecentSessions(JSON.stringify([1, '/a', '/a', '', null, 'x'.repeat(5000), '/b']))).toEqual([
      '/a',
      '/b',
    ]);
    fc.assert(
      fc.property(fc.string(), (raw) => {
        const list = parseRecentSessions(raw);
        expect(Array.isArray(list)).toBe(true);
        expect(list.length).toBeLessThanOrEqual(MAX_RECENT_SESSIONS);
      }),
    );
  });

  it('loads and saves through storage that may throw', () => {
    const storage = memoryStorage({ [RECENT_SESSIONS_KEY]: '["/x.tierscope"]' });
    expect(loadRecentSessions(storage)).toEqual(['/x.tierscope']);
    saveRecentSessions(storage, ['/y', '/x']);
    expect(storage.data.get(RECENT_SESSIONS_KEY)).toBe('["/y","/x"]');
    const broken: KeyValueStorage = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
    };
    expect(loadRecentSessions(broken)).toEqual([]);
    expect(() => {
      saveRecentSessions(broken, ['/a']);
    }).not.toThrow();
    expect(loadRecentSessions(null)).toEqual([]);
  });

  it('splits a path into name and folder', () => {
    expect(splitSessionPath('/home/u/s/run.tierscope')).toEqual({
      name: 'run.tierscope',
      folder: '/home/u/s',
    });
    expect(splitSessionPath('/run.tierscope')).toEqual({ name: 'run.tierscope', folder: '/' });
    expect(splitSessionPath('run.tierscope')).toEqual({ name: 'run.tierscope', folder: '' });
  });
});

describe('shortcuts', () => {
  const key = (k: string, extra: Partial<KeyInput> = {}): KeyInput => ({
    key: k,
    ctrlKey: false,
    metaKey: false,
    altKey: false,
    shiftKey: false,
    inTextField: false,
    mode: 'browser',
    ...extra,
  });

  it('maps Ctrl+O/S/E/R, M and ? in the browser', () => {
    expect(matchShortcut(key('o', { ctrlKey: true }))).toBe('open-session');
    expect(matchShortcut(key('s', { ctrlKey: true }))).toBe('save-session-as');
    expect(matchShortcut(key('e', { ctrlKey: true }))).toBe('export-session');
    expect(matchShortcut(key('R', { ctrlKey: true }))).toBe('toggle-recording');
    expect(matchShortcut(key('m'))).toBe('migrate');
    expect(matchShortcut(key('?', { shiftKey: true }))).toBe('show-shortcuts');
    // Even from a text field: Ctrl shortcuts are not typing.
    expect(matchShortcut(key('o', { ctrlKey: true, inTextField: true }))).toBe('open-session');
  });

  it('leaves typing, other modifiers and the menu’s keys alone', () => {
    expect(matchShortcut(key('m', { inTextField: true }))).toBeNull();
    expect(matchShortcut(key('?', { shiftKey: true, inTextField: true }))).toBeNull();
    expect(matchShortcut(key('M', { shiftKey: true }))).toBeNull();
    expect(matchShortcut(key('m', { altKey: true }))).toBeNull();
    expect(matchShortcut(key('m', { ctrlKey: true }))).toBeNull();
    expect(matchShortcut(key('o', { ctrlKey: true, shiftKey: true }))).toBeNull();
    expect(matchShortcut(key('o', { metaKey: true }))).toBeNull();
    expect(matchShortcut(key('o'))).toBeNull();
    // The desktop menu registers the Ctrl ones: the page must not fire them a second time.
    expect(matchShortcut(key('o', { ctrlKey: true, mode: 'electron' }))).toBeNull();
    expect(matchShortcut(key('r', { ctrlKey: true, mode: 'electron' }))).toBeNull();
    expect(matchShortcut(key('m', { mode: 'electron' }))).toBe('migrate');
  });

  it('matches the desktop menu: same keys, same commands, bare keys not registered', () => {
    const sent: MenuCommand[] = [];
    const noop = (): void => undefined;
    const template = menuTemplate(
      {
        send: (c) => sent.push(c),
        openSnapshot: noop,
        elevate: noop,
        useLocalAgent: noop,
        reconnect: noop,
        quit: noop,
      },
      { devTools: false },
    );
    const items = template.flatMap((top) => (top.submenu ?? []) as MenuItemConstructorOptions[]);
    expect(new Set(SHORTCUTS.map((s) => s.label)).size).toBe(SHORTCUTS.length);
    for (const s of SHORTCUTS) {
      const accelerator = s.ctrl
        ? `CmdOrCtrl+${s.key.toUpperCase()}`
        : s.key === '?'
          ? 'Shift+/'
          : s.key.toUpperCase();
      const item = items.find((i) => i.accelerator === accelerator);
      expect(item, s.action).toBeDefined();
      expect(item?.registerAccelerator !== false, s.action).toBe(s.menuAccelerator);
      sent.length = 0;
      (item?.click as () => void)();
      // Shortcut actions and menu commands share their names.
      expect(sent).toEqual([{ type: s.action }]);
    }
  });
});

describe('session file names', () => {
  it('proposes process-pid-start (UTC) with the kind’s suffix, safe in any file system', () => {
    const session = { comm: 'memhog', pid: 4242, startedAt: '2025-03-04T10:07:00.000Z' };
    expect(defaultSessionFileName(session, SESSION_FILE_KIND)).toBe('memhog-4242-20250304-1007.tierscope');
    expect(defaultSessionFileName(session, EXPORT_KINDS.csv)).toBe('memhog-4242-20250304-1007.csv');
    expect(defaultSessionFileName(session, EXPORT_KINDS.perfetto)).toBe(
      'memhog-4242-20250304-1007.perfetto.json',
    );
    expect(defaultSessionFileName({ ...session, comm: '../../etc/x y' }, EXPORT_KINDS.json)).toBe(
      '_.._etc_x_y-4242-20250304-1007.json',
    );
    expect(defaultSessionFileName({ ...session, comm: '...', startedAt: 'garbage' }, EXPORT_KINDS.json)).toBe(
      'session-4242.json',
    );
    expect(siblingPath('/data/runs/a.tierscope', 'b.csv')).toBe('/data/runs/b.csv');
    expect(siblingPath('a.tierscope', 'b.csv')).toBe('b.csv');
  });

  it('recognises the agent’s refusal to overwrite, and nothing else', () => {
    expect(
      isOverwriteRefusal({
        code: 'invalid-argument',
        message:
          'cannot write /tmp/x.csv: the file already exists; choose another name or pass --force to replace it',
      }),
    ).toBe(true);
    expect(isOverwriteRefusal({ code: 'exists', message: 'x' })).toBe(true);
    expect(
      isOverwriteRefusal({ code: 'invalid-argument', message: 'cannot write /tmp/x: it is a directory' }),
    ).toBe(false);
    expect(isOverwriteRefusal({ code: 'permission', message: 'already exists' })).toBe(false);
  });

  it('wants absolute file paths typed for the agent', () => {
    expect(checkTypedPath('/tmp/a.tierscope')).toBeNull();
    expect(checkTypedPath('')).toMatch(/Enter a path/);
    expect(checkTypedPath('runs/a')).toMatch(/absolute/);
    expect(checkTypedPath('/tmp/')).toMatch(/folder/);
    expect(checkTypedPath('/tmp/a\u0000b')).toMatch(/NUL/);
  });
});

describe('recording', () => {
  const caps: Capabilities = {
    kernelRelease: '6.8.0',
    uid: 1000,
    euid: 1000,
    capSysAdmin: false,
    capSysNice: false,
    canMigrateOthers: false,
    damon: null,
    sources: [
      { id: 'idle_pages', available: false, reason: 'no /proc/PID/idle_pages: the kernel lacks that patch' },
      { id: 'page_idle', available: false, reason: 'needs root (CAP_SYS_ADMIN)' },
      { id: 'damon', available: false, reason: 'needs root' },
      { id: 'refs', available: true, reason: 'clear_refs of your own processes' },
    ],
  };

  it('offers auto first, then every source with why it is (not) usable', () => {
    const options = sourceOptions(caps);
    expect(options.map((o) => o.id)).toEqual(['auto', 'idle_pages', 'page_idle', 'damon', 'refs']);
    expect(options[0]).toMatchObject({ label: 'auto (refs)', available: true });
    expect(options.find((o) => o.id === 'page_idle')).toMatchObject({
      available: false,
      reason: 'needs root (CAP_SYS_ADMIN)',
    });
    expect(sourceOptions(null).map((o) => o.id)).toEqual(['auto']);
  });

  it('builds valid startRecording params (until stopped, autosaved)', () => {
    const params = buildStartRecording({ pid: 42, startTimeTicks: 7, source: 'auto', intervalMs: 500 });
    expect(StartRecording.parse(params)).toEqual({
      pid: 42,
      startTimeTicks: 7,
      source: 'auto',
      intervalMs: 500,
      durationMs: null,
      path: null,
    });
    expect(
      buildStartRecording({ pid: 42, startTimeTicks: null, source: 'refs', intervalMs: 1000 }),
    ).not.toHaveProperty('startTimeTicks');
  });

  it('formats the live progress line', () => {
    const progress = {
      recording: 'r1',
      path: '/s/a.tierscope',
      intervals: 12,
      elapsedMs: 12_000,
      source: 'refs' as const,
      rssBytes: 100 * MiB,
      hotBytes: 64 * MiB,
      warmBytes: 4 * MiB,
      coldBytes: 32 * MiB,
      scansInWindow: 5,
      scansPerWindow: 5,
      samplerCpuPercent: 0.84,
    };
    expect(formatRecordingProgress(progress)).toBe(
      '12 intervals · 12 s · hot 64.0 MiB · warm 4.00 MiB · cold 32.0 MiB · sampler 0.8 % CPU',
    );
    expect(formatRecordingProgress({ ...progress, intervals: 1, scansInWindow: 1 })).toMatch(
      /^1 interval · .* · window 1\/5 scans$/,
    );
    expect(formatCpuPercent(12.4)).toBe('12 %');
    expect(formatCpuPercent(Number.NaN)).toBe('—');
    expect(describeRecordingEnd('process-exited')).toMatch(/exited/);
  });
});

describe('migration form', () => {
  const nodes = nodeOptions(summarizeNodes(labTopology()));
  const range = { start: '7f0000000000', end: '7f0004000000' };
  const ctx = (partial: Partial<MigrationContext> = {}): MigrationContext => ({
    pid: 4242,
    startTimeTicks: 1000,
    scopes: { selection: [range], vma: null, process: [{ start: '400000', end: '7ffc00021000' }] },
    nodes,
    sessionPath: '/s/memhog.tierscope',
    ...partial,
  });

  it('marks CPU-less and slow-tier nodes and picks sensible targets', () => {
    expect(nodes.map((n) => [n.id, n.cpuLess, n.slow])).toEqual([
      [0, false, false],
      [1, false, false],
      [2, true, true],
    ]);
    expect(nodes[2]?.label).toMatch(/^node 2 \(CPU-less, slow tier\) · .* free$/);
    expect(defaultTargetNode('promote', nodes)).toBe(0);
    expect(defaultTargetNode('demote', nodes)).toBe(2);
    expect(defaultTargetNode('demote', nodes.slice(0, 2))).toBeNull();
    const form = initialMigrationForm(nodes, 'selection', true);
    expect(form).toMatchObject({ action: 'promote', hotness: 'hot', toNode: 0, useSession: true });
    expect(withAction(form, 'demote', nodes)).toMatchObject({ hotness: 'cold', toNode: 2 });
    expect(withAction(form, 'lazy-rebind', nodes)).toMatchObject({ hotness: 'any', toNode: 0 });
  });

  it('turns a valid form into StartMigration, MB/s as 10^6 bytes', () => {
    const form: MigrationForm = {
      ...initialMigrationForm(nodes, 'selection', true),
      rateMBps: '1.5',
      fromNodes: [2],
    };
    const v = validateMigration(form, ctx(), true);
    expect(v.errors).toEqual({});
    expect(StartMigration.parse(v.params)).toEqual({
      pid: 4242,
      startTimeTicks: 1000,
      kind: 'move-pages',
      selection: { ranges: [range], hotness: 'hot', topKPages: null, fromNodes: [2] },
      toNode: 0,
      rateBytesPerSecond: 1_500_000,
      dryRun: true,
      expireMs: null,
      sessionPath: '/s/memhog.tierscope',
    });
    const lazy = validateMigration(
      { ...withAction(form, 'lazy-rebind', nodes), expireSeconds: '60', useSession: false },
      ctx(),
      false,
    );
    expect(lazy.params).toMatchObject({
      kind: 'lazy-rebind',
      dryRun: false,
      expireMs: 60_000,
      sessionPath: null,
      selection: { hotness: null },
    });
    const topK = validateMigration({ ...form, hotness: 'top-k', topKPages: '512' }, ctx(), true);
    expect(topK.params?.selection).toMatchObject({ hotness: 'top-k', topKPages: 512 });
  });

  it('warns when a page_idle recording of the same process would share the accessed bits', () => {
    const form = initialMigrationForm(nodes, 'selection', true);
    const lazy = { ...withAction(form, 'lazy-rebind', nodes), useSession: false };
    const shared =
      /page_idle recording of this process is running: the lazy rebind reads the same accessed bits/;
    expect(validateMigration(lazy, ctx({ recordingSource: 'page_idle' }), true).warnings.join('\n')).toMatch(
      shared,
    );
    // refs reads smaps Referenced, not per-page bits; no recording, no warning; session classes, no live scan.
    for (const c of [{ recordingSource: 'refs' }, { recordingSource: null }, {}])
      expect(validateMigration(lazy, ctx(c), true).warnings.join('\n')).not.toMatch(
        /recording of this process/,
      );
    expect(
      validateMigration(form, ctx({ recordingSource: 'idle_pages' }), true).warnings.join('\n'),
    ).not.toMatch(/recording of this process/);
    expect(
      validateMigration(
        { ...form, useSession: false },
        ctx({ recordingSource: 'idle_pages' }),
        true,
      ).warnings.join('\n'),
    ).toMatch(/the live measurement reads the same accessed bits/);
  });

  it('says what is wrong, field by field, and sends nothing', () => {
    const form = initialMigrationForm(nodes, 'vma', false);
    const cases: [Partial<MigrationForm>, Partial<MigrationContext>, string][] = [
      [{}, {}, 'scope'],
      [{ scope: 'selection', toNode: null }, {}, 'toNode'],
      [{ scope: 'selection', toNode: 7 }, {}, 'toNode'],
      [{ scope: 'selection', hotness: 'top-k', topKPages: '1.5' }, {}, 'topKPages'],
      [{ scope: 'selection', hotness: 'top-k', topKPages: '0' }, {}, 'topKPages'],
      [{ scope: 'selection', rateMBps: 'fast' }, {}, 'rateMBps'],
      [{ scope: 'selection', rateMBps: '0' }, {}, 'rateMBps'],
      [{ scope: 'selection', action: 'lazy-rebind', hotness: 'hot' }, {}, 'hotness'],
      [
        { scope: 'selection', action: 'lazy-rebind', hotness: 'any', expireSeconds: '-1' },
        {},
        'expireSeconds',
      ],
      [{ scope: 'selection' }, { pid: null }, 'scope'],
    ];
    for (const [patch, c, field] of cases) {
      const v = validateMigration({ ...form, ...patch }, ctx(c), true);
      expect(v.params, JSON.stringify(patch)).toBeNull();
      expect(Object.keys(v.errors), JSON.stringify(patch)).toContain(field);
    }
    const many = Array.from({ length: 4097 }, (_, i) => ({
      start: (0x100000 + i * 0x2000).toString(16),
      end: (0x101000 + i * 0x2000).toString(16),
    }));
    expect(
      validateMigration(
        { ...form, scope: 'selection' },
        ctx({ scopes: { selection: many, vma: null, process: null } }),
        true,
      ).errors.scope,
    ).toMatch(/4097 ranges/);
  });

  it('warns, without blocking, about odd targets and live measurements', () => {
    const form = initialMigrationForm(nodes, 'selection', false);
    const toSlow = validateMigration({ ...form, toNode: 2 }, ctx(), true);
    expect(toSlow.params).not.toBeNull();
    expect(toSlow.warnings.join(' ')).toMatch(/slow tier/);
    expect(toSlow.warnings.join(' ')).toMatch(/live measurement/);
    const demoteFast = validateMigration(
      { ...withAction(form, 'demote', nodes), toNode: 1, useSession: true },
      ctx(),
      true,
    );
    expect(demoteFast.warnings).toEqual([expect.stringMatching(/fast tier/)]);
    const nothing = validateMigration({ ...form, fromNodes: [0], useSession: true }, ctx(), true);
    expect(nothing.warnings.join(' ')).toMatch(/already there/);
  });

  it('covers the whole process with one range, kernel mappings left out', () => {
    expect(
      wholeProcessRange([
        { start: '400000', end: '401000', kind: 'file' },
        { start: '7ffc00000000', end: '7ffc00021000', kind: 'stack' },
        { start: '7ffd00000000', end: '7ffd00002000', kind: 'vdso' },
        { start: 'ffffffffff600000', end: 'ffffffffff601000', kind: 'vsyscall' },
      ]),
    ).toEqual({ start: '400000', end: '7ffc00021000' });
    expect(wholeProcessRange([])).toBeNull();
    expect(describeRanges([range])).toBe('0x7f0000000000–0x7f0004000000 (64.0 MiB)');
    expect(describeRanges([range, { start: '1000', end: '2000' }])).toBe('2 ranges, 64.0 MiB');
    expect(describeRanges([])).toBe('nothing');
  });
});

describe('experiment rows', () => {
  it('lists every histogram outcome in a fixed order, shares of the total', () => {
    const rows = histogramRows({
      moved: 600,
      alreadyThere: 200,
      thpTailMovedWithHead: 100,
      shared: 50,
      targetFull: 0,
      notPresent: 40,
      otherFailures: { EBUSY: 6, EIO: 4 },
    });
    expect(rows.map((r) => [r.key, r.pages])).toEqual([
      ['moved', 600],
      ['alreadyThere', 200],
      ['thpTailMovedWithHead', 100],
      ['shared', 50],
      ['targetFull', 0],
      ['notPresent', 40],
      ['other', 10],
    ]);
    expect(rows.reduce((s, r) => s + r.share, 0)).toBeCloseTo(1);
    expect(rows[0]?.share).toBeCloseTo(0.6);
    expect(rows.find((r) => r.key === 'other')?.detail).toBe('EBUSY 6, EIO 4');
    expect(rows.filter((r) => r.failure).map((r) => r.key)).toEqual(['shared', 'targetFull', 'other']);
    const empty = histogramRows({
      moved: 0,
      alreadyThere: 0,
      thpTailMovedWithHead: 0,
      shared: 0,
      targetFull: 0,
      notPresent: 0,
      otherFailures: {},
    });
    expect(empty.every((r) => r.share === 0)).toBe(true);
  });

  it('summarises a plan per source node', () => {
    const plan = MigrationPlan.parse({
      pagesSelected: 5000,
      toMoveByNode: { '2': 3000, '1': 1000, '0': 0 },
      bytesToMove: 4000 * 4096,
      alreadyThere: 900,
      notPresent: 100,
      skipped: ['[vdso]: kernel mapping'],
      classesFrom: 'session /s/a.tierscope, window ending at interval 9',
    });
    const p = planSummary(plan);
    expect(p.toMoveByNode).toEqual([
      { node: 1, pages: 1000 },
      { node: 2, pages: 3000 },
    ]);
    expect(p.pagesToMove).toBe(4000);
  });

  it('formats progress, with an indeterminate bar when the total is unknown', () => {
    const progress = {
      experimentId: 'x',
      kind: 'move-pages' as const,
      phase: 'moving' as const,
      pagesDone: 1024,
      pagesTotal: 4096,
      pendingPages: 0,
      bytesPerSecond: 210e6,
      text: '',
      partialHistogram: null,
    };
    expect(progressFraction(progress)).toBe(0.25);
    expect(progressFraction({ pagesDone: 5, pagesTotal: 0 })).toBeNull();
    expect(progressFraction({ pagesDone: 9, pagesTotal: 4 })).toBe(1);
    expect(formatExperimentProgress(progress)).toBe('moving · 1,024 / 4,096 pages · 210 MB/s');
    expect(
      formatExperimentProgress({
        ...progress,
        phase: 'waiting',
        pagesTotal: 0,
        bytesPerSecond: 0,
        pendingPages: 7,
      }),
    ).toBe('waiting for touches · 7 waiting for a touch');
    expect(formatMBps(1.5e6)).toBe('1.5 MB/s');
  });

  it('makes one row per experiment with its deltas and time span', () => {
    const row = experimentRow({
      experiment: experiment(),
      thisRun: false,
      inOpenSession: true,
      otherSession: null,
    });
    expect(row).toMatchObject({
      label: 'move → N0',
      selection: '1 range, hot pages on N2',
      target: 'N0 from N2',
      status: 'completed',
      moved: 4000,
      selected: 4096,
      durationMs: 2000,
      span: { fromMs: 3000, toMs: 5000 },
    });
    expect(row.deltas).toBe('hot N0 +16.0 MiB, hot N2 −16.0 MiB');
    expect(deltasText({ before: null, after: null })).toBe('not measured');
    const other = experimentRow({
      experiment: experiment(),
      thisRun: true,
      inOpenSession: false,
      otherSession: '/s/b',
    });
    expect(other.span).toBeNull();
    expect(experimentViewport({ fromMs: 3000, toMs: 5000 }, 10_000, 3000)).toEqual({ fromMs: 0, toMs: 8000 });
    expect(experimentViewport({ fromMs: 9000, toMs: null }, 10_000, 500)).toEqual({
      fromMs: 8500,
      toMs: 10_500,
    });
  });

  it('merges the session’s experiments with this run’s, once each, newest first', () => {
    const a = experiment({ id: 'a', startedAt: '2025-03-04T10:00:01.000Z' });
    const running = experiment({
      id: 'b',
      status: 'running',
      endedAt: null,
      startedAt: '2025-03-04T10:00:02.000Z',
    });
    const bDone = { ...running, status: 'completed' as const, endedAt: '2025-03-04T10:00:04.000Z' };
    const c = experiment({ id: 'c', startedAt: '2025-03-04T10:00:03.000Z' });
    const merged = mergeExperiments([a, running], '/s/open', [
      { experiment: bDone, sessionPath: '/s/open' },
      { experiment: c, sessionPath: '/s/other' },
      { experiment: a, sessionPath: '/s/open' },
    ]);
    expect(
      merged.map((m) => [m.experiment.id, m.experiment.status, m.thisRun, m.inOpenSession, m.otherSession]),
    ).toEqual([
      ['c', 'completed', true, false, '/s/other'],
      ['b', 'completed', true, true, null],
      ['a', 'completed', true, true, null],
    ]);
  });

  it('tabulates before/after per node', () => {
    expect(placementTable(experiment())).toEqual([
      {
        node: 0,
        selectionBefore: 0,
        selectionAfter: 16 * MiB,
        hotBefore: 0,
        hotAfter: 16 * MiB,
        coldBefore: 0,
        coldAfter: 0,
      },
      {
        node: 2,
        selectionBefore: 16 * MiB,
        selectionAfter: 0,
        hotBefore: 16 * MiB,
        hotAfter: 0,
        coldBefore: 0,
        coldAfter: 0,
      },
    ]);
    expect(placementTable({ before: null, after: null })).toEqual([]);
  });
});
