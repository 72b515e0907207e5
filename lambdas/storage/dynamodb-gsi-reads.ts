/**
 * The GSI reads of the MetadataIndex over DynamoDB (dynamodb.ts): the Queries of ByUid, ByLevel and
 * ByPatient, which answer table keys (table-schema.ts projections), and the read of their entries by
 * key, in the Queries' order.
 */
import { dateRangeBounds, fromItem, isWholeEntry, type Item } from './dynamodb-items';
import { MAX_BATCH_GET, type DynamoTable } from './dynamodb-table';
import type { DateRange, IndexEntry, Level } from './ports';
import { GSI_BY_UID } from './table-schema';

/**
 * A GSI partition whose sort key is "{prefix}{studyDate}#{uid}", optionally within a date range,
 * read backwards (result order: IndexQuery), `pageSize` items a Query when given: the GSI's items,
 * which hold the table keys (entriesByKey reads the entries).
 */
export function sortedItems(
  table: DynamoTable,
  indexName: string,
  pkName: string,
  pk: string,
  skName: string,
  prefix: string,
  range: DateRange | undefined,
  pageSize: number | undefined,
): AsyncIterable<Item> {
  const read = { IndexName: indexName, ScanIndexForward: false, ...(pageSize !== undefined && { Limit: pageSize }) };
  const names = { '#pk': pkName, '#sk': skName };
  if (!range || (range.from === undefined && range.to === undefined)) {
    if (prefix === '') {
      return table.queryRaw({
        ...read,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': pkName },
        ExpressionAttributeValues: { ':pk': pk },
      });
    }
    return table.queryRaw({
      ...read,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
    });
  }
  const bounds = dateRangeBounds(prefix, range);
  if (!bounds) return (async function* () {})();
  return table.queryRaw({
    ...read,
    KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: { ':pk': pk, ':lo': bounds[0], ':hi': bounds[1] },
  });
}

/** ByUid's items of each UID at a level: one Query per UID. */
export async function* uidItems(table: DynamoTable, level: Level, uids: Iterable<string>): AsyncGenerator<Item> {
  for (const uid of uids) {
    yield* table.queryRaw({
      IndexName: GSI_BY_UID.indexName,
      KeyConditionExpression: '#pk = :pk AND #sk = :sk',
      ExpressionAttributeNames: { '#pk': GSI_BY_UID.partitionKey, '#sk': GSI_BY_UID.sortKey },
      ExpressionAttributeValues: { ':pk': `UID#${uid}`, ':sk': level },
    });
  }
}

/**
 * The entries of a GSI Query's items, in its order, read by table key (the GSIs do not project an
 * entry's attributes: table-schema.ts) about `pageHint` at a time, 100 at most.
 */
export async function* entriesByKey(
  table: DynamoTable,
  indexItems: AsyncIterable<Item>,
  pageHint: number | undefined,
): AsyncGenerator<IndexEntry> {
  for await (const item of table.readByKey(indexItems, (pageHint ?? MAX_BATCH_GET) + 1, isWholeEntry)) yield fromItem(item);
}
