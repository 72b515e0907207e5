import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../../lambdas/storage/clients';
import { SendRequestNotFoundError, type SendRequestRecord } from '../../../lambdas/storage/ports';
import { StorageUnavailableError } from '../../../lambdas/storage/errors';
import { createDynamoDbClient } from '../../../lambdas/storage/dynamodb-table';
import { DynamoSendRequestStore, sendRequestKey } from '../../../lambdas/storage/send-requests';
import { TTL_ATTRIBUTE } from '../../../lambdas/storage/table-schema';

import { MemorySendRequestStore } from '../../support/memory-send-requests';
import { useEmulators } from '../../support/emulators';

const TABLE = 'archive-send-requests-test';

const fixture = useEmulators({ name: 'send-requests-adapter', bucketName: 'archive-send-requests-test', tableName: TABLE });
let clients: AwsClients;

beforeAll(() => {
  ({ clients } = fixture());
});

let counter = 0;
/** A fresh Transaction UID per test, so tests sharing the table never see each other's items. */
function uid(): string {
  return `2.25.${Date.now()}${++counter}`;
}

function newRequest(overrides: Partial<SendRequestRecord> = {}): SendRequestRecord {
  return {
    transactionUID: uid(),
    target: { level: 'SERIES', studyInstanceUID: '1.2.840.1', seriesInstanceUID: '1.2.840.1.2' },
    search: [
      ['Modality', 'CT'],
      ['PatientName', ''],
    ],
    destination: 'https://pacs.example.org/dicomweb',
    state: 'PENDING',
    completed: 0,
    failed: 0,
    warning: 0,
    createdAt: '2026-01-02T03:04:05.000Z',
    expiresAt: 1_800_000_000,
    deleteAt: 1_900_000_000,
    ...overrides,
  };
}

type Store = DynamoSendRequestStore | MemorySendRequestStore;
const stores: [string, () => Store][] = [
  ['DynamoSendRequestStore', () => new DynamoSendRequestStore(clients.dynamodb, TABLE)],
  ['MemorySendRequestStore', () => new MemorySendRequestStore()],
];

const batch = (batchId: string, completed: number, warning: number, failed: number) => ({ batchId, completed, warning, failed });

describe.each(stores)('%s (SendRequestStore contract)', (_name, makeStore) => {
  let store: Store;
  beforeAll(() => {
    store = makeStore();
  });

  async function created(overrides: Partial<SendRequestRecord> = {}): Promise<SendRequestRecord> {
    const r = newRequest(overrides);
    expect(await store.create(r)).toBe(true);
    return r;
  }

  it('creates once: a second create of the same Transaction UID answers false and changes nothing', async () => {
    const r = await created();
    expect(await store.create({ ...r, destination: 'https://other.example.org/' })).toBe(false);
    expect((await store.get(r.transactionUID))?.destination).toBe(r.destination);
  });

  it('round-trips every field', async () => {
    const r = newRequest({
      target: { level: 'STUDY', studyInstanceUID: '1.2.3' },
      remaining: 7,
      completed: 1,
      warning: 2,
      failed: 3,
      status: 0xb000,
      executionId: 'arn:aws:states:us-east-1:123456789012:execution:send:x',
    });
    expect(await store.create(r)).toBe(true);
    expect(await store.get(r.transactionUID)).toEqual(r);

    const bare = await created({ target: { level: 'INSTANCE' }, search: [] });
    const got = await store.get(bare.transactionUID);
    expect(got).toEqual(bare);
    expect(got).not.toHaveProperty('remaining');
    expect(got).not.toHaveProperty('status');
    expect(got).not.toHaveProperty('executionId');
    expect(got?.target).toEqual({ level: 'INSTANCE' });
  });

  it('answers undefined for an unknown Transaction UID', async () => {
    expect(await store.get(uid())).toBeUndefined();
  });

  it('records the execution', async () => {
    const r = await created();
    await store.setExecution(r.transactionUID, 'exec-1');
    expect((await store.get(r.transactionUID))?.executionId).toBe('exec-1');
    await expect(store.setExecution(uid(), 'exec-2')).rejects.toBeInstanceOf(SendRequestNotFoundError);
  });

  it('sets the number of matches once, and only while pending', async () => {
    const r = await created();
    expect(await store.setMatched(r.transactionUID, 12)).toBe(true);
    expect(await store.setMatched(r.transactionUID, 99)).toBe(false);
    expect((await store.get(r.transactionUID))?.remaining).toBe(12);

    const ended = await created();
    await store.finish(ended.transactionUID, { state: 'COMPLETED', status: 0 });
    expect(await store.setMatched(ended.transactionUID, 3)).toBe(false);
    expect((await store.get(ended.transactionUID))?.remaining).toBeUndefined();
  });

  it('adds batch outcomes atomically: 10 concurrent batches account for every match', async () => {
    const r = await created();
    const matched = 40;
    await store.setMatched(r.transactionUID, matched);
    const batches = Array.from({ length: 10 }, (_, i) =>
      batch(`b${i}`, i % 3 === 0 ? 4 : 2, i % 3 === 1 ? 1 : 0, i % 3 === 0 ? 0 : i % 3 === 1 ? 1 : 2),
    );
    const outcomes = await Promise.all(batches.map((b) => store.addBatchOutcome(r.transactionUID, b)));
    expect(outcomes).toEqual(batches.map(() => true));

    const got = (await store.get(r.transactionUID))!;
    const sum = (k: 'completed' | 'warning' | 'failed') => batches.reduce((n, b) => n + b[k], 0);
    expect([got.completed, got.warning, got.failed]).toEqual([sum('completed'), sum('warning'), sum('failed')]);
    expect(got.remaining).toBe(matched - sum('completed') - sum('warning') - sum('failed'));
    expect(got.completed + got.warning + got.failed + got.remaining!).toBe(matched);
    expect((await store.batchOutcomes(r.transactionUID)).sort((a, b) => a.batchId.localeCompare(b.batchId))).toEqual(
      [...batches].sort((a, b) => a.batchId.localeCompare(b.batchId)),
    );
  });

  it('counts a batch once when Deliver runs again for it, the first outcome standing', async () => {
    const r = await created();
    await store.setMatched(r.transactionUID, 10);
    expect(await store.addBatchOutcome(r.transactionUID, batch('x', 3, 0, 1))).toBe(true);
    expect(await store.addBatchOutcome(r.transactionUID, batch('x', 4, 0, 0))).toBe(true);
    // Two runs at once (a Lambda invocation Step Functions retried while the first still ran).
    await Promise.all([store.addBatchOutcome(r.transactionUID, batch('y', 2, 1, 0)), store.addBatchOutcome(r.transactionUID, batch('y', 2, 1, 0))]);
    expect(await store.get(r.transactionUID)).toMatchObject({ remaining: 3, completed: 5, warning: 1, failed: 1 });
    expect(await store.batchOutcome(r.transactionUID, 'x')).toEqual(batch('x', 3, 0, 1));
    expect(await store.batchOutcome(r.transactionUID, 'z')).toBeUndefined();
    expect(await store.batchOutcomes(r.transactionUID)).toHaveLength(2);
  });

  it('changes nothing once the request has ended', async () => {
    const r = await created();
    await store.setMatched(r.transactionUID, 5);
    await store.finish(r.transactionUID, { state: 'FAILED', status: 0xa702, failRemaining: true });
    const before = await store.get(r.transactionUID);
    expect(await store.addBatchOutcome(r.transactionUID, batch('a', 1, 0, 1))).toBe(false);
    expect(await store.addBatchOutcome(r.transactionUID, batch('b', 2, 0, 0))).toBe(false);
    expect(await store.get(r.transactionUID)).toEqual(before);
  });

  it('finishes with the final Status, returning the stored record', async () => {
    const r = await created();
    await store.setMatched(r.transactionUID, 2);
    await store.addBatchOutcome(r.transactionUID, batch('a', 2, 0, 0));
    const done = await store.finish(r.transactionUID, { state: 'COMPLETED', status: 0x0000 });
    expect(done).toMatchObject({ state: 'COMPLETED', status: 0, remaining: 0, completed: 2, failed: 0 });
    expect(await store.get(r.transactionUID)).toEqual(done);
  });

  it('with failRemaining counts what remains as failed', async () => {
    const r = await created();
    await store.setMatched(r.transactionUID, 10);
    await store.addBatchOutcome(r.transactionUID, batch('a', 3, 1, 1));
    const done = await store.finish(r.transactionUID, { state: 'FAILED', status: 0xb000, failRemaining: true });
    expect(done).toMatchObject({ state: 'FAILED', status: 0xb000, remaining: 0, completed: 3, warning: 1, failed: 6 });
  });

  it('with failRemaining leaves an unset Remaining unset (Resolve never counted)', async () => {
    const r = await created();
    const done = await store.finish(r.transactionUID, { state: 'FAILED', status: 0xa702, failRemaining: true });
    expect(done.state).toBe('FAILED');
    expect(done.status).toBe(0xa702);
    expect(done.remaining).toBeUndefined();
    expect(done.failed).toBe(0);
  });

  it('keeps the first outcome when finished twice', async () => {
    const r = await created();
    await store.setMatched(r.transactionUID, 4);
    await store.finish(r.transactionUID, { state: 'COMPLETED', status: 0 });
    const again = await store.finish(r.transactionUID, { state: 'FAILED', status: 0xa702, failRemaining: true });
    expect(again).toMatchObject({ state: 'COMPLETED', status: 0, remaining: 4, failed: 0 });
    await expect(store.finish(uid(), { state: 'COMPLETED', status: 0 })).rejects.toBeInstanceOf(SendRequestNotFoundError);
  });
});

describe('DynamoSendRequestStore item', () => {
  it('carries the TTL attribute ExpiresAt = deleteAt, keyed SEND#{transactionUID} / #SEND', async () => {
    const store = new DynamoSendRequestStore(clients.dynamodb, TABLE);
    const r = newRequest();
    await store.create(r);
    const { Item } = await clients.dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { PK: { S: `SEND#${r.transactionUID}` }, SK: { S: '#SEND' } } }));
    expect(sendRequestKey(r.transactionUID)).toEqual({ PK: `SEND#${r.transactionUID}`, SK: '#SEND' });
    expect(Item?.[TTL_ATTRIBUTE]).toEqual({ N: String(r.deleteAt) });
    expect(Item?.Remaining).toBeUndefined();
  });

  it('reads the Failed SOP Instance UIDs an item of an earlier release kept in itself', async () => {
    const store = new DynamoSendRequestStore(clients.dynamodb, TABLE);
    const r = newRequest();
    await store.create(r);
    expect((await store.get(r.transactionUID))?.itemFailedSOPInstanceUIDs).toBeUndefined();
    // Releases without batch outcome objects appended the list to the item (FailedSOPInstanceUIDs).
    await clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: { PK: { S: `SEND#${r.transactionUID}` }, SK: { S: '#SEND' } },
        UpdateExpression: 'SET FailedSOPInstanceUIDs = :l',
        ExpressionAttributeValues: { ':l': { L: [{ S: '1.2.3.1' }, { S: '1.2.3.2' }] } },
      }),
    );
    expect((await store.get(r.transactionUID))?.itemFailedSOPInstanceUIDs).toEqual(['1.2.3.1', '1.2.3.2']);
  });

  it.each([
    ['the counters ADDed', 'ADD'],
    ['the batch item marked Applied', 'SET #a'],
    ['the marker of the counting run removed', 'REMOVE'],
  ])('a Deliver whose UpdateItem answer is lost after %s counts the batch once when run again', async (_step, expression) => {
    // The write happens, its answer never arrives (a dropped connection): the caller sees a fault.
    const dynamodb = createDynamoDbClient({ region: 'us-east-1', dynamodbEndpoint: fixture().emulators.dynamodbEndpoint });
    let lost = 0;
    dynamodb.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        const input = args.input as { UpdateExpression?: string };
        if (context.commandName === 'UpdateItemCommand' && input.UpdateExpression?.startsWith(expression) && lost++ === 0) {
          throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        }
        return out;
      },
      { step: 'initialize', name: 'loseOneAnswer' },
    );
    const store = new DynamoSendRequestStore(dynamodb, TABLE);
    const r = newRequest();
    await store.create(r);
    await store.setMatched(r.transactionUID, 10);
    await expect(store.addBatchOutcome(r.transactionUID, batch('lost', 3, 1, 2))).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(lost).toBe(1);
    expect(await store.addBatchOutcome(r.transactionUID, batch('lost', 3, 1, 2))).toBe(true);
    expect(await store.addBatchOutcome(r.transactionUID, batch('lost', 3, 1, 2))).toBe(true);
    expect(await store.get(r.transactionUID)).toMatchObject({ remaining: 4, completed: 3, warning: 1, failed: 2 });
    const { Item } = await clients.dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { PK: { S: `SEND#${r.transactionUID}` }, SK: { S: '#SEND' } } }));
    // Only batches in flight keep a marker on the request item.
    expect(Object.keys(Item ?? {}).filter((name) => name.startsWith('Applying'))).toEqual([]);
  });

  it('two runs of one batch at once: the one that counted after the other had finished takes its counters back', async () => {
    const store = new DynamoSendRequestStore(clients.dynamodb, TABLE);
    const r = newRequest();
    await store.create(r);
    await store.setMatched(r.transactionUID, 10);
    expect(await store.addBatchOutcome(r.transactionUID, batch('twice', 4, 0, 1))).toBe(true);
    // The second run read the batch item before the first marked it: it sees it not yet Applied.
    const dynamodb = createDynamoDbClient({ region: 'us-east-1', dynamodbEndpoint: fixture().emulators.dynamodbEndpoint });
    dynamodb.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        const output = out.output as { Item?: Record<string, { BOOL?: boolean; S?: string }> };
        if (context.commandName === 'GetItemCommand' && output.Item?.Applied) {
          output.Item = { ...output.Item, Applied: { BOOL: false } };
          delete output.Item.AppliedBy;
        }
        return out;
      },
      { step: 'initialize', name: 'staleBatchRead' },
    );
    expect(await new DynamoSendRequestStore(dynamodb, TABLE).addBatchOutcome(r.transactionUID, batch('twice', 4, 0, 1))).toBe(true);
    expect(await store.get(r.transactionUID)).toMatchObject({ remaining: 5, completed: 4, warning: 0, failed: 1 });
    const { Item } = await clients.dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { PK: { S: `SEND#${r.transactionUID}` }, SK: { S: '#SEND' } } }));
    expect(Object.keys(Item ?? {}).filter((name) => name.startsWith('Applying'))).toEqual([]);
  });
});
