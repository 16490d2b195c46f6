// Parser for /proc/PID/smaps: per VMA, the maps header line followed by "Key:   N kB" lines
// (fs/proc/task_mmu.c, show_smap / __show_smap), then "THPeligible:    0|1", optionally
// "ProtectionKey:   N" (x86 pkeys), and "VmFlags: rd wr mr …". Fields a newer kernel adds are kept, not
// rejected: any "Key: N kB" goes into fieldsKB, any other "Key: value" into otherFields.
import { type MapsEntry, parseMapsLine } from './maps.js';
import { parseDecimal, parseError } from './text.js';

export interface SmapsEntry extends MapsEntry {
  /**
   * Every "Key: N kB" field of the record, in kB as printed: Size, KernelPageSize, MMUPageSize, Rss, Pss,
   * Pss_Dirty, Shared_Clean, Shared_Dirty, Private_Clean, Private_Dirty, Referenced, Anonymous, KSM,
   * LazyFree, AnonHugePages, ShmemPmdMapped, FilePmdMapped, Shared_Hugetlb, Private_Hugetlb, Swap,
   * SwapPss, Locked … (which ones exist depends on the kernel).
   */
  fieldsKB: Record<string, number>;
  /** THPeligible: whether THP may back this VMA; null when the kernel does not print it. */
  thpEligible: boolean | null;
  /** VmFlags two-letter codes ("rd", "wr", "ht" = hugetlb, "hg" = MADV_HUGEPAGE, …); [] when absent. */
  vmFlags: string[];
  /** Whether a VmFlags line was present (older kernels lack it, so [] alone is ambiguous). */
  hasVmFlags: boolean;
  /** Other "Key: value" fields verbatim (e.g. ProtectionKey). */
  otherFields: Record<string, string>;
}

function isKeyChar(c: number): boolean {
  return (
    (c >= 65 && c <= 90) || // A-Z
    (c >= 97 && c <= 122) || // a-z
    (c >= 48 && c <= 57) || // 0-9
    c === 95 // _
  );
}

function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}

// A header line starts with the hex start address; a field line starts with a key, and every smaps key
// begins with an upper-case letter — so the first character tells them apart without a regex.
function isHeaderStart(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102);
}

/** Keys of current kernels, to reuse these (interned) strings instead of slicing one per line. */
const KNOWN_KEYS = [
  'Size',
  'KernelPageSize',
  'MMUPageSize',
  'Rss',
  'Pss',
  'Pss_Anon',
  'Pss_File',
  'Pss_Shmem',
  'Pss_Dirty',
  'Shared_Clean',
  'Shared_Dirty',
  'Private_Clean',
  'Private_Dirty',
  'Referenced',
  'Anonymous',
  'KSM',
  'LazyFree',
  'AnonHugePages',
  'ShmemPmdMapped',
  'FilePmdMapped',
  'Shared_Hugetlb',
  'Private_Hugetlb',
  'Swap',
  'SwapPss',
  'Locked',
  'THPeligible',
  'ProtectionKey',
  'VmFlags',
];

/** Largest kB value whose byte count is still an exact JS number (8 PiB: far beyond any real VMA). */
const MAX_KB = Math.floor(Number.MAX_SAFE_INTEGER / 1024);

/** Known keys whose value is always "N kB": anything else there is malformed, not a new field kind. */
const KB_KEYS = new Set(
  KNOWN_KEYS.filter((k) => k !== 'THPeligible' && k !== 'ProtectionKey' && k !== 'VmFlags'),
);

/** (first char, length) → candidate keys; at most two share a slot. */
const KEYS_BY_SHAPE = new Map<number, string[]>();
for (const key of KNOWN_KEYS) {
  const shape = key.charCodeAt(0) * 64 + key.length;
  const list = KEYS_BY_SHAPE.get(shape);
  if (list) list.push(key);
  else KEYS_BY_SHAPE.set(shape, [key]);
}

function keyAt(text: string, from: number, to: number): string {
  const candidates = KEYS_BY_SHAPE.get(text.charCodeAt(from) * 64 + (to - from));
  if (candidates) for (const key of candidates) if (text.startsWith(key, from)) return key;
  return text.slice(from, to);
}

function badLine(text: string, lineAt: number, source: string, lineNo: number, what: string): Error {
  const nl = text.indexOf('\n', lineAt);
  return parseError(source, lineNo, what, text.slice(lineAt, nl < 0 ? text.length : nl));
}

/**
 * Parses /proc/PID/smaps. Empty text (kernel thread, zombie) gives []. Throws TierscopeError('parse')
 * naming source and the line on anything that is not smaps, including a record without an Rss line.
 */
export function parseSmaps(text: string, source = 'smaps'): SmapsEntry[] {
  const entries: SmapsEntry[] = [];
  let entry: SmapsEntry | null = null;
  let entryLine = '';
  let entryLineNo = 0;
  const finish = (e: SmapsEntry) => {
    if (e.fieldsKB.Rss === undefined)
      throw parseError(source, entryLineNo, 'VMA record has no Rss field', entryLine);
    entries.push(e);
  };

  // Indices into text rather than one string per line: field lines (~23 per VMA) are never sliced.
  const length = text.length;
  let pos = 0;
  let lineNo = 0;
  while (pos < length) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = length;
    lineNo++;
    const lineAt = pos;
    pos = nl + 1;
    const first = text.charCodeAt(lineAt);

    if (isHeaderStart(first)) {
      if (entry !== null) finish(entry);
      entryLine = text.slice(lineAt, nl);
      entryLineNo = lineNo;
      const h = parseMapsLine(entryLine, source, lineNo);
      // A literal, not a spread: same shape for every entry and no per-entry property copying loop.
      entry = {
        start: h.start,
        end: h.end,
        perms: h.perms,
        offset: h.offset,
        dev: h.dev,
        inode: h.inode,
        path: h.path,
        fieldsKB: {},
        thpEligible: null,
        vmFlags: [],
        hasVmFlags: false,
        otherFields: {},
      };
      continue;
    }

    const colon = text.indexOf(':', lineAt);
    if (colon < 0 || colon >= nl)
      throw badLine(text, lineAt, source, lineNo, 'expected a VMA header or a "Key: value" field');
    // Keys start with an upper-case letter: that also keeps "__proto__", "constructor" … out of the
    // plain objects below (plain, not null-prototype: V8 keeps same-shaped plain objects fast).
    if (!isUpper(first)) throw badLine(text, lineAt, source, lineNo, 'bad field name');
    for (let i = lineAt + 1; i < colon; i++)
      if (!isKeyChar(text.charCodeAt(i))) throw badLine(text, lineAt, source, lineNo, 'bad field name');
    if (entry === null) throw badLine(text, lineAt, source, lineNo, 'field before the first VMA header');
    const key = keyAt(text, lineAt, colon);
    let valueAt = colon + 1;
    while (valueAt < nl && text.charCodeAt(valueAt) === 32) valueAt++;

    if (key === 'VmFlags') {
      if (entry.hasVmFlags) throw badLine(text, lineAt, source, lineNo, 'duplicate VmFlags');
      entry.hasVmFlags = true;
      // "VmFlags: rd wr mr " — two-letter codes separated by single spaces, with a trailing space.
      for (const flag of text.slice(valueAt, nl).split(' ')) if (flag !== '') entry.vmFlags.push(flag);
      continue;
    }

    // " kB" suffix: ' ' 'k' 'B'
    const inKB =
      nl - valueAt > 3 &&
      text.charCodeAt(nl - 1) === 66 &&
      text.charCodeAt(nl - 2) === 107 &&
      text.charCodeAt(nl - 3) === 32;
    const value = parseDecimal(text, valueAt, inKB ? nl - 3 : nl);

    if (inKB) {
      if (value < 0 || value > MAX_KB) throw badLine(text, lineAt, source, lineNo, `bad ${key} value`);
      if (entry.fieldsKB[key] !== undefined) throw badLine(text, lineAt, source, lineNo, `duplicate ${key}`);
      entry.fieldsKB[key] = value;
    } else if (KB_KEYS.has(key)) {
      throw badLine(text, lineAt, source, lineNo, `bad ${key} value (expected "N kB")`);
    } else if (key === 'THPeligible') {
      if (value !== 0 && value !== 1)
        throw badLine(text, lineAt, source, lineNo, 'THPeligible is not 0 or 1');
      entry.thpEligible = value === 1;
    } else {
      entry.otherFields[key] = text.slice(valueAt, nl);
    }
  }
  if (entry !== null) finish(entry);
  return entries;
}
