import { beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../../lambdas/storage/clients';
import { S3BlobStore } from '../../../lambdas/storage/s3';
import { useEmulators } from '../../support/emulators';
import { bytes, describeBlobStoreContract } from '../../contract/blob-store.contract';

const BUCKET = 'archive-test';

const fixture = useEmulators({ name: 's3-adapter', bucketName: BUCKET, tableName: 'archive-test' });
let clients: AwsClients;
let store: S3BlobStore;

beforeAll(() => {
  ({ clients } = fixture());
  store = new S3BlobStore(clients.s3, BUCKET);
});

describeBlobStoreContract('S3BlobStore against s3rver', () => new S3BlobStore(clients.s3, BUCKET));

describe('S3BlobStore against s3rver', () => {
  it('deletes in batches of at most 1000 and ignores missing keys', async () => {
    const keys = Array.from({ length: 1003 }, (_, i) => `bulk/${i}`);
    await Promise.all(keys.filter((_, i) => i % 100 === 0 || i > 999).map((k) => store.put(k, bytes(4), 'text/plain')));
    const batches: number[] = [];
    clients.s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'DeleteObjectsCommand') {
          batches.push((args.input as { Delete: { Objects: unknown[] } }).Delete.Objects.length);
        }
        return next(args);
      },
      { step: 'initialize', name: 'countDeleteBatches' },
    );
    try {
      await store.delete([...keys, 'bulk/never-written']);
    } finally {
      clients.s3.middlewareStack.remove('countDeleteBatches');
    }
    expect(batches).toEqual([1000, 4]);
    for (const k of ['bulk/0', 'bulk/500', 'bulk/1000', 'bulk/1002']) expect(await store.get(k)).toBeUndefined();
  });
});
