// Small scanning helpers shared by the /proc text parsers. They work on index ranges of one line instead
// of regexes or split(): smaps of a process with 10 000 VMAs is ~230 000 lines, parsed on every refresh.
import { TierscopeError } from '../errors.js';

/** The largest value a u64 field of /proc can hold. */
export const U64_MAX = (1n << 64n) - 1n;

/**
 * The parse error every parser throws: names the file, the 1-based line, what was wrong, shows the start
 * of the line, and says what the user can do about it.
 */
export function parseError(source: string, lineNo: number, what: string, line: string): TierscopeError {
  const shown = line.length > 100 ? `${line.slice(0, 100)}…` : line;
  return new TierscopeError(
    'parse',
    `${source} line ${lineNo}: ${what} in ${JSON.stringify(shown)}; this kernel's format is not understood, ` +
      `please report it with a copy of the file`,
  );
}

function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  if (code >= 65 && code <= 70) return code - 55; // A-F
  return -1;
}

/** Hex digits of s[from, to) as a bigint; null if empty, longer than 16 digits, or not hex. */
export function parseHex(s: string, from: number, to: number): bigint | null {
  const len = to - from;
  if (len <= 0 || len > 16) return null;
  // Up to 13 hex digits (52 bits) fit a double exactly: avoid BigInt arithmetic for the common case.
  let lo = 0;
  const split = len > 13 ? to - 13 : from;
  for (let i = split; i < to; i++) {
    const d = hexDigit(s.charCodeAt(i));
    if (d < 0) return null;
    lo = lo * 16 + d;
  }
  if (split === from) return BigInt(lo);
  let hi = 0;
  for (let i = from; i < split; i++) {
    const d = hexDigit(s.charCodeAt(i));
    if (d < 0) return null;
    hi = hi * 16 + d;
  }
  return (BigInt(hi) << 52n) | BigInt(lo);
}

/** Decimal digits of s[from, to) as a safe integer; -1 if empty, not decimal, or beyond 2^53. */
export function parseDecimal(s: string, from: number, to: number): number {
  if (to <= from || to - from > 16) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    n = n * 10 + (c - 48);
  }
  return Number.isSafeInteger(n) ? n : -1;
}

/** Decimal digits of s[from, to) as a u64 bigint; null if empty, not decimal, or beyond 2^64 - 1. */
export function parseDecimalU64(s: string, from: number, to: number): bigint | null {
  if (to <= from || to - from > 20) return null;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return null;
  }
  const n = BigInt(s.slice(from, to));
  return n <= U64_MAX ? n : null;
}

/**
 * Calls onLine for every line of text with its 1-based number; a final newline does not make an extra
 * empty line. Lines are sliced once here so parsers can index into them cheaply.
 */
export function forEachLine(text: string, onLine: (line: string, lineNo: number) => void): void {
  let pos = 0;
  let lineNo = 0;
  const length = text.length;
  while (pos < length) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = length;
    lineNo++;
    onLine(text.slice(pos, nl), lineNo);
    pos = nl + 1;
  }
}

/** Address as /proc prints it (printf "%08lx"): lowercase hex, zero-padded to at least 8 digits. */
export function procHex(value: bigint): string {
  return value.toString(16).padStart(8, '0');
}
