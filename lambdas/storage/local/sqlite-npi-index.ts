/**
 * NpiIndex over SQLite: Non-Patient Instances (PS3.18 12) in table npi_entries of the local engine's
 * index database (sqlite-index-schema.ts), keyed (category, sop_uid), apart from every Studies index.
 * The semantics are DynamoNpiIndex's (npi-index.ts): a conditional put that never overwrites; a
 * search of a category reads its key range page by page, never the table.
 */
import type { DicomJson } from '../../dicom/json';
import { instanceObjectAttributes, instanceObjectOf } from '../dynamodb-items';
import { compareNpi } from '../npi-index';
import type { NpiEntry, NpiIndex, PutNpiOutcome } from '../ports';
import { commitsDurable, whenAvailable, type SqliteDatabase } from './sqlite';
import { ensureIndexSchema } from './sqlite-index-schema';

interface NpiRow {
  readonly category: string;
  readonly sop_uid: string;
  readonly attributes: string;
  readonly instance: string;
}

export class SqliteNpiIndex implements NpiIndex {
  private readonly pageSize: number;
  private readonly statements;

  /**
   * `db`: the index database opened by openIndexDatabase (sqlite-index-schema.ts), shared with
   * SqliteMetadataIndex; `options.pageSize`: rows per page of a query (default 500).
   */
  constructor(
    private readonly db: SqliteDatabase,
    options: { readonly pageSize?: number } = {},
  ) {
    ensureIndexSchema(db);
    this.pageSize = options.pageSize ?? 500;
    if (!Number.isInteger(this.pageSize) || this.pageSize < 1) throw new RangeError('pageSize must be a positive integer');
    this.statements = {
      insert: db.prepare<NpiRow>(
        `INSERT INTO npi_entries (category, sop_uid, attributes, instance) VALUES (@category, @sop_uid, @attributes, @instance)
         ON CONFLICT DO NOTHING`,
      ),
      get: db.prepare<[string, string], NpiRow>('SELECT * FROM npi_entries WHERE category = ? AND sop_uid = ?'),
      page: db.prepare<[string, string, number], NpiRow>(
        'SELECT * FROM npi_entries WHERE category = ? AND sop_uid > ? ORDER BY sop_uid LIMIT ?',
      ),
    };
  }

  async putInstance(entry: NpiEntry): Promise<PutNpiOutcome> {
    const row: NpiRow = {
      category: entry.category,
      sop_uid: entry.sopInstanceUID,
      attributes: JSON.stringify(entry.attributes),
      instance: JSON.stringify(instanceObjectAttributes(entry.instance)),
    };
    const inserted = whenAvailable(() => this.statements.insert.run(row).changes) === 1;
    await commitsDurable(this.db);
    if (inserted) return { outcome: 'created' };
    // NPI entries are never deleted, so the row holding the key is still there.
    const existing = await this.getInstance(entry.category, entry.sopInstanceUID);
    if (!existing) throw new TypeError('NPI entry vanished after a failed conditional put');
    return compareNpi(existing, entry);
  }

  async getInstance(category: string, sopInstanceUID: string): Promise<NpiEntry | undefined> {
    const row = whenAvailable(() => this.statements.get.get(category, sopInstanceUID));
    return row ? fromRow(row) : undefined;
  }

  async *query(category: string): AsyncIterable<NpiEntry> {
    let after = '';
    for (;;) {
      const page = whenAvailable(() => this.statements.page.all(category, after, this.pageSize));
      for (const row of page) yield fromRow(row);
      if (page.length < this.pageSize) return;
      after = page[page.length - 1]!.sop_uid;
    }
  }
}

function fromRow(row: NpiRow): NpiEntry {
  return {
    category: row.category,
    sopInstanceUID: row.sop_uid,
    attributes: JSON.parse(row.attributes) as DicomJson,
    instance: instanceObjectOf(JSON.parse(row.instance) as Record<string, unknown>),
  };
}
