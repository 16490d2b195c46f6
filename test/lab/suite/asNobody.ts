// Run by unprivileged.lab.test.ts as user nobody (setpriv), never by vitest itself: tries what an
// unprivileged Tierscope would try on a root-owned process and prints one JSON line per attempt with
// the error it got. Usage: node --import tsx asNobody.ts <pid> <region-base-hex> <region-bytes>
import { readFileSync } from 'node:fs';
import { PageIdleBitmap } from '../../../electron/engine/access/pageIdle.js';
import { PagemapReader } from '../../../electron/engine/access/pagemap.js';
import { TierscopeError } from '../../../electron/engine/errors.js';
import {
  MPOL_MF_MOVE,
  NumaSyscallError,
  fillPageAddresses,
  migratePages,
  movePages,
  pageSizeBytes,
} from '../../../native-bridge/index.js';

interface Outcome {
  attempt: string;
  ok: boolean;
  errorClass?: string;
  code?: string;
  message?: string;
}

function attempt(name: string, fn: () => unknown): Outcome {
  try {
    fn();
    return { attempt: name, ok: true };
  } catch (err) {
    if (err instanceof NumaSyscallError || err instanceof TierscopeError) {
      return {
        attempt: name,
        ok: false,
        errorClass: err.constructor.name,
        code: err.code,
        message: err.message,
      };
    }
    return { attempt: name, ok: false, errorClass: 'untyped', message: String(err) };
  }
}

const [pidText, baseHex, bytesText] = process.argv.slice(2);
const pid = Number(pidText);
const base = BigInt(`0x${baseHex ?? ''}`);
const page = pageSizeBytes();
const pages = Number(bytesText) / page;
const addrs = fillPageAddresses(new BigUint64Array(pages), base, page);

const outcomes: Outcome[] = [
  { attempt: 'whoami', ok: true, message: String(process.geteuid?.()) },
  attempt('move_pages', () => movePages(pid, addrs, new Int32Array(pages).fill(1), { flags: MPOL_MF_MOVE })),
  attempt('migrate_pages', () => migratePages(pid, [0, 1], [2])),
  attempt('page_idle', () => {
    PageIdleBitmap.open().close();
  }),
  attempt('pagemap-of-root-process', () => {
    PagemapReader.open(pid, { pageSizeBytes: page }).close();
  }),
  attempt('pagemap-own-pfns', () => {
    // Our own stack: present pages for sure, in a process we own; the kernel still hides their PFNs.
    const m = /^([0-9a-f]+)-([0-9a-f]+) .*\[stack\]$/m.exec(readFileSync('/proc/self/maps', 'utf8'));
    if (!m?.[1] || !m[2]) throw new Error('no [stack] in /proc/self/maps');
    const reader = PagemapReader.open(process.pid, { pageSizeBytes: page });
    try {
      reader.read(BigInt(`0x${m[1]}`), BigInt(`0x${m[2]}`));
    } finally {
      reader.close();
    }
  }),
];
for (const o of outcomes) process.stdout.write(`${JSON.stringify(o)}\n`);
