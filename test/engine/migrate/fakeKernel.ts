// A simulated kernel for the migration engine's unit tests: pages of one process on several nodes, with
// move_pages semantics that matter to the engine — per-page statuses, THP folios moved whole through
// their first subpage (the others report -EBUSY), a full node (-ENOMEM), busy pages, a process that
// exits mid-move (ESRCH) or whose PID is reused.
import { constants } from 'node:os';
import { TierscopeError } from '../../../electron/engine/errors.js';
import type { MoveBridge } from '../../../electron/engine/migrate/execute.js';
import { NumaProcessGoneError } from '../../../native-bridge/index.js';

const E = constants.errno;
export const PAGE = 4096;
const BLOCK = 2n * 1024n * 1024n;

export class FakeKernel implements MoveBridge {
  /** Address → node of every resident page. */
  readonly nodes = new Map<bigint, number>();
  /** 2 MiB blocks (base addresses) backed by one huge page. */
  readonly thp = new Set<bigint>();
  readonly fullNodes = new Set<number>();
  readonly busy = new Set<bigint>();
  gone = false;
  reused = false;
  /** Called before each move_pages: lets a test act between batches (kill the process, abort). */
  beforeMove: ((call: number) => void) | null = null;
  moveCalls: number[] = [];

  place(start: bigint, pages: number, node: number): this {
    for (let i = 0; i < pages; i++) this.nodes.set(start + BigInt(i * PAGE), node);
    return this;
  }

  pagesOn(node: number): number {
    let n = 0;
    for (const v of this.nodes.values()) if (v === node) n++;
    return n;
  }

  private check(pid: number): void {
    if (this.gone) {
      throw new NumaProcessGoneError(
        { syscall: 'move_pages', errno: E.ESRCH, pid },
        `move_pages: process ${pid} does not exist (ESRCH)`,
      );
    }
  }

  queryPageNodes(pid: number, addresses: BigUint64Array): Int32Array {
    this.check(pid);
    return Int32Array.from(addresses, (a) => this.nodes.get(a - (a % BigInt(PAGE))) ?? -E.ENOENT);
  }

  queryRange(pid: number, start: bigint, end: bigint, pageSizeBytes: number): Int32Array {
    const n = Number((end - start) / BigInt(pageSizeBytes));
    return this.queryPageNodes(
      pid,
      BigUint64Array.from({ length: n }, (_, i) => start + BigInt(i * pageSizeBytes)),
    );
  }

  movePages(pid: number, addresses: BigUint64Array, targets: Int32Array): Int32Array {
    this.beforeMove?.(this.moveCalls.length);
    this.check(pid);
    this.moveCalls.push(addresses.length);
    const status = new Int32Array(addresses.length);
    const movedBlocks = new Set<bigint>();
    addresses.forEach((a, i) => {
      const target = targets[i] ?? 0;
      const now = this.nodes.get(a);
      if (now === undefined) return void (status[i] = -E.ENOENT);
      const block = a - (a % BLOCK);
      if (this.thp.has(block)) {
        if (movedBlocks.has(block)) return void (status[i] = -E.EBUSY);
        movedBlocks.add(block);
        if (this.fullNodes.has(target) && now !== target) return void (status[i] = -E.ENOMEM);
        for (let off = 0n; off < BLOCK; off += BigInt(PAGE))
          if (this.nodes.has(block + off)) this.nodes.set(block + off, target);
        return void (status[i] = target);
      }
      if (this.busy.has(a)) return void (status[i] = -E.EBUSY);
      if (this.fullNodes.has(target) && now !== target) return void (status[i] = -E.ENOMEM);
      this.nodes.set(a, target);
      status[i] = target;
    });
    return status;
  }

  checkIdentity(pid: number): Promise<void> {
    if (this.gone || this.reused) {
      return Promise.reject(
        new TierscopeError('process-gone', `process ${pid} was replaced: PID reused by a new process`),
      );
    }
    return Promise.resolve();
  }

  isGone(): Promise<boolean> {
    return Promise.resolve(this.gone || this.reused);
  }
}

/** A clock whose sleeps only advance its time: tests need no real waiting. */
export class FakeClock {
  t = 0;
  slept: number[] = [];
  now(): number {
    return this.t;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    this.slept.push(ms);
    this.t += Math.max(0, ms);
    return Promise.resolve();
  }
}

export function addresses(start: bigint, pages: number): BigUint64Array {
  return BigUint64Array.from({ length: pages }, (_, i) => start + BigInt(i * PAGE));
}
