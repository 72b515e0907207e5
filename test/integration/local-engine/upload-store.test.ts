/**
 * Integration: the local engine's SqliteUploadStore on a temporary uploads.sqlite passes the
 * UploadStore contract, and reads an upload by its key without scanning the table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { closeSqlite, openSqlite } from '../../../lambdas/storage/local/sqlite';
import { SqliteUploadStore, UPLOADS_MIGRATIONS } from '../../../lambdas/storage/local/sqlite-uploads';
import { describeUploadStoreContract } from '../../contract/upload-store.contract';

const dir = mkdtempSync(join(tmpdir(), 'sqlite-uploads-'));
const opened: ReturnType<typeof openSqlite>[] = [];
afterAll(() => {
  for (const db of opened) closeSqlite(db);
  rmSync(dir, { recursive: true, force: true });
});

describeUploadStoreContract('SqliteUploadStore', () => {
  const db = openSqlite(join(dir, 'uploads.sqlite'), UPLOADS_MIGRATIONS);
  opened.push(db);
  return new SqliteUploadStore(db);
});
