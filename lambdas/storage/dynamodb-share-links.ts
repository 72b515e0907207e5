/**
 * ShareLinkStore over Amazon DynamoDB (or dynalite embedded): one item per share link in the clients
 * table (clients-table-schema.ts), its key `share#<id>` apart from the clients' bare ids. Create is a
 * conditional put, revoke a conditional UpdateItem that sets revokedAt only when absent (the first
 * time stands), a use an UpdateItem with ADD (atomic, however many processes record at once). List is
 * a paged Scan of the share items: an archive holds tens or hundreds of links, not millions.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { CLIENTS_PARTITION_KEY, SHARE_LINK_KEY_PREFIX } from './clients-table-schema';
import { oldestFirst } from './dynamodb-clients';
import type { Item } from './dynamodb-items';
import { DynamoTable } from './dynamodb-table';
import { AlreadyExistsError } from './errors';
import type { ShareLink, ShareLinkStore } from './ports';

const keyOf = (id: string) => ({ [CLIENTS_PARTITION_KEY]: `${SHARE_LINK_KEY_PREFIX}${id}` });
const names = { '#id': CLIENTS_PARTITION_KEY };

export class DynamoShareLinkStore implements ShareLinkStore {
  private readonly table: DynamoTable;

  /** `pageSize`: Scan page size (Limit); unset lets DynamoDB fill 1 MB pages. */
  constructor(
    client: DynamoDBClient,
    tableName: string,
    private readonly pageSize?: number,
  ) {
    this.table = new DynamoTable(client, tableName);
  }

  async create(link: ShareLink): Promise<void> {
    try {
      const put = new PutCommand({
        TableName: this.table.name,
        Item: toItem(link),
        ConditionExpression: 'attribute_not_exists(#id)',
        ExpressionAttributeNames: names,
      });
      await this.table.call(() => this.table.doc.send(put));
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new AlreadyExistsError(`share link ${link.id} already exists`);
      throw error;
    }
  }

  async get(id: string): Promise<ShareLink | undefined> {
    // Strongly consistent: a revocation holds from the next request on.
    const out = await this.table.call(() =>
      this.table.doc.send(new GetCommand({ TableName: this.table.name, Key: keyOf(id), ConsistentRead: true })),
    );
    return out.Item ? fromItem(out.Item) : undefined;
  }

  async list(): Promise<ShareLink[]> {
    const links: ShareLink[] = [];
    const items = this.table.scanRaw({
      FilterExpression: 'begins_with(#id, :share)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':share': SHARE_LINK_KEY_PREFIX },
      Limit: this.pageSize,
    });
    for await (const item of items) links.push(fromItem(item));
    return links.sort(oldestFirst);
  }

  async revoke(id: string, at: string): Promise<boolean> {
    try {
      await this.update(id, {
        UpdateExpression: 'SET #revokedAt = :at',
        ConditionExpression: 'attribute_exists(#id) AND attribute_not_exists(#revokedAt)',
        ExpressionAttributeNames: { ...names, '#revokedAt': 'revokedAt' },
        ExpressionAttributeValues: { ':at': at },
      });
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Either no such link, or revoked already (its first time stands).
      return (await this.get(id)) !== undefined;
    }
  }

  async recordUses(id: string, count: number, at: string): Promise<void> {
    const attributeNames = { ...names, '#useCount': 'useCount', '#lastUsedAt': 'lastUsedAt' };
    try {
      await this.update(id, {
        UpdateExpression: 'ADD #useCount :n SET #lastUsedAt = :at',
        ConditionExpression: 'attribute_exists(#id) AND (attribute_not_exists(#lastUsedAt) OR #lastUsedAt < :at)',
        ExpressionAttributeNames: attributeNames,
        ExpressionAttributeValues: { ':n': count, ':at': at },
      });
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // A later use is recorded already (or there is no such link): add the count alone.
      try {
        await this.update(id, {
          UpdateExpression: 'ADD #useCount :n',
          ConditionExpression: 'attribute_exists(#id)',
          ExpressionAttributeNames: { ...names, '#useCount': 'useCount' },
          ExpressionAttributeValues: { ':n': count },
        });
      } catch (again) {
        if (!(again instanceof ConditionalCheckFailedException)) throw again;
      }
    }
  }

  /** One UpdateItem of the link's item. */
  private async update(id: string, input: Omit<UpdateCommandInput, 'TableName' | 'Key'>): Promise<void> {
    const command = new UpdateCommand({ ...input, TableName: this.table.name, Key: keyOf(id) });
    await this.table.call(() => this.table.doc.send(command));
  }
}

function toItem(link: ShareLink): Item {
  return {
    ...keyOf(link.id),
    secretHash: link.secretHash,
    studyInstanceUID: link.studyInstanceUID,
    createdAt: link.createdAt,
    createdBy: link.createdBy,
    expiresAt: link.expiresAt,
    useCount: link.useCount,
    ...(link.note !== undefined && { note: link.note }),
    ...(link.revokedAt !== undefined && { revokedAt: link.revokedAt }),
    ...(link.lastUsedAt !== undefined && { lastUsedAt: link.lastUsedAt }),
  };
}

function fromItem(item: Item): ShareLink {
  const optional = (name: string) => (typeof item[name] === 'string' ? { [name]: item[name] as string } : {});
  return {
    id: String(item[CLIENTS_PARTITION_KEY]).slice(SHARE_LINK_KEY_PREFIX.length),
    secretHash: String(item.secretHash),
    studyInstanceUID: String(item.studyInstanceUID),
    createdAt: String(item.createdAt),
    createdBy: String(item.createdBy),
    expiresAt: String(item.expiresAt),
    ...optional('note'),
    ...optional('revokedAt'),
    ...optional('lastUsedAt'),
    useCount: Number(item.useCount ?? 0),
  };
}
