/**
 * The directories of the local engine's objects (file-blobs.ts): made when a put needs them, and
 * synced so that a put's directory entries survive a power cut (POSIX: an fsync of a file does not
 * make its name durable; an fsync of its directory does).
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsCall, syncDirectoryOnce } from './file-calls';
import type { FileIoThreads } from './file-io-threads';
import { GroupSync } from './group-sync';

/** Most directories remembered as existing (`known`); beyond it the memory starts again. */
const KNOWN_DIRECTORIES_MAX = 4096;

export class FileDirectories {
  /**
   * Directories made or found, each settled once it exists and the entries of the directories its
   * mkdir created are durable, so that a put into a series' directory, the common case, skips mkdir,
   * and a put racing the one that creates a directory waits for that creation's fsyncs. Deleting
   * never removes directories; one removed behind the store's back makes the put's open fail with
   * ENOENT, and the put forgets it (forget) and makes it again.
   */
  private readonly known = new Map<string, Promise<void>>();
  /** The group sync of each directory being synced (sync). */
  private readonly syncs = new Map<string, GroupSync>();

  /** `fsync`: the store's durability policy; `io`: the file threads while one runs. */
  constructor(
    private readonly fsync: boolean,
    private readonly io: () => FileIoThreads | undefined,
  ) {}

  /**
   * Settles once `dir` exists, and with `fsync` once the entries of the directories its mkdir
   * created are durable: each created directory's entry in its parent, from the top down.
   */
  ready(dir: string): Promise<void> {
    let ready = this.known.get(dir);
    if (ready) return ready;
    ready = (async () => {
      const created = await fsCall(() => mkdir(dir, { recursive: true }));
      if (!this.fsync || created === undefined) return;
      const parents: string[] = [];
      for (let d = dir; d.length >= created.length && d !== dirname(d); d = dirname(d)) parents.push(dirname(d));
      for (const d of parents.reverse()) await this.sync(d);
    })();
    if (this.known.size >= KNOWN_DIRECTORIES_MAX) this.known.clear();
    this.known.set(dir, ready);
    // A failed mkdir is not remembered: the next put tries again.
    ready.catch(() => {
      if (this.known.get(dir) === ready) this.known.delete(dir);
    });
    return ready;
  }

  /** Forgets that `dir` exists: it was removed behind the store's back. */
  forget(dir: string): void {
    this.known.delete(dir);
  }

  /**
   * fsync of a directory, shared by the puts that need one at once (group-sync.ts): the instances of
   * a series share their directory, so concurrent puts of a Store request pay about one directory
   * fsync between them rather than one each. Idle groups are dropped, so the map holds only the
   * directories being synced.
   */
  async sync(dir: string): Promise<void> {
    let group = this.syncs.get(dir);
    if (!group) {
      const io = this.io();
      this.syncs.set(dir, (group = new GroupSync(() => (io ? io.syncDirectory(dir) : syncDirectoryOnce(dir)))));
    }
    try {
      await group.sync();
    } finally {
      if (group.idle && this.syncs.get(dir) === group) this.syncs.delete(dir);
    }
  }
}
