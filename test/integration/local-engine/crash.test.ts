/**
 * Integration: the local engine killed (SIGKILL) in the middle of its writes loses nothing it
 * acknowledged: every object a put answered is read back whole, no temporary file survives the next
 * open, and a send request's counters add up to the batches it recorded.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileBlobStore } from '../../../lambdas/storage/local/file-blobs';
import { closeSqlite, openSqlite } from '../../../lambdas/storage/local/sqlite';
import { SEND_REQUESTS_MIGRATIONS, SqliteSendRequestStore } from '../../../lambdas/storage/local/sqlite-send-requests';
import { newRequest } from '../../contract/send-request-store.contract';
import { objectBytes } from '../../support/local-engine-objects';

const dir = mkdtempSync(join(tmpdir(), 'local-engine-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const WRITER = resolve(__dirname, '../../support/local-engine-crash-writer.ts');

/** Runs the writer until it has acknowledged `writes` writes, kills it, and answers what it acknowledged. */
function killAfter(writes: number, args: string[]): Promise<string[]> {
  return new Promise((done, fail) => {
    // node itself, with tsx as a loader: the tsx command would run the writer in a child of its own, out of reach of the kill.
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.split('\n').length > writes) child.kill('SIGKILL');
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', fail);
    child.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') fail(new Error(`writer ended without being killed: ${err}`));
      // A line cut short was never acknowledged.
      else done(out.split('\n').slice(0, -1));
    });
  });
}

describe('the local engine killed while writing', () => {
  it('keeps every object a put acknowledged, whole, and sweeps what the kill cut short', async () => {
    const root = join(dir, 'objects');
    const acknowledged = await killAfter(40, ['blobs', root]);
    expect(acknowledged.length).toBeGreaterThanOrEqual(40);
    const store = await FileBlobStore.open(root);
    for (const i of acknowledged.map(Number)) {
      const got = await store.get(`studies/1.2/series/1.2.3/instances/${i}.dcm`);
      expect(Buffer.from(got!).equals(Buffer.from(objectBytes(i)))).toBe(true);
    }
    const names = readdirSync(join(root, 'studies/1.2/series/1.2.3/instances'));
    expect(names.filter((n) => n.startsWith('.'))).toEqual([]);
  }, 60_000);

  it('keeps a send request whose counters add up to the batches it recorded', async () => {
    const path = join(dir, 'sends.sqlite');
    const db = openSqlite(path, SEND_REQUESTS_MIGRATIONS);
    const r = newRequest();
    const matched = 1_000_000;
    await new SqliteSendRequestStore(db).create(r);
    await new SqliteSendRequestStore(db).setMatched(r.transactionUID, matched);
    closeSqlite(db);

    const acknowledged = await killAfter(200, ['sends', path, r.transactionUID]);
    const reopened = openSqlite(path, SEND_REQUESTS_MIGRATIONS);
    try {
      const store = new SqliteSendRequestStore(reopened);
      const batches = await store.batchOutcomes(r.transactionUID);
      expect(batches.map((b) => b.batchId)).toEqual(expect.arrayContaining(acknowledged));
      const got = (await store.get(r.transactionUID))!;
      expect([got.completed, got.warning, got.failed]).toEqual([2, 1, 1].map((n) => n * batches.length));
      expect(got.remaining! + got.completed + got.warning + got.failed).toBe(matched);
    } finally {
      closeSqlite(reopened);
    }
  }, 60_000);
});
