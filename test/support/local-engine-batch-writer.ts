/**
 * A Deliver in another process for test/integration/local-engine/send-requests.test.ts: records
 * batches b0..b{n-1} (1 completed, 1 failed each) of one send request in a sends.sqlite, so several
 * of these at once show a batch counted once across connections.
 * Usage: tsx local-engine-batch-writer.ts <sends.sqlite> <transactionUID> <n>
 */
import { closeSqlite, openSqlite } from '../../lambdas/storage/local/sqlite';
import { SEND_REQUESTS_MIGRATIONS, SqliteSendRequestStore } from '../../lambdas/storage/local/sqlite-send-requests';

const [path, transactionUID, n] = process.argv.slice(2) as [string, string, string];
const db = openSqlite(path, SEND_REQUESTS_MIGRATIONS);
const store = new SqliteSendRequestStore(db);
for (let i = 0; i < Number(n); i++) {
  if (!(await store.addBatchOutcome(transactionUID, { batchId: `b${i}`, completed: 1, warning: 0, failed: 1 }))) process.exit(2);
}
closeSqlite(db);
