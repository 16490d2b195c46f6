import { open } from 'node:fs/promises';

const INITIAL_BUFFER_BYTES = 1 << 20;

/**
 * Reads a /proc or /sys file whole. procfs reports size 0, so fs.readFile falls back to 64 KiB reads:
 * ~110 thread-pool round trips for the 7 MB smaps of a 10 000-VMA process. seq_file fills as much of a
 * read as it is given, so one large buffer (grown by doubling) takes one or two reads instead.
 */
export async function readProcText(path: string): Promise<string> {
  const file = await open(path, 'r');
  try {
    let buffer = Buffer.allocUnsafe(INITIAL_BUFFER_BYTES);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        const grown = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(grown, 0, 0, length);
        buffer = grown;
      }
      const { bytesRead } = await file.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    await file.close();
  }
}
