/**
 * MetadataIndex over SQLite (better-sqlite3), the local engine's index in DATA_DIR/index.sqlite.
 * The semantics are the DynamoDB adapter's (dynamodb.ts): a conditional put telling identical from
 * conflicting content, entries created once, counters and ModalitiesInStudy changed atomically, name
 * terms written with every put and removed with their entry. Each change is one SQLite transaction,
 * so no interleaving of writers (in this process or another on the same file) needs a retry; the
 * commits a client is answered on (putInstance, deleteEntry, putTombstone, startDeleteJob) are
 * durable through a power loss, with every commit before them, before they resolve (sqlite.ts
 * commitsDurable: one WAL sync shared by the writers waiting at the time). Every
 * read is a lookup on a B-tree index (sqlite-index-schema.ts; queries: sqlite-index-queries.ts).
 */
import { personNameIndexTerms } from '../../dicom/person-name';
import { seriesForStoreFromReads } from '../series-for-store';
import { Tag } from '../../dicom/tags';
import { ancestors, compareInstances, type TombstoneKeys } from '../dynamodb-items';
import type {
  DeleteJob,
  EntryKeys,
  IndexEntry,
  IndexQuery,
  InstanceKey,
  Level,
  MetadataIndex,
  PutInstanceOutcome,
  SeriesUids,
  Tombstone,
} from '../ports';
import type { Transaction } from 'better-sqlite3';
import { commitsDurable, whenAvailable, type SqliteDatabase } from './sqlite';
import { ensureIndexSchema } from './sqlite-index-schema';
import { FreshRows } from './sqlite-objects';
import { IndexQueries, type IndexQueryOptions } from './sqlite-index-queries';
import {
  deleteJobFromRow,
  deleteJobKey,
  fromRow,
  rowKey,
  toRow,
  tombstoneFromRow,
  type DeleteJobRow,
  type EntryRow,
  type RowKey,
  type TombstoneRow,
} from './sqlite-index-rows';

export { openIndexDatabase } from './sqlite-index-schema';

const KEY = 'study_uid = @study_uid AND level = @level AND series_uid = @series_uid AND sop_uid = @sop_uid';
const STUDY_KEY = "study_uid = @study AND level = 'STUDY' AND series_uid = '' AND sop_uid = ''";

export class SqliteMetadataIndex implements MetadataIndex {
  private readonly queries: IndexQueries;
  private readonly statements;
  private readonly insertEntry: (entry: IndexEntry) => boolean;
  private readonly ensureTx: Transaction<(entry: IndexEntry) => boolean>;
  private readonly putInstanceTx: Transaction<(entry: IndexEntry) => PutInstanceOutcome>;
  private readonly getEntriesTx: Transaction<(keys: readonly EntryKeys[]) => (IndexEntry | undefined)[]>;
  private readonly deleteEntryTx: Transaction<(key: RowKey) => void>;
  private readonly togetherTx: Transaction<(writes: readonly (() => void)[]) => void>;
  /** Writes asked for in this turn of the event loop, made together (together()). */
  private pendingWrites: (() => void)[] = [];
  private pendingCommit?: Promise<void>;
  private readonly freshRows: FreshRows;

  /**
   * `db`: the index database, opened once per process by openIndexDatabase (sqlite-index-schema.ts)
   * and shared with SqliteNpiIndex; its schema is brought up to date here too. The caller closes it.
   */
  constructor(
    private readonly db: SqliteDatabase,
    options: IndexQueryOptions = {},
  ) {
    ensureIndexSchema(db);
    this.queries = new IndexQueries(db, options);
    const s = {
      insertEntry: db.prepare(
        `INSERT INTO entries (level, study_uid, series_uid, sop_uid, uid, study_date, patient_id, attributes,
           related_series, related_instances, modalities, instance)
         VALUES (@level, @study_uid, @series_uid, @sop_uid, @uid, @study_date, @patient_id, @attributes,
           @related_series, @related_instances, @modalities, @instance)
         ON CONFLICT DO NOTHING`,
      ),
      insertTerm: db.prepare(
        `INSERT INTO name_terms (level, term, study_uid, series_uid, sop_uid)
         VALUES (@level, @term, @study_uid, @series_uid, @sop_uid) ON CONFLICT DO NOTHING`,
      ),
      getEntry: db.prepare<RowKey, EntryRow>(`SELECT * FROM entries WHERE ${KEY}`),
      deleteEntry: db.prepare<RowKey>(`DELETE FROM entries WHERE ${KEY}`),
      deleteTerms: db.prepare<RowKey>(`DELETE FROM name_terms WHERE ${KEY}`),
      addStudy: db.prepare(
        `UPDATE entries SET
           related_series = related_series + @series,
           related_instances = related_instances + @instances,
           modalities = (SELECT json_group_array(value) FROM
             (SELECT value FROM json_each(modalities) UNION SELECT value FROM json_each(@modalities)))
         WHERE ${STUDY_KEY}`,
      ),
      addSeries: db.prepare(
        `UPDATE entries SET related_instances = related_instances + @instances
         WHERE study_uid = @study AND level = 'SERIES' AND series_uid = @series AND sop_uid = ''`,
      ),
      removeModalities: db.prepare(
        `UPDATE entries SET modalities = (SELECT json_group_array(value) FROM json_each(modalities)
           WHERE value NOT IN (SELECT value FROM json_each(@modalities)))
         WHERE ${STUDY_KEY}`,
      ),
      putTombstone: db.prepare(
        `INSERT OR REPLACE INTO tombstones (level, study_uid, series_uid, sop_uid, deleted_at)
         VALUES (@level, @study_uid, @series_uid, @sop_uid, @deleted_at)`,
      ),
      getTombstone: db.prepare<RowKey, TombstoneRow>(`SELECT * FROM tombstones WHERE ${KEY}`),
      deleteTombstone: db.prepare<RowKey>(`DELETE FROM tombstones WHERE ${KEY}`),
      startJob: db.prepare(
        `INSERT INTO delete_jobs (level, study_uid, series_uid, started_at) VALUES (@level, @study_uid, @series_uid, @started_at)
         ON CONFLICT DO NOTHING`,
      ),
      getJob: db.prepare<Omit<DeleteJobRow, 'started_at'>, DeleteJobRow>(
        'SELECT * FROM delete_jobs WHERE study_uid = @study_uid AND level = @level AND series_uid = @series_uid',
      ),
      endJob: db.prepare<Omit<DeleteJobRow, 'started_at'>>(
        'DELETE FROM delete_jobs WHERE study_uid = @study_uid AND level = @level AND series_uid = @series_uid',
      ),
    };
    this.statements = s;

    // The name terms with the entry, as DynamoDB's putWithNameTerms: written even when the entry
    // exists, so a later spelling of the name in the study finds it too (deleteEntry removes them all).
    this.insertEntry = (entry) => {
      const key = rowKey(entry);
      for (const term of personNameIndexTerms(entry.attributes[Tag.PatientName])) {
        s.insertTerm.run({ level: key.level, study_uid: key.study_uid, series_uid: key.series_uid, sop_uid: key.sop_uid, term });
      }
      return s.insertEntry.run(toRow(entry)).changes === 1;
    };
    this.ensureTx = db.transaction(this.insertEntry);
    // One read transaction: every entry as of the same moment, in the order asked.
    this.getEntriesTx = db.transaction((keys: readonly EntryKeys[]) => keys.map((k) => this.readEntry(k)));
    // The fresh row of the entry's DICOM JSON (sqlite-objects.ts) is written with it, in one commit.
    this.freshRows = FreshRows.of(db);
    this.putInstanceTx = db.transaction((entry: IndexEntry): PutInstanceOutcome => {
      if (this.insertEntry(entry)) {
        if (entry.instance) this.freshRows.writeWithEntry(entry.instance.metadataKey);
        return { outcome: 'created' };
      }
      // In the same transaction: the entry holding the key is still there.
      return compareInstances(fromRow(s.getEntry.get(rowKey(entry))!), entry);
    });
    this.deleteEntryTx = db.transaction((key: RowKey) => {
      s.deleteEntry.run(key);
      s.deleteTerms.run(key);
    });
    this.togetherTx = db.transaction((writes: readonly (() => void)[]) => {
      for (const write of writes) write();
    });
  }

  async putInstance(entry: IndexEntry): Promise<PutInstanceOutcome> {
    const outcome = whenAvailable(() => this.putInstanceTx.immediate(entry));
    // Committed with the entry: the row is read from the database from now on.
    if (outcome.outcome === 'created' && entry.instance) this.freshRows.drop(entry.instance.metadataKey);
    await commitsDurable(this.db);
    return outcome;
  }

  async ensureSeries(entry: IndexEntry): Promise<boolean> {
    return this.ensure({ ...entry, level: 'SERIES' });
  }

  async ensureStudy(entry: IndexEntry): Promise<boolean> {
    return this.ensure({ ...entry, level: 'STUDY' });
  }

  addStudyCounters(
    studyInstanceUID: string,
    delta: { series?: number; instances?: number; modalities?: readonly string[] },
  ): Promise<void> {
    const modalities = delta.modalities ?? [];
    if (!delta.series && !delta.instances && modalities.length === 0) return Promise.resolve();
    // One UPDATE: atomic, and a missing study stays missing (no bare item holding counters).
    const params = {
      study: studyInstanceUID,
      series: delta.series ?? 0,
      instances: delta.instances ?? 0,
      modalities: JSON.stringify(modalities),
    };
    return this.together(() => this.statements.addStudy.run(params));
  }

  addSeriesCounters(studyInstanceUID: string, seriesInstanceUID: string, delta: { instances: number }): Promise<void> {
    if (!delta.instances) return Promise.resolve();
    const params = { study: studyInstanceUID, series: seriesInstanceUID, instances: delta.instances };
    return this.together(() => this.statements.addSeries.run(params));
  }

  removeStudyModalities(studyInstanceUID: string, modalities: readonly string[]): Promise<void> {
    if (modalities.length === 0) return Promise.resolve();
    const params = { study: studyInstanceUID, modalities: JSON.stringify(modalities) };
    return this.together(() => this.statements.removeModalities.run(params));
  }

  getStudy(studyInstanceUID: string): Promise<IndexEntry | undefined> {
    return this.getEntry({ level: 'STUDY', studyInstanceUID });
  }

  getSeries(studyInstanceUID: string, seriesInstanceUID: string): Promise<IndexEntry | undefined> {
    return this.getEntry({ level: 'SERIES', studyInstanceUID, seriesInstanceUID });
  }

  getInstance(studyInstanceUID: string, seriesInstanceUID: string, sopInstanceUID: string): Promise<IndexEntry | undefined> {
    return this.getEntry({ level: 'INSTANCE', studyInstanceUID, seriesInstanceUID, sopInstanceUID });
  }

  async getEntries(keys: readonly EntryKeys[]): Promise<(IndexEntry | undefined)[]> {
    return whenAvailable(() => this.getEntriesTx(keys));
  }

  query(q: IndexQuery): AsyncIterable<IndexEntry> {
    return this.queries.query(q);
  }

  async deleteEntry(entry: EntryKeys): Promise<void> {
    whenAvailable(() => this.deleteEntryTx.immediate(rowKey(entry)));
    await commitsDurable(this.db);
  }

  async putTombstone(t: Tombstone): Promise<void> {
    whenAvailable(() => this.statements.putTombstone.run({ ...rowKey(t), deleted_at: t.deletedAt }));
    await commitsDurable(this.db);
  }

  async findTombstone(t: TombstoneKeys): Promise<Tombstone | undefined> {
    // Nearest first: the resource itself, then its series, then its study.
    for (const candidate of [t, ...ancestors(t)]) {
      const row = whenAvailable(() => this.statements.getTombstone.get(rowKey(candidate)));
      if (row) return tombstoneFromRow(row);
    }
    return undefined;
  }

  clearTombstones(instances: readonly InstanceKey[]): Promise<void> {
    const keys = new Map<string, RowKey>();
    for (const i of instances) {
      const instance: TombstoneKeys = { level: 'INSTANCE', ...i };
      for (const t of [instance, ...ancestors(instance)]) {
        const key = rowKey(t);
        keys.set(JSON.stringify(key), key);
      }
    }
    if (keys.size === 0) return Promise.resolve();
    return this.together(() => {
      for (const key of keys.values()) this.statements.deleteTombstone.run(key);
    });
  }

  async startDeleteJob(job: DeleteJob): Promise<boolean> {
    const started = whenAvailable(() => this.statements.startJob.run({ ...deleteJobKey(job), started_at: job.startedAt }).changes === 1);
    await commitsDurable(this.db);
    return started;
  }

  async findDeleteJob(uids: { readonly studyInstanceUID: string; readonly seriesInstanceUID?: string }): Promise<DeleteJob | undefined> {
    // The study's job first: it covers every series.
    const keys: Omit<DeleteJob, 'startedAt'>[] = [{ level: 'STUDY', studyInstanceUID: uids.studyInstanceUID }];
    if (uids.seriesInstanceUID !== undefined) keys.push({ level: 'SERIES', ...uids });
    for (const k of keys) {
      const row = whenAvailable(() => this.statements.getJob.get(deleteJobKey(k)));
      if (row) return deleteJobFromRow(row);
    }
    return undefined;
  }

  async endDeleteJob(job: Omit<DeleteJob, 'startedAt'>): Promise<void> {
    whenAvailable(() => this.statements.endJob.run(deleteJobKey(job)));
  }
  findSeriesForStore(uids: SeriesUids): Promise<{ deleteJob?: DeleteJob; study?: IndexEntry; series?: IndexEntry }> {
    return seriesForStoreFromReads(this, uids);
  }

  // -------------------------------------------------------------------------------------------

  /**
   * A write whose caller waits for no sync (counters, ModalitiesInStudy, tombstones cleared), made
   * with the others asked for before the next microtask, in one transaction: a Store request's
   * bookkeeping (a series' and a study's counters, its tombstones) was three commits, each ~50 us of
   * CPU with its locks and WAL frames; each write alone is as atomic as before. Settles once committed.
   */
  private together(write: () => void): Promise<void> {
    this.pendingWrites.push(write);
    return (this.pendingCommit ??= Promise.resolve().then(() => {
      const writes = this.pendingWrites;
      this.pendingWrites = [];
      this.pendingCommit = undefined;
      whenAvailable(() => this.togetherTx.immediate(writes));
    }));
  }

  private ensure(entry: IndexEntry & { level: Level }): boolean {
    return whenAvailable(() => this.ensureTx.immediate(entry));
  }

  private async getEntry(keys: EntryKeys): Promise<IndexEntry | undefined> {
    return whenAvailable(() => this.readEntry(keys));
  }

  private readEntry(keys: EntryKeys): IndexEntry | undefined {
    const row = this.statements.getEntry.get(rowKey(keys));
    return row ? fromRow(row) : undefined;
  }
}
