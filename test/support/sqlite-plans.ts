/**
 * Query plans of the SQL an adapter of the local engine prepares, for tests that prove every lookup
 * indexed (EXPLAIN QUERY PLAN, https://www.sqlite.org/eqp.html).
 */
import type { SqliteDatabase } from '../../lambdas/storage/local/sqlite';

/**
 * Builds the adapter with `make` on `db`, recording every statement it prepares, and answers each
 * statement's query plan (parameters bound as NULL: the plan depends on the SQL, not on the values).
 */
export function plansOfPrepared(db: SqliteDatabase, make: (db: SqliteDatabase) => unknown): { sql: string; plan: string[] }[] {
  const prepared: string[] = [];
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    prepared.push(sql);
    return prepare(sql);
  }) as typeof db.prepare;
  try {
    make(db);
  } finally {
    db.prepare = prepare;
  }
  return prepared.map((sql) => {
    const bare = sql.replace(/[:@$][A-Za-z_]+|\?\d*/g, 'NULL');
    const rows = db.prepare(`EXPLAIN QUERY PLAN ${bare}`).all() as { detail: string }[];
    return { sql, plan: rows.map((r) => r.detail) };
  });
}

/** Plan steps that read a whole table, or sort without an index. */
export function unindexedSteps(plan: readonly string[]): string[] {
  return plan.filter((step) => /^SCAN (?!\S+ USING (COVERING )?INDEX)/.test(step) || /TEMP B-TREE/.test(step));
}
