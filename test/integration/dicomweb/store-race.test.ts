/**
 * Integration: two Store calls racing on one SOP Instance UID (issue 19, defect 10) through the S3 and
 * DynamoDB adapters on the emulators: what two Lambda functions would do to the real services.
 */
import { beforeAll } from 'vitest';
import { DynamoMetadataIndex } from '../../../lambdas/storage/dynamodb';
import { S3BlobStore } from '../../../lambdas/storage/s3';
import { useEmulators } from '../../support/emulators';
import { describeStoreRace } from '../../support/store-race';

const NAME = 'store-race-test';
const fixture = useEmulators({ name: NAME, bucketName: NAME, tableName: NAME });
let index: DynamoMetadataIndex;
let blobs: S3BlobStore;

beforeAll(() => {
  const { clients } = fixture();
  index = new DynamoMetadataIndex(clients.dynamodb, NAME, 4);
  blobs = new S3BlobStore(clients.s3, NAME);
});

describeStoreRace('on S3 and DynamoDB', () => ({ index, blobs }));
