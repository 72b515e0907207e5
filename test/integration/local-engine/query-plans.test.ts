/**
 * Integration: every IndexQuery path of SqliteMetadataIndex (and every read of SqliteNpiIndex) is an
 * indexed lookup. Each path is run over entries spanning several pages; every statement it executed
 * is then asked for its EXPLAIN QUERY PLAN (https://www.sqlite.org/eqp.html), which must name the
 * index of the path and hold no "SCAN" of a table. The result-ordered paths must also seek to each
 * page through the index (the keyset cursor is in the index range) and sort nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tag } from '../../../lambdas/dicom/tags';
import { closeSqlite, type SqliteDatabase } from '../../../lambdas/storage/local/sqlite';
import { openIndexDatabase, SqliteMetadataIndex } from '../../../lambdas/storage/local/sqlite-index';
import { SqliteNpiIndex } from '../../../lambdas/storage/local/sqlite-npi-index';
import type { IndexQuery } from '../../../lambdas/storage/ports';
import { instanceEntry, seriesEntry, studyEntry, uid } from '../../contract/metadata-index.contract';
import { entry as npiEntry } from '../../contract/npi-index.contract';

const dir = mkdtempSync(join(tmpdir(), 'query-plans-'));
let db: SqliteDatabase;
let index: SqliteMetadataIndex;
let npi: SqliteNpiIndex;
/** The SQL of every statement executed since the last reset. */
const executed = new Set<string>();

/** Records the SQL of each statement the adapters prepare, as it is executed. */
function traceStatements(target: SqliteDatabase): void {
  const prepare = target.prepare.bind(target);
  target.prepare = ((sql: string) => {
    const statement = prepare(sql);
    for (const method of ['all', 'get', 'run', 'iterate'] as const) {
      const call = statement[method].bind(statement) as (...args: unknown[]) => unknown;
      Object.defineProperty(statement, method, {
        value: (...args: unknown[]) => {
          executed.add(sql);
          return call(...args);
        },
      });
    }
    return statement;
  }) as typeof target.prepare;
}

/** The plan of a statement, its parameters bound to NULL (a plan does not depend on them). */
function planOf(sql: string): string[] {
  const explain = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
  const named = [...new Set([...sql.matchAll(/@(\w+)/g)].map((m) => m[1]!))];
  const rows = (
    named.length > 0
      ? explain.all(Object.fromEntries(named.map((n) => [n, null])))
      : explain.all(...Array(explain.source.split('?').length - 1).fill(null))
  ) as { detail: string }[];
  return rows.map((r) => r.detail);
}

/** The plans of what `run` executed, checked against full scans. */
async function plansOf(run: () => Promise<unknown>): Promise<string> {
  executed.clear();
  await run();
  expect(executed.size).toBeGreaterThan(0);
  const plans = [...executed].map((sql) => planOf(sql));
  for (const plan of plans) {
    // json_each (and a subquery over it) walks the small JSON array bound as a parameter, not a table.
    expect(plan.filter((line) => /^SCAN (?!json_each VIRTUAL TABLE|\(subquery-\d+\))/.test(line))).toEqual([]);
    expect(plan.some((line) => line.startsWith('SEARCH '))).toBe(true);
  }
  return plans.map((p) => p.join('\n')).join('\n---\n');
}

async function drain(q: IndexQuery): Promise<number> {
  let n = 0;
  for await (const _ of index.query(q)) n++;
  return n;
}

const [study, series] = [uid(), uid()];
const patient = `PLAN-${uid()}`;

beforeAll(async () => {
  db = openIndexDatabase(join(dir, 'index.sqlite'));
  traceStatements(db);
  index = new SqliteMetadataIndex(db, { pageSize: 2 });
  npi = new SqliteNpiIndex(db, { pageSize: 2 });
  const name = { [Tag.PatientName]: { vr: 'PN', Value: [{ Alphabetic: 'Planner^Paula' }] } };
  await index.ensureStudy({ ...studyEntry(study, '20240101', patient), attributes: name });
  await index.ensureSeries(seriesEntry(study, series, '20240101', patient));
  for (let i = 0; i < 5; i++) {
    const e = instanceEntry(study, series, uid(), undefined, `2024010${i}`, patient);
    await index.putInstance({ ...e, attributes: { ...e.attributes, ...name } });
  }
  for (let i = 0; i < 5; i++) await npi.putInstance(npiEntry('color-palettes', uid()));
});

afterAll(() => {
  closeSqlite(db);
  rmSync(dir, { recursive: true, force: true });
});

describe('EXPLAIN QUERY PLAN of every IndexQuery path', () => {
  it("'study' reads the entries' key index, seeking each page", async () => {
    for (const q of [
      { by: 'study', level: 'STUDY', studyInstanceUID: study },
      { by: 'study', level: 'SERIES', studyInstanceUID: study },
      { by: 'study', level: 'SERIES', studyInstanceUID: study, seriesInstanceUID: series },
      { by: 'study', level: 'INSTANCE', studyInstanceUID: study },
      { by: 'study', level: 'INSTANCE', studyInstanceUID: study, seriesInstanceUID: series },
    ] as const) {
      const plans = await plansOf(() => drain(q));
      expect(plans).toMatch(/SEARCH entries USING INDEX entries_by_key \(study_uid=\? AND level=\?/);
      expect(plans).not.toMatch(/TEMP B-TREE/);
    }
    // Several pages were read, each from its cursor.
    expect(await plansOf(() => drain({ by: 'study', level: 'INSTANCE', studyInstanceUID: study }))).toMatch(
      /\(series_uid,sop_uid\)>\(\?,\?\)/,
    );
  });

  it("'uid' reads entries_by_uid", async () => {
    expect(await plansOf(() => drain({ by: 'uid', level: 'SERIES', uids: [series, uid()] }))).toMatch(
      /SEARCH entries USING INDEX entries_by_uid \(uid=\? AND level=\?\)/,
    );
  });

  it("'patient' and 'level' read their index backwards from the keyset cursor, with or without a date range", async () => {
    for (const dateRange of [undefined, { from: '20240102' }, { to: '20240103' }, { from: '20240101', to: '20240104' }]) {
      const byPatient = await plansOf(() => drain({ by: 'patient', level: 'INSTANCE', patientId: patient, dateRange, pageHint: 1 }));
      expect(byPatient).toMatch(
        /SEARCH entries USING INDEX entries_by_patient \(patient_id=\? AND level=\? AND .*\(study_date,uid\)<\(\?,\?\)\)/,
      );
      const byLevel = await plansOf(() => drain({ by: 'level', level: 'INSTANCE', dateRange }));
      expect(byLevel).toMatch(/SEARCH entries USING INDEX entries_by_level \(level=\? AND .*\(study_date,uid\)<\(\?,\?\)\)/);
      expect(byPatient + byLevel).not.toMatch(/TEMP B-TREE/);
    }
  });

  it("'name' reads the name terms' key, then each entry by its key and by id", async () => {
    const plans = await plansOf(() =>
      drain({ by: 'name', level: 'INSTANCE', prefix: 'plan', dateRange: { from: '20240101' }, pageHint: 1 }),
    );
    expect(plans).toMatch(/SEARCH t USING PRIMARY KEY \(level=\? AND term>\? AND term<\?\)/);
    expect(plans).toMatch(/SEARCH e USING INDEX entries_by_key/);
    expect(plans).toMatch(/SEARCH entries USING INTEGER PRIMARY KEY \(rowid=\?\)/);
  });

  it('reads entries, tombstones, Delete jobs and NPI entries by their keys', async () => {
    const keys = { level: 'SERIES', studyInstanceUID: study, seriesInstanceUID: series } as const;
    expect(await plansOf(() => index.getEntries([keys]))).toMatch(/entries_by_key/);
    expect(await plansOf(() => index.findTombstone({ ...keys, level: 'INSTANCE', sopInstanceUID: uid() }))).toMatch(
      /SEARCH tombstones USING PRIMARY KEY/,
    );
    expect(await plansOf(() => index.findDeleteJob(keys))).toMatch(/SEARCH delete_jobs USING PRIMARY KEY/);
    expect(await plansOf(() => index.deleteEntry({ ...keys, level: 'INSTANCE', sopInstanceUID: uid() }))).toMatch(/name_terms_by_entry/);
    expect(await plansOf(() => index.addStudyCounters(study, { instances: 1, modalities: ['CT'] }))).toMatch(/entries_by_key/);
    const all = async () => {
      for await (const _ of npi.query('color-palettes'));
    };
    expect(await plansOf(all)).toMatch(/SEARCH npi_entries USING PRIMARY KEY \(category=\? AND sop_uid>\?\)/);
  });
});
