/**
 * ShareLinkStore of the local engine over SQLite (the share_links table of DATA_DIR/clients.sqlite),
 * with the semantics of the DynamoDB adapter (lambdas/storage/dynamodb-share-links.ts): create refuses
 * a taken id, revoke sets revoked_at only while it is null (the first time stands), recordUses adds to
 * the count and never moves last_used_at back.
 */
import { AlreadyExistsError } from '../errors';
import type { ShareLink, ShareLinkStore } from '../ports';
import { CLIENTS_MIGRATIONS } from './sqlite-clients';
import { migrate, type SqliteDatabase, whenAvailable } from './sqlite';

interface ShareLinkRow {
  id: string;
  secret_hash: string;
  study_uid: string;
  created_at: string;
  created_by: string;
  expires_at: string;
  note: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  use_count: number;
}

export class SqliteShareLinkStore implements ShareLinkStore {
  private readonly statements;

  /** `db`: the connection to clients.sqlite (openSqlite); the schema is brought up to date here. */
  constructor(db: SqliteDatabase) {
    migrate(db, CLIENTS_MIGRATIONS);
    this.statements = {
      insert: db.prepare<ShareLinkRow>(
        `INSERT INTO share_links (id, secret_hash, study_uid, created_at, created_by, expires_at, note, revoked_at, last_used_at, use_count)
         VALUES (:id, :secret_hash, :study_uid, :created_at, :created_by, :expires_at, :note, :revoked_at, :last_used_at, :use_count)
         ON CONFLICT (id) DO NOTHING`,
      ),
      get: db.prepare<[string], ShareLinkRow>('SELECT * FROM share_links WHERE id = ?'),
      list: db.prepare<[], ShareLinkRow>('SELECT * FROM share_links ORDER BY created_at, id'),
      revoke: db.prepare<[string, string]>('UPDATE share_links SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      recordUses: db.prepare<{ id: string; count: number; at: string }>(
        `UPDATE share_links SET use_count = use_count + :count,
           last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < :at THEN :at ELSE last_used_at END
         WHERE id = :id`,
      ),
    };
  }

  async create(link: ShareLink): Promise<void> {
    const { changes } = whenAvailable(() => this.statements.insert.run(toRow(link)));
    if (changes === 0) throw new AlreadyExistsError(`share link ${link.id} already exists`);
  }

  async get(id: string): Promise<ShareLink | undefined> {
    const row = whenAvailable(() => this.statements.get.get(id));
    return row && fromRow(row);
  }

  async list(): Promise<ShareLink[]> {
    return whenAvailable(() => this.statements.list.all()).map(fromRow);
  }

  async revoke(id: string, at: string): Promise<boolean> {
    if (whenAvailable(() => this.statements.revoke.run(at, id)).changes === 1) return true;
    // Either no such link, or revoked already (its first time stands).
    return whenAvailable(() => this.statements.get.get(id)) !== undefined;
  }

  async recordUses(id: string, count: number, at: string): Promise<void> {
    whenAvailable(() => this.statements.recordUses.run({ id, count, at }));
  }
}

function toRow(link: ShareLink): ShareLinkRow {
  return {
    id: link.id,
    secret_hash: link.secretHash,
    study_uid: link.studyInstanceUID,
    created_at: link.createdAt,
    created_by: link.createdBy,
    expires_at: link.expiresAt,
    note: link.note ?? null,
    revoked_at: link.revokedAt ?? null,
    last_used_at: link.lastUsedAt ?? null,
    use_count: link.useCount,
  };
}

function fromRow(row: ShareLinkRow): ShareLink {
  return {
    id: row.id,
    secretHash: row.secret_hash,
    studyInstanceUID: row.study_uid,
    createdAt: row.created_at,
    createdBy: row.created_by,
    expiresAt: row.expires_at,
    ...(row.note !== null && { note: row.note }),
    ...(row.revoked_at !== null && { revokedAt: row.revoked_at }),
    ...(row.last_used_at !== null && { lastUsedAt: row.last_used_at }),
    useCount: row.use_count,
  };
}
