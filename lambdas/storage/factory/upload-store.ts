/** Builds the UploadStore port (see ./clients.ts for how the factory is laid out). */
import { DynamoUploadStore } from '../dynamodb-uploads';
import { createDynamoDbClient } from '../dynamodb-table';
import type { UploadStore } from '../ports';
import { localEngine, type StorageClients, type TableConfig } from './clients';

/** The uploads of the upload path (docs/uploads.md), in the archive's table. */
export function uploadStore(cfg: TableConfig, clients: StorageClients = {}): UploadStore {
  if (cfg.storage === 'local') return localEngine(clients).uploadStore();
  return new DynamoUploadStore(clients.dynamodb ?? createDynamoDbClient(cfg), cfg.tableName);
}
