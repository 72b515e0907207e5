/** Builds the ShareLinkStore port (see ./clients.ts for how the factory is laid out). */
import { DynamoShareLinkStore } from '../dynamodb-share-links';
import { createDynamoDbClient } from '../dynamodb-table';
import type { ShareLinkStore } from '../ports';
import type { ClientsTableConfig } from './client-store';
import { localEngine, type StorageClients } from './clients';

/**
 * The share links (docs/security.md), where the API key clients are: the local engine's
 * clients.sqlite, or the clients table (CLIENTS_TABLE_NAME); none without that table.
 */
export function optionalShareLinkStore(cfg: ClientsTableConfig, clients: StorageClients = {}): ShareLinkStore | undefined {
  if (cfg.storage === 'local') return localEngine(clients).shareLinkStore();
  if (!cfg.clientsTableName) return undefined;
  return new DynamoShareLinkStore(clients.dynamodb ?? createDynamoDbClient(cfg), cfg.clientsTableName);
}
