import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Lab tests need the three-node kernel; they run inside the VM via test/lab/run.
    exclude: ['test/lab/**', 'node_modules/**'],
    testTimeout: 20_000,
  },
});
