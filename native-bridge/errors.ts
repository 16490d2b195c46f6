/**
 * Typed errors of the NUMA syscalls. The kernel says only an errno; the user needs the cause and what to
 * do about it, so each errno the calls can return gets a named class and a one-line message built from
 * what the call was asked (pid, nodes, flags).
 */
import { constants as osConstants } from 'node:os';
import { getSystemErrorName } from 'node:util';

export type NumaSyscall = 'move_pages' | 'migrate_pages' | 'get_mempolicy' | 'sysconf';

/** Discriminant for exhaustive switches over bridge errors (instanceof works as well). */
export type NumaErrorCode =
  | 'permission'
  | 'node-unavailable'
  | 'process-gone'
  | 'invalid-argument'
  | 'no-memory'
  | 'fault'
  | 'too-big'
  | 'unsupported'
  | 'other';

export const ERRNO = {
  EPERM: osConstants.errno.EPERM,
  ENOENT: osConstants.errno.ENOENT,
  ESRCH: osConstants.errno.ESRCH,
  EIO: osConstants.errno.EIO,
  E2BIG: osConstants.errno.E2BIG,
  ENOMEM: osConstants.errno.ENOMEM,
  EACCES: osConstants.errno.EACCES,
  EFAULT: osConstants.errno.EFAULT,
  EBUSY: osConstants.errno.EBUSY,
  ENODEV: osConstants.errno.ENODEV,
  EINVAL: osConstants.errno.EINVAL,
  ENOSYS: osConstants.errno.ENOSYS,
} as const;

/** "ENODEV" for 19; "E<n>" when libuv has no name for it. */
export function errnoName(errno: number): string {
  if (!Number.isInteger(errno) || errno <= 0) return `E${errno}`;
  const name = getSystemErrorName(-errno);
  return name.startsWith('E') ? name : `E${errno}`;
}

export interface NumaErrorDetails {
  syscall: NumaSyscall;
  errno: number;
  /** Target process; for calls on the calling process, its own pid. */
  pid: number;
  /** Pages fully handled by earlier batches before this one failed (move_pages only), else 0. */
  completedPages?: number;
}

export class NumaSyscallError extends Error {
  override readonly name: string = 'NumaSyscallError';
  readonly code: NumaErrorCode = 'other';
  readonly syscall: NumaSyscall;
  readonly errno: number;
  readonly errnoName: string;
  readonly pid: number;
  readonly completedPages: number;
  constructor(details: NumaErrorDetails, message: string) {
    super(message);
    this.syscall = details.syscall;
    this.errno = details.errno;
    this.errnoName = errnoName(details.errno);
    this.pid = details.pid;
    this.completedPages = details.completedPages ?? 0;
  }
}

/** EPERM/EACCES: not allowed to look at or move this process's memory. */
export class NumaPermissionError extends NumaSyscallError {
  override readonly name = 'NumaPermissionError';
  override readonly code = 'permission';
}
/** ENODEV (or EINVAL from migrate_pages for a node without memory): the target node cannot take pages. */
export class NumaNodeUnavailableError extends NumaSyscallError {
  override readonly name = 'NumaNodeUnavailableError';
  override readonly code = 'node-unavailable';
  constructor(
    details: NumaErrorDetails,
    message: string,
    /** The requested nodes that have no memory or do not exist (empty when they could not be told). */
    readonly nodes: readonly number[],
  ) {
    super(details, message);
  }
}
/** ESRCH: the process does not exist (any more). */
export class NumaProcessGoneError extends NumaSyscallError {
  override readonly name = 'NumaProcessGoneError';
  override readonly code = 'process-gone';
}
/** EINVAL: bad flags, node ids or arguments, or the target is a kernel thread (no user memory). */
export class NumaInvalidArgumentError extends NumaSyscallError {
  override readonly name = 'NumaInvalidArgumentError';
  override readonly code = 'invalid-argument';
}
export class NumaNoMemoryError extends NumaSyscallError {
  override readonly name = 'NumaNoMemoryError';
  override readonly code = 'no-memory';
}
export class NumaFaultError extends NumaSyscallError {
  override readonly name = 'NumaFaultError';
  override readonly code = 'fault';
}
export class NumaTooBigError extends NumaSyscallError {
  override readonly name = 'NumaTooBigError';
  override readonly code = 'too-big';
}
/** ENOSYS, a non-Linux OS or a CPU architecture the bridge has no syscall numbers for. */
export class NumaUnsupportedError extends NumaSyscallError {
  override readonly name = 'NumaUnsupportedError';
  override readonly code = 'unsupported';
}

/** What the failing call was asked, so the message can name it. */
export interface NumaErrorContext {
  /** Target nodes of the failing call (deduplicated by the caller). */
  nodes?: readonly number[];
  /** Of those, the ones known to have no memory (from sysfs has_memory); undefined when unknown. */
  nodesWithoutMemory?: readonly number[];
  flags?: number;
  address?: bigint;
}

const MPOL_MF_MOVE = 1 << 1;
const MPOL_MF_MOVE_ALL = 1 << 2;

/** "node 2 has no memory or does not exist" / "nodes 2,5 have no memory or do not exist". */
function noMemory(nodes: readonly number[]): string {
  return nodes.length === 1
    ? `node ${nodes[0]} has no memory or does not exist`
    : `nodes ${nodes.join(',')} have no memory or do not exist`;
}

/** Maps an errno of a NUMA syscall to its named error, with a one-line "cause; remedy" message. */
export function numaError(details: NumaErrorDetails, context: NumaErrorContext = {}): NumaSyscallError {
  const { syscall, errno, pid } = details;
  const name = errnoName(errno);
  const target =
    syscall === 'get_mempolicy' || syscall === 'sysconf' ? 'the calling process' : `process ${pid}`;
  const done =
    details.completedPages !== undefined && details.completedPages > 0
      ? ` (the first ${details.completedPages} pages were already handled)`
      : '';
  const missing = context.nodesWithoutMemory ?? [];

  switch (errno) {
    case ERRNO.EPERM:
    case ERRNO.EACCES: {
      const why =
        syscall === 'move_pages' && context.flags !== undefined && (context.flags & MPOL_MF_MOVE_ALL) !== 0
          ? 'MPOL_MF_MOVE_ALL needs CAP_SYS_NICE; run as root or use MPOL_MF_MOVE'
          : syscall === 'migrate_pages'
            ? 'not the same user and no CAP_SYS_NICE, or the target nodes are outside its cpuset; run as the process owner or root'
            : 'not the same user and no CAP_SYS_NICE; run as the process owner or root';
      return new NumaPermissionError(
        details,
        `${syscall} on ${target} not permitted (${name}): ${why}${done}`,
      );
    }
    case ERRNO.ENODEV: {
      const named = missing.length > 0 ? missing : (context.nodes ?? []);
      const which = named.length > 0 ? noMemory(named) : 'a target node has no memory or does not exist';
      return new NumaNodeUnavailableError(
        details,
        `${syscall} on ${target}: ${which} (${name}); pick nodes listed in /sys/devices/system/node/has_memory${done}`,
        named,
      );
    }
    case ERRNO.ESRCH:
      return new NumaProcessGoneError(
        details,
        `${syscall}: process ${pid} does not exist (${name}): it has exited; pick a running process${done}`,
      );
    case ERRNO.EINVAL: {
      if (missing.length > 0) {
        return new NumaNodeUnavailableError(
          details,
          `${syscall} on ${target}: ${noMemory(missing)} (${name}); pick nodes listed in /sys/devices/system/node/has_memory`,
          missing,
        );
      }
      const flags = context.flags ?? 0;
      const why =
        syscall === 'move_pages'
          ? (flags & ~(MPOL_MF_MOVE | MPOL_MF_MOVE_ALL)) !== 0
            ? `flags 0x${flags.toString(16)} are not 0, MPOL_MF_MOVE or MPOL_MF_MOVE_ALL; pass one of those`
            : 'it is a kernel thread with no user memory; pick a user process'
          : syscall === 'migrate_pages'
            ? 'a node id is beyond the kernel maximum, or the process is a kernel thread with no user memory; pass online node ids and a user process'
            : 'unsupported flags or node mask size; this is a bridge bug, report it';
      return new NumaInvalidArgumentError(
        details,
        `${syscall} on ${target} rejected its arguments (${name}): ${why}${done}`,
      );
    }
    case ERRNO.ENOMEM:
      return new NumaNoMemoryError(
        details,
        `${syscall} on ${target}: the kernel could not allocate memory for the request (${name}); free memory or use smaller batches${done}`,
      );
    case ERRNO.EFAULT:
      return new NumaFaultError(
        details,
        context.address !== undefined
          ? `${syscall}: address 0x${context.address.toString(16)} is not mapped in ${target} (${name}); pass an address inside a mapping`
          : `${syscall} on ${target}: the kernel could not access an argument array (${name}); pass valid typed arrays${done}`,
      );
    case ERRNO.E2BIG:
      return new NumaTooBigError(
        details,
        `${syscall} on ${target}: too many pages in one call (${name}); use a smaller batchPages${done}`,
      );
    case ERRNO.ENOSYS:
      return new NumaUnsupportedError(
        details,
        `${syscall} is not available (${name}): the kernel was built without CONFIG_NUMA or a seccomp filter blocks it; run on a NUMA-enabled kernel outside that sandbox`,
      );
    default:
      return new NumaSyscallError(
        details,
        `${syscall} on ${target} failed with ${name} (errno ${errno}); see man 2 ${syscall}${done}`,
      );
  }
}
