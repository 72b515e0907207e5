/** Builds the ClientStore port (see ./clients.ts for how the factory is laid out). */
import { ConfigError, type Config } from '../../config';
import { DynamoClientStore } from '../dynamodb-clients';
import { createDynamoDbClient } from '../dynamodb-table';
import type { ClientStore } from '../ports';
import { localEngine, type StorageChoice, type StorageClients } from './clients';

/** What the clients' port needs: the clients table (CLIENTS_TABLE_NAME), apart from the archive's. */
export type ClientsTableConfig = StorageChoice & Pick<Config, 'region' | 'dynamodbEndpoint' | 'clientsTableName'>;

/**
 * The API key clients (docs/security.md): the local engine's, or the clients table's (a ConfigError
 * when CLIENTS_TABLE_NAME is not set).
 */
export function createClientStore(cfg: ClientsTableConfig, clients: StorageClients = {}): ClientStore {
  if (cfg.storage === 'local') return localEngine(clients).clientStore();
  if (!cfg.clientsTableName) throw new ConfigError('CLIENTS_TABLE_NAME is not set: API key clients need their table');
  return new DynamoClientStore(clients.dynamodb ?? createDynamoDbClient(cfg), cfg.clientsTableName);
}

/** The clients when their table is configured (always on the local engine), else none (no API keys to verify). */
export function optionalClientStore(cfg: ClientsTableConfig, clients: StorageClients = {}): ClientStore | undefined {
  return cfg.storage === 'local' || cfg.clientsTableName ? createClientStore(cfg, clients) : undefined;
}
