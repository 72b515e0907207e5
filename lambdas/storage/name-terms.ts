/**
 * The Patient's Name index items of the table (dynamodb-items.ts nameTermItems) beyond writing them
 * with their entry: the migration that writes them for every entry of a table from before they
 * existed (run once per table, by the embedded runtime at start and by `npm run index-names` in AWS),
 * and the PatientName search that reads them.
 */
import { GetCommand, PutCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import {
  dateRangeBounds,
  entryKey,
  entryKeysOf,
  fromItem,
  isWholeEntry,
  LEVELS,
  nameTermItems,
  nameTermPartition,
  nameTermShards,
  ownUid,
  resultOrderKey,
  str,
  type Item,
  type TableKey,
} from './dynamodb-items';
import { byItemId, itemId, MAX_BATCH_GET, MAX_BATCH_WRITE, type DynamoTable } from './dynamodb-table';
import type { IndexEntry, IndexQuery } from './ports';
import { GSI_BY_LEVEL } from './table-schema';

/**
 * Present once every entry has its name term items in the current layout (ensureNameTerms). Layout 2:
 * study and series terms in one partition per initial, instance terms sharded (nameTermShards); a
 * table with layout 1's marker ('NAME-TERMS', every level sharded) has its terms rewritten once.
 */
export const NAME_TERMS_MARKER: TableKey = { PK: '#SCHEMA', SK: 'NAME-TERMS#2' };

/**
 * Writes the name term items of every entry that lacks them, once per table: a table from before
 * the name terms existed (an embedded data directory; in AWS, `npm run index-names`). Idempotent,
 * and safe beside live writers: a term of an entry deleted meanwhile names no entry, which searches
 * skip. True when it wrote them, false when the table already had them.
 */
export async function ensureNameTerms(table: DynamoTable, shards: number): Promise<boolean> {
  const marker = await table.call(() =>
    table.doc.send(new GetCommand({ TableName: table.name, Key: { ...NAME_TERMS_MARKER }, ConsistentRead: true })),
  );
  if (marker.Item) return false;
  const partitions = LEVELS.flatMap((level) => Array.from({ length: shards }, (_, shard) => `${level}#${shard}`));
  await Promise.all(
    partitions.map(async (partition) => {
      let pending: Item[] = [];
      const keys = table.queryRaw({
        IndexName: GSI_BY_LEVEL.indexName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': GSI_BY_LEVEL.partitionKey },
        ExpressionAttributeValues: { ':pk': partition },
      });
      // ByLevel does not project the entries' attributes (table-schema.ts): read them by key.
      for await (const item of table.readByKey(keys, MAX_BATCH_GET, isWholeEntry)) {
        pending.push(...nameTermItems(fromItem(item), shards));
        if (pending.length >= MAX_BATCH_WRITE) {
          await table.batchWrite(pending.map((Item) => ({ PutRequest: { Item } })));
          pending = [];
        }
      }
      await table.batchWrite(pending.map((Item) => ({ PutRequest: { Item } })));
    }),
  );
  await table.call(() => table.doc.send(new PutCommand({ TableName: table.name, Item: { ...NAME_TERMS_MARKER } })));
  return true;
}

/**
 * PatientName search, in result order: the name terms starting with the prefix, one Query per shard
 * of the partition of its first character (one for studies and series: nameTermShards), all read,
 * as they are small and carry their entry's Study Date and UID; their entries (each once, however
 * many of its terms match) sorted as results are (most recent Study Date first, none last, then own
 * UID descending), then read in that order, `pageHint` at a time (at most 100 per BatchGetItem), so
 * a search that wants the first N matches reads about N entries, not every candidate. A term whose
 * entry is gone is skipped.
 */
export async function* queryNameTerms(
  table: DynamoTable,
  q: Extract<IndexQuery, { by: 'name' }>,
  shards: number,
): AsyncGenerator<IndexEntry> {
  if (q.prefix === '') throw new RangeError('a name search needs a prefix');
  let filter: Partial<QueryCommandInput> = {};
  if (q.dateRange && (q.dateRange.from !== undefined || q.dateRange.to !== undefined)) {
    // The bounds of dateRangeBounds on the term's Study Date: no date, no match.
    if (dateRangeBounds('', q.dateRange) === undefined) return;
    filter = {
      FilterExpression: '#date BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':from': q.dateRange.from ?? '0', ':to': `${q.dateRange.to ?? '9'}\uffff` },
    };
  }
  const candidates = new Map<string, { key: TableKey; order: string }>();
  await Promise.all(
    Array.from({ length: nameTermShards(q.level, shards) }, async (_, shard) => {
      for await (const term of table.queryRaw({
        IndexName: GSI_BY_LEVEL.indexName,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        FilterExpression: filter.FilterExpression,
        ExpressionAttributeNames: {
          '#pk': GSI_BY_LEVEL.partitionKey,
          '#sk': GSI_BY_LEVEL.sortKey,
          ...(filter.FilterExpression && { '#date': 'StudyDate' }),
        },
        ExpressionAttributeValues: {
          ':pk': nameTermPartition(q.level, q.prefix, shard),
          ':prefix': q.prefix,
          ...filter.ExpressionAttributeValues,
        },
      })) {
        const entry = entryKeysOf(term);
        const key = entryKey(entry);
        candidates.set(itemId(key), { key, order: resultOrderKey(str(term.StudyDate) ?? '', ownUid(entry)) });
      }
    }),
  );
  const ordered = [...candidates.values()].sort((a, b) => (a.order > b.order ? -1 : a.order < b.order ? 1 : 0));
  const pageSize = Math.min(MAX_BATCH_GET, Math.max(1, (q.pageHint ?? MAX_BATCH_GET) + 1));
  for (let i = 0; i < ordered.length; i += pageSize) {
    const page = ordered.slice(i, i + pageSize);
    const found = byItemId(
      await table.batchGet(
        page.map((c) => c.key),
        false,
      ),
    );
    for (const { key } of page) {
      const item = found.get(itemId(key));
      if (item) yield fromItem(item);
    }
  }
}
