/**
 * ClientStore over Amazon DynamoDB (or dynalite embedded): one item per API key client in the
 * clients table (clients-table-schema.ts). Create is a conditional put, revoke a conditional
 * UpdateItem that sets revokedAt only when it is absent, so the first revocation time stands
 * however often, and however concurrently, a client is revoked. List is a paged Scan: the table
 * holds the clients of one archive (tens, not millions).
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { CLIENTS_PARTITION_KEY, SHARE_LINK_KEY_PREFIX } from './clients-table-schema';
import type { Item } from './dynamodb-items';
import { DynamoTable } from './dynamodb-table';
import { AlreadyExistsError } from './errors';
import type { ApiClient, ClientStore } from './ports';

export class DynamoClientStore implements ClientStore {
  private readonly table: DynamoTable;

  /** `pageSize`: Scan page size (Limit); unset lets DynamoDB fill 1 MB pages. */
  constructor(
    client: DynamoDBClient,
    tableName: string,
    private readonly pageSize?: number,
  ) {
    this.table = new DynamoTable(client, tableName);
  }

  async create(client: ApiClient): Promise<void> {
    try {
      await this.table.call(() =>
        this.table.doc.send(
          new PutCommand({
            TableName: this.table.name,
            Item: toItem(client),
            ConditionExpression: 'attribute_not_exists(#id)',
            ExpressionAttributeNames: { '#id': CLIENTS_PARTITION_KEY },
          }),
        ),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new AlreadyExistsError(`client ${client.id} already exists`);
      throw error;
    }
  }

  async get(id: string): Promise<ApiClient | undefined> {
    // Strongly consistent: a revocation holds from the next request on.
    const out = await this.table.call(() =>
      this.table.doc.send(new GetCommand({ TableName: this.table.name, Key: { [CLIENTS_PARTITION_KEY]: id }, ConsistentRead: true })),
    );
    return out.Item ? fromItem(out.Item) : undefined;
  }

  async list(): Promise<ApiClient[]> {
    const clients: ApiClient[] = [];
    // The share links' items of the same table are not clients.
    const items = this.table.scanRaw({
      FilterExpression: 'NOT begins_with(#id, :share)',
      ExpressionAttributeNames: { '#id': CLIENTS_PARTITION_KEY },
      ExpressionAttributeValues: { ':share': SHARE_LINK_KEY_PREFIX },
      Limit: this.pageSize,
    });
    for await (const item of items) clients.push(fromItem(item));
    return clients.sort(oldestFirst);
  }

  async revoke(id: string, at: string): Promise<boolean> {
    try {
      await this.table.call(() =>
        this.table.doc.send(
          new UpdateCommand({
            TableName: this.table.name,
            Key: { [CLIENTS_PARTITION_KEY]: id },
            UpdateExpression: 'SET #revokedAt = :at',
            ConditionExpression: 'attribute_exists(#id) AND attribute_not_exists(#revokedAt)',
            ExpressionAttributeNames: { '#id': CLIENTS_PARTITION_KEY, '#revokedAt': 'revokedAt' },
            ExpressionAttributeValues: { ':at': at },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Either no such client, or revoked already (its first time stands).
      return (await this.get(id)) !== undefined;
    }
  }
}

/** Records (clients, share links) in the order they were created (ids break ties). */
export function oldestFirst(a: Pick<ApiClient, 'createdAt' | 'id'>, b: Pick<ApiClient, 'createdAt' | 'id'>): number {
  return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function toItem(client: ApiClient): Item {
  return {
    [CLIENTS_PARTITION_KEY]: client.id,
    name: client.name,
    // A list, not a string set: a set cannot be empty and loses the order the operator gave.
    scopes: [...client.scopes],
    secretHash: client.secretHash,
    createdAt: client.createdAt,
    ...(client.revokedAt !== undefined && { revokedAt: client.revokedAt }),
  };
}

function fromItem(item: Item): ApiClient {
  const revokedAt = item.revokedAt;
  return {
    id: String(item[CLIENTS_PARTITION_KEY]),
    name: String(item.name),
    scopes: Array.isArray(item.scopes) ? item.scopes.map(String) : [],
    secretHash: String(item.secretHash),
    createdAt: String(item.createdAt),
    ...(typeof revokedAt === 'string' && { revokedAt }),
  };
}
