/** Builds the SendRequestStore port (see ./clients.ts for how the factory is laid out). */
import { createDynamoDbClient } from '../dynamodb-table';
import type { SendRequestStore } from '../ports';
import { DynamoSendRequestStore } from '../send-requests';
import { localEngine, type StorageClients, type TableConfig } from './clients';

/** The SEND-RS send requests and their batch outcomes (Sup 248). */
export function sendRequestStore(cfg: TableConfig, clients: StorageClients = {}): SendRequestStore {
  if (cfg.storage === 'local') return localEngine(clients).sendRequestStore();
  return new DynamoSendRequestStore(clients.dynamodb ?? createDynamoDbClient(cfg), cfg.tableName);
}
