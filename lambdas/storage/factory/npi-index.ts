/** Builds the NpiIndex port (see ./clients.ts for how the factory is laid out). */
import { createDynamoDbClient } from '../dynamodb-table';
import { DynamoNpiIndex } from '../npi-index';
import type { NpiIndex } from '../ports';
import { localEngine, type StorageClients, type TableConfig } from './clients';

/** The Non-Patient Instance index (PS3.18 12), in the same table apart from the studies. */
export function npiIndex(cfg: TableConfig, clients: StorageClients = {}): NpiIndex {
  if (cfg.storage === 'local') return localEngine(clients).npiIndex();
  return new DynamoNpiIndex(clients.dynamodb ?? createDynamoDbClient(cfg), cfg.tableName);
}
