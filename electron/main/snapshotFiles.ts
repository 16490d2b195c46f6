import { readFile, writeFile } from 'node:fs/promises';
import { Snapshot } from '../contract/vma.js';

/** Largest snapshot file opened: a 100 000-VMA process is ~40 MB of JSON. */
export const MAX_SNAPSHOT_FILE_BYTES = 512 << 20;

/**
 * Reads and validates a snapshot file (`tierscope snapshot --json`, or File → Export): the renderer only
 * ever receives a parsed, schema-checked Snapshot. Errors name the file and the remedy.
 */
export async function readSnapshotFile(
  file: string,
  read: (file: string) => Promise<Buffer> = (f) => readFile(f),
): Promise<Snapshot> {
  const bytes = await read(file);
  if (bytes.length > MAX_SNAPSHOT_FILE_BYTES) {
    throw new Error(`${file} is ${bytes.length} bytes: too large for a snapshot`);
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new Error(`${file} is not JSON (${err instanceof Error ? err.message : String(err)})`, {
      cause: err,
    });
  }
  const parsed = Snapshot.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join('.') || 'root'}: ${issue.message}` : 'invalid';
    throw new Error(
      `${file} is not a Tierscope snapshot (${where}); save one with \`tierscope snapshot --pid N --json > file.json\``,
    );
  }
  return parsed.data;
}

export async function writeSnapshotFile(
  file: string,
  snapshot: Snapshot,
  write: (file: string, text: string) => Promise<void> = (f, t) => writeFile(f, t, 'utf8'),
): Promise<void> {
  await write(file, `${JSON.stringify(Snapshot.parse(snapshot), null, 2)}\n`);
}
