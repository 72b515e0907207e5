/**
 * Integration: DynamoUploadStore on dynalite passes the UploadStore contract, its item
 * UPLOAD#{id} / #UPLOAD in the archive's table carrying the TTL attribute the send requests use.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../../lambdas/storage/clients';
import { DynamoUploadStore } from '../../../lambdas/storage/dynamodb-uploads';
import { TTL_ATTRIBUTE } from '../../../lambdas/storage/table-schema';
import { useEmulators } from '../../support/emulators';
import { describeUploadStoreContract, newUpload } from '../../contract/upload-store.contract';

const TABLE = 'upload-store-archive';
const fixture = useEmulators({ name: 'upload-store', bucketName: 'upload-store-test', tableName: TABLE });
let clients: AwsClients;

beforeAll(() => {
  ({ clients } = fixture());
});

describeUploadStoreContract('DynamoUploadStore', () => new DynamoUploadStore(clients.dynamodb, TABLE));

describe('DynamoUploadStore item', () => {
  it('is UPLOAD#{id} / #UPLOAD with ExpiresAt in epoch seconds (DynamoDB TTL)', async () => {
    const upload = newUpload();
    await new DynamoUploadStore(clients.dynamodb, TABLE).create(upload);
    const { Item } = await clients.dynamodb.send(
      new GetItemCommand({ TableName: TABLE, Key: { PK: { S: `UPLOAD#${upload.uploadId}` }, SK: { S: '#UPLOAD' } } }),
    );
    expect(Number(Item?.[TTL_ATTRIBUTE]?.N)).toBe(Math.ceil(Date.parse(upload.expiresAt) / 1000));
  });
});
