/**
 * The DynamoDB plumbing every adapter of the archive's table shares: the client, the mapping of
 * DynamoDB's "retry later" answers to StorageUnavailableError, conditional puts, paged queries and
 * the batch calls with back-off on their unprocessed part (as the DynamoDB developer guide advises
 * for BatchGetItem and BatchWriteItem).
 */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  InternalServerError,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  ScanCommand,
  type BatchWriteCommandInput,
  type BatchWriteCommandOutput,
  type QueryCommandInput,
  type ScanCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Config } from '../config';
import { callAws, clientOptions } from './aws-calls';
import { recordCalls } from './call-recorder';
import type { Item, TableKey } from './dynamodb-items';
import { StorageUnavailableError } from './errors';
import { TABLE_PARTITION_KEY, TABLE_SORT_KEY } from './table-schema';

/** The DynamoDB client of this process (DynamoDB or dynalite), shared by the table's adapters. */
export function createDynamoDbClient(config: Pick<Config, 'region' | 'dynamodbEndpoint'>): DynamoDBClient {
  return recordCalls(new DynamoDBClient(clientOptions(config, config.dynamodbEndpoint)));
}

export type WriteRequest = NonNullable<BatchWriteCommandInput['RequestItems']>[string][number];

/** Errors DynamoDB reports with a 400 status that still mean "retry later". */
export function isDynamoUnavailable(error: unknown): boolean {
  return (
    error instanceof ProvisionedThroughputExceededException ||
    error instanceof RequestLimitExceeded ||
    error instanceof ThrottlingException ||
    error instanceof InternalServerError
  );
}

/** BatchWriteItem's most requests per call. */
export const MAX_BATCH_WRITE = 25;
/** BatchGetItem's most keys per call. */
export const MAX_BATCH_GET = 100;
/** Retries of a batch call's unprocessed part (about 3 s of back-off in all). */
const MAX_UNPROCESSED_RETRIES = 6;

/** One string per table key, to find a BatchGetItem's answers (which come in any order) by key. */
export function itemId(key: TableKey): string {
  return `${key.PK}\n${key.SK}`;
}

/** `items` in runs of at most `size`: a batch call's requests per call. */
function inRunsOf<T>(items: readonly T[], size: number): T[][] {
  const runs: T[][] = [];
  for (let i = 0; i < items.length; i += size) runs.push(items.slice(i, i + size));
  return runs;
}

/** The items of a BatchGetItem answer by itemId. */
export function byItemId(items: readonly Item[]): Map<string, Item> {
  return new Map(items.map((item) => [itemId({ PK: item[TABLE_PARTITION_KEY] as string, SK: item[TABLE_SORT_KEY] as string }), item]));
}

/**
 * One DynamoDB table through the document client: every call goes through callAws, so throttling and
 * unavailability surface as StorageUnavailableError.
 */
export class DynamoTable {
  readonly doc: DynamoDBDocumentClient;

  /** `pageSize`: Query page size (Limit); unset lets DynamoDB fill 1 MB pages. */
  constructor(
    client: DynamoDBClient,
    readonly name: string,
    private readonly pageSize?: number,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  call<T>(fn: () => Promise<T>): Promise<T> {
    return callAws('DynamoDB', fn, isDynamoUnavailable);
  }

  /** BatchGetItem, 100 keys a call, the calls at once, until nothing is left unprocessed; the items found, in any order. */
  async batchGet(keys: readonly TableKey[], consistentRead: boolean): Promise<Item[]> {
    const answers = await Promise.all(
      inRunsOf(keys, MAX_BATCH_GET).map(async (call) => {
        const items: Item[] = [];
        let request: Record<string, unknown>[] | undefined = call.map((k) => ({ ...k }));
        for (let attempt = 0; request && request.length > 0; attempt++) {
          await this.backOffUnprocessed(attempt);
          const pending: Record<string, unknown>[] = request;
          const out = await this.call(() =>
            this.doc.send(new BatchGetCommand({ RequestItems: { [this.name]: { Keys: pending, ConsistentRead: consistentRead } } })),
          );
          items.push(...(out.Responses?.[this.name] ?? []));
          request = out.UnprocessedKeys?.[this.name]?.Keys;
        }
        return items;
      }),
    );
    return answers.flat();
  }

  /** BatchWriteItem, 25 requests a call, the calls at once, until nothing is left unprocessed. */
  async batchWrite(requests: readonly WriteRequest[]): Promise<void> {
    await Promise.all(
      inRunsOf(requests, MAX_BATCH_WRITE).map(async (call) => {
        let pending: WriteRequest[] | undefined = call;
        for (let attempt = 0; pending && pending.length > 0; attempt++) {
          await this.backOffUnprocessed(attempt);
          const batch: WriteRequest[] = pending;
          const out: BatchWriteCommandOutput = await this.call(() =>
            this.doc.send(new BatchWriteCommand({ RequestItems: { [this.name]: batch } })),
          );
          pending = out.UnprocessedItems?.[this.name];
        }
      }),
    );
  }

  /** Before retry `attempt` of what a batch call left unprocessed (throttled): 50 ms doubling, then give up. */
  private async backOffUnprocessed(attempt: number): Promise<void> {
    if (attempt === 0) return;
    if (attempt > MAX_UNPROCESSED_RETRIES) throw new StorageUnavailableError('DynamoDB left requests unprocessed, retry later');
    // Unprocessed items are throttled ones: back off before the next attempt, as AWS advises.
    await sleep(50 * 2 ** (attempt - 1));
  }

  /** Conditional put; true when this call created the item. */
  async putIfAbsent(item: Item): Promise<boolean> {
    try {
      await this.call(() =>
        this.doc.send(
          new PutCommand({
            TableName: this.name,
            Item: item,
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** One Query, page by page (LastEvaluatedKey), as items; pages of the input's Limit or the configured page size, the smaller. */
  async *queryRaw(input: Omit<QueryCommandInput, 'TableName'>): AsyncGenerator<Item> {
    const limits = [input.Limit, this.pageSize].filter((l) => l !== undefined);
    const limit = limits.length > 0 ? Math.min(...limits) : undefined;
    let startKey: Record<string, unknown> | undefined;
    do {
      const exclusiveStartKey = startKey;
      const out = await this.call(() =>
        this.doc.send(new QueryCommand({ ...input, TableName: this.name, ExclusiveStartKey: exclusiveStartKey, Limit: limit })),
      );
      yield* out.Items ?? [];
      startKey = out.LastEvaluatedKey;
    } while (startKey);
  }

  /**
   * The table items of a GSI Query's items, in the Query's order. A GSI that projects keys only (or a
   * few attributes) answers table keys: the items are read by key, `chunk` keys at a time (one
   * BatchGetItem of at most 100), as the caller asks for them, eventually consistent as the GSI is.
   * An item `whole` accepts as it is (a GSI projecting ALL) is not read again; one deleted since the
   * GSI copy was read is skipped.
   */
  async *readByKey(indexItems: AsyncIterable<Item>, chunk: number, whole: (item: Item) => boolean): AsyncGenerator<Item> {
    const size = Math.min(MAX_BATCH_GET, Math.max(1, chunk));
    let page: Item[] = [];
    for await (const item of indexItems) {
      page.push(item);
      if (page.length < size) continue;
      yield* await this.readPage(page, whole);
      page = [];
    }
    yield* await this.readPage(page, whole);
  }

  private async readPage(page: readonly Item[], whole: (item: Item) => boolean): Promise<Item[]> {
    const keyOf = (i: Item): TableKey => ({ PK: i[TABLE_PARTITION_KEY] as string, SK: i[TABLE_SORT_KEY] as string });
    const partial = page.filter((i) => !whole(i));
    const found = partial.length === 0 ? new Map<string, Item>() : byItemId(await this.batchGet(partial.map(keyOf), false));
    return page.flatMap((i): Item[] => {
      const item = whole(i) ? i : found.get(itemId(keyOf(i)));
      return item ? [item] : [];
    });
  }

  /** A strongly consistent Scan, page by page (LastEvaluatedKey), as items; pages of `Limit` when given. */
  async *scanRaw(input: Omit<ScanCommandInput, 'TableName' | 'ConsistentRead' | 'ExclusiveStartKey'> = {}): AsyncGenerator<Item> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const exclusiveStartKey = startKey;
      const out = await this.call(() =>
        this.doc.send(new ScanCommand({ ...input, TableName: this.name, ConsistentRead: true, ExclusiveStartKey: exclusiveStartKey })),
      );
      yield* out.Items ?? [];
      startKey = out.LastEvaluatedKey;
    } while (startKey);
  }
}

/**
 * Merges sources, each sorted in `order`, into one sequence in that order (k-way merge); the first
 * page of every source is requested at once.
 */
export async function* mergeSorted<T>(
  sources: readonly AsyncIterator<T>[],
  key: (t: T) => string,
  order: 'ascending' | 'descending',
): AsyncGenerator<T> {
  const heads = await Promise.all(sources.map((s) => s.next()));
  const before = order === 'ascending' ? (a: string, b: string) => a < b : (a: string, b: string) => a > b;
  for (;;) {
    let first = -1;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i]!;
      if (head.done) continue;
      if (first < 0 || before(key(head.value), key((heads[first] as IteratorYieldResult<T>).value))) first = i;
    }
    if (first < 0) return;
    yield (heads[first] as IteratorYieldResult<T>).value;
    heads[first] = await sources[first]!.next();
  }
}
