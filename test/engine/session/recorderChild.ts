// A recorder stand-in for the crash test: writes a synthetic session through the real writer as fast
// as it can and prints "COMMITTED <index>" once each interval's append has resolved (is on disk). The
// test SIGKILLs it at an arbitrary moment. Args: <path> <vmas> <seed>
import { createSessionWriter } from '../../../electron/engine/session/index.js';
import { syntheticSession } from './synthetic.js';

const [path, vmas, seed] = process.argv.slice(2);
if (path === undefined) throw new Error('usage: recorderChild.ts <path> <vmas> <seed>');
const session = syntheticSession({
  vmas: Number(vmas ?? 50),
  seed: Number(seed ?? 1),
  intervals: 1_000_000,
  hotVmas: 2,
});
const writer = await createSessionWriter(path, session.meta);
process.stdout.write('READY\n');
for (;;) {
  const rec = session.next();
  await writer.append(rec);
  process.stdout.write(`COMMITTED ${rec.index}\n`);
}
