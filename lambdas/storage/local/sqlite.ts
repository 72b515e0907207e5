/**
 * One SQLite database file of the local engine (better-sqlite3, synchronous, in-process): opened
 * once per process and shared by the adapters kept in it, in WAL mode, its schema brought up to date
 * by numbered migrations recorded in `PRAGMA user_version` (https://www.sqlite.org/pragma.html).
 */
import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StorageUnavailableError } from '../errors';
import { GroupSync } from './group-sync';

export { GroupSync } from './group-sync';

export type SqliteDatabase = Database.Database;

/** One schema step: SQL run as a script, or a function for a step SQL alone cannot do. */
export type Migration = string | ((db: SqliteDatabase) => void);

export interface OpenSqliteOptions {
  /**
   * PRAGMA synchronous. In WAL mode NORMAL survives a process crash (SIGKILL) but a power loss may
   * roll back the last commits; FULL syncs the WAL at every commit and survives both
   * (https://www.sqlite.org/pragma.html#pragma_synchronous). Default FULL; with NORMAL,
   * `commitsDurable` makes the commits that must survive durable.
   */
  readonly synchronous?: 'NORMAL' | 'FULL';
  /** How long a writer waits for another connection's lock before SQLITE_BUSY, in ms. Default 5000. */
  readonly busyTimeoutMs?: number;
}

/**
 * Opens (creating it and its directory if missing) the database at `path`, in WAL mode with foreign
 * keys enforced, and applies the migrations it has not seen yet.
 */
export function openSqlite(path: string, migrations: readonly Migration[], options: OpenSqliteOptions = {}): SqliteDatabase {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    const busyTimeoutMs = Math.trunc(options.busyTimeoutMs ?? 5000);
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // WAL: readers never block the writer and a commit is one append (https://www.sqlite.org/wal.html).
    const mode = againWhileBusy(() => db.pragma('journal_mode = WAL', { simple: true }), busyTimeoutMs);
    if (typeof mode !== 'string' || mode.toLowerCase() !== 'wal') throw new Error(`${path}: WAL journal mode refused (${String(mode)})`);
    db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    db.pragma('foreign_keys = ON');
    migrate(db, migrations);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * `call` again while it meets SQLITE_BUSY, for up to `timeoutMs`. Processes opening a new database at
 * once each switch it to WAL, and of two connections both upgrading their read lock for it, SQLite
 * answers one SQLITE_BUSY at once rather than wait (the busy handler would wait for a lock the other
 * never gives up, https://www.sqlite.org/c3ref/busy_handler.html): the statement ends, its lock goes,
 * and the next attempt finds the database in WAL or switches it.
 */
function againWhileBusy<T>(call: () => T, timeoutMs: number): T {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return call();
    } catch (error) {
      const busy = error instanceof Database.SqliteError && error.code.startsWith('SQLITE_BUSY');
      if (!busy || Date.now() >= deadline) throw error;
      Atomics.wait(PAUSE, 0, 0, 10); // 10 ms, synchronously: opening is synchronous
    }
  }
}
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * Applies migrations[user_version..] in order, each in its own write transaction with the new
 * user_version, so a crash leaves the schema at a step boundary. The version is read again inside
 * each transaction: of processes opening one file at once, one applies a step, the others then see
 * it done. Adapters sharing one file pass the same list; a file from a newer release (more steps than
 * known) is refused, not guessed at.
 */
export function migrate(db: SqliteDatabase, migrations: readonly Migration[]): void {
  const step = db.transaction((): boolean => {
    const version = schemaVersion(db);
    if (version > migrations.length) {
      throw new Error(`${db.name}: schema version ${version} is newer than this release knows (${migrations.length})`);
    }
    if (version === migrations.length) return false;
    const migration = migrations[version]!;
    if (typeof migration === 'string') db.exec(migration);
    else migration(db);
    db.pragma(`user_version = ${version + 1}`);
    return true;
  });
  if (schemaVersion(db) === migrations.length) return;
  while (step.immediate());
}

/**
 * Makes every commit made so far on `db` durable through a power loss, off the event loop: one
 * fdatasync of the WAL file (https://www.sqlite.org/wal.html: a commit is the WAL frames written; a
 * NORMAL commit only skips their sync, https://www.sqlite.org/pragma.html#pragma_synchronous) on
 * libuv's thread pool, shared by every caller waiting at the time (group commit). So the writes a
 * client is answered on (an instance stored, a Delete started) wait for a sync, the bookkeeping
 * between them does not, and a FULL commit's fsync never blocks the other requests better-sqlite3's
 * synchronous calls would hold up. A connection opened FULL already synced at commit.
 */
export function commitsDurable(db: SqliteDatabase): Promise<void> {
  let group = walSyncs.get(db);
  if (group === undefined) {
    // A connection's synchronous level is set once, when it is opened (openSqlite).
    const synced = db.memory || Number(db.pragma('synchronous', { simple: true })) >= SYNCHRONOUS_FULL;
    const wal = new WalFile(`${db.name}-wal`);
    walFiles.set(db, wal);
    walSyncs.set(db, (group = synced ? null : new GroupSync(() => wal.sync())));
  }
  return group ? group.sync() : Promise.resolve();
}

/** Each connection's group sync; null for one that syncs at every commit itself. */
const walSyncs = new WeakMap<SqliteDatabase, GroupSync | null>();
const walFiles = new WeakMap<SqliteDatabase, WalFile>();

/**
 * A connection's WAL file, kept open between syncs: a sync is one fdatasync, not an open, a sync and a
 * close (three trips through libuv's thread pool). SQLite deletes the WAL only when the last
 * connection to the database closes, and this one is open, so the descriptor names the WAL for as long
 * as the connection lives; a checkpoint truncates the file, never replaces it. Closed by closeSqlite.
 */
class WalFile {
  private handle?: Promise<FileHandle | undefined>;
  constructor(private readonly path: string) {}

  async sync(): Promise<void> {
    const file = await (this.handle ??= this.open());
    if (file === undefined) {
      // No WAL file: nothing committed through it yet; look again next time.
      this.handle = undefined;
      return;
    }
    await file.datasync();
  }

  async close(): Promise<void> {
    const file = await this.handle;
    this.handle = undefined;
    await file?.close();
  }

  private async open(): Promise<FileHandle | undefined> {
    try {
      return await open(this.path, 'r+');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}

/** PRAGMA synchronous as a number: OFF 0, NORMAL 1, FULL 2, EXTRA 3. */
const SYNCHRONOUS_FULL = 2;

/** The number of migrations applied to the database. */
export function schemaVersion(db: SqliteDatabase): number {
  return Number(db.pragma('user_version', { simple: true }));
}

/** Checkpoints the WAL into the database file and closes the connection; closing twice is harmless. */
export function closeSqlite(db: SqliteDatabase): void {
  if (!db.open) return;
  // The WAL's descriptor (WalFile) is closed in the background; the file outlives it either way.
  void walFiles
    .get(db)
    ?.close()
    .catch(() => undefined);
  walFiles.delete(db);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/**
 * Runs a synchronous database call, turning a lock held too long by another connection (SQLITE_BUSY
 * after the busy timeout, https://www.sqlite.org/rescode.html#busy) into StorageUnavailableError:
 * the same request may succeed later (503 with Retry-After), it is no fault of the request.
 */
export function whenAvailable<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    if (error instanceof Database.SqliteError && error.code.startsWith('SQLITE_BUSY')) {
      throw new StorageUnavailableError(`database busy: ${error.message}`);
    }
    throw error;
  }
}
