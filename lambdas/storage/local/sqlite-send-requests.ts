/**
 * SendRequestStore of the local engine over SQLite (DATA_DIR/sends.sqlite): one row per send request
 * with its counters, one row per counted Deliver batch, with the semantics of the DynamoDB adapter
 * (lambdas/storage/send-requests.ts). Where DynamoDB needs conditional writes in four steps to count
 * a batch once, a transaction does it here: the batch row is inserted unless present and only the
 * insert that made it adds the counters, in the same commit. Transactions are IMMEDIATE (the write
 * lock taken at BEGIN), so two processes on one file serialise instead of failing at COMMIT.
 *
 * Expiry, which DynamoDB leaves to TTL on ExpiresAt = deleteAt: a request is gone once deleteAt has
 * passed (get answers undefined, the Transaction UID may be created again), and its rows are
 * deleted by the next create; until then Check Send Result answers 410 from expiresAt.
 */
import { type Migration, migrate, type SqliteDatabase, whenAvailable } from './sqlite';
import {
  type SendBatchRecord,
  SendRequestNotFoundError,
  type SendRequestRecord,
  type SendRequestState,
  type SendRequestStore,
} from '../ports';

/** Schema steps of sends.sqlite (PRAGMA user_version counts those applied). */
export const SEND_REQUESTS_MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE send_requests (
     transaction_uid TEXT PRIMARY KEY,
     target_level TEXT NOT NULL,
     study_uid TEXT,
     series_uid TEXT,
     npi TEXT,
     search TEXT NOT NULL,
     destination TEXT NOT NULL,
     state TEXT NOT NULL,
     remaining INTEGER,
     completed INTEGER NOT NULL,
     failed INTEGER NOT NULL,
     warning INTEGER NOT NULL,
     status INTEGER,
     execution_id TEXT,
     created_at TEXT NOT NULL,
     expires_at INTEGER NOT NULL,
     delete_at INTEGER NOT NULL,
     item_failed_sop_uids TEXT
   ) STRICT;
   CREATE INDEX send_requests_by_delete_at ON send_requests (delete_at);
   CREATE TABLE send_batches (
     transaction_uid TEXT NOT NULL,
     batch_id TEXT NOT NULL,
     completed INTEGER NOT NULL,
     warning INTEGER NOT NULL,
     failed INTEGER NOT NULL,
     PRIMARY KEY (transaction_uid, batch_id)
   ) STRICT, WITHOUT ROWID;`,
];

const PENDING: SendRequestState = 'PENDING';

interface RequestRow {
  transaction_uid: string;
  target_level: string;
  study_uid: string | null;
  series_uid: string | null;
  npi: string | null;
  search: string;
  destination: string;
  state: string;
  remaining: number | null;
  completed: number;
  failed: number;
  warning: number;
  status: number | null;
  execution_id: string | null;
  created_at: string;
  expires_at: number;
  delete_at: number;
  item_failed_sop_uids: string | null;
}

interface BatchRow {
  batch_id: string;
  completed: number;
  warning: number;
  failed: number;
}

export interface SqliteSendRequestStoreOptions {
  /** The clock deciding expiry, epoch milliseconds (default Date.now). */
  readonly now?: () => number;
}

export class SqliteSendRequestStore implements SendRequestStore {
  private readonly now: () => number;
  private readonly statements;

  /** `db`: the connection to sends.sqlite (openSqlite); the schema is brought up to date here. */
  constructor(
    private readonly db: SqliteDatabase,
    options: SqliteSendRequestStoreOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    migrate(db, SEND_REQUESTS_MIGRATIONS);
    // A row is live while `delete_at > :now` (epoch seconds, fractional): :now is bound per call.
    this.statements = {
      insert: db.prepare<RequestRow>(
        `INSERT INTO send_requests (transaction_uid, target_level, study_uid, series_uid, npi, search, destination, state,
           remaining, completed, failed, warning, status, execution_id, created_at, expires_at, delete_at, item_failed_sop_uids)
         VALUES (:transaction_uid, :target_level, :study_uid, :series_uid, :npi, :search, :destination, :state,
           :remaining, :completed, :failed, :warning, :status, :execution_id, :created_at, :expires_at, :delete_at, :item_failed_sop_uids)
         ON CONFLICT (transaction_uid) DO NOTHING`,
      ),
      purgeBatches: db.prepare<[number]>(
        'DELETE FROM send_batches WHERE transaction_uid IN (SELECT transaction_uid FROM send_requests WHERE delete_at <= ?)',
      ),
      purgeRequests: db.prepare<[number]>('DELETE FROM send_requests WHERE delete_at <= ?'),
      get: db.prepare<[string, number], RequestRow>('SELECT * FROM send_requests WHERE transaction_uid = ? AND delete_at > ?'),
      setExecution: db.prepare<[string, string, number]>(
        'UPDATE send_requests SET execution_id = ? WHERE transaction_uid = ? AND delete_at > ?',
      ),
      // PS3.4 C.4.2.3.1.1.4: Number of Remaining Sub-operations starts at the number of matches.
      setMatched: db.prepare<[number, string, number]>(
        `UPDATE send_requests SET remaining = ?
         WHERE transaction_uid = ? AND delete_at > ? AND state = '${PENDING}' AND remaining IS NULL`,
      ),
      insertBatch: db.prepare<[string, string, number, number, number]>(
        `INSERT INTO send_batches (transaction_uid, batch_id, completed, warning, failed) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (transaction_uid, batch_id) DO NOTHING`,
      ),
      // PS3.4 C.4.2.3.1.1.4: each completed, warning or failed sub-operation is no longer remaining.
      // As DynamoDB's ADD, an unset Remaining counts down from 0.
      countBatch: db.prepare<{ uid: string; completed: number; warning: number; failed: number }>(
        `UPDATE send_requests SET
           remaining = coalesce(remaining, 0) - (:completed + :warning + :failed),
           completed = completed + :completed, warning = warning + :warning, failed = failed + :failed
         WHERE transaction_uid = :uid`,
      ),
      batch: db.prepare<{ uid: string; batch: string; now: number }, BatchRow>(
        `SELECT b.batch_id, b.completed, b.warning, b.failed FROM send_batches b
         JOIN send_requests r ON r.transaction_uid = b.transaction_uid AND r.delete_at > :now
         WHERE b.transaction_uid = :uid AND b.batch_id = :batch`,
      ),
      batches: db.prepare<{ uid: string; now: number }, BatchRow>(
        `SELECT b.batch_id, b.completed, b.warning, b.failed FROM send_batches b
         JOIN send_requests r ON r.transaction_uid = b.transaction_uid AND r.delete_at > :now
         WHERE b.transaction_uid = :uid ORDER BY b.batch_id`,
      ),
      end: db.prepare<[string, number, string]>(`UPDATE send_requests SET state = ?, status = ? WHERE transaction_uid = ?`),
      // Fail: what has not been delivered counts as failed; an unset Remaining stays unset.
      failRemaining: db.prepare<[string]>(
        'UPDATE send_requests SET failed = failed + remaining, remaining = 0 WHERE transaction_uid = ? AND remaining IS NOT NULL',
      ),
    };
  }

  async create(record: SendRequestRecord): Promise<boolean> {
    const now = this.nowSeconds();
    const row = toRow(record);
    return whenAvailable(() =>
      this.db
        .transaction(() => {
          // What DynamoDB's TTL would have deleted by now; a Transaction UID past its deleteAt is free again.
          this.statements.purgeBatches.run(now);
          this.statements.purgeRequests.run(now);
          return this.statements.insert.run(row).changes === 1;
        })
        .immediate(),
    );
  }

  async get(transactionUID: string): Promise<SendRequestRecord | undefined> {
    const row = whenAvailable(() => this.statements.get.get(transactionUID, this.nowSeconds()));
    return row && fromRow(row);
  }

  async setExecution(transactionUID: string, executionId: string): Promise<void> {
    const { changes } = whenAvailable(() => this.statements.setExecution.run(executionId, transactionUID, this.nowSeconds()));
    if (changes === 0) throw new SendRequestNotFoundError(transactionUID);
  }

  async setMatched(transactionUID: string, matched: number): Promise<boolean> {
    return whenAvailable(() => this.statements.setMatched.run(matched, transactionUID, this.nowSeconds()).changes === 1);
  }

  async addBatchOutcome(transactionUID: string, batch: SendBatchRecord): Promise<boolean> {
    const now = this.nowSeconds();
    return whenAvailable(() =>
      this.db
        .transaction(() => {
          const request = this.statements.get.get(transactionUID, now);
          if (!request) throw new SendRequestNotFoundError(transactionUID);
          // A batch finishing after Fail changes nothing.
          if (request.state !== PENDING) return false;
          // The first outcome recorded for a batch stands; only the insert that recorded it counts it.
          const inserted = this.statements.insertBatch.run(transactionUID, batch.batchId, batch.completed, batch.warning, batch.failed);
          if (inserted.changes === 1) {
            this.statements.countBatch.run({
              uid: transactionUID,
              completed: batch.completed,
              warning: batch.warning,
              failed: batch.failed,
            });
          }
          return true;
        })
        .immediate(),
    );
  }

  async batchOutcome(transactionUID: string, batchId: string): Promise<SendBatchRecord | undefined> {
    const row = whenAvailable(() => this.statements.batch.get({ uid: transactionUID, batch: batchId, now: this.nowSeconds() }));
    return row && batchFromRow(row);
  }

  async batchOutcomes(transactionUID: string): Promise<SendBatchRecord[]> {
    return whenAvailable(() => this.statements.batches.all({ uid: transactionUID, now: this.nowSeconds() })).map(batchFromRow);
  }

  async finish(
    transactionUID: string,
    outcome: { readonly state: 'COMPLETED' | 'FAILED'; readonly status: number; readonly failRemaining?: boolean },
  ): Promise<SendRequestRecord> {
    const now = this.nowSeconds();
    return whenAvailable(() =>
      this.db
        .transaction(() => {
          const request = this.statements.get.get(transactionUID, now);
          if (!request) throw new SendRequestNotFoundError(transactionUID);
          // Already ended (a retried Finalize, or Fail after Finalize): the first outcome stands.
          if (request.state !== PENDING) return fromRow(request);
          this.statements.end.run(outcome.state, outcome.status, transactionUID);
          if (outcome.failRemaining) this.statements.failRemaining.run(transactionUID);
          return fromRow(this.statements.get.get(transactionUID, now)!);
        })
        .immediate(),
    );
  }

  private nowSeconds(): number {
    return this.now() / 1000;
  }
}

function toRow(r: SendRequestRecord): RequestRow {
  return {
    transaction_uid: r.transactionUID,
    target_level: r.target.level,
    study_uid: r.target.studyInstanceUID ?? null,
    series_uid: r.target.seriesInstanceUID ?? null,
    npi: r.target.npi ?? null,
    // Search values may be empty strings (universal matching): one JSON string keeps them intact.
    search: JSON.stringify(r.search),
    destination: r.destination,
    state: r.state,
    remaining: r.remaining ?? null,
    completed: r.completed,
    failed: r.failed,
    warning: r.warning,
    status: r.status ?? null,
    execution_id: r.executionId ?? null,
    created_at: r.createdAt,
    expires_at: r.expiresAt,
    delete_at: r.deleteAt,
    // Kept for a request carried over from the emulator layout, whose list may live in the item.
    item_failed_sop_uids: r.itemFailedSOPInstanceUIDs?.length ? JSON.stringify(r.itemFailedSOPInstanceUIDs) : null,
  };
}

function fromRow(row: RequestRow): SendRequestRecord {
  return {
    transactionUID: row.transaction_uid,
    target: {
      level: row.target_level as SendRequestRecord['target']['level'],
      ...(row.study_uid !== null && { studyInstanceUID: row.study_uid }),
      ...(row.series_uid !== null && { seriesInstanceUID: row.series_uid }),
      ...(row.npi !== null && { npi: row.npi }),
    },
    search: JSON.parse(row.search) as [string, string][],
    destination: row.destination,
    state: row.state as SendRequestState,
    ...(row.remaining !== null && { remaining: row.remaining }),
    completed: row.completed,
    failed: row.failed,
    warning: row.warning,
    ...(row.status !== null && { status: row.status }),
    ...(row.execution_id !== null && { executionId: row.execution_id }),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    deleteAt: row.delete_at,
    ...(row.item_failed_sop_uids !== null && { itemFailedSOPInstanceUIDs: JSON.parse(row.item_failed_sop_uids) as string[] }),
  };
}

function batchFromRow(row: BatchRow): SendBatchRecord {
  return { batchId: row.batch_id, completed: row.completed, warning: row.warning, failed: row.failed };
}
