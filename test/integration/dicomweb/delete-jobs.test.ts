/**
 * Integration: Delete of a study larger than one step (issue 19, defect 12) through the S3 and DynamoDB
 * adapters on the emulators: the Delete job items, continuations, an interruption and its resumption.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DeleteService, type DeleteTarget } from '../../../lambdas/dicomweb/delete';
import { GoneError } from '../../../lambdas/dicomweb/errors';
import { RetrieveService } from '../../../lambdas/dicomweb/retrieve';
import { collect } from '../../../lambdas/dicomweb/resources';
import { DynamoMetadataIndex } from '../../../lambdas/storage/dynamodb';
import { S3BlobStore } from '../../../lambdas/storage/s3';
import { makeStudy } from '../../support/dicom-factory';
import { useEmulators } from '../../support/emulators';
import { storeInstances } from '../../support/seed';

const NAME = 'delete-jobs-test';
const BASE_URL = 'http://archive';
const OUT_OF_TIME = { remainingMillis: () => 0 };
const fixture = useEmulators({ name: NAME, bucketName: NAME, tableName: NAME });
let index: DynamoMetadataIndex;
let blobs: S3BlobStore;

beforeAll(() => {
  const { clients } = fixture();
  index = new DynamoMetadataIndex(clients.dynamodb, NAME, 4);
  blobs = new S3BlobStore(clients.s3, NAME);
});

async function seeded() {
  const study = makeStudy({ series: 2, instancesPerSeries: 4 });
  await storeInstances(
    index,
    blobs,
    study.instances.map((i) => i.bytes),
    { baseUrl: BASE_URL },
  );
  const entries = await collect(index.query({ by: 'study', level: 'INSTANCE', studyInstanceUID: study.studyInstanceUID }));
  const keys = entries.flatMap((e) => [e.instance!.objectKey, e.instance!.metadataKey]);
  return { study, keys };
}

async function remainingObjects(keys: readonly string[]): Promise<number> {
  let n = 0;
  for (const key of keys) if (await blobs.get(key)) n++;
  return n;
}

describe('Delete jobs on S3 and DynamoDB', () => {
  it('deletes a study larger than one step completely through continuations, 410 from the first answer', async () => {
    const { study, keys } = await seeded();
    const handedOn: DeleteTarget[] = [];
    const service = new DeleteService(index, blobs, { batchSize: 3, continueJob: async (t) => void handedOn.push(t) });
    expect(await service.deleteStudy({ studyInstanceUID: study.studyInstanceUID }, OUT_OF_TIME)).toEqual({
      deletedInstances: 3,
      done: false,
    });
    await expect(
      new RetrieveService(index, blobs, { maxResponseBytes: 1 << 20 }).retrieveStudy({
        studyInstanceUID: study.studyInstanceUID,
        baseUrl: BASE_URL,
        accept: undefined,
      }),
    ).rejects.toThrow(GoneError);
    while (handedOn.length > 0) await service.resume(handedOn.shift()!, OUT_OF_TIME);
    expect(await collect(index.query({ by: 'study', level: 'INSTANCE', studyInstanceUID: study.studyInstanceUID }))).toEqual([]);
    expect(await index.getStudy(study.studyInstanceUID)).toBeUndefined();
    expect(await index.findDeleteJob({ studyInstanceUID: study.studyInstanceUID })).toBeUndefined();
    expect(await remainingObjects(keys)).toBe(0);
  });

  it('resumes a job interrupted mid-way on the next DELETE', async () => {
    const { study, keys } = await seeded();
    const interrupted = new DeleteService(index, blobs, {
      batchSize: 3,
      continueJob: async () => Promise.reject(new Error('Task timed out')),
    });
    await expect(interrupted.deleteStudy({ studyInstanceUID: study.studyInstanceUID }, OUT_OF_TIME)).rejects.toThrow('Task timed out');
    expect(await index.findDeleteJob({ studyInstanceUID: study.studyInstanceUID })).toMatchObject({ level: 'STUDY' });
    expect(await remainingObjects(keys)).toBe(10);

    const again = await new DeleteService(index, blobs, { batchSize: 3 }).deleteStudy({ studyInstanceUID: study.studyInstanceUID });
    expect(again).toEqual({ deletedInstances: 5, done: true });
    expect(await remainingObjects(keys)).toBe(0);
    await expect(index.findTombstone({ level: 'STUDY', studyInstanceUID: study.studyInstanceUID })).resolves.toBeDefined();
  });
});
