// Runs inside the NUMA lab guest for test/e2e/lab.e2e.ts:
//   test/lab/run --hostfwd P:P -- node test/e2e/lab-agent.mjs P STOPFILE
// Starts workloads with pages on all three nodes (one of them, "promote", with a known hot set on the slow
// node 2, to be recorded with page_idle and promoted from the UI), `tierscope ui` on the guest's
// 127.0.0.1:P (autosaving recordings under the guest's /tmp: $HOME is read-only there), and a TCP
// relay from 10.0.2.15:P (where QEMU forwards the host's 127.0.0.1:P) to it: the server itself stays on
// loopback, as it always does, and the Host header the browser sends (127.0.0.1:P) is the one it expects.
// Prints "WORKLOAD name pid base" lines and "URL url", then waits until STOPFILE exists (the host creates
// it) and stops everything it started.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [portText, stopFile] = process.argv.slice(2);
const port = Number(portText);
if (!Number.isInteger(port) || port <= 0 || !stopFile) {
  console.error('usage: lab-agent.mjs PORT STOPFILE');
  process.exit(2);
}
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = process.env.TIERSCOPE_LAB_BIN ?? path.join(repo, '.lab-out/bin');
const children = [];

function startChild(command, args, env = process.env) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
  children.push(child);
  return child;
}

function firstLine(child, re) {
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      buffered += chunk.toString();
      const line = buffered.split('\n').find((l) => re.test(l));
      if (line !== undefined) resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`${child.spawnargs.join(' ')} exited (${code}) early`)));
  });
}

async function stopAll(code) {
  for (const child of children.reverse()) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }
  process.exit(code);
}

try {
  // The one to pick: 48 MiB interleaved over nodes 0, 1 and 2 (process policy, shown per VMA in numa_maps).
  const interleaved = startChild('numactl', [
    '--interleave=0,1,2',
    path.join(bin, 'memhog'),
    '--size',
    '48',
    '--interval-ms',
    '200',
  ]);
  // A second process entirely on the CPU-less, slow node 2.
  const far = startChild(path.join(bin, 'memhog'), ['--size', '24', '--node', '2', '--interval-ms', '200']);
  // The one to promote: 64 MiB bound to the CPU-less node 2 whose first 16 MiB are read continuously, as in
  // the committed lab fixture (test/lab/fixtures/record-session.sh). Accessed bits under TCG need
  // address-space switches on its CPU (test/lab/README.md), hence the 1 MiB ticker on the same CPU 0.
  const ticker = startChild(path.join(bin, 'memhog'), [
    '--size',
    '1',
    '--hot-fraction',
    '0.002',
    '--cpu',
    '0',
    '--interval-ms',
    '1',
  ]);
  const promote = startChild(path.join(bin, 'memhog'), [
    '--size',
    '64',
    '--node',
    '2',
    '--pattern',
    'contiguous',
    '--hot-fraction',
    '0.25',
    '--thp',
    'off',
    '--cpu',
    '0',
  ]);
  await firstLine(ticker, /^READY /);
  for (const [name, child] of [
    ['interleaved', interleaved],
    ['far', far],
    ['promote', promote],
  ]) {
    const ready = await firstLine(child, /^READY /);
    console.log(`WORKLOAD ${name} ${child.pid} ${ready.split(' ')[1]}`);
  }

  const ui = startChild(
    process.execPath,
    [
      path.join(repo, 'scripts/tierscope.mjs'),
      'ui',
      '--no-open',
      '--port',
      String(port),
      '--pid',
      String(interleaved.pid),
    ],
    { ...process.env, XDG_DATA_HOME: '/tmp/tierscope-e2e-data' },
  );
  const url = await firstLine(ui, /^http:\/\/127\.0\.0\.1:/);

  const relay = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise((resolve, reject) => {
    relay.once('error', reject);
    relay.listen(port, '10.0.2.15', resolve);
  });
  console.log(`URL ${url.trim()}`);

  const timer = setInterval(() => {
    if (existsSync(stopFile)) {
      clearInterval(timer);
      relay.close();
      void stopAll(0);
    }
  }, 500);
} catch (err) {
  console.error(`lab-agent: ${err instanceof Error ? err.message : String(err)}`);
  await stopAll(1);
}
