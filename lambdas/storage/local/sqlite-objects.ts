/**
 * Objects of the local engine kept as rows of the index database (table `objects`, keyed like the
 * files they would be), not as files: the DICOM JSON of each instance (local-blobs.ts routes them).
 * A file per object costs an inode, a sync of its data and one of its directory; a row costs a few
 * pages of a WAL commit that the index entry naming it shares. A read is one B-tree lookup.
 *
 * Durability: a put not `fresh` waits for the WAL's group sync (sqlite.ts commitsDurable), as a
 * file's put waits for its fsync. A fresh put's key is named only by an entry of this same database
 * (MetadataIndex.putInstance, on the same connection: the engine opens one per database, engine.ts),
 * so its row waits in memory (FreshRows) for the transaction that writes that entry: one commit for
 * both instead of two (a commit is ~50 us of CPU with its locks, frames and checksums), and no crash
 * keeps the entry without its row. Until then it is read from memory. One whose entry never comes is
 * dropped by the Store's clean-up (delete) or written when the engine closes (FreshRows.writeAll); past
 * FRESH_ROWS_MAX the oldest is written alone, as before: a WAL recovers a prefix of its commits
 * (https://www.sqlite.org/fileformat.html#walformat), so a row committed before its entry is safe too.
 */
import type { Statement } from 'better-sqlite3';
import { commitsDurable, whenAvailable, type SqliteDatabase } from './sqlite';
import { ensureIndexSchema } from './sqlite-index-schema';

/** Fresh rows waiting for their entry's transaction, at most; beyond, the oldest is written alone. */
export const FRESH_ROWS_MAX = 256;

/**
 * The rows of one database put fresh and not yet written (see above), kept in memory until the
 * transaction of the entry that names each (SqliteMetadataIndex.putInstance) writes it. One per
 * database (FreshRows.of), shared by the ports built over it.
 */
export class FreshRows {
  private static readonly ofDb = new WeakMap<SqliteDatabase, FreshRows>();
  private readonly rows = new Map<string, Uint8Array>();
  private readonly putRow: Statement<{ key: string; body: Uint8Array }>;

  /** The fresh rows of `db`, whose objects table exists (sqlite-index-schema.ts). */
  static of(db: SqliteDatabase): FreshRows {
    let fresh = FreshRows.ofDb.get(db);
    if (!fresh) FreshRows.ofDb.set(db, (fresh = new FreshRows(db)));
    return fresh;
  }

  /** Writes the rows of `db` still waiting (the engine closing: nothing is lost that a put kept). */
  static writeAll(db: SqliteDatabase): void {
    const fresh = FreshRows.ofDb.get(db);
    if (!fresh || fresh.rows.size === 0) return;
    db.transaction(() => {
      for (const [key, body] of fresh.rows) fresh.putRow.run({ key, body });
    })();
    fresh.rows.clear();
  }

  private constructor(db: SqliteDatabase) {
    this.putRow = putObjectRow(db);
  }

  /** Keeps a copy of `body` (the caller may reuse its bytes) until its entry's transaction; past FRESH_ROWS_MAX the oldest is written alone. */
  stage(key: string, body: Uint8Array): void {
    this.rows.set(key, Uint8Array.prototype.slice.call(body));
    if (this.rows.size > FRESH_ROWS_MAX) {
      const [oldest, bytes] = this.rows.entries().next().value!;
      whenAvailable(() => this.putRow.run({ key: oldest, body: bytes }));
      this.rows.delete(oldest);
    }
  }

  /** The staged bytes of `key`, if any. */
  get(key: string): Uint8Array | undefined {
    return this.rows.get(key);
  }

  /** Inside the transaction that writes the entry naming `key`: its staged row written too. */
  writeWithEntry(key: string): void {
    const body = this.rows.get(key);
    if (body) this.putRow.run({ key, body });
  }

  /** Forgets `key`: its row was committed (writeWithEntry), replaced by a durable put, or deleted. */
  drop(key: string): void {
    this.rows.delete(key);
  }
}

/** The statement that writes an object's row (insert or replace), on `db`. */
function putObjectRow(db: SqliteDatabase): Statement<{ key: string; body: Uint8Array }> {
  return db.prepare('INSERT INTO objects (key, body) VALUES (@key, @body) ON CONFLICT (key) DO UPDATE SET body = excluded.body');
}

export class SqliteObjects {
  private readonly putRow: Statement<{ key: string; body: Uint8Array }>;
  private readonly getRow: Statement<[string], { body: Buffer }>;
  private readonly deleteRow: Statement<[string]>;
  private readonly fresh: FreshRows;

  /** `db`: the index database (sqlite-index-schema.ts), whose schema is brought up to date here too. */
  constructor(private readonly db: SqliteDatabase) {
    ensureIndexSchema(db);
    this.putRow = putObjectRow(db);
    this.getRow = db.prepare('SELECT body FROM objects WHERE key = ?');
    this.deleteRow = db.prepare('DELETE FROM objects WHERE key = ?');
    this.fresh = FreshRows.of(db);
  }

  async put(key: string, body: Uint8Array, fresh: boolean): Promise<void> {
    if (fresh) return this.fresh.stage(key, body);
    this.fresh.drop(key);
    whenAvailable(() => this.putRow.run({ key, body }));
    await commitsDurable(this.db);
  }

  /** The object's bytes, or undefined when no row has the key. */
  get(key: string): Uint8Array | undefined {
    return this.fresh.get(key) ?? whenAvailable(() => this.getRow.get(key))?.body;
  }

  /**
   * Removes the row of `key`; a key without one is no error (as S3). `durable`: settles once the
   * removal survives a power cut (a row left behind would hide the file that replaced it).
   */
  async delete(key: string, durable = false): Promise<void> {
    this.fresh.drop(key);
    const removed = whenAvailable(() => this.deleteRow.run(key)).changes > 0;
    if (removed && durable) await commitsDurable(this.db);
  }
}
