// The lab suite: tests that need the three-node guest (node 2 CPU-less, in a lower memory tier), page_idle
// and DAMON. They run only inside it:
//   test/lab/run --timeout 1200 npx vitest run --config test/lab/vitest.config.ts
// The repository is shared read-write with the guest, so the JSON report lands in the host's .test-results.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export default defineConfig({
  test: {
    root,
    include: ['test/lab/suite/**/*.lab.test.ts'],
    globalSetup: ['test/lab/suite/globalSetup.ts'],
    // One file at a time: the files share the guest's two CPUs and its DAMON, and workloads of one file
    // must not disturb the page placement or access bits another file is measuring.
    fileParallelism: false,
    // TCG runs JavaScript ~20x slower than the host; nothing here asserts on time.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    reporters: ['default', 'json'],
    outputFile: { json: '.test-results/lab.json' },
  },
});
