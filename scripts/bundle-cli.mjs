// Bundles the compiled CLI (dist/electron/cli/bin.js) and its migrate_pages worker into dist/bundle/:
// one file each instead of several hundred modules. Start-up of `tierscope` is dominated by module
// loading (zod alone is ~100 files): ~0.5 s → ~0.2 s here, ~10 s → ~2.5 s in the emulated NUMA lab.
// koffi stays external (it loads a native .node file next to its own package).
import { build } from 'esbuild';

await build({
  // Flat names: migrateProcess.ts starts its worker as ./migrateWorker.js next to itself.
  entryPoints: {
    bin: 'dist/electron/cli/bin.js',
    migrateWorker: 'dist/electron/engine/migrate/migrateWorker.js',
  },
  outdir: 'dist/bundle',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['koffi'],
  // Bundled CommonJS dependencies call require(); ESM output has none of its own.
  banner: {
    js: "import { createRequire as __tierscopeCreateRequire } from 'node:module'; const require = __tierscopeCreateRequire(import.meta.url);",
  },
  sourcemap: 'linked',
  logLevel: 'warning',
});
