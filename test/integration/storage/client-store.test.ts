/**
 * Integration: the DynamoDB ClientStore on dynalite passes the ClientStore contract, on a fresh table
 * per test (the embedded runtime's CreateTable of the clients table), and pages through a Scan.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../../lambdas/storage/clients';
import { DynamoClientStore } from '../../../lambdas/storage/dynamodb-clients';
import { createClientStore } from '../../../lambdas/storage/factory/client-store';
import { createClientsTableInput, ensureTable } from '../../../lib/local/emulators';
import { useEmulators } from '../../support/emulators';
import { describeClientStoreContract, newClient } from '../../contract/client-store.contract';

const fixture = useEmulators({ name: 'client-store', bucketName: 'client-store-test', tableName: 'client-store-archive' });
let clients: AwsClients;
let tables = 0;

beforeAll(() => {
  ({ clients } = fixture());
});

async function freshTable(): Promise<string> {
  const name = `clients-${++tables}`;
  await ensureTable(clients.dynamodb, name, createClientsTableInput(name));
  return name;
}

describeClientStoreContract('DynamoClientStore', async () => new DynamoClientStore(clients.dynamodb, await freshTable()));

describe('DynamoClientStore on the clients table', () => {
  it('lists every client over several Scan pages', async () => {
    const store = new DynamoClientStore(clients.dynamodb, await freshTable(), 2);
    const made = Array.from({ length: 7 }, (_, i) => newClient({ name: `c${i}`, createdAt: `2026-01-0${i + 1}T00:00:00.000Z` }));
    for (const c of made) await store.create(c);
    expect((await store.list()).map((c) => c.name)).toEqual(made.map((c) => c.name));
  });

  it('keeps one item per client keyed by id, with the hash and never a key', async () => {
    const table = await freshTable();
    const store = createClientStore(
      { region: 'us-east-1', dynamodbEndpoint: fixture().emulators.dynamodbEndpoint, clientsTableName: table },
      clients,
    );
    const client = newClient();
    await store.create(client);
    const { Item } = await clients.dynamodb.send(new GetItemCommand({ TableName: table, Key: { id: { S: client.id } } }));
    expect(Object.keys(Item ?? {}).sort()).toEqual(['createdAt', 'id', 'name', 'scopes', 'secretHash']);
    expect(Item?.secretHash).toEqual({ S: client.secretHash });
  });

  it('is not built without CLIENTS_TABLE_NAME', () => {
    expect(() => createClientStore({ region: 'us-east-1', dynamodbEndpoint: undefined, clientsTableName: undefined })).toThrow(
      /CLIENTS_TABLE_NAME/,
    );
  });
});
