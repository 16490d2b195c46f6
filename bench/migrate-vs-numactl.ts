// Whole-process moves: Tierscope's migrate-process (migrate_pages on a worker thread, and the split
// move_pages method) against numactl's `migratepages PID FROM TO`, on the same target, alternating
// directions so every run moves everything. Prints median wall time and MiB/s. Needs 2+ nodes: the lab.
//   test/lab/run --timeout 900 node --import tsx bench/migrate-vs-numactl.ts [MiB]
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { runProcessMigration } from '../electron/engine/migrate/migrateProcess.js';
import { ExperimentRegistry } from '../electron/engine/migrate/registry.js';
import { readNodesWithMemory } from '../native-bridge/index.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

const MIB = Number(process.argv[2] ?? 128);
const ROUNDS = 4;
const nodes = readNodesWithMemory() ?? [];
if (nodes.length < 2) {
  console.error(
    'needs two nodes with memory; run it in the lab: test/lab/run node --import tsx bench/migrate-vs-numactl.ts',
  );
  process.exit(2);
}
const [A, B] = nodes as [number, number];
const registry = new ExperimentRegistry(mkdtempSync(join(tmpdir(), 'bench-registry-')));

const memhog = process.env['TIERSCOPE_LAB_BIN']
  ? join(process.env['TIERSCOPE_LAB_BIN'], 'memhog')
  : '.lab-out/bin/memhog';
const hog = spawn(
  memhog,
  ['--size', String(MIB), '--thp', 'off', '--interval-ms', '10000', '--hot-fraction', '0.01', '--cpu', '0'],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const lines = createInterface({ input: hog.stdout });
await new Promise<void>((resolve) => {
  lines.on('line', (l) => {
    if (l.startsWith('READY ')) resolve();
  });
});
const pid = hog.pid ?? 0;

function numactl(from: number, to: number): number {
  const t0 = performance.now();
  execFileSync('migratepages', [String(pid), String(from), String(to)]);
  return performance.now() - t0;
}
const syscall: number[] = [];
async function ours(from: number, to: number, method: 'migrate_pages' | 'move_pages'): Promise<number> {
  const t0 = performance.now();
  const r = await runProcessMigration({ pid, fromNodes: [from], toNodes: [to], method, registry });
  if (r.experiment.status !== 'completed') throw new Error(r.experiment.detail);
  if (r.syscallMs !== null) syscall.push(r.syscallMs);
  return performance.now() - t0;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const times: Record<string, number[]> = {
  'numactl migratepages': [],
  'tierscope migrate_pages': [],
  'tierscope move_pages': [],
};
try {
  // Start everything on A (memhog ran on CPU 0; its binary and stack may be elsewhere).
  execFileSync('migratepages', [String(pid), nodes.filter((n) => n !== A).join(','), String(A)]);
  for (let round = 0; round < ROUNDS; round++) {
    times['numactl migratepages']?.push(numactl(A, B), numactl(B, A));
    times['tierscope migrate_pages']?.push(
      await ours(A, B, 'migrate_pages'),
      await ours(B, A, 'migrate_pages'),
    );
    times['tierscope move_pages']?.push(await ours(A, B, 'move_pages'), await ours(B, A, 'move_pages'));
  }
  console.log(
    `whole-process moves of a ${MIB} MiB memhog (THP off) between nodes ${A} and ${B}, ${ROUNDS * 2} each; median wall time (process start-up included for numactl, experiment bookkeeping — node checks, per-page before/after query, numa_maps — included for Tierscope):`,
  );
  const rows: [string, number[]][] = [
    ['numactl migratepages', times['numactl migratepages'] ?? []],
    ['tierscope migrate_pages', times['tierscope migrate_pages'] ?? []],
    ['  of which the syscall', syscall],
    ['tierscope move_pages', times['tierscope move_pages'] ?? []],
  ];
  for (const [name, xs] of rows) {
    const ms = median(xs);
    console.log(
      `  ${name.padEnd(24)} ${ms.toFixed(1).padStart(8)} ms  ${((MIB / ms) * 1000).toFixed(1)} MiB/s`,
    );
  }
} finally {
  hog.kill('SIGKILL');
}
