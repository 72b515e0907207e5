/** Integration: the embedded runtime's emulators on a worker thread (lib/local/emulator-thread.ts). */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../../lambdas/storage/clients';
import { S3BlobStore } from '../../../lambdas/storage/s3';
import { startEmulatorThread } from '../../../lib/local/emulator-thread';

const NAMES = { bucketName: 'archive-thread', tableName: 'archive-thread' };
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'emulator-thread-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function withBlobs<T>(fn: (blobs: S3BlobStore) => Promise<T>): Promise<T> {
  const emulators = await startEmulatorThread({ dataDir, ...NAMES });
  const clients = createAwsClients({ region: 'us-east-1', s3Endpoint: emulators.s3Endpoint, dynamodbEndpoint: emulators.dynamodbEndpoint });
  try {
    expect(emulators.s3Endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    return await fn(new S3BlobStore(clients.s3, NAMES.bucketName));
  } finally {
    clients.s3.destroy();
    clients.dynamodb.destroy();
    await emulators.close();
    await emulators.close(); // a second close is harmless
  }
}

describe('startEmulatorThread', () => {
  it('serves S3 from its own thread and keeps the objects across a restart on the same data dir', async () => {
    const bytes = Buffer.from('stored before the restart');
    await withBlobs((blobs) => blobs.put('a/b.dcm', bytes, 'application/dicom'));
    const read = await withBlobs((blobs) => blobs.get('a/b.dcm'));
    expect(Buffer.from(read!)).toEqual(bytes);
  });

  it('rejects with the reason when the emulators cannot start', async () => {
    const notADirectory = join(dataDir, 'file');
    await writeFile(notADirectory, 'x');
    await expect(startEmulatorThread({ dataDir: notADirectory, ...NAMES })).rejects.toThrow(
      /the emulators did not start: .*(ENOTDIR|EEXIST)/s,
    );
  });
});
