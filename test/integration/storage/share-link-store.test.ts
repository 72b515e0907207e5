/**
 * Integration: the DynamoDB ShareLinkStore on dynalite passes the ShareLinkStore contract, on a fresh
 * clients table per test (the embedded runtime's CreateTable), pages through a Scan, and shares the
 * table with the API key clients without either listing the other's items.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../../lambdas/storage/clients';
import { DynamoClientStore } from '../../../lambdas/storage/dynamodb-clients';
import { DynamoShareLinkStore } from '../../../lambdas/storage/dynamodb-share-links';
import { optionalShareLinkStore } from '../../../lambdas/storage/factory/share-link-store';
import { createClientsTableInput, ensureTable } from '../../../lib/local/emulators';
import { useEmulators } from '../../support/emulators';
import { newClient } from '../../contract/client-store.contract';
import { describeShareLinkStoreContract, newShareLink } from '../../contract/share-link-store.contract';

const fixture = useEmulators({ name: 'share-link-store', bucketName: 'share-link-store-test', tableName: 'share-link-store-archive' });
let clients: AwsClients;
let tables = 0;

beforeAll(() => {
  ({ clients } = fixture());
});

async function freshTable(): Promise<string> {
  const name = `shares-${++tables}`;
  await ensureTable(clients.dynamodb, name, createClientsTableInput(name));
  return name;
}

describeShareLinkStoreContract('DynamoShareLinkStore', async () => new DynamoShareLinkStore(clients.dynamodb, await freshTable()));

describe('DynamoShareLinkStore in the clients table', () => {
  it('lives beside the API key clients, each store listing its own over several Scan pages', async () => {
    const table = await freshTable();
    const shares = new DynamoShareLinkStore(clients.dynamodb, table, 2);
    const keys = new DynamoClientStore(clients.dynamodb, table, 2);
    const links = Array.from({ length: 5 }, (_, i) => newShareLink({ createdAt: `2026-01-0${i + 1}T00:00:00.000Z` }));
    const made = Array.from({ length: 3 }, (_, i) => newClient({ name: `c${i}`, createdAt: `2026-01-0${i + 1}T00:00:00.000Z` }));
    for (const l of links) await shares.create(l);
    for (const c of made) await keys.create(c);
    expect(await shares.list()).toEqual(links);
    expect(await keys.list()).toEqual(made);
    expect(await keys.get(`share#${links[0]!.id}`)).toBeDefined();
  });

  it('keeps one item per link under share#<id>, with the hash and never a token', async () => {
    const table = await freshTable();
    const store = optionalShareLinkStore(
      { region: 'us-east-1', dynamodbEndpoint: fixture().emulators.dynamodbEndpoint, clientsTableName: table },
      clients,
    )!;
    const link = newShareLink();
    await store.create(link);
    const { Item } = await clients.dynamodb.send(new GetItemCommand({ TableName: table, Key: { id: { S: `share#${link.id}` } } }));
    expect(Object.keys(Item ?? {}).sort()).toEqual([
      'createdAt',
      'createdBy',
      'expiresAt',
      'id',
      'secretHash',
      'studyInstanceUID',
      'useCount',
    ]);
  });

  it('is not built without CLIENTS_TABLE_NAME', () => {
    expect(optionalShareLinkStore({ region: 'us-east-1', dynamodbEndpoint: undefined, clientsTableName: undefined })).toBeUndefined();
  });
});
