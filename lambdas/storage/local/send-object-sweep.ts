/**
 * The local engine's counterpart of the S3 lifecycle rule SendRequests (lib/constructs/storage.ts):
 * the objects of send requests (send-requests/{transactionUID}/...: manifest, batch outcomes) last
 * written before `before` are removed, and a request's directory with them once empty. Their rows
 * in sends.sqlite expire on their own (sqlite-send-requests.ts); without this sweep every Send left
 * its objects under DATA_DIR for good.
 */
import type { Dirent } from 'node:fs';
import { readdir, rmdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { KEY_PREFIXES } from '../keys';
import type { FileBlobStore } from './file-blobs';

/** Removes the send request objects written before `before` (epoch ms); answers how many. */
export async function sweepSendRequestObjects(blobs: FileBlobStore, before: number): Promise<number> {
  const top = join(blobs.root, KEY_PREFIXES.sendRequests);
  let removed = 0;
  const visit = async (dir: string): Promise<boolean> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return false; // gone meanwhile, or never made
    }
    let left = entries.length;
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (await visit(path)) left--;
      } else if (entry.isFile() && !entry.name.startsWith('.')) {
        const written = (await stat(path).catch(() => undefined))?.mtimeMs;
        if (written === undefined || written >= before) continue;
        // Through the store, so its own rules (temporary files, transient errors) hold.
        await blobs.delete([relative(blobs.root, path).split(sep).join('/')]);
        removed++;
        left--;
      }
    }
    // An emptied request directory goes too (not the top one); a put racing into it fails its rmdir.
    if (left > 0 || dir === top) return false;
    return rmdir(dir).then(
      () => true,
      () => false,
    );
  };
  await visit(top);
  return removed;
}
