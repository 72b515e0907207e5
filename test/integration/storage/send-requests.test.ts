import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../../lambdas/storage/clients';
import { StorageUnavailableError } from '../../../lambdas/storage/errors';
import { createDynamoDbClient } from '../../../lambdas/storage/dynamodb-table';
import { DynamoSendRequestStore } from '../../../lambdas/storage/send-requests';
import { sendRequestKey } from '../../../lambdas/storage/send-request-items';
import { TTL_ATTRIBUTE } from '../../../lambdas/storage/table-schema';
import { useEmulators } from '../../support/emulators';
import { batch, describeSendRequestStoreContract, newRequest } from '../../contract/send-request-store.contract';

const TABLE = 'archive-send-requests-test';

const fixture = useEmulators({ name: 'send-requests-adapter', bucketName: 'archive-send-requests-test', tableName: TABLE });
let clients: AwsClients;

beforeAll(() => {
  ({ clients } = fixture());
});

describeSendRequestStoreContract('DynamoSendRequestStore', () => new DynamoSendRequestStore(clients.dynamodb, TABLE));

describe('DynamoSendRequestStore item', () => {
  it('carries the TTL attribute ExpiresAt = deleteAt, keyed SEND#{transactionUID} / #SEND', async () => {
    const store = new DynamoSendRequestStore(clients.dynamodb, TABLE);
    const r = newRequest();
    await store.create(r);
    const { Item } = await clients.dynamodb.send(
      new GetItemCommand({ TableName: TABLE, Key: { PK: { S: `SEND#${r.transactionUID}` }, SK: { S: '#SEND' } } }),
    );
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
    const { Item } = await clients.dynamodb.send(
      new GetItemCommand({ TableName: TABLE, Key: { PK: { S: `SEND#${r.transactionUID}` }, SK: { S: '#SEND' } } }),
    );
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
    const { Item } = await clients.dynamodb.send(
      new GetItemCommand({ TableName: TABLE, Key: { PK: { S: `SEND#${r.transactionUID}` }, SK: { S: '#SEND' } } }),
    );
    expect(Object.keys(Item ?? {}).filter((name) => name.startsWith('Applying'))).toEqual([]);
  });
});
