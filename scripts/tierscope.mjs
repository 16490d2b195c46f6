#!/usr/bin/env node
// The `tierscope` bin: runs the compiled CLI. `npm ci` builds it (the "prepare" script). It prefers the
// one-file bundle (dist/bundle, scripts/bundle-cli.mjs: start-up is mostly module loading) unless a later
// `tsc` made it older than the compiled modules, then it runs those.
import { existsSync, statSync } from 'node:fs';

const modules = new URL('../dist/electron/cli/bin.js', import.meta.url);
const bundle = new URL('../dist/bundle/bin.js', import.meta.url);
if (!existsSync(modules)) {
  process.stderr.write('tierscope: not built yet: run `npm run build` in the repository (npm ci does it)\n');
  process.exit(1);
}
const fresh = existsSync(bundle) && statSync(bundle).mtimeMs >= statSync(modules).mtimeMs;
await import((fresh ? bundle : modules).href);
