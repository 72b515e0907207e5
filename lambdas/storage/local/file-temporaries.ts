/**
 * The temporary files of FileBlobStore's puts (file-blobs.ts) and of upload parts being received
 * (file-transfer.ts): their names, beside the file they become, and the sweep of those an interrupted
 * put left behind. A temporary file's name starts with '.', which no key segment may (FileBlobStore
 * pathOf), so no key ever names one.
 */
import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isMissing } from './file-calls';

/** Temporary files of interrupted puts: `.{object name}.{16 hex digits}.tmp`, beside their object. */
const TEMPORARY_FILE = /^\..*\.[0-9a-f]{16}\.tmp$/;

/** This process's half of the temporary files' 16 hex digits; a counter gives the other half. */
const PROCESS_TAG = randomBytes(4).toString('hex');
let temporaryCount = 0;

/**
 * The name of a put's temporary file beside the object file `path`: unique in this process by its
 * counter and among processes by PROCESS_TAG (random, drawn once: a random draw per put showed in
 * profiles of STOW-RS).
 */
export function temporaryPath(path: string): string {
  temporaryCount = (temporaryCount + 1) >>> 0;
  const suffix = `${PROCESS_TAG}${temporaryCount.toString(16).padStart(8, '0')}`;
  return join(dirname(path), `.${path.slice(dirname(path).length + 1)}.${suffix}.tmp`);
}

/**
 * Removes the temporary files under `root` (a walk of the whole tree: run it once, at start), but for
 * those in `writing`, of puts under way in this process. Answers how many it removed.
 */
export async function removeTemporaryFiles(root: string, writing: ReadonlySet<string>): Promise<number> {
  let removed = 0;
  const walk = async (dir: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (TEMPORARY_FILE.test(entry.name) && !writing.has(path)) {
        await unlink(path).catch((error: unknown) => {
          if (!isMissing(error)) throw error;
        });
        removed++;
      }
    }
  };
  await walk(root);
  return removed;
}
