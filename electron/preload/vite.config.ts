import { defineConfig } from 'vite';

// Bundles the preload into one CommonJS file: Electron's sandboxed preloads can require only 'electron'
// (and a few built-ins), not ES modules or other files of the app, so zod and the contract go inside.
const here = new URL('.', import.meta.url).pathname;

export default defineConfig({
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: `${here}../../dist/electron/preload`,
    emptyOutDir: true,
    target: 'node22',
    minify: false,
    sourcemap: true,
    lib: {
      entry: `${here}index.ts`,
      formats: ['cjs'],
      fileName: () => 'index.cjs',
    },
    rolldownOptions: { external: ['electron'] },
  },
});
