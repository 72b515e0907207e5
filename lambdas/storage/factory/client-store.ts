/** Builds the ClientStore port (see ./clients.ts for how the factory is laid out). */
import { ConfigError, type Config } from '../../config';
import { DynamoClientStore } from '../dynamodb-clients';
import { createDynamoDbClient } from '../dynamodb-table';
import type { ClientStore } from '../ports';
import type { StorageClients } from './clients';

/** What the clients' port needs: the clients table (CLIENTS_TABLE_NAME), apart from the archive's. */
export type ClientsTableConfig = Pick<Config, 'region' | 'dynamodbEndpoint' | 'clientsTableName'>;

/** The API key clients (docs/security.md); a ConfigError when CLIENTS_TABLE_NAME is not set. */
export function createClientStore(cfg: ClientsTableConfig, clients: StorageClients = {}): ClientStore {
  if (!cfg.clientsTableName) throw new ConfigError('CLIENTS_TABLE_NAME is not set: API key clients need their table');
  return new DynamoClientStore(clients.dynamodb ?? createDynamoDbClient(cfg), cfg.clientsTableName);
}

/** The clients when their table is configured, else none (no API keys to verify). */
export function optionalClientStore(cfg: ClientsTableConfig, clients: StorageClients = {}): ClientStore | undefined {
  return cfg.clientsTableName ? createClientStore(cfg, clients) : undefined;
}
