// Worker thread for migrate_pages(2): one blocking syscall that can take seconds for a large process, run
// off the main thread so the caller can poll progress (numa_maps) and stay responsive while it runs. The
// worker stays up between requests (starting one costs tens of ms: a new isolate and the koffi binding).
import { parentPort } from 'node:worker_threads';
import { NumaSyscallError, migratePages } from '../../../native-bridge/index.js';

export interface MigrateWorkerInput {
  pid: number;
  fromNodes: number[];
  toNodes: number[];
}

export interface MigrateWorkerRequest extends MigrateWorkerInput {
  id: number;
}

export type MigrateWorkerOutput = { id: number } & (
  | { ok: true; notMigrated: number; ms: number }
  | { ok: false; message: string; code: string; errnoName: string }
);

parentPort?.on('message', (request: MigrateWorkerRequest) => {
  const t0 = performance.now();
  let reply: MigrateWorkerOutput;
  try {
    const notMigrated = migratePages(request.pid, request.fromNodes, request.toNodes);
    reply = { id: request.id, ok: true, notMigrated, ms: performance.now() - t0 };
  } catch (err) {
    reply =
      err instanceof NumaSyscallError
        ? { id: request.id, ok: false, message: err.message, code: err.code, errnoName: err.errnoName }
        : { id: request.id, ok: false, message: String(err), code: 'other', errnoName: '' };
  }
  parentPort?.postMessage(reply);
});
