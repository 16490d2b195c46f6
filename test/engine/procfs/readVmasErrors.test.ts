// fs failures readVmas cannot be made to hit for real here (tests run as root, which reads every
// process's smaps): EACCES, and a process that exits between reading smaps and numa_maps. The fs
// module is replaced so each read can fail with the errno the kernel would give.
import { beforeEach, describe, expect, test, vi } from 'vitest';

const fsMock = vi.hoisted(() => ({
  readFile: vi.fn<(path: string) => Promise<string>>(),
  access: vi.fn<(path: string) => Promise<void>>(),
}));
vi.mock('node:fs/promises', () => ({ access: fsMock.access }));
vi.mock('../../../electron/engine/procfs/procText.js', () => ({ readProcText: fsMock.readFile }));

const { readVmas } = await import('../../../electron/engine/procfs/vmas.js');
const { expectRejection } = await import('./fixtures.js');

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: mocked`), { code });
}

const SMAPS = '1000-2000 rw-p 00000000 00:00 0 \nRss: 4 kB\n';

describe('readVmas fs errors', () => {
  beforeEach(() => {
    fsMock.readFile.mockReset();
    fsMock.access.mockReset();
  });

  test('EACCES on smaps names the missing permission and the remedy', async () => {
    fsMock.readFile.mockRejectedValue(errno('EACCES'));
    await expectRejection(
      readVmas(1234, { pageSizeBytes: 4096 }),
      'permission',
      /no permission to read smaps of process 1234.*CAP_SYS_PTRACE/,
    );
    expect(fsMock.readFile).toHaveBeenCalledWith('/proc/1234/smaps');
  });

  test('EACCES on numa_maps after smaps succeeded', async () => {
    fsMock.readFile.mockResolvedValueOnce(SMAPS).mockRejectedValueOnce(errno('EACCES'));
    await expectRejection(readVmas(1234, { pageSizeBytes: 4096 }), 'permission', /numa_maps of process 1234/);
  });

  test('ESRCH while reading smaps (the process exited mid-read) is process-gone', async () => {
    fsMock.readFile.mockRejectedValue(errno('ESRCH'));
    await expectRejection(
      readVmas(1234, { pageSizeBytes: 4096 }),
      'process-gone',
      /process 1234 does not exist/,
    );
  });

  test('numa_maps ENOENT and /proc/PID gone: the process exited between the reads', async () => {
    fsMock.readFile.mockResolvedValueOnce(SMAPS).mockRejectedValueOnce(errno('ENOENT'));
    fsMock.access.mockRejectedValue(errno('ENOENT'));
    await expectRejection(
      readVmas(1234, { pageSizeBytes: 4096 }),
      'process-gone',
      /process 1234 does not exist.*numa_maps/,
    );
    expect(fsMock.access).toHaveBeenCalledWith('/proc/1234');
  });

  test('numa_maps ENOENT but /proc/PID still there: no NUMA support, policies null', async () => {
    fsMock.readFile.mockResolvedValueOnce(SMAPS).mockRejectedValueOnce(errno('ENOENT'));
    fsMock.access.mockResolvedValue(undefined);
    const vmas = await readVmas(1234, { pageSizeBytes: 4096 });
    expect(vmas).toHaveLength(1);
    expect(vmas[0]).toMatchObject({ start: '00001000', rssBytes: 4096, policy: null, pagesByNode: {} });
  });

  test('an empty smaps (kernel thread) does not read numa_maps', async () => {
    fsMock.readFile.mockResolvedValueOnce('');
    await expect(readVmas(2, { pageSizeBytes: 4096 })).resolves.toEqual([]);
    expect(fsMock.readFile).toHaveBeenCalledTimes(1);
  });
});
