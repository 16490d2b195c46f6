// move_pages through native-bridge (koffi) against a C program making the same syscalls, on the same
// target process in the same run: pages/s for moves between two nodes and for queries (nodes = NULL, where
// the per-call overhead shows most). Also the engine's verified path (executeMove: identity check, query,
// move, re-query, reconcile per batch), which is what `tierscope migrate` runs.
// Moves need 2+ NUMA nodes with memory: run it in the lab. On a one-node machine only the queries run
// (real hardware: that is where the per-call overhead of the binding shows).
//   test/lab/run --timeout 900 node --import tsx bench/move-pages-vs-c.ts [MiB] [batch]
//   node --import tsx bench/move-pages-vs-c.ts            # queries only, on this machine
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { executeMove } from '../electron/engine/migrate/execute.js';
import { readProcStat } from '../electron/engine/procfs/process.js';
import {
  MPOL_MF_MOVE,
  fillPageAddresses,
  movePages,
  pageSizeBytes,
  queryPageNodes,
  readNodesWithMemory,
} from '../native-bridge/index.js';

const MIB = Number(process.argv[2] ?? 64);
const BATCH = Number(process.argv[3] ?? 4096);
const ROUNDS = 5;
const PAGE = pageSizeBytes();

const nodes = readNodesWithMemory() ?? [];
const moves = nodes.length >= 2;
if (!moves) {
  console.error(
    `one node with memory (has_memory: ${nodes.join(',') || 'none'}): queries only; for moves run it in the lab: test/lab/run node --import tsx bench/move-pages-vs-c.ts`,
  );
}
const A = nodes[0] ?? 0;
const B = nodes[1] ?? A;

const dir = mkdtempSync(join(tmpdir(), 'tierscope-bench-'));
const cbin = join(dir, 'move-pages');
execFileSync('gcc', ['-O2', '-o', cbin, new URL('./move-pages.c', import.meta.url).pathname]);

// The target: an idle memhog (a pass every 10 s, so it does not compete) on node A.
const memhog = process.env['TIERSCOPE_LAB_BIN']
  ? join(process.env['TIERSCOPE_LAB_BIN'], 'memhog')
  : '.lab-out/bin/memhog';
const hog = spawn(
  memhog,
  [
    '--size',
    String(MIB),
    '--node',
    String(A),
    '--thp',
    'off',
    '--interval-ms',
    '10000',
    '--hot-fraction',
    '0.01',
  ],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const lines = createInterface({ input: hog.stdout });
const ready = await new Promise<string>((resolve) =>
  lines.on('line', (l) => {
    if (l.startsWith('READY ')) resolve(l);
  }),
);
const [, baseHex] = ready.split(' ');
const base = BigInt(`0x${baseHex ?? '0'}`);
const pid = hog.pid ?? 0;
const pages = (MIB << 20) / PAGE;
const addresses = fillPageAddresses(new BigUint64Array(pages), base, PAGE);

function c(target: number | 'query'): number {
  const out = execFileSync(
    cbin,
    [String(pid), base.toString(16), String(pages), String(BATCH), String(target)],
    { encoding: 'utf8' },
  );
  return Number(/ms=([\d.]+)/.exec(out)?.[1]);
}
function bridge(target: number | 'query'): number {
  const t0 = performance.now();
  if (target === 'query') queryPageNodes(pid, addresses, BATCH);
  else
    movePages(pid, addresses, new Int32Array(pages).fill(target), { flags: MPOL_MF_MOVE, batchPages: BATCH });
  return performance.now() - t0;
}
async function engine(target: number): Promise<number> {
  const t0 = performance.now();
  const r = await executeMove({
    pid,
    startTimeTicks: (await readProcStat(pid)).startTimeTicks,
    addresses,
    targets: new Int32Array(pages).fill(target),
    pageSizeBytes: PAGE,
    planner: { initialPages: BATCH, minPages: BATCH, maxPages: BATCH },
  });
  if (r.status !== 'completed' || r.histogram.moved !== pages)
    throw new Error(`engine move incomplete: ${r.detail}`);
  return performance.now() - t0;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const rate = (ms: number): string => `${Math.round((pages / ms) * 1000).toLocaleString('en')} pages/s`;
const times: Record<string, number[]> = {
  'C move': [],
  'bridge move': [],
  'engine move': [],
  'C query': [],
  'bridge query': [],
};
try {
  bridge('query'); // warm-up: koffi binding, page tables
  // Pages start on A. Every mover takes them to the other node, so each always moves everything; who goes
  // first alternates between rounds (caches, TLBs and the emulator's translation cache favour no one).
  let at = A;
  const other = (): number => (at === A ? B : A);
  const movers: [string, () => Promise<number>][] = [
    ['C move', () => Promise.resolve(c(other()))],
    ['bridge move', () => Promise.resolve(bridge(other()))],
    ['engine move', () => engine(other())],
  ];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? movers : [...movers].reverse();
    if (moves) {
      for (const [name, run] of order) {
        for (let k = 0; k < 2; k++) {
          times[name]?.push(await run());
          at = other();
        }
      }
    }
    for (const name of round % 2 === 0 ? ['C query', 'bridge query'] : ['bridge query', 'C query']) {
      for (let k = 0; k < 3; k++) times[name]?.push(name === 'C query' ? c('query') : bridge('query'));
    }
  }
  console.log(
    moves
      ? `move_pages of ${pages} pages (${MIB} MiB, THP off) of process ${pid} between nodes ${A} and ${B}, batches of ${BATCH}, ${ROUNDS * 2} moves and ${ROUNDS * 3} queries each; medians:`
      : `move_pages queries of ${pages} pages (${MIB} MiB) of process ${pid}, batches of ${BATCH}, ${ROUNDS * 3} each; medians:`,
  );
  for (const [name, xs] of Object.entries(times)) {
    if (xs.length === 0) continue;
    console.log(`  ${name.padEnd(13)} ${median(xs).toFixed(2).padStart(9)} ms  ${rate(median(xs))}`);
  }
  const m = (name: string): number => median(times[name] ?? []);
  console.log(
    `  bridge/C time: ${moves ? `move ${(m('bridge move') / m('C move')).toFixed(3)}, ` : ''}query ${(m('bridge query') / m('C query')).toFixed(3)}` +
      (moves
        ? `; engine/bridge (the verified path): ${(m('engine move') / m('bridge move')).toFixed(2)}`
        : ''),
  );
} finally {
  hog.kill('SIGKILL');
}
