/**
 * The IndexQuery paths (ports.ts) over index.sqlite, each an indexed lookup (sqlite-index-schema.ts;
 * test/integration/local-engine proves it with EXPLAIN QUERY PLAN), read page by page with keyset
 * paging (https://www.sqlite.org/rowvalue.html#scrolling_window_queries): no cursor stays open while
 * the caller awaits, and a page reads only what the caller is about to take.
 *
 * 'patient', 'level' and 'name' yield in result order, as DynamoDB's GSIs read backwards do: the most
 * recent Study Date first, entries without one ('') last, then own UID descending (then row id, so
 * that the order is total when an instance UID is filed twice).
 */
import type { DateRange, IndexEntry, IndexQuery } from '../ports';
import { whenAvailable, type SqliteDatabase } from './sqlite';
import { fromRow, type EntryRow } from './sqlite-index-rows';

export interface IndexQueryOptions {
  /** Rows per page read (default 500). Tests set it small to exercise paging. */
  readonly pageSize?: number;
}

/** Above every UID, Study Date and name term (all ASCII or BMP text): the open end of a range. */
const HIGH = '\u{10ffff}';
/**
 * The result-order window: rows before the cursor (study_date, uid, id), descending, down to the
 * lowest Study Date. The cursor is the index range's upper bound (EXPLAIN shows
 * "(study_date,uid)<(?,?)"), so a page seeks to where the last ended instead of skipping what came
 * before; the first cursor is (the highest Study Date, HIGH, max), which keeps that date's entries.
 */
const DESCENDING = `study_date >= @lo AND (study_date, uid, id) < (@date, @uid, @id)
  ORDER BY study_date DESC, uid DESC, id DESC LIMIT @limit`;

/** The entries of one level under a study, in key order, from the cursor on (inclusive or not). */
const inStudy = (op: '>=' | '>') =>
  `SELECT * FROM entries WHERE study_uid = @study AND level = @level AND (series_uid, sop_uid) ${op} (@series, @sop)
     AND series_uid <= @to ORDER BY series_uid, sop_uid LIMIT @limit`;

type Sorted = Extract<IndexQuery, { by: 'patient' | 'level' | 'name' }>;

export class IndexQueries {
  private readonly pageSize: number;
  private readonly statements;

  constructor(db: SqliteDatabase, options: IndexQueryOptions = {}) {
    this.pageSize = options.pageSize ?? 500;
    if (!Number.isInteger(this.pageSize) || this.pageSize < 1) throw new RangeError('pageSize must be a positive integer');
    this.statements = {
      studyFirst: db.prepare<Record<string, unknown>, EntryRow>(inStudy('>=')),
      studyNext: db.prepare<Record<string, unknown>, EntryRow>(inStudy('>')),
      studyEntry: db.prepare<{ study: string }, EntryRow>(
        "SELECT * FROM entries WHERE study_uid = @study AND level = 'STUDY' AND series_uid = '' AND sop_uid = ''",
      ),
      uid: db.prepare<Record<string, unknown>, EntryRow>('SELECT * FROM entries WHERE uid = @uid AND level = @level ORDER BY id'),
      patient: db.prepare<Record<string, unknown>, EntryRow>(
        `SELECT * FROM entries WHERE patient_id = @patient AND level = @level AND ${DESCENDING}`,
      ),
      level: db.prepare<Record<string, unknown>, EntryRow>(`SELECT * FROM entries WHERE level = @level AND ${DESCENDING}`),
      // The entries (each once) having a name term with the prefix, in result order: ids only, small.
      name: db.prepare<Record<string, unknown>, { id: number }>(
        `SELECT e.id AS id FROM name_terms AS t
           JOIN entries AS e ON e.study_uid = t.study_uid AND e.level = t.level AND e.series_uid = t.series_uid AND e.sop_uid = t.sop_uid
         WHERE t.level = @level AND t.term >= @prefix AND t.term < @beyond AND e.study_date >= @lo AND e.study_date <= @hi
         GROUP BY e.id ORDER BY e.study_date DESC, e.uid DESC, e.id DESC`,
      ),
      byIds: db.prepare<[string], EntryRow>('SELECT * FROM entries WHERE id IN (SELECT value FROM json_each(?))'),
    };
  }

  async *query(q: IndexQuery): AsyncGenerator<IndexEntry> {
    switch (q.by) {
      case 'study':
        yield* this.queryStudy(q);
        return;
      case 'uid':
        for (const uid of new Set(q.uids)) {
          for (const row of whenAvailable(() => this.statements.uid.all({ uid, level: q.level }))) yield fromRow(row);
        }
        return;
      case 'patient':
        if (q.patientId === '') return; // as DynamoDB's ByPatient, which holds no entry without a Patient ID
        yield* this.queryDescending(q, (params) => this.statements.patient.all({ ...params, patient: q.patientId }));
        return;
      case 'level':
        yield* this.queryDescending(q, (params) => this.statements.level.all(params));
        return;
      case 'name':
        yield* this.queryName(q);
        return;
    }
  }

  /** Entries of one level under a study (and series), in key order, page by page. */
  private async *queryStudy(q: Extract<IndexQuery, { by: 'study' }>): AsyncGenerator<IndexEntry> {
    if (q.level === 'STUDY') {
      const row = whenAvailable(() => this.statements.studyEntry.get({ study: q.studyInstanceUID }));
      if (row) yield fromRow(row);
      return;
    }
    // A series UID is matched whole, never as the prefix of a longer one: from and to are equal.
    const series = q.seriesInstanceUID;
    const to = series ?? HIGH;
    let cursor = { series: series ?? '', sop: '' };
    let read = this.statements.studyFirst;
    for (;;) {
      const params = { study: q.studyInstanceUID, level: q.level, ...cursor, to, limit: this.pageSize };
      const page = whenAvailable(() => read.all(params));
      for (const row of page) yield fromRow(row);
      if (page.length < this.pageSize) return;
      const last = page[page.length - 1]!;
      cursor = { series: last.series_uid, sop: last.sop_uid };
      read = this.statements.studyNext;
    }
  }

  /** One of the result-ordered indexes, page by page: the first page sized by pageHint. */
  private async *queryDescending(q: Sorted, read: (params: Record<string, unknown>) => EntryRow[]): AsyncGenerator<IndexEntry> {
    const range = dateBounds(q.dateRange);
    if (!range) return;
    let [date, uid, id] = [range.hi, HIGH, Number.MAX_SAFE_INTEGER];
    let limit = this.firstPage(q.pageHint);
    for (;;) {
      const page = whenAvailable(() => read({ level: q.level, lo: range.lo, date, uid, id, limit }));
      for (const row of page) yield fromRow(row);
      if (page.length < limit) return;
      const last = page[page.length - 1]!;
      [date, uid, id] = [last.study_date, last.uid, last.id];
      limit = this.pageSize;
    }
  }

  /**
   * PatientName search (as queryNameTerms of name-terms.ts): the ids of the entries having a term
   * with the prefix, in result order, all read as they are small; then the entries, a page at a time,
   * so a search that wants the first N matches reads about N entries. An entry deleted meanwhile is
   * skipped.
   */
  private async *queryName(q: Extract<IndexQuery, { by: 'name' }>): AsyncGenerator<IndexEntry> {
    if (q.prefix === '') throw new RangeError('a name search needs a prefix');
    const range = dateBounds(q.dateRange);
    if (!range) return;
    const ids = whenAvailable(() =>
      this.statements.name.all({ level: q.level, prefix: q.prefix, beyond: `${q.prefix}${HIGH}`, ...range }).map((r) => r.id),
    );
    let size = this.firstPage(q.pageHint);
    for (let i = 0; i < ids.length; i += size, size = this.pageSize) {
      const page = ids.slice(i, i + size);
      const rows = new Map(whenAvailable(() => this.statements.byIds.all(JSON.stringify(page))).map((r) => [r.id, r]));
      for (const id of page) {
        const row = rows.get(id);
        if (row) yield fromRow(row);
      }
    }
  }

  /** The caller expects to read `pageHint` entries: one more tells it whether there are others. */
  private firstPage(pageHint: number | undefined): number {
    return pageHint === undefined ? this.pageSize : Math.min(this.pageSize, Math.max(1, Math.trunc(pageHint) + 1));
  }
}

/**
 * Inclusive Study Date bounds (dynamodb-items.ts dateRangeBounds on the column alone): no range
 * matches every entry; a range, even open at one end, only entries with a Study Date. Undefined when
 * the range is empty (from after to).
 */
function dateBounds(range: DateRange | undefined): { lo: string; hi: string } | undefined {
  if (!range || (range.from === undefined && range.to === undefined)) return { lo: '', hi: HIGH };
  if (range.from !== undefined && range.to !== undefined && range.from > range.to) return undefined;
  return { lo: range.from ?? '0', hi: range.to ?? `9${HIGH}` };
}
