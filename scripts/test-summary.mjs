#!/usr/bin/env node
// Prints one closing line "tests: N passed, N failed, N skipped" from vitest JSON reports, so CI logs end
// with counts a reader (or a log scraper) can trust. Usage: test-summary.mjs report.json [report.json …]
import { readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
  // A suite that failed outside its tests (load error, failed beforeAll: its tests then read as skipped)
  // has no failed test to count, but is still a failure.
  failed += report.testResults.filter(
    (r) => r.status === 'failed' && !r.assertionResults.some((a) => a.status === 'failed'),
  ).length;
}
process.stdout.write(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
