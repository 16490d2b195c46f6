import { defineConfig } from 'vite';

// The renderer bundle, served by `tierscope ui` (browser mode) and by the Electron window (app://).
// Relative asset paths so both hosts can serve it from any base. JSX is compiled by Vite's built-in
// transform (React's automatic runtime); no React plugin is needed for a production build.
const here = new URL('.', import.meta.url).pathname;

export default defineConfig({
  root: here,
  base: './',
  publicDir: false,
  build: {
    outDir: `${here}../dist/renderer`,
    emptyOutDir: true,
    target: 'chrome120',
    sourcemap: true,
    chunkSizeWarningLimit: 1500,
  },
  oxc: { jsx: { runtime: 'automatic' } },
});
