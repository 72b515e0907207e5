/**
 * ClientStore of the local engine over SQLite (DATA_DIR/clients.sqlite): one row per API key client,
 * with the semantics of the DynamoDB adapter (lambdas/storage/dynamodb-clients.ts): create refuses a
 * taken id, revoke sets revoked_at only while it is null, so the first revocation time stands however
 * often, and however concurrently, a client is revoked. List reads the index on (created_at, id):
 * oldest first, as oldestFirst orders them.
 */
import { AlreadyExistsError } from '../errors';
import type { ApiClient, ClientStore } from '../ports';
import { type Migration, migrate, type SqliteDatabase, whenAvailable } from './sqlite';

/** Schema steps of clients.sqlite, API key clients and share links (PRAGMA user_version counts those applied). */
export const CLIENTS_MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE clients (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     scopes TEXT NOT NULL,
     secret_hash TEXT NOT NULL,
     created_at TEXT NOT NULL,
     revoked_at TEXT
   ) STRICT;
   CREATE INDEX clients_oldest_first ON clients (created_at, id);`,
  // Share links (sqlite-share-links.ts): credentials too, kept beside the API key clients.
  `CREATE TABLE share_links (
     id TEXT PRIMARY KEY,
     secret_hash TEXT NOT NULL,
     study_uid TEXT NOT NULL,
     created_at TEXT NOT NULL,
     created_by TEXT NOT NULL,
     expires_at TEXT NOT NULL,
     note TEXT,
     revoked_at TEXT,
     last_used_at TEXT,
     use_count INTEGER NOT NULL DEFAULT 0
   ) STRICT;
   CREATE INDEX share_links_oldest_first ON share_links (created_at, id);`,
];

interface ClientRow {
  id: string;
  name: string;
  /** JSON array: the order the operator gave, and an empty list stays one. */
  scopes: string;
  secret_hash: string;
  created_at: string;
  revoked_at: string | null;
}

export class SqliteClientStore implements ClientStore {
  private readonly statements;

  /** `db`: the connection to clients.sqlite (openSqlite); the schema is brought up to date here. */
  constructor(db: SqliteDatabase) {
    migrate(db, CLIENTS_MIGRATIONS);
    this.statements = {
      insert: db.prepare<ClientRow>(
        `INSERT INTO clients (id, name, scopes, secret_hash, created_at, revoked_at)
         VALUES (:id, :name, :scopes, :secret_hash, :created_at, :revoked_at) ON CONFLICT (id) DO NOTHING`,
      ),
      get: db.prepare<[string], ClientRow>('SELECT * FROM clients WHERE id = ?'),
      list: db.prepare<[], ClientRow>('SELECT * FROM clients ORDER BY created_at, id'),
      revoke: db.prepare<[string, string]>('UPDATE clients SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
    };
  }

  async create(client: ApiClient): Promise<void> {
    const { changes } = whenAvailable(() => this.statements.insert.run(toRow(client)));
    if (changes === 0) throw new AlreadyExistsError(`client ${client.id} already exists`);
  }

  async get(id: string): Promise<ApiClient | undefined> {
    const row = whenAvailable(() => this.statements.get.get(id));
    return row && fromRow(row);
  }

  async list(): Promise<ApiClient[]> {
    return whenAvailable(() => this.statements.list.all()).map(fromRow);
  }

  async revoke(id: string, at: string): Promise<boolean> {
    if (whenAvailable(() => this.statements.revoke.run(at, id)).changes === 1) return true;
    // Either no such client, or revoked already (its first time stands).
    return whenAvailable(() => this.statements.get.get(id)) !== undefined;
  }
}

function toRow(client: ApiClient): ClientRow {
  return {
    id: client.id,
    name: client.name,
    scopes: JSON.stringify(client.scopes),
    secret_hash: client.secretHash,
    created_at: client.createdAt,
    revoked_at: client.revokedAt ?? null,
  };
}

function fromRow(row: ClientRow): ApiClient {
  return {
    id: row.id,
    name: row.name,
    scopes: JSON.parse(row.scopes) as string[],
    secretHash: row.secret_hash,
    createdAt: row.created_at,
    ...(row.revoked_at !== null && { revokedAt: row.revoked_at }),
  };
}
