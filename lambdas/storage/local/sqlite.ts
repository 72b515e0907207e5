/**
 * One SQLite database file of the local engine (better-sqlite3, synchronous, in-process): opened
 * once per process and shared by the adapters kept in it, in WAL mode, its schema brought up to date
 * by numbered migrations recorded in `PRAGMA user_version` (https://www.sqlite.org/pragma.html).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StorageUnavailableError } from '../errors';

export type SqliteDatabase = Database.Database;

/** One schema step: SQL run as a script, or a function for a step SQL alone cannot do. */
export type Migration = string | ((db: SqliteDatabase) => void);

export interface OpenSqliteOptions {
  /**
   * PRAGMA synchronous. In WAL mode NORMAL survives a process crash (SIGKILL) but a power loss may
   * roll back the last commits; FULL syncs the WAL at every commit and survives both
   * (https://www.sqlite.org/pragma.html#pragma_synchronous). Default FULL.
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
    db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    // WAL: readers never block the writer and a commit is one append (https://www.sqlite.org/wal.html).
    const mode = db.pragma('journal_mode = WAL', { simple: true });
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
 * Applies migrations[user_version..] in order, each in its own transaction with the new
 * user_version, so a crash leaves the schema at a step boundary. Several adapters sharing one file
 * pass the same list; a file from a newer release (more steps than known) is refused, not guessed at.
 */
export function migrate(db: SqliteDatabase, migrations: readonly Migration[]): void {
  const current = schemaVersion(db);
  if (current > migrations.length) {
    throw new Error(`${db.name}: schema version ${current} is newer than this release knows (${migrations.length})`);
  }
  for (let version = current; version < migrations.length; version++) {
    const step = migrations[version]!;
    db.transaction(() => {
      if (typeof step === 'string') db.exec(step);
      else step(db);
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
}

/** The number of migrations applied to the database. */
export function schemaVersion(db: SqliteDatabase): number {
  return Number(db.pragma('user_version', { simple: true }));
}

/** Checkpoints the WAL into the database file and closes the connection; closing twice is harmless. */
export function closeSqlite(db: SqliteDatabase): void {
  if (!db.open) return;
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
