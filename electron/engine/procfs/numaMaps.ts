// Parser for /proc/PID/numa_maps (mm/mempolicy.c mpol_to_str + fs/proc/task_mmu.c show_numa_map):
//   "<start %08lx> <policy>[ file=<path>| heap| stack][ huge][ anon=N][ dirty=N][ mapped=N][ mapmax=N]
//    [ swapcache=N][ active=N][ writeback=N][ N<node>=N…][ kernelpagesize_kB=N]"
// Kernel rules worth knowing when reading the numbers:
// - Counts are in *kernel pages* of the VMA: base pages normally (a PMD-mapped THP adds HPAGE_PMD_NR = 512
//   via gather_stats(…, nr_pages)), but ONE per huge page in a hugetlb VMA (gather_hugetlb_stats passes 1).
//   kernelpagesize_kB is vma_kernel_pagesize(): the hstate size for hugetlb, the base page otherwise.
// - Every count is printed only when non-zero; when no page is resident nothing after the path is printed,
//   not even kernelpagesize_kB. mapped= is printed only when it differs from both anon= and dirty=, and
//   active= only when some page is inactive (never for hugetlb): so null here means "not printed", and a
//   missing active= means all pages are active.
// - The policy is mpol_to_str(): a mode name ("default", "prefer", "bind", "interleave", "local", and two
//   with a space: "weighted interleave", "prefer (many)"), optionally "=static|relative|balancing" flags,
//   optionally ":<nodelist>". No line at all is printed for the gate VMA ([vsyscall]).
// - The path goes through seq_path(…, "\n\t= "), so space, tab, newline and '=' appear as \040, \011, \012,
//   \075, and the line splits cleanly on spaces.
import { forEachLine, parseDecimal, parseError, parseHex } from './text.js';

export interface NumaMapsEntry {
  start: bigint;
  /** Policy as printed: "default", "bind:0-1", "interleave=static:0,2", "prefer (many):1" … */
  policy: string;
  /**
   * Backing file, unescaped to the form /proc/PID/maps prints (\040, \011, \075 decoded; a newline stays
   * "\012" as in maps), so it compares equal to MapsEntry.path. Null for anonymous memory.
   */
  file: string | null;
  /** The process's initial heap ("[heap]" in maps). */
  heap: boolean;
  /** The main thread's stack ("[stack]" in maps). */
  stack: boolean;
  /** A hugetlb VMA: counts below are in huge pages of kernelPageSizeKB. */
  huge: boolean;
  anon: number | null;
  dirty: number | null;
  mapped: number | null;
  mapmax: number | null;
  swapcache: number | null;
  active: number | null;
  writeback: number | null;
  /** Node id (decimal string) → resident pages of kernelPageSizeKB on it, as printed (N<id>=count). */
  kernelPagesByNode: Record<string, number>;
  /** Sum of kernelPagesByNode. */
  kernelPages: number;
  /** kernelpagesize_kB; null when not printed (no resident page). */
  kernelPageSizeKB: number | null;
  /** Tokens this parser does not know (a newer kernel's), kept verbatim. */
  unknownTokens: string[];
}

type CountKey = 'anon' | 'dirty' | 'mapped' | 'mapmax' | 'swapcache' | 'active' | 'writeback';

function countKey(key: string): CountKey | null {
  switch (key) {
    case 'anon':
    case 'dirty':
    case 'mapped':
    case 'mapmax':
    case 'swapcache':
    case 'active':
    case 'writeback':
      return key;
    default:
      return null;
  }
}

/** mpol_to_str mode names containing a space; a plain split would cut them in two. */
const MULTI_WORD_MODES = ['weighted interleave', 'prefer (many)'];

function policyEnd(line: string, from: number): number {
  for (const mode of MULTI_WORD_MODES) {
    if (line.startsWith(mode, from)) {
      const next = line.charCodeAt(from + mode.length);
      // Followed by end of line, a space, ':' (nodes) or '=' (flags): the whole mode name.
      if (Number.isNaN(next) || next === 32 || next === 58 || next === 61) {
        const space = line.indexOf(' ', from + mode.length);
        return space < 0 ? line.length : space;
      }
    }
  }
  const space = line.indexOf(' ', from);
  return space < 0 ? line.length : space;
}

const ESCAPES: Record<string, string> = { '\\040': ' ', '\\011': '\t', '\\075': '=' };

function unescapePath(raw: string): string {
  if (!raw.includes('\\')) return raw;
  return raw.replace(/\\0(?:40|11|75)/g, (m) => ESCAPES[m] ?? m);
}

function parseLine(line: string, source: string, lineNo: number): NumaMapsEntry {
  const bad = (what: string) => parseError(source, lineNo, what, line);
  const space = line.indexOf(' ');
  const start = space < 0 ? null : parseHex(line, 0, space);
  if (start === null) throw bad('expected "<start address> <policy> …"');
  const policyAt = space + 1;
  const policyTo = policyEnd(line, policyAt);
  if (policyTo === policyAt) throw bad('missing policy');

  const entry: NumaMapsEntry = {
    start,
    policy: line.slice(policyAt, policyTo),
    file: null,
    heap: false,
    stack: false,
    huge: false,
    anon: null,
    dirty: null,
    mapped: null,
    mapmax: null,
    swapcache: null,
    active: null,
    writeback: null,
    kernelPagesByNode: {},
    kernelPages: 0,
    kernelPageSizeKB: null,
    unknownTokens: [],
  };

  let pos = policyTo + 1;
  while (pos < line.length) {
    let to = line.indexOf(' ', pos);
    if (to < 0) to = line.length;
    if (to > pos) readToken(entry, line, pos, to, bad);
    pos = to + 1;
  }
  return entry;
}

function readToken(
  entry: NumaMapsEntry,
  line: string,
  from: number,
  to: number,
  bad: (what: string) => Error,
): void {
  const eq = line.indexOf('=', from);
  if (eq < 0 || eq >= to) {
    const word = line.slice(from, to);
    switch (word) {
      case 'heap':
        entry.heap = true;
        return;
      case 'stack':
        entry.stack = true;
        return;
      case 'huge':
        entry.huge = true;
        return;
      default:
        entry.unknownTokens.push(word);
        return;
    }
  }
  const key = line.slice(from, eq);
  if (key === 'file') {
    if (entry.file !== null) throw bad('duplicate file=');
    entry.file = unescapePath(line.slice(eq + 1, to));
    return;
  }
  const nodeId = key.length > 1 && key.charCodeAt(0) === 78 /* N */ ? parseDecimal(key, 1, key.length) : -1;
  const count = countKey(key);
  if (nodeId < 0 && count === null && key !== 'kernelpagesize_kB') {
    entry.unknownTokens.push(line.slice(from, to));
    return;
  }
  const value = parseDecimal(line, eq + 1, to);
  if (value < 0) throw bad(`bad ${key}= count`);
  if (nodeId >= 0) {
    const id = String(nodeId);
    if (entry.kernelPagesByNode[id] !== undefined) throw bad(`duplicate ${key}=`);
    entry.kernelPagesByNode[id] = value;
    entry.kernelPages += value;
    if (!Number.isSafeInteger(entry.kernelPages)) throw bad('page counts beyond 2^53');
  } else if (count !== null) {
    if (entry[count] !== null) throw bad(`duplicate ${key}=`);
    entry[count] = value;
  } else {
    if (entry.kernelPageSizeKB !== null) throw bad('duplicate kernelpagesize_kB=');
    if (value === 0) throw bad('kernelpagesize_kB=0');
    entry.kernelPageSizeKB = value;
  }
}

/**
 * Parses /proc/PID/numa_maps. Empty text (kernel thread, zombie) gives []. Unknown tokens are kept in
 * unknownTokens; a malformed known field throws TierscopeError('parse') naming source and line.
 */
export function parseNumaMaps(text: string, source = 'numa_maps'): NumaMapsEntry[] {
  const entries: NumaMapsEntry[] = [];
  forEachLine(text, (line, lineNo) => {
    entries.push(parseLine(line, source, lineNo));
  });
  return entries;
}
