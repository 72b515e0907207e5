/**
 * A writer to be killed (SIGKILL) by test/integration/local-engine/crash.test.ts: puts objects into a
 * FileBlobStore, or counts Deliver batches of one send request into a sends.sqlite, without end,
 * printing each write's name once it is acknowledged.
 * Usage: tsx local-engine-crash-writer.ts blobs <objects dir>
 *        tsx local-engine-crash-writer.ts sends <sends.sqlite> <transactionUID>
 */
import { FileBlobStore } from '../../lambdas/storage/local/file-blobs';
import { openSqlite } from '../../lambdas/storage/local/sqlite';
import { SEND_REQUESTS_MIGRATIONS, SqliteSendRequestStore } from '../../lambdas/storage/local/sqlite-send-requests';
import { objectBytes } from './local-engine-objects';

const [mode, path, transactionUID] = process.argv.slice(2) as [string, string, string?];

if (mode === 'blobs') {
  const store = await FileBlobStore.open(path);
  for (let i = 0; ; i++) {
    await store.put(`studies/1.2/series/1.2.3/instances/${i}.dcm`, objectBytes(i), 'application/dicom');
    process.stdout.write(`${i}\n`);
  }
} else if (mode === 'sends') {
  const store = new SqliteSendRequestStore(openSqlite(path, SEND_REQUESTS_MIGRATIONS));
  for (let i = 0; ; i++) {
    await store.addBatchOutcome(transactionUID!, { batchId: `b${i}`, completed: 2, warning: 1, failed: 1 });
    process.stdout.write(`b${i}\n`);
  }
}
