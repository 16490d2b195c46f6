// The per-process VMA list: /proc/PID/smaps (layout and sizes) joined with /proc/PID/numa_maps (policy and
// per-node residency) by start address, into the contract's Vma.
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { Vma, VmaKind } from '../../contract/index.js';
import { TierscopeError, procfsError } from '../errors.js';
import type { NumaMapsEntry } from './numaMaps.js';
import { parseNumaMaps } from './numaMaps.js';
import type { SmapsEntry } from './smaps.js';
import { parseSmaps } from './smaps.js';
import { procHex } from './text.js';
import { readProcText } from './procText.js';

const SYSV_SHM = /^\/SYSV[0-9a-f]{8} \(deleted\)$/;

/**
 * The kind of a VMA, first rule that matches wins:
 * 1. hugetlb (VmFlags "ht" / numa_maps "huge") → 'hugetlb', whatever the path: "/anon_hugepage (deleted)"
 *    (MAP_HUGETLB), hugetlbfs files, SHM_HUGETLB segments and MFD_HUGETLB memfds are all hugetlb first.
 * 2. no path → 'anon'.
 * 3. "[…]" pseudo-paths: [heap] → 'heap'; [stack] (and pre-4.5 "[stack:TID]") → 'stack'; [vdso] → 'vdso';
 *    [vvar], [vvar_vclock] → 'vvar'; [vsyscall] → 'vsyscall'; [anon:NAME] (named private anon) → 'anon';
 *    [anon_shmem:NAME] (named shared anon, shmem-backed) → 'shm'; anything else ([uprobes], [vectors]…) →
 *    'other-special'.
 * 4. shmem-backed memory that merely looks like a (deleted) file → 'shm': "/dev/zero (deleted)" (unnamed
 *    MAP_SHARED|MAP_ANONYMOUS), "/SYSV<key> (deleted)" (SysV shm), "/dev/shm/…" (POSIX shm, unlinked or not),
 *    "/memfd:…" (memfd_create). A private "/dev/zero" mapping (not deleted) is plain anonymous memory → 'anon'.
 * 5. "/[aio] (deleted)" (AIO rings) and other device files "/dev/…" (GPU apertures, /dev/mem, device DAX):
 *    not page cache → 'other-special'.
 * 6. any other path ending in " (deleted)" → 'deleted-file' (e.g. a library replaced by an upgrade).
 * 7. any other absolute path → 'file'; non-absolute names ("anon_inode:[io_uring]") → 'other-special'.
 */
export function classifyVma(path: string, perms: string, hugetlb: boolean): VmaKind {
  if (hugetlb) return 'hugetlb';
  if (path === '') return 'anon';
  if (path.startsWith('[')) {
    if (path === '[heap]') return 'heap';
    if (path === '[stack]' || path.startsWith('[stack:')) return 'stack';
    if (path === '[vdso]') return 'vdso';
    if (path === '[vvar]' || path === '[vvar_vclock]') return 'vvar';
    if (path === '[vsyscall]') return 'vsyscall';
    if (path.startsWith('[anon:')) return 'anon';
    if (path.startsWith('[anon_shmem:')) return 'shm';
    return 'other-special';
  }
  if (path === '/dev/zero (deleted)' && perms.endsWith('s')) return 'shm';
  if (path === '/dev/zero') return 'anon';
  if (path.startsWith('/dev/shm/') || path.startsWith('/memfd:') || SYSV_SHM.test(path)) return 'shm';
  if (path.startsWith('/dev/') || path.startsWith('/[aio]')) return 'other-special';
  if (path.endsWith(' (deleted)')) return 'deleted-file';
  if (path.startsWith('/')) return 'file';
  return 'other-special';
}

/**
 * True when the numa_maps line at this start address describes a different mapping than the smaps record
 * (the VMA was unmapped and the address reused between the two reads). Only paths can tell: numa_maps
 * prints file= for every VMA with a file, and maps prints that same path unless it substitutes a
 * "[…]" name (e.g. [anon_shmem:NAME] over the shmem file of shared anonymous memory).
 */
function isRaced(s: SmapsEntry, n: NumaMapsEntry): boolean {
  if (s.path.startsWith('[')) return false;
  if (n.file === null) return s.path.startsWith('/');
  return n.file !== s.path;
}

function checkPageSize(pageSizeBytes: number): void {
  if (
    !Number.isSafeInteger(pageSizeBytes) ||
    pageSizeBytes < 1024 ||
    (pageSizeBytes & (pageSizeBytes - 1)) !== 0
  ) {
    throw new TierscopeError(
      'invalid-argument',
      `page size ${pageSizeBytes} bytes is not a power of two of at least 1024; pass the base page size (getconf PAGESIZE)`,
    );
  }
}

function kB(entry: SmapsEntry, key: string): number {
  return entry.fieldsKB[key] ?? 0;
}

/** Rss plus resident hugetlb pages (which the kernel's Rss leaves out), in bytes. */
function residentBytes(s: SmapsEntry): number {
  const bytes = (kB(s, 'Rss') + kB(s, 'Shared_Hugetlb') + kB(s, 'Private_Hugetlb')) * 1024;
  if (!Number.isSafeInteger(bytes)) {
    throw new TierscopeError('parse', `smaps at ${procHex(s.start)}: resident size beyond 2^53 bytes`);
  }
  return bytes;
}

/**
 * numa_maps counts of one VMA in base pages. The kernel counts hugetlb pages one per huge page
 * (gather_hugetlb_stats) and everything else in base pages (a PMD-mapped THP already adds 512 in
 * gather_pte_stats), so only hugetlb counts are scaled, by kernelpagesize_kB / base page.
 */
function basePagesByNode(
  n: NumaMapsEntry,
  hugetlb: boolean,
  kernelPageSizeBytes: number,
  pageSizeBytes: number,
): Record<string, number> {
  let factor = 1;
  if (hugetlb) {
    const hugeBytes = n.kernelPageSizeKB === null ? kernelPageSizeBytes : n.kernelPageSizeKB * 1024;
    factor = hugeBytes / pageSizeBytes;
    if (!Number.isInteger(factor) || factor < 1) {
      throw new TierscopeError(
        'parse',
        `numa_maps at ${procHex(n.start)}: huge page size ${hugeBytes} bytes is not a multiple of the base page ` +
          `size ${pageSizeBytes}; pass the machine's base page size (getconf PAGESIZE)`,
      );
    }
  }
  const pages: Record<string, number> = {};
  for (const node of Object.keys(n.kernelPagesByNode)) {
    const basePages = (n.kernelPagesByNode[node] ?? 0) * factor;
    if (!Number.isSafeInteger(basePages)) {
      throw new TierscopeError(
        'parse',
        `numa_maps at ${procHex(n.start)}: N${node} count beyond 2^53 base pages`,
      );
    }
    pages[node] = basePages;
  }
  return pages;
}

/**
 * Joins smaps records with numa_maps lines by start address. A VMA in smaps without a numa_maps line
 * (created between the two reads, or [vsyscall], which numa_maps never lists) gets policy null and
 * pagesByNode {}; so does one whose numa_maps line is for another mapping at the same address, or
 * appears twice. numa_maps lines without an smaps record (unmapped between the reads) are dropped.
 * pageSizeBytes is the machine's base page size: the unit of every pagesByNode.
 *
 * rssBytes includes resident hugetlb pages (Shared_Hugetlb + Private_Hugetlb): the kernel's Rss leaves
 * them out, which would show a hugetlb VMA with pages on nodes but nothing resident. pssBytes is the
 * kernel's Pss (which excludes hugetlb).
 */
export function mergeVmas(smaps: SmapsEntry[], numaMaps: NumaMapsEntry[], pageSizeBytes: number): Vma[] {
  checkPageSize(pageSizeBytes);
  const byStart = new Map<bigint, NumaMapsEntry | null>();
  for (const n of numaMaps) byStart.set(n.start, byStart.has(n.start) ? null : n);

  const vmas: Vma[] = [];
  for (const s of smaps) {
    let numa = byStart.get(s.start) ?? null;
    if (numa !== null && isRaced(s, numa)) numa = null;
    const kernelPageSizeBytes =
      (s.fieldsKB.KernelPageSize ?? numa?.kernelPageSizeKB ?? pageSizeBytes / 1024) * 1024;
    // hugetlb exactly when the kernel says so (VmFlags "ht", numa_maps "huge" — both is_vm_hugetlb_page).
    // KernelPageSize alone is not enough: device-DAX mappings report their 2 MiB alignment there too,
    // and numa_maps counts those in base pages. It is only the fallback when VmFlags is missing (< 3.8).
    const hugetlb =
      s.vmFlags.includes('ht') ||
      (numa?.huge ?? false) ||
      (!s.hasVmFlags && kernelPageSizeBytes > pageSizeBytes);
    vmas.push({
      start: procHex(s.start),
      end: procHex(s.end),
      perms: s.perms,
      offset: procHex(s.offset),
      dev: s.dev,
      inode: s.inode.toString(),
      path: s.path,
      kind: classifyVma(s.path, s.perms, hugetlb),
      sizeBytes: Number(s.end - s.start),
      rssBytes: residentBytes(s),
      pssBytes: kB(s, 'Pss') * 1024,
      referencedBytes: kB(s, 'Referenced') * 1024,
      anonymousBytes: kB(s, 'Anonymous') * 1024,
      anonHugePagesBytes: kB(s, 'AnonHugePages') * 1024,
      swapBytes: kB(s, 'Swap') * 1024,
      kernelPageSizeBytes,
      policy: numa === null ? null : numa.policy,
      pagesByNode: numa === null ? {} : basePagesByNode(numa, hugetlb, kernelPageSizeBytes, pageSizeBytes),
    });
  }
  return vmas;
}

export interface ReadVmasOptions {
  /** Where procfs is mounted; tests point it at a fixture tree. */
  procRoot?: string;
  /** The machine's base page size in bytes: the unit of pagesByNode. */
  pageSizeBytes: number;
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Reads and joins /proc/PID/smaps and /proc/PID/numa_maps. A kernel thread or zombie (no mm: empty smaps)
 * gives [] — the caller decides what to tell the user. A kernel without CONFIG_NUMA has no numa_maps: every
 * VMA then has policy null and pagesByNode {}. fs errors become procfsError (process gone, permission).
 */
export async function readVmas(pid: number, options: ReadVmasOptions): Promise<Vma[]> {
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    throw new TierscopeError('invalid-argument', `${pid} is not a process id; pass a positive integer PID`);
  }
  checkPageSize(options.pageSizeBytes);
  const dir = join(options.procRoot ?? '/proc', String(pid));
  const smapsPath = join(dir, 'smaps');
  const numaPath = join(dir, 'numa_maps');

  let smapsText: string;
  try {
    smapsText = await readProcText(smapsPath);
  } catch (err) {
    throw procfsError(err, pid, 'smaps');
  }
  if (smapsText === '') return [];

  let numaText = '';
  try {
    numaText = await readProcText(numaPath);
  } catch (err) {
    // ENOENT is ambiguous: the process exited, or the kernel has no numa_maps at all (!CONFIG_NUMA).
    const processAlive =
      errnoCode(err) === 'ENOENT' &&
      (await access(dir).then(
        () => true,
        () => false,
      ));
    if (!processAlive) throw procfsError(err, pid, 'numa_maps');
  }

  return mergeVmas(
    parseSmaps(smapsText, smapsPath),
    parseNumaMaps(numaText, numaPath),
    options.pageSizeBytes,
  );
}
