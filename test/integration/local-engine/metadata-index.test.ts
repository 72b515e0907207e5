/**
 * Integration: SqliteMetadataIndex on a temporary index database passes the MetadataIndex contract,
 * and, as the DynamoDB adapter's own suite checks it (test/integration/storage/dynamodb.test.ts):
 * pages of the study path, result order and date ranges of the level path, the Patient's Name
 * search; then what only a file can show: a reopened database sees everything, and two writers of
 * one key get one 'created'.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSqlite, type SqliteDatabase } from '../../../lambdas/storage/local/sqlite';
import { openIndexDatabase, SqliteMetadataIndex } from '../../../lambdas/storage/local/sqlite-index';
import type { IndexEntry, IndexQuery } from '../../../lambdas/storage/ports';
import { describeMetadataIndexContract, instanceEntry, seriesEntry, studyEntry, uid } from '../../contract/metadata-index.contract';
import { describeNameQueryContract, named, nameLabels, NAME_LEVELS, storeNamed } from '../../contract/metadata-index-names.contract';

const dir = mkdtempSync(join(tmpdir(), 'metadata-index-'));
const opened: SqliteDatabase[] = [];
/** A connection to the index database at `name` in the test's directory. */
function open(name = 'index.sqlite'): SqliteDatabase {
  const db = openIndexDatabase(join(dir, name));
  opened.push(db);
  return db;
}
afterAll(() => {
  for (const db of opened) closeSqlite(db);
  rmSync(dir, { recursive: true, force: true });
});

/** Small pages, so that every query below crosses page boundaries. */
const PAGE_SIZE = 2;
describeMetadataIndexContract('SqliteMetadataIndex', () => new SqliteMetadataIndex(open(), { pageSize: PAGE_SIZE }));

let db: SqliteDatabase;
let index: SqliteMetadataIndex;
beforeAll(() => {
  db = open();
  index = new SqliteMetadataIndex(db, { pageSize: PAGE_SIZE });
});

async function all(q: IndexQuery, from: SqliteMetadataIndex = index): Promise<IndexEntry[]> {
  const out: IndexEntry[] = [];
  for await (const e of from.query(q)) out.push(e);
  return out;
}
const sops = (entries: IndexEntry[]) => entries.map((e) => e.sopInstanceUID!).sort();

describe('getEntries and counters', () => {
  it('answers in the order asked, undefined where nothing is indexed', async () => {
    const [study, series] = [uid(), uid()];
    const stored = Array.from({ length: 12 }, () => instanceEntry(study, series, uid()));
    for (const entry of stored) await index.putInstance(entry);
    await index.ensureStudy(studyEntry(study));
    const asked = [...stored].reverse().map((e) => ({ ...e, level: 'INSTANCE' as const }));
    const absent = { level: 'SERIES' as const, studyInstanceUID: study, seriesInstanceUID: uid() };
    expect(await index.getEntries([...asked, absent, { level: 'STUDY', studyInstanceUID: study }])).toEqual([
      ...[...stored].reverse(),
      undefined,
      expect.objectContaining({ level: 'STUDY', studyInstanceUID: study }),
    ]);
    expect(await index.getEntries([])).toEqual([]);
  });

  it('does not create an entry when counting for a missing study or series', async () => {
    const [study, series] = [uid(), uid()];
    await index.addStudyCounters(study, { series: 1, instances: 1, modalities: ['CT'] });
    await index.addSeriesCounters(study, series, { instances: 1 });
    expect(await index.getStudy(study)).toBeUndefined();
    expect(await index.getSeries(study, series)).toBeUndefined();
  });
});

describe('query', () => {
  it("by 'study': series, instances of the study, instances of one series, the study itself; page by page", async () => {
    const [study, s1, s2] = [uid(), uid(), uid()];
    await index.ensureStudy(studyEntry(study));
    await index.ensureSeries(seriesEntry(study, s1));
    await index.ensureSeries(seriesEntry(study, s2));
    const inS1 = [uid(), uid(), uid(), uid(), uid()];
    const inS2 = [uid(), uid()];
    for (const sop of inS1) await index.putInstance(instanceEntry(study, s1, sop));
    for (const sop of inS2) await index.putInstance(instanceEntry(study, s2, sop));
    await index.putTombstone({ level: 'SERIES', studyInstanceUID: study, seriesInstanceUID: uid(), deletedAt: '2024-01-01T00:00:00Z' });

    const series = await all({ by: 'study', level: 'SERIES', studyInstanceUID: study });
    expect(series.map((e) => e.seriesInstanceUID)).toEqual([s1, s2].sort());
    const instances = await all({ by: 'study', level: 'INSTANCE', studyInstanceUID: study });
    expect(instances).toHaveLength(7);
    expect(sops(instances)).toEqual([...inS1, ...inS2].sort());
    expect(sops(await all({ by: 'study', level: 'INSTANCE', studyInstanceUID: study, seriesInstanceUID: s1 }))).toEqual([...inS1].sort());
    expect(await all({ by: 'study', level: 'SERIES', studyInstanceUID: study, seriesInstanceUID: s2 })).toHaveLength(1);
    expect((await all({ by: 'study', level: 'STUDY', studyInstanceUID: study })).map((e) => e.studyInstanceUID)).toEqual([study]);
    expect(await all({ by: 'study', level: 'STUDY', studyInstanceUID: uid() })).toEqual([]);
  });

  it("by 'level': in result order (most recent first, undated last), with date ranges, whatever the page hint", async () => {
    // Its own file, so the level holds only this test's entries.
    const byLevel = new SqliteMetadataIndex(open('level.sqlite'), { pageSize: 3 });
    const dates = ['20240105', '20230101', '20240301', '20240105', '20220610', '20240229', '20240101', '20240102', '20241231', ''];
    const studies = dates.map((date) => ({ date, study: uid() }));
    for (const { date, study } of studies) {
      await byLevel.ensureStudy(studyEntry(study, date));
      await byLevel.ensureSeries(seriesEntry(study, uid(), date));
    }
    const expected = (keep: (date: string) => boolean) =>
      studies
        .filter(({ date }) => keep(date))
        .sort((a, b) => (`${a.date}#${a.study}` > `${b.date}#${b.study}` ? -1 : 1))
        .map(({ study }) => study);
    const found = async (dateRange?: { from?: string; to?: string }, pageHint?: number) =>
      (await all({ by: 'level', level: 'STUDY', dateRange, pageHint }, byLevel)).map((e) => e.studyInstanceUID);

    expect(await found()).toEqual(expected(() => true));
    for (const hint of [0, 1, 2, 5, 100]) expect(await found(undefined, hint)).toEqual(expected(() => true));
    expect(await found({ from: '20240101', to: '20240229' })).toEqual(expected((d) => d >= '20240101' && d <= '20240229'));
    expect(await found({ from: '20240105' })).toEqual(expected((d) => d >= '20240105'));
    expect(await found({ to: '20231231' })).toEqual(expected((d) => d !== '' && d <= '20231231'));
    expect(await found({ from: '20240106', to: '20240228' })).toEqual([]);
    expect(await found({ from: '20240301', to: '20240101' })).toEqual([]);
    const series = await all({ by: 'level', level: 'SERIES', dateRange: { from: '20240301' } }, byLevel);
    expect(series.map((e) => e.studyDate)).toEqual(['20241231', '20240301']);
  });
});

describeNameQueryContract('SqliteMetadataIndex', () => index);

describe("query by 'name': what the SQLite index adds", () => {
  it('refuses an empty prefix, which would read every term', async () => {
    await expect(all({ by: 'name', level: 'STUDY', prefix: '' })).rejects.toThrow(RangeError);
  });

  it('finds a study by the name of a later instance, as DynamoDB does, and drops a deleted entry with its terms', async () => {
    const gone = await storeNamed(index, 'G', { Alphabetic: 'Quist^Gone' });
    const terms = db.prepare('SELECT count(*) AS n FROM name_terms WHERE study_uid = ?');
    expect(terms.get(gone.study)).toEqual({ n: 6 }); // 'quist', 'gone' at three levels
    // A later instance spells the name otherwise: its terms name the study and series too.
    await index.ensureStudy(named(studyEntry(gone.study), { Alphabetic: 'Kvist^Gone' }));
    expect(await nameLabels(index, { by: 'name', level: 'STUDY', prefix: 'kvist' }, [gone])).toEqual(['G']);
    for (const level of NAME_LEVELS) {
      expect(await nameLabels(index, { by: 'name', level, prefix: 'quist' }, [gone])).toEqual(['G']);
      await index.deleteEntry({ level, studyInstanceUID: gone.study, seriesInstanceUID: gone.series, sopInstanceUID: gone.sop });
      expect(await all({ by: 'name', level, prefix: 'quist' })).toEqual([]);
    }
    expect(await all({ by: 'name', level: 'STUDY', prefix: 'kvist' })).toEqual([]);
    expect(terms.get(gone.study)).toEqual({ n: 0 });
  });
});

describe('on its file', () => {
  it('a new connection over the same path sees everything written, after the first is closed', async () => {
    const file = open('persist.sqlite');
    const first = new SqliteMetadataIndex(file);
    const [study, series, sop] = [uid(), uid(), uid()];
    const instance = named(instanceEntry(study, series, sop, 'cc'.repeat(32), '20200202', 'PERSIST'), 'Keeper^Kim');
    await first.ensureStudy({ ...studyEntry(study, '20200202', 'PERSIST'), attributes: instance.attributes });
    await first.ensureSeries(seriesEntry(study, series, '20200202', 'PERSIST'));
    await first.putInstance(instance);
    await first.addStudyCounters(study, { series: 1, instances: 1, modalities: ['CT'] });
    await first.addSeriesCounters(study, series, { instances: 1 });
    await first.putTombstone({ level: 'SERIES', studyInstanceUID: study, seriesInstanceUID: uid(), deletedAt: '2024-01-01T00:00:00Z' });
    await first.startDeleteJob({ level: 'SERIES', studyInstanceUID: study, seriesInstanceUID: 'x', startedAt: '2024-01-01T00:00:00Z' });
    closeSqlite(file);

    const again = new SqliteMetadataIndex(open('persist.sqlite'));
    expect(await again.getInstance(study, series, sop)).toEqual(instance);
    expect(await again.getStudy(study)).toMatchObject({ relatedSeries: 1, relatedInstances: 1, modalities: ['CT'] });
    expect((await again.getSeries(study, series))?.relatedInstances).toBe(1);
    expect(sops(await all({ by: 'patient', level: 'INSTANCE', patientId: 'PERSIST' }, again))).toEqual([sop]);
    expect(await all({ by: 'name', level: 'STUDY', prefix: 'keeper' }, again)).toHaveLength(1);
    expect(await again.findDeleteJob({ studyInstanceUID: study, seriesInstanceUID: 'x' })).toMatchObject({ level: 'SERIES' });
    expect(await again.putInstance(instance)).toEqual({ outcome: 'identical', existing: instance });
  });

  it('gives exactly one created to writers of one key, on one connection or on two', async () => {
    const one = new SqliteMetadataIndex(open('race.sqlite'));
    const two = new SqliteMetadataIndex(open('race.sqlite'));
    for (const [a, b] of [
      [one, one],
      [one, two],
    ] as const) {
      const [study, series, sop] = [uid(), uid(), uid()];
      const outcomes = await Promise.all([
        a.putInstance(instanceEntry(study, series, sop, 'aa'.repeat(32))),
        b.putInstance(instanceEntry(study, series, sop, 'aa'.repeat(32))),
        b.putInstance(instanceEntry(study, series, sop, 'bb'.repeat(32))),
      ]);
      expect(outcomes.map((o) => o.outcome).sort()).toEqual(['conflict', 'created', 'identical']);
      const created = await Promise.all([a.ensureStudy(studyEntry(study)), b.ensureStudy(studyEntry(study))]);
      expect(created.filter(Boolean)).toHaveLength(1);
    }
  });

  it('gives exactly one created per key to writers in several processes, counting each instance once', async () => {
    const path = join(dir, 'processes.sqlite');
    const [study, series] = [uid(), uid()];
    const sopUids = Array.from({ length: 40 }, () => uid());
    const startAt = Date.now() + 2500; // after every process has loaded and opened the file
    const digests = ['aa'.repeat(32), 'aa'.repeat(32), 'bb'.repeat(32)];
    const runs = await Promise.all(
      // Each process in another order, so that each key is raced at another moment.
      digests.map((digest, p) => {
        const order = [...sopUids.slice(p * 13), ...sopUids.slice(0, p * 13)];
        return promisify(execFile)(TSX, [WRITER, path, String(startAt), study, series, digest, ...order], { timeout: 30_000 });
      }),
    );
    type Result = { outcomes: Record<string, string>; created: { study: boolean; series: boolean } };
    const results = runs.map((r) => JSON.parse(r.stdout) as Result);
    for (const sop of sopUids) {
      const outcomes = results.map((r) => r.outcomes[sop]);
      expect(
        outcomes.filter((o) => o === 'created'),
        sop,
      ).toHaveLength(1);
      // The 'bb' writer never matches an 'aa' entry, nor an 'aa' writer a 'bb' one.
      expect(outcomes.filter((o) => o === 'conflict').length, sop).toBeGreaterThanOrEqual(1);
    }
    expect(results.filter((r) => r.created.study)).toHaveLength(1);
    expect(results.filter((r) => r.created.series)).toHaveLength(1);
    const check = new SqliteMetadataIndex(open('processes.sqlite'));
    expect((await check.getSeries(study, series))?.relatedInstances).toBe(sopUids.length);
  }, 40_000);
});

const TSX = join(process.cwd(), 'node_modules/.bin/tsx');
const WRITER = join(process.cwd(), 'test/support/sqlite-index-writer.ts');
