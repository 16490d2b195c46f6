// End-to-end suite: the built renderer in Debian's Chromium (driven by playwright-core) against a real
// agent: `tierscope ui` on this machine, and the same inside the NUMA lab (three real nodes) through
// `test/lab/run --hostfwd`. Needs `npm run build` first (globalSetup checks) and /usr/bin/chromium
// (scripts/install-system-deps). Run: npm run test:e2e
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export default defineConfig({
  test: {
    root,
    include: ['test/e2e/**/*.e2e.ts'],
    globalSetup: ['test/e2e/globalSetup.ts'],
    // One browser and one workload set at a time: two cores, and the lab VM takes both.
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 600_000,
    reporters: ['default', 'json'],
    outputFile: { json: '.test-results/e2e.json' },
  },
});
