// The electron-builder config (package.json "build"), checked statically: electron-builder itself cannot
// package here (its Electron download is blocked), but its own schema validator and our expectations can
// run.
import { access, constants, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);

interface BuildConfig {
  appId?: string;
  productName?: string;
  files?: string[];
  asarUnpack?: string[];
  npmRebuild?: boolean;
  directories?: { output?: string };
  linux?: { target?: (string | { target: string })[]; executableName?: string; category?: string };
  deb?: { fpm?: string[]; recommends?: string[] };
}

const pkg = JSON.parse(await readFile(`${root}package.json`, 'utf8')) as {
  main?: string;
  build?: BuildConfig;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};
const build = pkg.build ?? {};

describe('electron-builder config', () => {
  it('passes electron-builder’s own configuration validation', async () => {
    // The same call electron-builder makes before building (app-builder-lib's JSON schema + checks).
    const builder = require('app-builder-lib/out/util/config/config') as {
      getConfig: (dir: string, path: null, fromOptions: null) => Promise<unknown>;
      validateConfiguration: (config: unknown, logger: unknown) => Promise<void>;
    };
    const { getConfig, validateConfiguration } = builder;
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    const config = await getConfig(root, null, null);
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
    // And it does reject a broken one, so the check above means something.
    await expect(
      validateConfiguration(
        { ...(config as object), linux: { target: ['AppImage'], notAnOption: true } },
        new DebugLogger(false),
      ),
    ).rejects.toThrow(/configuration/i);
  });

  it('names the app, ships the built dist and targets AppImage and deb', () => {
    expect(build.appId).toMatch(/^[a-z]+(\.[A-Za-z0-9]+)+$/);
    expect(build.productName).toBe('Tierscope');
    expect(build.files?.some((f) => f.startsWith('dist/renderer'))).toBe(true);
    expect(build.files?.some((f) => f.startsWith('dist/electron'))).toBe(true);
    expect(build.files).toContain('dist/electron/preload/index.cjs');
    expect(build.files).toContain('!dist/packages/**'); // the output directory is never packaged into itself
    expect(build.directories?.output).toBe('dist/packages');
    const targets = (build.linux?.target ?? []).map((t) => (typeof t === 'string' ? t : t.target));
    expect(targets.sort()).toEqual(['AppImage', 'deb']);
    expect(build.linux?.executableName).toBe('tierscope-desktop'); // `tierscope` is the CLI
  });

  it('main points at the compiled Electron entry; koffi stays outside the asar; no native rebuild', async () => {
    expect(pkg.main).toBe('dist/electron/main/index.js');
    await access(`${root}electron/main/index.ts`);
    expect(build.asarUnpack).toContain('node_modules/koffi/**');
    expect(build.npmRebuild).toBe(false);
    // The renderer is bundled: UI libraries must not be runtime dependencies (they would bloat the app).
    for (const ui of ['react', 'react-dom', 'recharts', 'electron'])
      expect(pkg.dependencies?.[ui]).toBeUndefined();
    expect(pkg.devDependencies?.['electron']).toBeDefined();
  });

  it('installs the CLI wrapper, the pkexec helper and the polkit policy from files that exist', async () => {
    const mappings = (build.deb?.fpm ?? []).map((m) => m.split('='));
    const byTarget = new Map(mappings.map(([src, dest]) => [dest, src]));
    expect(byTarget.get('/usr/lib/tierscope/tierscope-agent')).toBeDefined();
    expect(byTarget.get('/usr/share/polkit-1/actions/org.tierscope.agent.policy')).toBe(
      'assets/org.tierscope.agent.policy',
    );
    expect(byTarget.get('/usr/bin/tierscope')).toBeDefined();
    for (const [src = ''] of mappings) await access(`${root}${src}`, constants.R_OK);
    for (const script of ['/usr/lib/tierscope/tierscope-agent', '/usr/bin/tierscope']) {
      const src = byTarget.get(script) ?? '';
      await access(`${root}${src}`, constants.X_OK);
      const text = await readFile(`${root}${src}`, 'utf8');
      expect(text.startsWith('#!/bin/sh\n')).toBe(true);
      expect(text).toMatch(/ELECTRON_RUN_AS_NODE=1 exec \/opt\/Tierscope\/tierscope-desktop /);
    }
    // The policy authorizes exactly the helper path the deb installs.
    const policy = await readFile(`${root}assets/org.tierscope.agent.policy`, 'utf8');
    expect(policy).toContain(
      '<annotate key="org.freedesktop.policykit.exec.path">/usr/lib/tierscope/tierscope-agent</annotate>',
    );
    expect(build.deb?.recommends?.some((r) => r.includes('pkexec'))).toBe(true);
  });
});
