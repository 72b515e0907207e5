/**
 * Unit: the DynamoDB ClientStore maps DynamoDB's "retry later" answers to StorageUnavailableError (503
 * with Retry-After), on every call; the SDK client answers here, before the network.
 */
import { DynamoDBClient, ProvisionedThroughputExceededException, ThrottlingException } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoClientStore } from '../../../lambdas/storage/dynamodb-clients';
import { StorageUnavailableError } from '../../../lambdas/storage/errors';
import { newClient } from '../../contract/client-store.contract';

const clients: DynamoDBClient[] = [];
afterEach(() => clients.splice(0).forEach((c) => c.destroy()));

/** A client whose every call fails with `error`; the operations it was asked for. */
function failingWith(error: Error): { client: DynamoDBClient; operations: string[] } {
  const client = new DynamoDBClient({ region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  clients.push(client);
  const operations: string[] = [];
  client.middlewareStack.add(
    (_next, context) => async () => {
      operations.push(context.commandName as string);
      throw error;
    },
    { step: 'build', name: 'failHere' },
  );
  return { client, operations };
}

describe('DynamoClientStore under throttling', () => {
  it.each([
    [
      'ProvisionedThroughputExceededException',
      new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: { httpStatusCode: 400 } }),
    ],
    ['ThrottlingException', new ThrottlingException({ message: 'slow down', $metadata: { httpStatusCode: 400 } })],
  ])('turns %s into StorageUnavailableError on create, get, list and revoke', async (_name, error) => {
    const { client, operations } = failingWith(error);
    const store = new DynamoClientStore(client, 'clients');
    const c = newClient();
    for (const call of [() => store.create(c), () => store.get(c.id), () => store.list(), () => store.revoke(c.id, c.createdAt)]) {
      await expect(call()).rejects.toBeInstanceOf(StorageUnavailableError);
    }
    expect(operations).toEqual(['PutItemCommand', 'GetItemCommand', 'ScanCommand', 'UpdateItemCommand']);
  });

  it('passes other errors through unchanged', async () => {
    const error = new Error('ValidationException');
    const { client } = failingWith(error);
    await expect(new DynamoClientStore(client, 'clients').get('abc')).rejects.toBe(error);
  });
});
