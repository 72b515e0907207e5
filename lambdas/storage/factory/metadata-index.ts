/** Builds the MetadataIndex port (see ./clients.ts for how the factory is laid out). */
import type { Config } from '../../config';
import { DynamoMetadataIndex } from '../dynamodb';
import { createDynamoDbClient, DynamoTable } from '../dynamodb-table';
import { ensureNameTerms } from '../name-terms';
import type { MetadataIndex } from '../ports';
import { localEngine, type StorageClients, type TableConfig } from './clients';

type IndexConfig = TableConfig & Pick<Config, 'indexShards'>;

/** The study, series and instance index with its tombstones and Delete jobs. */
export function metadataIndex(cfg: IndexConfig, clients: StorageClients = {}): MetadataIndex {
  if (cfg.storage === 'local') return localEngine(clients).metadataIndex();
  return new DynamoMetadataIndex(clients.dynamodb ?? createDynamoDbClient(cfg), cfg.tableName, cfg.indexShards);
}

/**
 * Brings the index's Patient's Name terms up to date once (a table from before they existed); true
 * when it wrote them. Run before serving by the embedded runtime, and by `npm run index-names`. The
 * local engine's index keeps them from its first schema: nothing to bring up to date.
 */
export async function ensureIndexNameTerms(cfg: IndexConfig, clients: StorageClients = {}): Promise<boolean> {
  if (cfg.storage === 'local') return false;
  return ensureNameTerms(new DynamoTable(clients.dynamodb ?? createDynamoDbClient(cfg), cfg.tableName), cfg.indexShards);
}
