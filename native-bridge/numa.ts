/**
 * move_pages, migrate_pages and get_mempolicy through libc's syscall(), called by koffi.
 *
 * No libnuma: it is not installed everywhere, and the raw calls are small. Typed arrays go to the kernel
 * as they are (koffi passes their backing store), so a call costs the same per page as from C.
 */
import koffi, { type LibraryHandle } from 'koffi';
import { endianness } from 'node:os';
import {
  ERRNO,
  numaError,
  NumaInvalidArgumentError,
  NumaUnsupportedError,
  type NumaSyscall,
} from './errors.js';
import { buildNodemask, MAX_NODE_ID_EXCLUSIVE, nodemaskToList, readNodesWithMemory } from './nodemask.js';
import { STATUS_UNREPORTED } from './pageStatus.js';

/** move_pages flags: move pages mapped only by this process / also pages shared with others (CAP_SYS_NICE). */
export const MPOL_MF_MOVE = 1 << 1;
export const MPOL_MF_MOVE_ALL = 1 << 2;
/** get_mempolicy flags. */
export const MPOL_F_NODE = 1 << 0;
export const MPOL_F_ADDR = 1 << 1;
export const MPOL_F_MEMS_ALLOWED = 1 << 2;

export const DEFAULT_BATCH_PAGES = 16384;

interface SyscallNumbers {
  get_mempolicy: number;
  migrate_pages: number;
  move_pages: number;
}

/**
 * Per-architecture numbers (arch/x86/entry/syscalls/syscall_64.tbl; include/uapi/asm-generic/unistd.h for
 * the architectures on the generic table). Only 64-bit little-endian ABIs on which variadic integer
 * arguments travel like fixed ones, which the fixed-arity prototypes below rely on.
 */
const SYSCALL_NUMBERS: Partial<Record<NodeJS.Architecture, SyscallNumbers>> = {
  x64: { get_mempolicy: 239, migrate_pages: 256, move_pages: 279 },
  arm64: { get_mempolicy: 236, migrate_pages: 238, move_pages: 239 },
  riscv64: { get_mempolicy: 236, migrate_pages: 238, move_pages: 239 },
  loong64: { get_mempolicy: 236, migrate_pages: 238, move_pages: 239 },
};

type Long = number | bigint;
type MovePagesFn = (
  nr: number,
  pid: number,
  count: number,
  pages: BigUint64Array,
  nodes: Int32Array | null,
  status: Int32Array,
  flags: number,
) => Long;
type MigratePagesFn = (
  nr: number,
  pid: number,
  maxnode: number,
  from: BigUint64Array,
  to: BigUint64Array,
) => Long;
type GetMempolicyFn = (
  nr: number,
  mode: Int32Array | null,
  nodemask: BigUint64Array | null,
  maxnode: number,
  addr: bigint,
  flags: number,
) => Long;
type SysconfFn = (name: number) => Long;

interface Libc {
  numbers: SyscallNumbers;
  movePages: MovePagesFn;
  migratePages: MigratePagesFn;
  getMempolicy: GetMempolicyFn;
  sysconf: SysconfFn;
}

let libc: Libc | null = null;

function bind(syscall: NumaSyscall): Libc {
  if (libc) return libc;
  const numbers = SYSCALL_NUMBERS[process.arch];
  if (process.platform !== 'linux' || numbers === undefined) {
    throw new NumaUnsupportedError(
      { syscall, errno: ERRNO.ENOSYS, pid: process.pid },
      `${syscall} is not available on ${process.platform}/${process.arch}: Tierscope's NUMA calls support Linux on x64, arm64, riscv64 and loong64; run on one of those`,
    );
  }
  // glibc's soname first; dlopen(NULL) finds syscall() in whatever libc the process already uses (musl).
  let lib: LibraryHandle;
  try {
    lib = koffi.load('libc.so.6');
  } catch {
    lib = koffi.load(null);
  }
  // syscall() is variadic; on the ABIs above integer/pointer varargs use the same registers and stack
  // slots as fixed arguments (x86-64's %al only tells a C callee like musl's whether to spill vector
  // registers; glibc's assembly stub ignores it), so fixed prototypes are exact — and let koffi prepare
  // each call once instead of per call.
  libc = {
    numbers,
    movePages: lib.func('syscall', 'long', [
      'long',
      'long',
      'ulong',
      'void *',
      'void *',
      'void *',
      'long',
    ]) as MovePagesFn,
    migratePages: lib.func('syscall', 'long', [
      'long',
      'long',
      'ulong',
      'void *',
      'void *',
    ]) as MigratePagesFn,
    getMempolicy: lib.func('syscall', 'long', [
      'long',
      'void *',
      'void *',
      'ulong',
      'uint64',
      'ulong',
    ]) as GetMempolicyFn,
    sysconf: lib.func('sysconf', 'long', ['int']) as SysconfFn,
  };
  return libc;
}

function checkPid(syscall: NumaSyscall, pid: number): void {
  if (!Number.isInteger(pid) || pid < 0 || pid > 0x7fffffff) {
    throw new NumaInvalidArgumentError(
      { syscall, errno: ERRNO.EINVAL, pid: 0 },
      `${syscall}: ${String(pid)} is not a process id; pass a non-negative integer (0 = the calling process)`,
    );
  }
}

function checkNodes(syscall: NumaSyscall, pid: number, nodes: readonly number[]): void {
  for (const node of nodes) {
    if (!Number.isInteger(node) || node < 0 || node >= MAX_NODE_ID_EXCLUSIVE) {
      throw new NumaInvalidArgumentError(
        { syscall, errno: ERRNO.EINVAL, pid },
        `${syscall}: ${String(node)} is not a node id; pass integers in [0, ${MAX_NODE_ID_EXCLUSIVE})`,
      );
    }
  }
}

/** Distinct values of an Int32Array (only used on error paths). */
function distinct(values: Int32Array): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

export interface MovePagesOptions {
  /** 0 (default), MPOL_MF_MOVE or MPOL_MF_MOVE_ALL; checked by the kernel even for queries. */
  flags?: number;
  /** Pages per syscall (default 16384): bounds how long one call holds the target's mmap lock. */
  batchPages?: number;
  /** Where to write the per-page status (length = addresses.length); a new array when absent. */
  status?: Int32Array;
}

/**
 * move_pages(2) over `addresses` (one address per page, any address inside the page), in batches.
 *
 * `nodes === null` queries: status[i] = node of page i, or -errno (see describePageStatus). With
 * `nodes` (target node per page) it moves, and status[i] = the node the page is on afterwards or -errno;
 * pages of a batch the kernel aborted keep STATUS_UNREPORTED (see reconcileMove). pid 0 = the caller.
 *
 * Throws a NumaSyscallError subclass when a whole call fails; earlier batches are then already done
 * (`completedPages` says how many pages).
 */
export function movePages(
  pid: number,
  addresses: BigUint64Array,
  nodes: Int32Array | null,
  options: MovePagesOptions = {},
): Int32Array {
  checkPid('move_pages', pid);
  const flags = options.flags ?? 0;
  const batchPages = options.batchPages ?? DEFAULT_BATCH_PAGES;
  const count = addresses.length;
  const status = options.status ?? new Int32Array(count);
  if (!Number.isInteger(batchPages) || batchPages < 1) {
    throw new NumaInvalidArgumentError(
      { syscall: 'move_pages', errno: ERRNO.EINVAL, pid },
      `move_pages: batchPages ${batchPages} is not a positive integer; pass e.g. ${DEFAULT_BATCH_PAGES}`,
    );
  }
  if ((nodes !== null && nodes.length !== count) || status.length !== count) {
    throw new NumaInvalidArgumentError(
      { syscall: 'move_pages', errno: ERRNO.EINVAL, pid },
      `move_pages: ${count} addresses but ${nodes?.length ?? count} nodes and ${status.length} status slots; pass arrays of one length`,
    );
  }
  const { numbers, movePages: call } = bind('move_pages');
  status.fill(STATUS_UNREPORTED);
  for (let start = 0; start < count; start += batchPages) {
    const end = Math.min(count, start + batchPages);
    const batchNodes = nodes ? nodes.subarray(start, end) : null;
    const ret = Number(
      call(
        numbers.move_pages,
        pid,
        end - start,
        addresses.subarray(start, end),
        batchNodes,
        status.subarray(start, end),
        flags,
      ),
    );
    // ret > 0: pages the kernel failed to migrate; their statuses stay STATUS_UNREPORTED. Go on: later
    // batches are independent, and reconcileMove sorts the pages out with a re-query.
    if (ret < 0) {
      const errno = koffi.errno();
      const targets = batchNodes ? distinct(batchNodes) : [];
      const withMemory = targets.length > 0 ? readNodesWithMemory() : null;
      throw numaError(
        { syscall: 'move_pages', errno, pid: pid || process.pid, completedPages: start },
        {
          nodes: targets,
          flags,
          ...(withMemory ? { nodesWithoutMemory: targets.filter((n) => !withMemory.includes(n)) } : {}),
        },
      );
    }
  }
  return status;
}

/** Node of each page of `addresses` in process `pid` (node id, or -errno per page). */
export function queryPageNodes(
  pid: number,
  addresses: BigUint64Array,
  batchPages = DEFAULT_BATCH_PAGES,
): Int32Array {
  return movePages(pid, addresses, null, { batchPages });
}

/**
 * migrate_pages(2): moves all pages of `pid` that are on `fromNodes` to `toNodes` (node sets, as
 * `migratepages PID FROM TO`: with sets of equal size, the i-th lowest from-node maps to the i-th lowest
 * to-node). Returns the number of pages that could not be moved.
 */
export function migratePages(pid: number, fromNodes: readonly number[], toNodes: readonly number[]): number {
  checkPid('migrate_pages', pid);
  checkNodes('migrate_pages', pid, fromNodes);
  checkNodes('migrate_pages', pid, toNodes);
  const from = buildNodemask(fromNodes);
  const to = buildNodemask(toNodes);
  // Both masks must be read with the same maxnode: pad the shorter one.
  const words = Math.max(from.mask.length, to.mask.length);
  const pad = (mask: BigUint64Array): BigUint64Array => {
    if (mask.length === words) return mask;
    const padded = new BigUint64Array(words);
    padded.set(mask);
    return padded;
  };
  const { numbers, migratePages: call } = bind('migrate_pages');
  const ret = Number(call(numbers.migrate_pages, pid, words * 64 + 1, pad(from.mask), pad(to.mask)));
  if (ret < 0) {
    const errno = koffi.errno();
    const targets = [...new Set(toNodes)].sort((a, b) => a - b);
    const withMemory = readNodesWithMemory();
    throw numaError(
      { syscall: 'migrate_pages', errno, pid: pid || process.pid },
      {
        nodes: targets,
        ...(withMemory ? { nodesWithoutMemory: targets.filter((n) => !withMemory.includes(n)) } : {}),
      },
    );
  }
  return ret;
}

export type MempolicyMode =
  | 'default'
  | 'preferred'
  | 'bind'
  | 'interleave'
  | 'local'
  | 'preferred_many'
  | 'weighted_interleave'
  | 'unknown';
export type MempolicyModeFlag = 'static-nodes' | 'relative-nodes' | 'numa-balancing';

export interface Mempolicy {
  mode: MempolicyMode;
  /** The raw mode number without flags (tells a future mode apart from 'unknown'). */
  modeNumber: number;
  modeFlags: MempolicyModeFlag[];
  /** Nodes of the policy, ascending; empty for default and local. */
  nodes: number[];
}

const MODE_NAMES: readonly MempolicyMode[] = [
  'default',
  'preferred',
  'bind',
  'interleave',
  'local',
  'preferred_many',
  'weighted_interleave',
];
const MODE_FLAGS: readonly [number, MempolicyModeFlag][] = [
  [1 << 15, 'static-nodes'],
  [1 << 14, 'relative-nodes'],
  [1 << 13, 'numa-balancing'],
];

/** Room for MAX_NUMNODES of any kernel config; the kernel zero-fills past its own node count. */
const MEMPOLICY_MASK_WORDS = MAX_NODE_ID_EXCLUSIVE / 64;

function getMempolicyRaw(
  mode: Int32Array | null,
  mask: BigUint64Array | null,
  address: bigint,
  flags: number,
): void {
  const { numbers, getMempolicy: call } = bind('get_mempolicy');
  const maxnode = mask ? mask.length * 64 + 1 : 0;
  if (Number(call(numbers.get_mempolicy, mode, mask, maxnode, address, flags)) < 0) {
    const errno = koffi.errno();
    throw numaError(
      { syscall: 'get_mempolicy', errno, pid: process.pid },
      (flags & MPOL_F_ADDR) !== 0 ? { address, flags } : { flags },
    );
  }
}

/**
 * Memory policy of the calling thread, or with `address` the policy that governs that address (its VMA's
 * policy, else the thread's).
 */
export function getMempolicy(options: { address?: bigint } = {}): Mempolicy {
  const mode = new Int32Array(1);
  const mask = new BigUint64Array(MEMPOLICY_MASK_WORDS);
  const address = options.address;
  getMempolicyRaw(mode, mask, address ?? 0n, address === undefined ? 0 : MPOL_F_ADDR);
  const raw = mode[0] ?? 0;
  let modeNumber = raw;
  const modeFlags: MempolicyModeFlag[] = [];
  for (const [bit, name] of MODE_FLAGS) {
    if ((raw & bit) !== 0) {
      modeFlags.push(name);
      modeNumber &= ~bit;
    }
  }
  return { mode: MODE_NAMES[modeNumber] ?? 'unknown', modeNumber, modeFlags, nodes: nodemaskToList(mask) };
}

/**
 * Node of the page at `address` in the calling process (get_mempolicy MPOL_F_NODE|MPOL_F_ADDR). Unlike a
 * move_pages query this faults the page in when it is not resident, so it allocates memory under the
 * current policy.
 */
export function getPageNodeOfAddress(address: bigint): number {
  const mode = new Int32Array(1);
  getMempolicyRaw(mode, null, address, MPOL_F_NODE | MPOL_F_ADDR);
  return mode[0] ?? 0;
}

/** Nodes the calling thread may allocate on (its cpuset's mems), ascending. */
export function getMemsAllowed(): number[] {
  const mask = new BigUint64Array(MEMPOLICY_MASK_WORDS);
  getMempolicyRaw(null, mask, 0n, MPOL_F_MEMS_ALLOWED);
  return nodemaskToList(mask);
}

let cachedPageSize = 0;

/** Base page size of the running kernel in bytes (sysconf(_SC_PAGESIZE), cached). */
export function pageSizeBytes(): number {
  if (cachedPageSize === 0) {
    const { sysconf } = bind('sysconf');
    const SC_PAGESIZE = 30; // same value in glibc and musl on every Linux architecture
    const size = Number(sysconf(SC_PAGESIZE));
    if (size <= 0 || (size & (size - 1)) !== 0) {
      throw numaError({ syscall: 'sysconf', errno: koffi.errno() || ERRNO.EINVAL, pid: process.pid });
    }
    cachedPageSize = size;
  }
  return cachedPageSize;
}

const LOW_WORD = endianness() === 'LE' ? 0 : 1;

/**
 * Fills `out` with firstAddress, firstAddress + stepBytes, … (one address per page) without a BigInt per
 * page: the 64-bit words are written as two 32-bit halves. stepBytes must be below 2^32; addresses wrap
 * at 2^64, so callers keep the range below it.
 */
export function fillPageAddresses(
  out: BigUint64Array,
  firstAddress: bigint,
  stepBytes: number,
): BigUint64Array {
  if (!Number.isInteger(stepBytes) || stepBytes <= 0 || stepBytes >= 2 ** 32) {
    throw new RangeError(`page step ${stepBytes} is not an integer in (0, 2^32)`);
  }
  const halves = new Uint32Array(out.buffer, out.byteOffset, out.length * 2);
  let low = Number(BigInt.asUintN(32, firstAddress));
  let high = Number(BigInt.asUintN(32, firstAddress >> 32n));
  for (let i = 0; i < out.length; i++) {
    halves[2 * i + LOW_WORD] = low;
    halves[2 * i + 1 - LOW_WORD] = high;
    low += stepBytes;
    if (low >= 2 ** 32) {
      low -= 2 ** 32;
      high = (high + 1) >>> 0;
    }
  }
  return out;
}
