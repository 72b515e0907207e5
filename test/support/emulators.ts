/**
 * The embedded S3 and DynamoDB for one integration test file: started on a fresh temporary directory
 * before its tests, with SDK clients built the way the archive builds them; closed and removed after.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createAwsClients, type AwsClients } from '../../lambdas/storage/clients';
import { startEmulators, type Emulators } from '../../lib/local/emulators';

export interface EmulatorFixture {
  readonly emulators: Emulators;
  readonly clients: AwsClients;
}

/** Registers the start and the clean-up; call at the top of a file, read the fixture inside hooks and tests. */
export function useEmulators(opts: {
  readonly name: string;
  readonly bucketName: string;
  readonly tableName: string;
}): () => EmulatorFixture {
  let dataDir: string | undefined;
  let fixture: EmulatorFixture | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), `${opts.name}-`));
    const emulators = await startEmulators({ dataDir, bucketName: opts.bucketName, tableName: opts.tableName });
    const clients = createAwsClients({
      region: 'us-east-1',
      s3Endpoint: emulators.s3Endpoint,
      dynamodbEndpoint: emulators.dynamodbEndpoint,
    });
    fixture = { emulators, clients };
  });
  afterAll(async () => {
    fixture?.clients.s3.destroy();
    fixture?.clients.dynamodb.destroy();
    await fixture?.emulators.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  return () => {
    if (!fixture) throw new Error('the emulators are not started yet: read the fixture inside hooks or tests');
    return fixture;
  };
}
