/**
 * What the file system under the local engine's objects guarantees beyond POSIX. POSIX makes a new
 * file's name durable only with an fsync of its directory; on Linux, ext4 and XFS make it durable
 * with the file's own fsync or fdatasync:
 * - ext4 with a journal: the entry is added in the transaction that creates the inode, and the
 *   file's sync commits the journal up to its last change, that transaction included; without a
 *   journal, the sync of a file whose entry is new syncs its directory (ext4_sync_parent);
 * - XFS: the create is one logged transaction with the inode, and the file's sync forces the log
 *   up to the inode's last change.
 * A put that creates its file in place (a fresh key) there skips the directory's fsync: one
 * device cache flush less per stored instance. Elsewhere (or when unknown) the directory is synced.
 */
import { statfs } from 'node:fs/promises';

/** statfs(2) f_type of the file systems above: EXT4_SUPER_MAGIC (also ext2/ext3 mounted by the ext4 driver), XFS_SUPER_MAGIC. */
const ENTRY_DURABLE_WITH_FILE: ReadonlySet<number> = new Set([0xef53, 0x58465342]);

/** Whether a new file's entry under `dir` is durable once the file is synced (see above). */
export async function newEntryDurableWithFile(dir: string): Promise<boolean> {
  if (process.platform !== 'linux') return false;
  try {
    return ENTRY_DURABLE_WITH_FILE.has((await statfs(dir)).type);
  } catch {
    return false;
  }
}
