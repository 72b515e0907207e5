/**
 * Integration: SqliteNpiIndex on a temporary index database passes the NpiIndex contract, pages
 * through a category, and keeps its entries across a reopening of the file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeSqlite, type SqliteDatabase } from '../../../lambdas/storage/local/sqlite';
import { openIndexDatabase } from '../../../lambdas/storage/local/sqlite-index-schema';
import { SqliteNpiIndex } from '../../../lambdas/storage/local/sqlite-npi-index';
import { all, describeNpiIndexContract, entry, uid } from '../../contract/npi-index.contract';

const dir = mkdtempSync(join(tmpdir(), 'npi-index-'));
const path = join(dir, 'index.sqlite');
const opened: SqliteDatabase[] = [];
function open(): SqliteDatabase {
  const db = openIndexDatabase(path);
  opened.push(db);
  return db;
}
afterAll(() => {
  for (const db of opened) closeSqlite(db);
  rmSync(dir, { recursive: true, force: true });
});

/** Pages of 2, so that every query crosses page boundaries. */
describeNpiIndexContract('SqliteNpiIndex', () => new SqliteNpiIndex(open(), { pageSize: 2 }));

describe('SqliteNpiIndex on its file', () => {
  it('reads every entry of a category across pages, in SOP Instance UID order, and again after reopening', async () => {
    const category = `cat-${uid()}`;
    const sops = Array.from({ length: 7 }, uid);
    const npi = new SqliteNpiIndex(open(), { pageSize: 3 });
    for (const sop of sops) await npi.putInstance(entry(category, sop));
    expect((await all(npi.query(category))).map((e) => e.sopInstanceUID)).toEqual([...sops].sort());

    const db = open();
    closeSqlite(db);
    const reopened = new SqliteNpiIndex(open());
    expect(await reopened.getInstance(category, sops[3]!)).toEqual(entry(category, sops[3]!));
    expect(await all(reopened.query(category))).toHaveLength(7);
  });

  it('reads a category by its key, never the table', () => {
    const db = open();
    new SqliteNpiIndex(db);
    const plan = db
      .prepare('EXPLAIN QUERY PLAN SELECT * FROM npi_entries WHERE category = ? AND sop_uid > ? ORDER BY sop_uid LIMIT ?')
      .all('x', '', 10) as { detail: string }[];
    expect(plan.map((p) => p.detail).join('\n')).toMatch(/^SEARCH npi_entries USING PRIMARY KEY \(category=\? AND sop_uid>\?\)$/);
  });
});
