import { describe, expect, it } from 'vitest';
import { constants } from 'node:os';
import {
  MPOL_MF_MOVE_ALL,
  NumaFaultError,
  NumaInvalidArgumentError,
  NumaNoMemoryError,
  NumaNodeUnavailableError,
  NumaPermissionError,
  NumaProcessGoneError,
  NumaSyscallError,
  NumaTooBigError,
  NumaUnsupportedError,
  errnoName,
  numaError,
} from '../../native-bridge/index.js';

const E = constants.errno;

function nodeError(err: unknown): NumaNodeUnavailableError {
  if (!(err instanceof NumaNodeUnavailableError))
    throw new Error(`expected a NumaNodeUnavailableError, got ${String(err)}`);
  return err;
}
const at = (errno: number, syscall: 'move_pages' | 'migrate_pages' | 'get_mempolicy' = 'move_pages') => ({
  syscall,
  errno,
  pid: 4321,
});

describe('numaError', () => {
  it('maps each errno to its named class with syscall, errno, name and pid', () => {
    const cases: [number, new (...args: never[]) => NumaSyscallError, string][] = [
      [E.EPERM, NumaPermissionError, 'permission'],
      [E.EACCES, NumaPermissionError, 'permission'],
      [E.ENODEV, NumaNodeUnavailableError, 'node-unavailable'],
      [E.ESRCH, NumaProcessGoneError, 'process-gone'],
      [E.EINVAL, NumaInvalidArgumentError, 'invalid-argument'],
      [E.ENOMEM, NumaNoMemoryError, 'no-memory'],
      [E.EFAULT, NumaFaultError, 'fault'],
      [E.E2BIG, NumaTooBigError, 'too-big'],
      [E.ENOSYS, NumaUnsupportedError, 'unsupported'],
      [E.EXDEV, NumaSyscallError, 'other'],
    ];
    for (const [errno, cls, code] of cases) {
      const err = numaError(at(errno));
      expect(err).toBeInstanceOf(cls);
      expect(err).toBeInstanceOf(NumaSyscallError);
      expect(err.code).toBe(code);
      expect(err.syscall).toBe('move_pages');
      expect(err.errno).toBe(errno);
      expect(err.errnoName).toBe(errnoName(errno));
      expect(err.pid).toBe(4321);
      // One line: cause and remedy, separated by ';'.
      expect(err.message).not.toContain('\n');
      expect(err.message).toMatch(/;/);
      expect(err.message).toContain(err.errnoName);
    }
  });

  it('says who may do it on EPERM', () => {
    expect(numaError(at(E.EPERM)).message).toContain(
      'not the same user and no CAP_SYS_NICE; run as the process owner or root',
    );
    expect(numaError(at(E.EPERM), { flags: MPOL_MF_MOVE_ALL }).message).toContain(
      'MPOL_MF_MOVE_ALL needs CAP_SYS_NICE',
    );
  });

  it('names the nodes without memory on ENODEV, else the requested ones', () => {
    const known = numaError(at(E.ENODEV), { nodes: [0, 2, 5], nodesWithoutMemory: [2, 5] });
    expect(known).toBeInstanceOf(NumaNodeUnavailableError);
    expect(nodeError(known).nodes).toEqual([2, 5]);
    expect(known.message).toContain('nodes 2,5 have no memory or do not exist');
    const guessed = nodeError(numaError(at(E.ENODEV), { nodes: [3] }));
    expect(guessed.nodes).toEqual([3]);
    expect(guessed.message).toContain('node 3 has no memory or does not exist');
  });

  it('turns migrate_pages EINVAL for a memoryless node into the node error, keeping errno EINVAL', () => {
    const err = numaError(at(E.EINVAL, 'migrate_pages'), { nodes: [2], nodesWithoutMemory: [2] });
    expect(err).toBeInstanceOf(NumaNodeUnavailableError);
    expect(err.errnoName).toBe('EINVAL');
    expect(err.message).toContain('node 2 has no memory or does not exist');
    expect(numaError(at(E.EINVAL, 'migrate_pages'), { nodes: [1], nodesWithoutMemory: [] })).toBeInstanceOf(
      NumaInvalidArgumentError,
    );
  });

  it('tells bad flags from a kernel thread on move_pages EINVAL', () => {
    expect(numaError(at(E.EINVAL), { flags: 0x40 }).message).toContain('flags 0x40 are not 0');
    expect(numaError(at(E.EINVAL), { flags: 0 }).message).toContain('kernel thread');
  });

  it('mentions pages already handled by earlier batches', () => {
    const err = numaError({ ...at(E.ENOMEM), completedPages: 32768 });
    expect(err.completedPages).toBe(32768);
    expect(err.message).toContain('first 32768 pages were already handled');
  });

  it('names the address of a get_mempolicy EFAULT', () => {
    expect(numaError(at(E.EFAULT, 'get_mempolicy'), { address: 0x1000n }).message).toContain(
      'address 0x1000 is not mapped in the calling process',
    );
  });
});

describe('errnoName', () => {
  it('names errnos and falls back to E<n>', () => {
    expect(errnoName(E.ENODEV)).toBe('ENODEV');
    expect(errnoName(E.ESRCH)).toBe('ESRCH');
    expect(errnoName(0)).toBe('E0');
  });
});
