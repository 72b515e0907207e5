/**
 * Integration: the local engine's SqliteClientStore on a temporary clients.sqlite passes the
 * ClientStore contract (a fresh file per test), keeps its clients across a reopening, and reads
 * through its indexes, never a scan or a sort of the whole table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeSqlite, openSqlite } from '../../../lambdas/storage/local/sqlite';
import { CLIENTS_MIGRATIONS, SqliteClientStore } from '../../../lambdas/storage/local/sqlite-clients';
import { describeClientStoreContract, newClient } from '../../contract/client-store.contract';
import { plansOfPrepared, unindexedSteps } from '../../support/sqlite-plans';

const dir = mkdtempSync(join(tmpdir(), 'sqlite-clients-'));
const opened: ReturnType<typeof openSqlite>[] = [];
let files = 0;
afterAll(() => {
  for (const db of opened) closeSqlite(db);
  rmSync(dir, { recursive: true, force: true });
});

function open(name = `clients-${++files}.sqlite`): ReturnType<typeof openSqlite> {
  const db = openSqlite(join(dir, name), CLIENTS_MIGRATIONS);
  opened.push(db);
  return db;
}

describeClientStoreContract('SqliteClientStore', () => new SqliteClientStore(open()));

describe('SqliteClientStore on clients.sqlite', () => {
  it('keeps its clients, revoked or not, across a reopening', async () => {
    const path = join(dir, 'reopen.sqlite');
    const first = openSqlite(path, CLIENTS_MIGRATIONS);
    const store = new SqliteClientStore(first);
    const kept = newClient({ createdAt: '2026-01-01T00:00:00.000Z' });
    const revoked = newClient({ createdAt: '2026-02-01T00:00:00.000Z', scopes: [] });
    await store.create(kept);
    await store.create(revoked);
    await store.revoke(revoked.id, '2026-03-01T00:00:00.000Z');
    closeSqlite(first);

    const reopened = new SqliteClientStore(open('reopen.sqlite'));
    expect(await reopened.list()).toEqual([kept, { ...revoked, revokedAt: '2026-03-01T00:00:00.000Z' }]);
  });

  it('lists in index order and reads one client by its key: no statement scans the table or sorts', () => {
    const plans = plansOfPrepared(open(), (db) => new SqliteClientStore(db));
    expect(plans.map((p) => p.sql)).toContain('SELECT * FROM clients ORDER BY created_at, id');
    for (const { sql, plan } of plans) expect({ sql, unindexed: unindexedSteps(plan) }).toEqual({ sql, unindexed: [] });
    expect(plans.find((p) => p.sql.startsWith('SELECT * FROM clients ORDER'))?.plan).toEqual([
      'SCAN clients USING INDEX clients_oldest_first',
    ]);
  });
});
