/**
 * UploadStore of the local engine over SQLite (DATA_DIR/uploads.sqlite), with the semantics of the
 * DynamoDB adapter (lambdas/storage/dynamodb-uploads.ts): a transition is one UPDATE conditional on
 * the state. Expiry, which DynamoDB leaves to TTL: a row past expires_at reads as gone, and the next
 * create deletes such rows (as sqlite-send-requests.ts does).
 */
import type { DicomJson } from '../../dicom/json';
import { AlreadyExistsError } from '../errors';
import type { UploadRecord, UploadState, UploadStore } from '../ports';
import { type Migration, migrate, type SqliteDatabase, whenAvailable } from './sqlite';

/** Schema steps of uploads.sqlite (PRAGMA user_version counts those applied). */
export const UPLOADS_MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE uploads (
     upload_id TEXT PRIMARY KEY,
     object_key TEXT NOT NULL,
     multipart_upload_id TEXT NOT NULL,
     size INTEGER NOT NULL,
     part_size INTEGER NOT NULL,
     study_uid TEXT,
     created_by TEXT NOT NULL,
     state TEXT NOT NULL,
     created_at TEXT NOT NULL,
     expires_at TEXT NOT NULL,
     expires_ms INTEGER NOT NULL,
     storing_since TEXT,
     result TEXT
   ) STRICT;
   CREATE INDEX uploads_by_expiry ON uploads (expires_ms);`,
];

interface UploadRow {
  upload_id: string;
  object_key: string;
  multipart_upload_id: string;
  size: number;
  part_size: number;
  study_uid: string | null;
  created_by: string;
  state: string;
  created_at: string;
  expires_at: string;
  expires_ms: number;
  storing_since: string | null;
  result: string | null;
}

export class SqliteUploadStore implements UploadStore {
  private readonly statements;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly now: () => number = Date.now,
  ) {
    migrate(db, UPLOADS_MIGRATIONS);
    this.statements = {
      purge: db.prepare<[number]>('DELETE FROM uploads WHERE expires_ms <= ?'),
      insert: db.prepare<UploadRow>(
        `INSERT INTO uploads (upload_id, object_key, multipart_upload_id, size, part_size, study_uid, created_by, state, created_at,
           expires_at, expires_ms, storing_since, result)
         VALUES (:upload_id, :object_key, :multipart_upload_id, :size, :part_size, :study_uid, :created_by, :state, :created_at,
           :expires_at, :expires_ms, :storing_since, :result)
         ON CONFLICT (upload_id) DO NOTHING`,
      ),
      get: db.prepare<[string, number], UploadRow>('SELECT * FROM uploads WHERE upload_id = ? AND expires_ms > ?'),
    };
  }

  async create(record: UploadRecord): Promise<void> {
    const { changes } = whenAvailable(() =>
      this.db
        .transaction(() => {
          this.statements.purge.run(this.now());
          return this.statements.insert.run(toRow(record));
        })
        .immediate(),
    );
    if (changes === 0) throw new AlreadyExistsError(`upload ${record.uploadId} already exists`);
  }

  async get(uploadId: string): Promise<UploadRecord | undefined> {
    const row = whenAvailable(() => this.statements.get.get(uploadId, this.now()));
    return row && fromRow(row);
  }

  async transition(
    uploadId: string,
    from: readonly UploadState[],
    to: UploadState,
    fields: Partial<Pick<UploadRecord, 'storingSince' | 'result'>> = {},
  ): Promise<boolean> {
    if (from.length === 0) return false;
    const sets = ['state = :to'];
    const params: Record<string, string | number> = { id: uploadId, to, now: this.now() };
    if (fields.storingSince !== undefined) {
      sets.push('storing_since = :storing_since');
      params.storing_since = fields.storingSince;
    }
    if (fields.result !== undefined) {
      sets.push('result = :result');
      params.result = JSON.stringify(fields.result);
    }
    from.forEach((state, i) => (params[`from${i}`] = state));
    const sql = `UPDATE uploads SET ${sets.join(', ')} WHERE upload_id = :id AND expires_ms > :now AND state IN (${from
      .map((_, i) => `:from${i}`)
      .join(', ')})`;
    return whenAvailable(() => this.db.prepare(sql).run(params)).changes === 1;
  }
}

function toRow(r: UploadRecord): UploadRow {
  return {
    upload_id: r.uploadId,
    object_key: r.objectKey,
    multipart_upload_id: r.multipartUploadId,
    size: r.size,
    part_size: r.partSize,
    study_uid: r.studyInstanceUID ?? null,
    created_by: r.createdBy,
    state: r.state,
    created_at: r.createdAt,
    expires_at: r.expiresAt,
    expires_ms: Date.parse(r.expiresAt),
    storing_since: r.storingSince ?? null,
    result: r.result ? JSON.stringify(r.result) : null,
  };
}

function fromRow(row: UploadRow): UploadRecord {
  return {
    uploadId: row.upload_id,
    objectKey: row.object_key,
    multipartUploadId: row.multipart_upload_id,
    size: row.size,
    partSize: row.part_size,
    ...(row.study_uid !== null && { studyInstanceUID: row.study_uid }),
    createdBy: row.created_by,
    state: row.state as UploadState,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    ...(row.storing_since !== null && { storingSince: row.storing_since }),
    ...(row.result !== null && { result: JSON.parse(row.result) as { status: number; response: DicomJson } }),
  };
}
