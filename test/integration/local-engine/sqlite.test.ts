/**
 * Integration: openSqlite on a temporary directory: creates the file and its directory, WAL mode,
 * migrations applied once each and recorded in user_version, a newer schema refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StorageUnavailableError } from '../../../lambdas/storage/errors';
import {
  closeSqlite,
  commitsDurable,
  GroupSync,
  openSqlite,
  schemaVersion,
  whenAvailable,
  type Migration,
} from '../../../lambdas/storage/local/sqlite';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sqlite-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const STEPS: Migration[] = [
  'CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)',
  (db) => db.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run('seed', 1),
];

describe('openSqlite', () => {
  it('creates the file in a new directory, in WAL mode, at the last schema version', () => {
    const db = openSqlite(join(dir, 'a', 'b', 'x.sqlite'), STEPS);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(schemaVersion(db)).toBe(2);
    closeSqlite(db);
    closeSqlite(db);
  });

  it('applies only the steps a reopened file has not seen', () => {
    const path = join(dir, 'x.sqlite');
    closeSqlite(openSqlite(path, STEPS.slice(0, 1)));
    const db = openSqlite(path, [...STEPS, 'ALTER TABLE t ADD COLUMN w TEXT']);
    expect(schemaVersion(db)).toBe(3);
    expect(db.prepare('SELECT k, v, w FROM t').all()).toEqual([{ k: 'seed', v: 1, w: null }]);
    closeSqlite(db);
    const again = openSqlite(path, [...STEPS, 'ALTER TABLE t ADD COLUMN w TEXT'], { synchronous: 'NORMAL' });
    expect(again.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 1 });
    expect(again.pragma('synchronous', { simple: true })).toBe(1);
    closeSqlite(again);
  });

  it('rolls a failing step back and keeps the version before it', () => {
    const path = join(dir, 'x.sqlite');
    expect(() => openSqlite(path, [STEPS[0]!, 'INSERT INTO t (k, v) VALUES (1, 1); INSERT INTO nope VALUES (1)'])).toThrow(/nope/);
    const db = openSqlite(path, STEPS.slice(0, 1));
    expect(schemaVersion(db)).toBe(1);
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 0 });
    closeSqlite(db);
  });

  it('refuses a file whose schema is newer than the steps it is given', () => {
    const path = join(dir, 'x.sqlite');
    closeSqlite(openSqlite(path, STEPS));
    expect(() => openSqlite(path, STEPS.slice(0, 1))).toThrow(/newer than this release/);
  });
});

describe('whenAvailable', () => {
  it('turns a lock held past the busy timeout into StorageUnavailableError, and passes other errors', () => {
    const path = join(dir, 'x.sqlite');
    const writer = openSqlite(path, STEPS);
    const other = openSqlite(path, STEPS, { busyTimeoutMs: 10 });
    writer.prepare('BEGIN IMMEDIATE').run();
    try {
      expect(() => whenAvailable(() => other.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run('x', 2))).toThrow(StorageUnavailableError);
    } finally {
      writer.prepare('ROLLBACK').run();
    }
    expect(whenAvailable(() => other.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run('x', 2).changes)).toBe(1);
    expect(() => whenAvailable(() => other.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run('x', 3))).toThrow(/UNIQUE/);
    closeSqlite(other);
    closeSqlite(writer);
  });
});

describe('commitsDurable', () => {
  it('resolves on a NORMAL connection once the WAL is synced, and at once on a FULL one', async () => {
    const db = openSqlite(join(dir, 'x.sqlite'), STEPS, { synchronous: 'NORMAL' });
    db.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run('durable', 1);
    await Promise.all([commitsDurable(db), commitsDurable(db), commitsDurable(db)]);
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    closeSqlite(db);
    const full = openSqlite(join(dir, 'x.sqlite'), STEPS);
    await commitsDurable(full);
    closeSqlite(full);
  });
});

describe('GroupSync', () => {
  it('shares one sync among the callers waiting while another runs, and never covers a caller with a sync started before it', async () => {
    const started: number[] = [];
    const finish: (() => void)[] = [];
    const group = new GroupSync(
      () =>
        new Promise<void>((resolve) => {
          started.push(started.length);
          finish.push(resolve);
        }),
    );
    const first = group.sync();
    const waiting = [group.sync(), group.sync(), group.sync()];
    expect(started).toHaveLength(1);
    let done = 0;
    for (const w of waiting) void w.then(() => done++);
    finish[0]!();
    await first;
    await new Promise((r) => setImmediate(r));
    // The three waited for a second sync, started after the first ended, and share it.
    expect(started).toHaveLength(2);
    expect(done).toBe(0);
    finish[1]!();
    await Promise.all(waiting);
    expect(done).toBe(3);
    expect(started).toHaveLength(2);
  });

  it('passes a failed sync on to its callers, and the next callers get a new one', async () => {
    let calls = 0;
    const group = new GroupSync(async () => {
      calls++;
      if (calls === 1) throw new Error('EIO');
    });
    await expect(group.sync()).rejects.toThrow('EIO');
    await expect(group.sync()).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });
});
