/**
 * The behaviours every UploadStore promises (lambdas/storage/upload-store.ts): a record back as
 * created, a taken id refused, transitions conditional on the state (two racing completes move an
 * upload once), the Store's result kept, an expired upload gone. Run against the in-memory adapter,
 * SQLite on the local engine and DynamoDB on dynalite.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { AlreadyExistsError } from '../../lambdas/storage/errors';
import type { UploadRecord, UploadStore } from '../../lambdas/storage/ports';

export function newUpload(overrides: Partial<UploadRecord> = {}): UploadRecord {
  const uploadId = randomBytes(16).toString('base64url');
  return {
    uploadId,
    objectKey: `uploads/${uploadId}.dcm`,
    multipartUploadId: randomBytes(16).toString('hex'),
    size: 40 * 1024 * 1024 + 5,
    partSize: 16 * 1024 * 1024,
    createdBy: 'api-keys:uploader',
    state: 'UPLOADING',
    createdAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    ...overrides,
  };
}

export function describeUploadStoreContract(name: string, make: () => UploadStore | Promise<UploadStore>): void {
  describe(`${name} (UploadStore contract)`, () => {
    let store: UploadStore;
    beforeAll(async () => {
      store = await make();
    });

    it('returns a record as created, optional fields included, and refuses a taken id', async () => {
      const plain = newUpload();
      const scoped = newUpload({ studyInstanceUID: '1.2.840.99.1' });
      await store.create(plain);
      await store.create(scoped);
      expect(await store.get(plain.uploadId)).toEqual(plain);
      expect(await store.get(scoped.uploadId)).toEqual(scoped);
      await expect(store.create({ ...plain, size: 1 })).rejects.toBeInstanceOf(AlreadyExistsError);
      expect(await store.get('never-created-0123456789')).toBeUndefined();
    });

    it('moves an upload only from the states given, once when two race', async () => {
      const upload = newUpload();
      await store.create(upload);
      const since = new Date().toISOString();
      const moves = await Promise.all([
        store.transition(upload.uploadId, ['UPLOADING'], 'STORING', { storingSince: since }),
        store.transition(upload.uploadId, ['UPLOADING'], 'STORING', { storingSince: since }),
      ]);
      expect(moves.filter(Boolean)).toHaveLength(1);
      expect(await store.get(upload.uploadId)).toEqual({ ...upload, state: 'STORING', storingSince: since });
      expect(await store.transition(upload.uploadId, ['UPLOADING', 'ABORTED'], 'ABORTED')).toBe(false);
      const result = {
        status: 200,
        response: { '00081199': { vr: 'SQ' as const, Value: [{ '00081150': { vr: 'UI' as const, Value: ['1.2'] } }] } },
      };
      expect(await store.transition(upload.uploadId, ['STORING'], 'STORED', { result })).toBe(true);
      expect((await store.get(upload.uploadId))?.result).toEqual(result);
      expect(await store.transition('never-created-0123456789', ['UPLOADING'], 'ABORTED')).toBe(false);
      expect(await store.transition(upload.uploadId, [], 'ABORTED')).toBe(false);
    });

    it('forgets an upload once it has expired: not read, not moved', async () => {
      const expired = newUpload({ expiresAt: new Date(Date.now() - 1000).toISOString() });
      await store.create(expired);
      expect(await store.get(expired.uploadId)).toBeUndefined();
      expect(await store.transition(expired.uploadId, ['UPLOADING'], 'ABORTED')).toBe(false);
      // Its id may be taken again, as an expired send request's may.
      await store.create({ ...expired, expiresAt: new Date(Date.now() + 60_000).toISOString() });
      expect((await store.get(expired.uploadId))?.state).toBe('UPLOADING');
    });
  });
}
