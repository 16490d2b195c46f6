// Parser for /proc/PID/maps (also the header line of every /proc/PID/smaps record).
// Format (fs/proc/task_mmu.c, show_vma_header_prefix): "%08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu " then,
// padded with spaces to a column, the path or pseudo-path. The path is printed by seq_file_path(…, "\n"):
// only a newline is escaped (as "\012"), so a path may contain spaces and even " (deleted)" in its name —
// it is simply the rest of the line. Anonymous VMAs end right after the inode (plus one space).
import { forEachLine, parseDecimalU64, parseError, parseHex } from './text.js';

export interface MapsEntry {
  /** First address of the VMA. bigint: user addresses can exceed 2^53 ([vsyscall] is ffffffffff600000). */
  start: bigint;
  /** One past the last address. */
  end: bigint;
  /** "rwxp" style: r/w/x or '-', then p (private) or s (shared). */
  perms: string;
  /** File offset in bytes of start (for anonymous VMAs, the kernel prints vm_pgoff << PAGE_SHIFT anyway). */
  offset: bigint;
  /** "major:minor" in hex as printed, "00:00" for anonymous memory. */
  dev: string;
  /** Inode number (u64: overlayfs with xino sets the high bits). 0 for anonymous memory. */
  inode: bigint;
  /** Path or pseudo-path exactly as printed ("[heap]", "/x (deleted)", "/a\012b" for a newline), "" if none. */
  path: string;
}

const MAX_SAFE_BIGINT = BigInt(Number.MAX_SAFE_INTEGER);

function isPerm(code: number, allowed: number): boolean {
  return code === allowed || code === 45; // '-'
}

function validPerms(line: string, at: number): boolean {
  const s = line.charCodeAt(at + 3);
  return (
    isPerm(line.charCodeAt(at), 114) && // r
    isPerm(line.charCodeAt(at + 1), 119) && // w
    isPerm(line.charCodeAt(at + 2), 120) && // x
    (s === 112 || s === 115) // p | s
  );
}

function validDev(line: string, from: number, to: number): boolean {
  const colon = line.indexOf(':', from);
  if (colon <= from || colon >= to - 1) return false;
  return parseHex(line, from, colon) !== null && parseHex(line, colon + 1, to) !== null;
}

/**
 * Parses one "start-end perms offset dev inode [path]" line. Throws TierscopeError('parse') naming
 * source and lineNo when the line is not one.
 */
export function parseMapsLine(line: string, source: string, lineNo: number): MapsEntry {
  const bad = (what: string) => parseError(source, lineNo, what, line);
  const dash = line.indexOf('-');
  const endSpace = dash < 0 ? -1 : line.indexOf(' ', dash);
  if (dash <= 0 || endSpace < 0) throw bad('expected "start-end perms offset dev inode [path]"');
  const start = parseHex(line, 0, dash);
  const end = parseHex(line, dash + 1, endSpace);
  if (start === null || end === null) throw bad('bad address range');
  if (end <= start) throw bad('address range ends before it starts');
  // No real VMA comes near 8 PiB; beyond 2^53 its size would not survive conversion to a JS number.
  if (end - start > MAX_SAFE_BIGINT) throw bad('address range larger than 2^53 bytes');

  const permsAt = endSpace + 1;
  if (line.charCodeAt(permsAt + 4) !== 32 || !validPerms(line, permsAt)) throw bad('bad permissions');
  const perms = line.slice(permsAt, permsAt + 4);

  const offsetAt = permsAt + 5;
  const offsetEnd = line.indexOf(' ', offsetAt);
  const offset = offsetEnd < 0 ? null : parseHex(line, offsetAt, offsetEnd);
  if (offset === null) throw bad('bad offset');

  const devAt = offsetEnd + 1;
  const devEnd = line.indexOf(' ', devAt);
  if (devEnd < 0 || !validDev(line, devAt, devEnd)) throw bad('bad device');
  const dev = line.slice(devAt, devEnd);

  const inodeAt = devEnd + 1;
  let inodeEnd = line.indexOf(' ', inodeAt);
  if (inodeEnd < 0) inodeEnd = line.length;
  const inode = parseDecimalU64(line, inodeAt, inodeEnd);
  if (inode === null) throw bad('bad inode');

  // The kernel pads with spaces up to the path column; paths themselves start with '/' or '[' (or a
  // name like "anon_inode:…"), never with a space, so skipping spaces cannot eat part of a path.
  let pathAt = inodeEnd;
  while (line.charCodeAt(pathAt) === 32) pathAt++;
  const path = line.slice(pathAt);

  return { start, end, perms, offset, dev, inode, path };
}

/** Parses /proc/PID/maps. Empty text (a kernel thread or a zombie) gives []. */
export function parseMaps(text: string, source = 'maps'): MapsEntry[] {
  const entries: MapsEntry[] = [];
  forEachLine(text, (line, lineNo) => {
    entries.push(parseMapsLine(line, source, lineNo));
  });
  return entries;
}
