/**
 * Integration: the local engine's BlobStore (lambdas/storage/local/local-blobs.ts) passes the BlobStore
 * contract; keeps the instances' DICOM JSON as rows of the index database, not files, up to its
 * limit; reads, replaces and deletes the metadata files of an earlier release; and keeps both kinds
 * across a reopening of the engine. A fresh row waits in memory for the transaction of the entry that
 * names it, and is written there, in the same commit.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceMetadataKey, instanceObjectKey, npiMetadataKey } from '../../../lambdas/storage/keys';
import { openLocalEngine, type OpenedLocalEngine } from '../../../lambdas/storage/local/engine';
import { FileBlobStore } from '../../../lambdas/storage/local/file-blobs';
import { DATABASE_OBJECT_MAX_BYTES, LocalBlobStore } from '../../../lambdas/storage/local/local-blobs';
import { closeSqlite } from '../../../lambdas/storage/local/sqlite';
import { openIndexDatabase } from '../../../lambdas/storage/local/sqlite-index-schema';
import { FRESH_ROWS_MAX, SqliteObjects } from '../../../lambdas/storage/local/sqlite-objects';
import { SqliteMetadataIndex } from '../../../lambdas/storage/local/sqlite-index';
import { instanceEntry } from '../../contract/metadata-index.contract';
import { bytes, describeBlobStoreContract } from '../../contract/blob-store.contract';

let dir: string;
const opened: OpenedLocalEngine[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-blobs-'));
});
afterAll(async () => {
  for (const engine of opened) await engine.close();
  await rm(dir, { recursive: true, force: true });
});

describeBlobStoreContract('LocalBlobStore', () => {
  const db = openIndexDatabase(join(dir, 'contract', 'index.sqlite'));
  afterAll(() => closeSqlite(db));
  return new LocalBlobStore(new FileBlobStore(join(dir, 'contract', 'objects')), new SqliteObjects(db));
});

async function engineAt(name: string) {
  const engine = await openLocalEngine(join(dir, name));
  opened.push(engine);
  return { engine, blobs: engine.blobStore(), objects: join(dir, name, 'objects') };
}

async function filesUnder(root: string): Promise<string[]> {
  if (!existsSync(root)) return [];
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .sort();
}

const VERSION = '0123456789abcdef-01234567';
const METADATA = instanceMetadataKey('1.2', '1.2.3', '1.2.3.4', VERSION);
const OBJECT = instanceObjectKey('1.2', '1.2.3', '1.2.3.4', VERSION);

describe('LocalBlobStore in the local engine', () => {
  it("keeps an instance's and a Non-Patient Instance's DICOM JSON in the index database, the Part 10 file as a file", async () => {
    const { blobs, objects } = await engineAt('rows');
    const npi = npiMetadataKey('hanging-protocols', '1.2.9', VERSION);
    await blobs.put(OBJECT, bytes(2000), 'application/dicom', { fresh: true });
    await blobs.put(METADATA, bytes(3000, 1), 'application/dicom+json', { fresh: true });
    await blobs.put(npi, bytes(500, 2), 'application/dicom+json', { fresh: true });
    expect(await filesUnder(objects)).toEqual([OBJECT]);
    expect(Buffer.from((await blobs.get(METADATA))!)).toEqual(Buffer.from(bytes(3000, 1)));
    expect(Buffer.from((await blobs.get(npi))!)).toEqual(Buffer.from(bytes(500, 2)));
  });

  it('keeps a DICOM JSON object above the limit as a file, read, replaced and deleted like the others', async () => {
    const { blobs, objects } = await engineAt('large');
    const large = bytes(DATABASE_OBJECT_MAX_BYTES + 1, 3);
    await blobs.put(METADATA, large, 'application/dicom+json', { fresh: true });
    expect(await filesUnder(objects)).toEqual([METADATA]);
    expect(Buffer.from((await blobs.get(METADATA))!)).toEqual(Buffer.from(large));
    // Put again small (not fresh): the row replaces the file, which goes.
    await blobs.put(METADATA, bytes(10, 4), 'application/dicom+json');
    expect(await filesUnder(objects)).toEqual([]);
    expect(Buffer.from((await blobs.get(METADATA))!)).toEqual(Buffer.from(bytes(10, 4)));
    // And large again: the file replaces the row.
    await blobs.put(METADATA, large, 'application/dicom+json');
    expect(Buffer.from((await blobs.get(METADATA))!)).toEqual(Buffer.from(large));
    await blobs.delete([METADATA]);
    expect(await blobs.get(METADATA)).toBeUndefined();
    expect(await filesUnder(objects)).toEqual([]);
  });

  it('reads and deletes the metadata file an earlier release wrote, and copies a row to another key', async () => {
    const { blobs, objects } = await engineAt('earlier');
    const earlier = instanceMetadataKey('1.2', '1.2.3', '1.2.3.5', VERSION);
    await mkdir(dirname(join(objects, earlier)), { recursive: true });
    await writeFile(join(objects, earlier), '{"earlier":true}');
    expect(Buffer.from((await blobs.get(earlier))!).toString()).toBe('{"earlier":true}');
    expect(Buffer.from((await blobs.getRange(earlier, 1, 9))!).toString()).toBe('"earlier');
    await blobs.delete([earlier]);
    expect(await blobs.get(earlier)).toBeUndefined();
    expect(await filesUnder(objects)).toEqual([]);

    await blobs.put(METADATA, bytes(100, 5), 'application/dicom+json', { fresh: true });
    const copy = instanceMetadataKey('1.2', '1.2.3', '1.2.3.6', VERSION);
    await blobs.copy(METADATA, copy, 'application/dicom+json');
    await blobs.delete([METADATA]);
    expect(Buffer.from((await blobs.get(copy))!)).toEqual(Buffer.from(bytes(100, 5)));
    expect(await filesUnder(objects)).toEqual([]);
  });

  it('keeps rows and files across a close and a reopen', async () => {
    const first = await openLocalEngine(join(dir, 'reopen'));
    await first.blobStore().put(OBJECT, bytes(2000), 'application/dicom', { fresh: true });
    await first.blobStore().put(METADATA, bytes(700, 6), 'application/dicom+json', { fresh: true });
    await first.close();
    const { blobs } = await engineAt('reopen');
    expect(Buffer.from((await blobs.get(OBJECT))!)).toEqual(Buffer.from(bytes(2000)));
    expect(Buffer.from((await blobs.get(METADATA))!)).toEqual(Buffer.from(bytes(700, 6)));
  });
});

describe('fresh DICOM JSON rows', () => {
  it("are written in the commit of the entry naming them, dropped with a losing write's clean-up, the oldest alone past the limit", async () => {
    const db = openIndexDatabase(join(dir, 'fresh', 'index.sqlite'));
    try {
      const rows = new SqliteObjects(db);
      const index = new SqliteMetadataIndex(db);
      const written = () => (db.prepare('SELECT key FROM objects ORDER BY key').all() as { key: string }[]).map((r) => r.key);
      const entry = instanceEntry('1.2', '1.2.3', '1.2.3.4');
      const key = entry.instance!.metadataKey;
      const body = bytes(300, 1);
      await rows.put(key, body, true);
      body.fill(0); // the caller's bytes are its own again once the put has resolved
      expect(written()).toEqual([]);
      expect(Buffer.from(rows.get(key)!)).toEqual(Buffer.from(bytes(300, 1)));
      // Nothing but the entry's transaction writes it.
      expect(await index.putInstance(entry)).toEqual({ outcome: 'created' });
      expect(written()).toEqual([key]);
      expect(Buffer.from(rows.get(key)!)).toEqual(Buffer.from(bytes(300, 1)));

      // A write that loses the conditional put: its row is never written, and its clean-up drops it.
      const loser = { ...entry, instance: { ...entry.instance!, metadataKey: `${key}.loser`, digest: 'bb'.repeat(32) } };
      await rows.put(loser.instance.metadataKey, bytes(10, 2), true);
      expect((await index.putInstance(loser)).outcome).toBe('conflict');
      await rows.delete(loser.instance.metadataKey);
      expect(rows.get(loser.instance.metadataKey)).toBeUndefined();
      expect(written()).toEqual([key]);

      // Rows whose entries never come: past FRESH_ROWS_MAX the oldest is written alone.
      const keys = Array.from({ length: FRESH_ROWS_MAX + 1 }, (_, i) => `${key}.${String(i).padStart(4, '0')}`);
      for (const [i, k] of keys.entries()) await rows.put(k, bytes(5, i), true);
      expect(written()).toEqual([key, keys[0]]);
      for (const [i, k] of keys.entries()) expect(Buffer.from(rows.get(k)!)).toEqual(Buffer.from(bytes(5, i)));
    } finally {
      closeSqlite(db);
    }
  });
});
