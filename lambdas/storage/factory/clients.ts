/**
 * The storage ports are built from the configuration here and nowhere else: every Lambda entry, the
 * embedded runtime, the DIMSE gateway and the bench call these functions, so a new storage backend is
 * a branch in them (docs/architecture.md, "adding a storage backend"). One module per port, each
 * reaching only its own adapter, so a Lambda bundle holds the SDK clients of the ports it uses and no
 * other (test/cdk/bundles.test.ts).
 *
 * Clients may be passed in so the ports of one process share them (one DynamoDB client for the
 * table's adapters); a port built without one creates its own.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { ConfigError, type Config } from '../../config';
import type {
  BlobStore,
  ClientStore,
  DirectTransfer,
  MetadataIndex,
  NpiIndex,
  SendRequestStore,
  ShareLinkStore,
  UploadStore,
} from '../ports';

/**
 * The local engine of one process (STORAGE=local): its databases under DATA_DIR opened once and
 * shared by the ports built from it. Opened by the embedded runtime (lib/local/storage.ts, with
 * lambdas/storage/local/engine.ts), never here: this module only names its type, so no Lambda bundle
 * reaches SQLite.
 */
export interface LocalEngine {
  readonly dataDir: string;
  blobStore(): BlobStore;
  metadataIndex(): MetadataIndex;
  npiIndex(): NpiIndex;
  sendRequestStore(): SendRequestStore;
  clientStore(): ClientStore;
  shareLinkStore(): ShareLinkStore;
  directTransfer(): DirectTransfer;
  uploadStore(): UploadStore;
}

/** SDK clients (or the local engine) a caller already holds, shared by the ports built from them. */
export interface StorageClients {
  readonly s3?: S3Client;
  readonly dynamodb?: DynamoDBClient;
  readonly local?: LocalEngine;
}

/** Which adapters to build (Config.storage); 'aws' when absent. */
export type StorageChoice = Partial<Pick<Config, 'storage'>>;
/** What a port in the archive's table needs. */
export type TableConfig = StorageChoice & Pick<Config, 'region' | 'dynamodbEndpoint' | 'tableName'>;
/** What a port in the archive's bucket needs. */
export type BucketConfig = StorageChoice & Pick<Config, 'region' | 's3Endpoint' | 'bucketName'>;

/** The engine the caller opened, for a port built with STORAGE=local. */
export function localEngine(clients: StorageClients): LocalEngine {
  if (!clients.local) {
    throw new ConfigError('STORAGE=local runs in the embedded runtime (npm start), which opens the local engine under DATA_DIR');
  }
  return clients.local;
}
