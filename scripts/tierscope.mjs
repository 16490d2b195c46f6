#!/usr/bin/env node
// The `tierscope` bin: runs the compiled CLI. `npm ci` builds it (the "prepare" script).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/electron/cli/bin.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('tierscope: not built yet: run `npm run build` in the repository (npm ci does it)\n');
  process.exit(1);
}
await import(entry.href);
