/**
 * lambdas/storage/local/engine.ts: the layout under the data directory, each database opened once and
 * shared by the ports kept in it, data kept across a close and a reopen.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLocalEngine } from '../../../lambdas/storage/local/engine';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'local-engine-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const client = { id: 'abc123def456', name: 'pacs', scopes: ['read'], secretHash: '0'.repeat(64), createdAt: '2026-01-01T00:00:00.000Z' };

describe('openLocalEngine', () => {
  it('opens each database on first use, once, and builds each port once', async () => {
    const engine = await openLocalEngine(dir);
    try {
      expect(existsSync(path.join(dir, 'objects'))).toBe(true);
      expect(existsSync(path.join(dir, 'index.sqlite'))).toBe(false);
      expect(engine.metadataIndex()).toBe(engine.metadataIndex());
      expect(engine.npiIndex()).toBe(engine.npiIndex());
      expect(engine.blobStore()).toBe(engine.blobStore());
      expect(existsSync(path.join(dir, 'index.sqlite'))).toBe(true);
      expect(existsSync(path.join(dir, 'sends.sqlite'))).toBe(false);
      engine.sendRequestStore();
      engine.clientStore();
      expect(existsSync(path.join(dir, 'sends.sqlite'))).toBe(true);
      expect(existsSync(path.join(dir, 'clients.sqlite'))).toBe(true);
    } finally {
      await engine.close();
    }
  });

  it('keeps objects and rows across a close and a reopen', async () => {
    const first = await openLocalEngine(dir);
    await first.blobStore().put('studies/1/series/2/instances/3.v.dcm', new Uint8Array([1, 2, 3]), 'application/dicom');
    await first.clientStore().create(client);
    await Promise.all([first.close(), first.close()]); // twice is harmless
    const second = await openLocalEngine(dir);
    try {
      expect([...(await second.blobStore().get('studies/1/series/2/instances/3.v.dcm'))!]).toEqual([1, 2, 3]);
      expect(await second.clientStore().get(client.id)).toMatchObject(client);
    } finally {
      await second.close();
    }
  });
});
