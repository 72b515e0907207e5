/**
 * NpiIndex over Amazon DynamoDB (or dynalite): Non-Patient Instances (PS3.18 12) in the archive's one
 * table, item PK NPI#{category} / SK INSTANCE#{sop}. The items carry none of the GSI key attributes,
 * so no Studies search (table-schema.ts indexes) ever reads them; a search of a category is a Query
 * on its partition, never a Scan.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { callAws } from './aws-calls';
import { instanceObjectAttributes, instanceObjectOf, isDynamoUnavailable, type TableKey } from './dynamodb';
import type { NpiEntry, NpiIndex, PutNpiOutcome } from './ports';
import type { DicomJson } from '../dicom/json';
import { TABLE_PARTITION_KEY } from './table-schema';

type Item = Record<string, unknown>;

const NPI_PK_PREFIX = 'NPI#';
const INSTANCE_SK_PREFIX = 'INSTANCE#';

/** Table key of one Non-Patient Instance. */
export function npiKey(category: string, sopInstanceUID: string): TableKey {
  return { PK: `${NPI_PK_PREFIX}${category}`, SK: `${INSTANCE_SK_PREFIX}${sopInstanceUID}` };
}

/** The item of an entry; deliberately without UidPK/LevelPK/PatientPK (no Studies GSI sees it). */
export function npiToItem(entry: NpiEntry): Item {
  const { instance } = entry;
  return {
    ...npiKey(entry.category, entry.sopInstanceUID),
    Category: entry.category,
    SOPInstanceUID: entry.sopInstanceUID,
    // DICOM JSON nests and may hold empty strings: one string attribute keeps it intact.
    Attributes: JSON.stringify(entry.attributes),
    ...instanceObjectAttributes(instance),
  };
}

/** The entry an item holds (inverse of npiToItem). */
export function npiFromItem(item: Item): NpiEntry {
  return {
    category: item.Category as string,
    sopInstanceUID: item.SOPInstanceUID as string,
    attributes: JSON.parse(item.Attributes as string) as DicomJson,
    instance: instanceObjectOf(item),
  };
}

/** 'identical' only for the same bytes (digest); anything else under the same UID conflicts. */
export function compareNpi(existing: NpiEntry, incoming: NpiEntry): PutNpiOutcome {
  return existing.instance.digest === incoming.instance.digest ? { outcome: 'identical', existing } : { outcome: 'conflict', existing };
}

export class DynamoNpiIndex implements NpiIndex {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly options: { readonly pageSize?: number } = {},
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async putInstance(entry: NpiEntry): Promise<PutNpiOutcome> {
    try {
      await this.call(() =>
        this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: npiToItem(entry),
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY },
          }),
        ),
      );
      return { outcome: 'created' };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    // NPI entries are never deleted, so the winner of the conditional put is still there.
    const existing = await this.getInstance(entry.category, entry.sopInstanceUID);
    if (!existing) throw new TypeError('NPI entry vanished after a failed conditional put');
    return compareNpi(existing, entry);
  }

  async getInstance(category: string, sopInstanceUID: string): Promise<NpiEntry | undefined> {
    const out = await this.call(() =>
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: npiKey(category, sopInstanceUID), ConsistentRead: true })),
    );
    return out.Item ? npiFromItem(out.Item) : undefined;
  }

  async *query(category: string): AsyncIterable<NpiEntry> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const exclusiveStartKey = startKey;
      const out = await this.call(() =>
        this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :sk)',
            ExpressionAttributeNames: { '#pk': 'PK', '#sk': 'SK' },
            ExpressionAttributeValues: { ':pk': `${NPI_PK_PREFIX}${category}`, ':sk': INSTANCE_SK_PREFIX },
            ExclusiveStartKey: exclusiveStartKey,
            Limit: this.options.pageSize,
          }),
        ),
      );
      for (const item of out.Items ?? []) yield npiFromItem(item);
      startKey = out.LastEvaluatedKey;
    } while (startKey);
  }

  private call<T>(fn: () => Promise<T>): Promise<T> {
    return callAws('DynamoDB', fn, isDynamoUnavailable);
  }
}
