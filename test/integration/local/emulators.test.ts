/**
 * The embedded DynamoDB (dynalite over LevelDB) closes the iterator of every Query and Scan, whether
 * it read to the end or stopped at its Limit. An iterator left open pins the LevelDB version it read
 * and its native buffers: before lib/local/emulators.ts gave dynalite's iterators the return() it
 * calls, a load of 100,000 instances (a ByUid Query each) grew the archive to 7 GB of memory and 26 GB
 * of LevelDB files, and a long-running `npm start` without bound.
 */
import { PutItemCommand, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { dynaliteLevelIterators } from '../../../lib/local/emulators';
import { GSI_BY_UID, TABLE_PARTITION_KEY, TABLE_SORT_KEY } from '../../../lambdas/storage/table-schema';
import { useEmulators } from '../../support/emulators';

const TABLE = 'archive-emulators-test';
const fixture = useEmulators({ name: 'emulators', bucketName: TABLE, tableName: TABLE });

// Every iterator that read, and every one closed (the same prototype dynalite's LevelDB uses).
const opened = new Set<object>();
const closed = new WeakSet<object>();
const iterator = dynaliteLevelIterators().prototype;
const { next, close } = iterator;
iterator.next = function (this: object) {
  opened.add(this);
  return next.call(this);
};
iterator.close = function (this: object) {
  closed.add(this);
  return close.call(this);
};
const stillOpen = () => [...opened].filter((i) => !closed.has(i)).length;

const S = (value: string) => ({ S: value });

beforeAll(async () => {
  const { dynamodb } = fixture().clients;
  for (let i = 0; i < 20; i++) {
    const sk = String(i).padStart(3, '0');
    await dynamodb.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { [TABLE_PARTITION_KEY]: S('P'), [TABLE_SORT_KEY]: S(sk), [GSI_BY_UID.partitionKey]: S('U'), [GSI_BY_UID.sortKey]: S(sk) },
      }),
    );
  }
});

describe('embedded DynamoDB (dynalite)', () => {
  it('closes the LevelDB iterator of every Query and Scan, read to the end or cut short by its Limit', async () => {
    const { dynamodb } = fixture().clients;
    opened.clear();
    const byKey = {
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY },
      ExpressionAttributeValues: { ':pk': S('P') },
    };
    const byUid = {
      IndexName: GSI_BY_UID.indexName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': GSI_BY_UID.partitionKey },
      ExpressionAttributeValues: { ':pk': S('U') },
    };
    const answers = await Promise.all([
      ...Array.from({ length: 25 }, () => dynamodb.send(new QueryCommand({ TableName: TABLE, ...byKey }))),
      ...Array.from({ length: 25 }, () => dynamodb.send(new QueryCommand({ TableName: TABLE, ...byKey, Limit: 1 }))),
      ...Array.from({ length: 25 }, () =>
        dynamodb.send(new QueryCommand({ TableName: TABLE, ...byUid, Limit: 1, ScanIndexForward: false })),
      ),
      ...Array.from({ length: 10 }, () => dynamodb.send(new ScanCommand({ TableName: TABLE, Limit: 3 }))),
    ]);
    expect(answers.slice(0, 25).every((a) => a.Count === 20)).toBe(true);
    expect(answers.slice(25).every((a) => a.Count === 1 || a.Count === 3)).toBe(true);

    expect(opened.size).toBeGreaterThanOrEqual(85);
    // A stream's destroy closes its iterator asynchronously, right after the answer is sent.
    for (let i = 0; i < 50 && stillOpen() > 0; i++) await sleep(10);
    expect(stillOpen()).toBe(0);
  });
});
