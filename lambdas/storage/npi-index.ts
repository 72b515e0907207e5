/**
 * NpiIndex over Amazon DynamoDB (or dynalite): Non-Patient Instances (PS3.18 12) in the archive's one
 * table, item PK NPI#{category} / SK INSTANCE#{sop}. The items carry none of the GSI key attributes,
 * so no Studies search (table-schema.ts indexes) ever reads them; a search of a category is a Query
 * on its partition, never a Scan.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { DicomJson } from '../dicom/json';
import { instanceObjectAttributes, instanceObjectOf, type Item, type TableKey } from './dynamodb-items';
import { DynamoTable } from './dynamodb-table';
import { sameContent, type NpiEntry, type NpiIndex, type PutNpiOutcome } from './ports';

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

/** 'identical' only for the same content (sameContent); anything else under the same UID conflicts. */
export function compareNpi(existing: NpiEntry, incoming: NpiEntry): PutNpiOutcome {
  return sameContent(existing.instance, incoming.instance) ? { outcome: 'identical', existing } : { outcome: 'conflict', existing };
}

export class DynamoNpiIndex implements NpiIndex {
  private readonly table: DynamoTable;

  /** `options.pageSize`: Query page size; tests set it small to exercise paging. */
  constructor(client: DynamoDBClient, tableName: string, options: { readonly pageSize?: number } = {}) {
    this.table = new DynamoTable(client, tableName, options.pageSize);
  }

  async putInstance(entry: NpiEntry): Promise<PutNpiOutcome> {
    if (await this.table.putIfAbsent(npiToItem(entry))) return { outcome: 'created' };
    // NPI entries are never deleted, so the winner of the conditional put is still there.
    const existing = await this.getInstance(entry.category, entry.sopInstanceUID);
    if (!existing) throw new TypeError('NPI entry vanished after a failed conditional put');
    return compareNpi(existing, entry);
  }

  async getInstance(category: string, sopInstanceUID: string): Promise<NpiEntry | undefined> {
    const out = await this.table.call(() =>
      this.table.doc.send(new GetCommand({ TableName: this.table.name, Key: npiKey(category, sopInstanceUID), ConsistentRead: true })),
    );
    return out.Item ? npiFromItem(out.Item) : undefined;
  }

  async *query(category: string): AsyncIterable<NpiEntry> {
    const items = this.table.queryRaw({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :sk)',
      ExpressionAttributeNames: { '#pk': 'PK', '#sk': 'SK' },
      ExpressionAttributeValues: { ':pk': `${NPI_PK_PREFIX}${category}`, ':sk': INSTANCE_SK_PREFIX },
    });
    for await (const item of items) yield npiFromItem(item);
  }
}
