import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSqlite, openSqlite } from '../../../lambdas/storage/local/sqlite';
import { WalCheckpointer } from '../../../lambdas/storage/local/wal-checkpointer';

const SCHEMA = ['CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL);'];

describe('WalCheckpointer', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wal-checkpointer-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('copies the WAL into the database file on its thread while the writer does no checkpoint', async () => {
    const path = join(dir, 'a.sqlite');
    const db = openSqlite(path, SCHEMA, { synchronous: 'NORMAL' });
    const checkpointer = WalCheckpointer.start(db);
    try {
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      const before = (await stat(path)).size;
      const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
      // ~4 MB of commits: without checkpoints they would all stay in the WAL.
      for (let i = 0; i < 2000; i++) insert.run('x'.repeat(2000));
      let size = before;
      for (let waited = 0; waited < 5000 && size < before + 3_000_000; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        size = (await stat(path)).size;
      }
      expect(size).toBeGreaterThan(before + 3_000_000);
    } finally {
      await checkpointer.close();
      closeSqlite(db);
    }
  });

  it('hands the checkpoints back to the writer when it closes', async () => {
    const db = openSqlite(join(dir, 'b.sqlite'), SCHEMA, { synchronous: 'NORMAL' });
    const checkpointer = WalCheckpointer.start(db);
    await checkpointer.close();
    await checkpointer.close(); // twice is harmless
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    closeSqlite(db);
  });
});
