/**
 * The storage under the embedded archive, opened once per archive and shared by all its ports: the
 * local engine (files and SQLite under the data directory) or the AWS adapters' SDK clients on the
 * in-process emulators (s3rver and dynalite, in their own thread).
 */
import type { Config } from '../../lambdas/config';
import { createAwsClients } from '../../lambdas/storage/clients';
import { createDynamoDbClient } from '../../lambdas/storage/dynamodb-table';
import type { StorageClients } from '../../lambdas/storage/factory/clients';
import { ensureIndexNameTerms } from '../../lambdas/storage/factory/metadata-index';
import { openLocalEngine } from '../../lambdas/storage/local/engine';
import { refuseOtherLayout, type ArchiveStorage } from './data-layout';
import { startEmulatorThread } from './emulator-thread';

export const LOCAL_BUCKET = 'dicomweb-archive';
export const LOCAL_TABLE = 'dicomweb-archive';
/** The API key clients' table (lambdas/storage/clients-table-schema.ts), beside the archive's. */
export const LOCAL_CLIENTS_TABLE = 'dicomweb-archive-clients';

export interface ArchiveStorageHandles {
  /** Variables of lambdas/config.ts that point the configuration at this storage. */
  readonly env: Readonly<Record<string, string>>;
  /** What the factory builds the ports from, for the archive's configuration (built once). */
  clients(config: Config): StorageClients;
  /**
   * Brings the index up to date before the first request (Patient's Name terms of a table from before
   * them, on the embedded table itself, whatever DYNAMODB_ENDPOINT the handlers are given).
   */
  prepare(indexShards: number): Promise<void>;
  close(): Promise<void>;
}

/** Opens `storage` under `dataDir` (absolute), refusing a directory that holds the other layout. */
export async function openArchiveStorage(storage: ArchiveStorage, dataDir: string): Promise<ArchiveStorageHandles> {
  refuseOtherLayout(dataDir, storage);
  return storage === 'local' ? openLocal(dataDir) : openEmulators(dataDir);
}

async function openLocal(dataDir: string): Promise<ArchiveStorageHandles> {
  const engine = await openLocalEngine(dataDir);
  return {
    env: { STORAGE: 'local', DATA_DIR: dataDir },
    clients: () => ({ local: engine }),
    prepare: async () => {},
    close: async () => engine.close(),
  };
}

async function openEmulators(dataDir: string): Promise<ArchiveStorageHandles> {
  const emulators = await startEmulatorThread({
    dataDir,
    bucketName: LOCAL_BUCKET,
    tableName: LOCAL_TABLE,
    clientsTableName: LOCAL_CLIENTS_TABLE,
  });
  const endpoints = { region: 'us-east-1', s3Endpoint: emulators.s3Endpoint, dynamodbEndpoint: emulators.dynamodbEndpoint };
  let aws: ReturnType<typeof createAwsClients> | undefined;
  return {
    env: { STORAGE: 'aws', S3_ENDPOINT: emulators.s3Endpoint, DYNAMODB_ENDPOINT: emulators.dynamodbEndpoint },
    // From the configuration, whose endpoints the caller's settings may point elsewhere (tests do).
    clients: (config) => (aws ??= createAwsClients(config)),
    prepare: async (indexShards) => {
      const dynamodb = createDynamoDbClient(endpoints);
      try {
        await ensureIndexNameTerms({ ...endpoints, tableName: LOCAL_TABLE, indexShards }, { dynamodb });
      } finally {
        dynamodb.destroy();
      }
    },
    close: async () => {
      aws?.s3.destroy();
      aws?.dynamodb.destroy();
      await emulators.close();
    },
  };
}
