/**
 * Integration: the local engine's SqliteSendRequestStore on a temporary sends.sqlite passes the
 * SendRequestStore contract, keeps its requests across a reopening, counts a batch once when several
 * processes deliver it at once, and treats a request past its deleteAt as DynamoDB's TTL would.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeSqlite, openSqlite } from '../../../lambdas/storage/local/sqlite';
import { SEND_REQUESTS_MIGRATIONS, SqliteSendRequestStore } from '../../../lambdas/storage/local/sqlite-send-requests';
import { batch, describeSendRequestStoreContract, newRequest } from '../../contract/send-request-store.contract';
import { plansOfPrepared, unindexedSteps } from '../../support/sqlite-plans';

const dir = mkdtempSync(join(tmpdir(), 'sqlite-sends-'));
const opened: ReturnType<typeof openSqlite>[] = [];
afterAll(() => {
  for (const db of opened) closeSqlite(db);
  rmSync(dir, { recursive: true, force: true });
});

function open(name = 'sends.sqlite'): ReturnType<typeof openSqlite> {
  const db = openSqlite(join(dir, name), SEND_REQUESTS_MIGRATIONS);
  opened.push(db);
  return db;
}

describeSendRequestStoreContract('SqliteSendRequestStore', () => new SqliteSendRequestStore(open()));

describe('SqliteSendRequestStore on sends.sqlite', () => {
  it('keeps requests and their batches across a reopening', async () => {
    const path = join(dir, 'reopen.sqlite');
    const first = openSqlite(path, SEND_REQUESTS_MIGRATIONS);
    const r = newRequest({ itemFailedSOPInstanceUIDs: ['1.2.3.1'] });
    const store = new SqliteSendRequestStore(first);
    await store.create(r);
    await store.setMatched(r.transactionUID, 5);
    await store.addBatchOutcome(r.transactionUID, batch('a', 2, 1, 1));
    closeSqlite(first);

    const reopened = new SqliteSendRequestStore(open('reopen.sqlite'));
    expect(await reopened.get(r.transactionUID)).toEqual({ ...r, remaining: 1, completed: 2, warning: 1, failed: 1 });
    expect(await reopened.batchOutcomes(r.transactionUID)).toEqual([batch('a', 2, 1, 1)]);
    expect(await reopened.addBatchOutcome(r.transactionUID, batch('a', 2, 1, 1))).toBe(true);
    expect((await reopened.get(r.transactionUID))?.remaining).toBe(1);
  });

  it('is gone once deleteAt has passed: undefined, its Transaction UID free again, its rows deleted', async () => {
    let now = 1_000_000_000_000;
    const db = open('expiry.sqlite');
    const store = new SqliteSendRequestStore(db, { now: () => now });
    const r = newRequest({ expiresAt: 1_000_000_100, deleteAt: 1_000_000_200 });
    await store.create(r);
    await store.setMatched(r.transactionUID, 3);
    await store.addBatchOutcome(r.transactionUID, batch('a', 1, 0, 0));
    // Past expiresAt and before deleteAt: still there (Check Send Result answers 410 from expiresAt).
    now = 1_000_000_150_000;
    expect((await store.get(r.transactionUID))?.completed).toBe(1);
    now = 1_000_000_200_000;
    expect(await store.get(r.transactionUID)).toBeUndefined();
    expect(await store.batchOutcomes(r.transactionUID)).toEqual([]);
    await expect(store.setExecution(r.transactionUID, 'x')).rejects.toThrow(/does not exist/);
    const again = { ...r, expiresAt: 1_000_000_300, deleteAt: 1_000_000_400 };
    expect(await store.create(again)).toBe(true);
    expect(await store.get(r.transactionUID)).toEqual(again);
    expect(await store.batchOutcomes(r.transactionUID)).toEqual([]);
    expect(db.prepare('SELECT count(*) AS n FROM send_batches').get()).toEqual({ n: 0 });
  });

  it('counts each batch once when several processes deliver the same batches at once', async () => {
    const path = join(dir, 'processes.sqlite');
    const store = new SqliteSendRequestStore(open('processes.sqlite'));
    const r = newRequest();
    await store.create(r);
    const batches = 40;
    await store.setMatched(r.transactionUID, batches * 3);
    const script = resolve(__dirname, '../../support/local-engine-batch-writer.ts');
    const runs = Array.from(
      { length: 3 },
      () =>
        new Promise<string>((done, fail) => {
          const child = spawn(process.execPath, ['--import', 'tsx', script, path, r.transactionUID, String(batches)], {
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let out = '';
          child.stdout.on('data', (d: Buffer) => (out += d.toString()));
          child.stderr.on('data', (d: Buffer) => (out += d.toString()));
          child.on('error', fail);
          child.on('exit', (code) => (code === 0 ? done(out) : fail(new Error(`writer exited ${code}: ${out}`))));
        }),
    );
    await Promise.all(runs);
    expect(await store.get(r.transactionUID)).toMatchObject({ remaining: batches, completed: batches, warning: 0, failed: batches });
    expect(await store.batchOutcomes(r.transactionUID)).toHaveLength(batches);
  }, 60_000);

  it('reads and writes through indexes only: no statement scans a table or sorts', () => {
    const plans = plansOfPrepared(open('plans.sqlite'), (db) => new SqliteSendRequestStore(db));
    expect(plans.length).toBeGreaterThan(10);
    for (const { sql, plan } of plans) expect({ sql, unindexed: unindexedSteps(plan) }).toEqual({ sql, unindexed: [] });
  });
});
