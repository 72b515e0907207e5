/**
 * The schema of the local engine's index database (DATA_DIR/index.sqlite): the Studies Service
 * entries with their Patient's Name terms, tombstones and Delete jobs (SqliteMetadataIndex), and the
 * Non-Patient Instances (SqliteNpiIndex). One B-tree index per IndexQuery path (ports.ts), so that
 * every search is an indexed lookup, never a table scan:
 *
 *   study    entries_by_key      (study_uid, level, series_uid, sop_uid), also the unique key
 *   uid      entries_by_uid      (uid, level)
 *   patient  entries_by_patient  (patient_id, level, study_date, uid), read backwards: result order
 *   level    entries_by_level    (level, study_date, uid), read backwards: result order
 *   name     name_terms primary key (level, term, ...), joined to its entry by entries_by_key
 *
 * And `objects`, the instances' DICOM JSON objects by key (sqlite-objects.ts).
 *
 * UIDs above an entry's level are '' (not NULL), so the unique key holds for studies and series too.
 */
import { migrate, openSqlite, type Migration, type OpenSqliteOptions, type SqliteDatabase } from './sqlite';

/** The schema steps of index.sqlite, in order (sqlite.ts migrate); append, never edit. */
export const INDEX_MIGRATIONS: readonly Migration[] = [
  `
  CREATE TABLE entries (
    id INTEGER PRIMARY KEY,
    level TEXT NOT NULL CHECK (level IN ('STUDY', 'SERIES', 'INSTANCE')),
    study_uid TEXT NOT NULL,
    series_uid TEXT NOT NULL,
    sop_uid TEXT NOT NULL,
    uid TEXT NOT NULL,
    study_date TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    attributes TEXT NOT NULL,
    related_series INTEGER,
    related_instances INTEGER,
    modalities TEXT,
    instance TEXT
  );
  CREATE UNIQUE INDEX entries_by_key ON entries (study_uid, level, series_uid, sop_uid);
  CREATE INDEX entries_by_uid ON entries (uid, level);
  CREATE INDEX entries_by_patient ON entries (patient_id, level, study_date, uid);
  CREATE INDEX entries_by_level ON entries (level, study_date, uid);

  CREATE TABLE name_terms (
    level TEXT NOT NULL,
    term TEXT NOT NULL,
    study_uid TEXT NOT NULL,
    series_uid TEXT NOT NULL,
    sop_uid TEXT NOT NULL,
    PRIMARY KEY (level, term, study_uid, series_uid, sop_uid)
  ) WITHOUT ROWID;
  CREATE INDEX name_terms_by_entry ON name_terms (study_uid, level, series_uid, sop_uid);

  CREATE TABLE tombstones (
    level TEXT NOT NULL,
    study_uid TEXT NOT NULL,
    series_uid TEXT NOT NULL,
    sop_uid TEXT NOT NULL,
    deleted_at TEXT NOT NULL,
    PRIMARY KEY (study_uid, level, series_uid, sop_uid)
  ) WITHOUT ROWID;

  CREATE TABLE delete_jobs (
    level TEXT NOT NULL,
    study_uid TEXT NOT NULL,
    series_uid TEXT NOT NULL,
    started_at TEXT NOT NULL,
    PRIMARY KEY (study_uid, level, series_uid)
  ) WITHOUT ROWID;

  CREATE TABLE npi_entries (
    category TEXT NOT NULL,
    sop_uid TEXT NOT NULL,
    attributes TEXT NOT NULL,
    instance TEXT NOT NULL,
    PRIMARY KEY (category, sop_uid)
  ) WITHOUT ROWID;
  `,
  // The DICOM JSON of the instances (sqlite-objects.ts), in the database whose entries name them.
  `
  CREATE TABLE objects (
    key TEXT PRIMARY KEY,
    body BLOB NOT NULL
  );
  `,
];

/**
 * Opens the index database at `path` (DATA_DIR/index.sqlite), schema up to date: one connection per
 * process, shared by SqliteMetadataIndex and SqliteNpiIndex; the caller closes it (sqlite.ts closeSqlite).
 * synchronous=NORMAL by default: the adapters make what a client is answered on durable with `commitsDurable` (sqlite.ts).
 */
export function openIndexDatabase(path: string, options: OpenSqliteOptions = {}): SqliteDatabase {
  return openSqlite(path, INDEX_MIGRATIONS, { synchronous: 'NORMAL', ...options });
}

/** Brings a database opened elsewhere up to the index schema (a no-op when it is). */
export function ensureIndexSchema(db: SqliteDatabase): void {
  migrate(db, INDEX_MIGRATIONS);
}
