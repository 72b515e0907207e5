/**
 * Integration: the local engine's SqliteShareLinkStore on a temporary clients.sqlite passes the
 * ShareLinkStore contract (a fresh file per test), shares the file with the API key clients without
 * either seeing the other's rows, and reads through its indexes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeSqlite, openSqlite } from '../../../lambdas/storage/local/sqlite';
import { CLIENTS_MIGRATIONS, SqliteClientStore } from '../../../lambdas/storage/local/sqlite-clients';
import { SqliteShareLinkStore } from '../../../lambdas/storage/local/sqlite-share-links';
import { newClient } from '../../contract/client-store.contract';
import { describeShareLinkStoreContract, newShareLink } from '../../contract/share-link-store.contract';
import { plansOfPrepared, unindexedSteps } from '../../support/sqlite-plans';

const dir = mkdtempSync(join(tmpdir(), 'sqlite-share-links-'));
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

describeShareLinkStoreContract('SqliteShareLinkStore', () => new SqliteShareLinkStore(open()));

describe('SqliteShareLinkStore on clients.sqlite', () => {
  it('lives beside the API key clients, each store listing its own', async () => {
    const db = open();
    const clients = new SqliteClientStore(db);
    const shares = new SqliteShareLinkStore(db);
    const client = newClient();
    const link = newShareLink();
    await clients.create(client);
    await shares.create(link);
    expect(await clients.list()).toEqual([client]);
    expect(await shares.list()).toEqual([link]);
  });

  it('lists in index order and reads one link by its key: no statement scans the table or sorts', () => {
    const plans = plansOfPrepared(open(), (db) => new SqliteShareLinkStore(db));
    expect(plans.map((p) => p.sql)).toContain('SELECT * FROM share_links ORDER BY created_at, id');
    for (const { sql, plan } of plans) expect({ sql, unindexed: unindexedSteps(plan) }).toEqual({ sql, unindexed: [] });
  });
});
