// Refuses to start without what the suite drives: the built renderer and CLI, Chromium, the workload.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { CHROMIUM, MEMHOG, REPO } from './helpers.js';

export default function setup(): void {
  const missing: string[] = [];
  for (const file of ['dist/renderer/index.html', 'dist/electron/cli/bin.js']) {
    if (!existsSync(path.join(REPO, file))) missing.push(file);
  }
  if (missing.length > 0) {
    throw new Error(`e2e: ${missing.join(', ')} missing: run \`npm run build\` first`);
  }
  // A renderer older than its sources would test yesterday's UI.
  const built = statSync(path.join(REPO, 'dist/renderer/index.html')).mtimeMs;
  const newest = execFileSync(
    'find',
    [path.join(REPO, 'renderer/src'), '-newer', path.join(REPO, 'dist/renderer/index.html'), '-type', 'f'],
    {
      encoding: 'utf8',
    },
  ).trim();
  if (newest !== '') {
    throw new Error(
      `e2e: dist/renderer is older than ${newest.split('\n')[0] ?? 'its sources'} (built ${new Date(built).toISOString()}): run \`npm run build\``,
    );
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(`e2e: ${CHROMIUM} missing: run scripts/install-system-deps (Debian package chromium)`);
  }
  if (!existsSync(MEMHOG)) {
    // The lab's workload, built the same way test/lab/setup does (static, gcc only).
    execFileSync('make', ['-s', '-C', path.join(REPO, 'test/workloads'), `OUT=${path.dirname(MEMHOG)}`], {
      stdio: 'inherit',
    });
  }
}
