/**
 * Integration: two Store calls racing on one SOP Instance UID (issue 19, defect 10) through the S3 and
 * DynamoDB adapters on the emulators: what two Lambda functions would do to the real services.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Tag } from '../../../lambdas/dicom/tags';
import { DynamoMetadataIndex } from '../../../lambdas/storage/dynamodb';
import { S3BlobStore } from '../../../lambdas/storage/s3';
import { useEmulators } from '../../support/emulators';
import { raceTwoStores } from '../../support/store-race';

const NAME = 'store-race-test';
const fixture = useEmulators({ name: NAME, bucketName: NAME, tableName: NAME });
let index: DynamoMetadataIndex;
let blobs: S3BlobStore;

beforeAll(() => {
  const { clients } = fixture();
  index = new DynamoMetadataIndex(clients.dynamodb, NAME, 4);
  blobs = new S3BlobStore(clients.s3, NAME);
});

describe('concurrent Store of one SOP Instance UID with different content, on S3 and DynamoDB', () => {
  it('an identical copy racing the first: both answered as stored, one pair of objects kept', async () => {
    const race = await raceTwoStores(index, blobs, { identical: true });
    expect([race.winner.status, race.loser.status]).toEqual([200, 200]);
    expect(race.storedDigest).toBe(race.winnerDigest);
    expect(race.puts).toHaveLength(4);
    expect([...race.remaining].sort()).toEqual([race.entry!.instance!.objectKey, race.entry!.instance!.metadataKey].sort());
  });

  it('never changes the acknowledged bytes: the entry names the winner object, the loser is refused (0111) and its objects go', async () => {
    const race = await raceTwoStores(index, blobs);
    expect(race.winner.status).toBe(200);
    expect(race.loser.status).toBe(409);
    expect(race.loser.response[Tag.FailedSOPSequence]!.Value![0]).toMatchObject({ [Tag.FailureReason]: { Value: [0x0111] } });
    expect(race.entry?.instance?.digest).toBe(race.winnerDigest);
    expect(race.storedDigest).toBe(race.winnerDigest);
    expect(race.storedPatientName).toEqual({ Alphabetic: 'Winner^Wanda' });
    expect(race.puts).toHaveLength(4);
    expect([...race.remaining].sort()).toEqual([race.entry!.instance!.objectKey, race.entry!.instance!.metadataKey].sort());
  });
});
