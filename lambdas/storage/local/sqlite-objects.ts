/**
 * Objects of the local engine kept as rows of the index database (table `objects`, keyed like the
 * files they would be), not as files: the DICOM JSON of each instance (local-blobs.ts routes them).
 * A file per object costs an inode, a sync of its data and one of its directory; a row costs a few
 * pages of a WAL commit that the index entry naming it shares. A read is one B-tree lookup.
 *
 * Durability: a put not `fresh` waits for the WAL's group sync (sqlite.ts commitsDurable), as a
 * file's put waits for its fsync. A fresh put does not: its key is named only by an entry of this
 * same database (MetadataIndex.putInstance, NpiIndex.put) committed after it in the same WAL, and a
 * WAL recovers a prefix of its commits (each frame's checksum chains on the frames before it,
 * https://www.sqlite.org/fileformat.html#walformat), so no crash keeps that entry without this row.
 */
import type { Statement } from 'better-sqlite3';
import { commitsDurable, whenAvailable, type SqliteDatabase } from './sqlite';
import { ensureIndexSchema } from './sqlite-index-schema';

export class SqliteObjects {
  private readonly putRow: Statement<{ key: string; body: Uint8Array }>;
  private readonly getRow: Statement<[string], { body: Buffer }>;
  private readonly deleteRow: Statement<[string]>;

  /** `db`: the index database (sqlite-index-schema.ts), whose schema is brought up to date here too. */
  constructor(private readonly db: SqliteDatabase) {
    ensureIndexSchema(db);
    this.putRow = db.prepare('INSERT INTO objects (key, body) VALUES (@key, @body) ON CONFLICT (key) DO UPDATE SET body = excluded.body');
    this.getRow = db.prepare('SELECT body FROM objects WHERE key = ?');
    this.deleteRow = db.prepare('DELETE FROM objects WHERE key = ?');
  }

  async put(key: string, body: Uint8Array, fresh: boolean): Promise<void> {
    whenAvailable(() => this.putRow.run({ key, body }));
    if (!fresh) await commitsDurable(this.db);
  }

  /** The object's bytes, or undefined when no row has the key. */
  get(key: string): Uint8Array | undefined {
    return whenAvailable(() => this.getRow.get(key))?.body;
  }

  /**
   * Removes the row of `key`; a key without one is no error (as S3). `durable`: settles once the
   * removal survives a power cut (a row left behind would hide the file that replaced it).
   */
  async delete(key: string, durable = false): Promise<void> {
    const removed = whenAvailable(() => this.deleteRow.run(key)).changes > 0;
    if (removed && durable) await commitsDurable(this.db);
  }
}
