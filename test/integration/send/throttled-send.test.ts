/**
 * A Send on the embedded runtime (the inline state machine run by aws-local-stepfunctions, its Tasks
 * the same task code as the Lambda functions) over the S3 and DynamoDB adapters on the emulators,
 * while the storage throttles: each throttled call surfaces as Send.StorageUnavailable, the workflow's
 * Retry rules run the Task again, and the Send completes with counters that add up exactly.
 */
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPart10 } from '../../../lambdas/dicom/part10';
import { newUid } from '../../../lambdas/dicom/uid';
import { SearchService } from '../../../lambdas/dicomweb/search';
import { parseDestinationRegistry } from '../../../lambdas/send/destinations';
import { SendTasks } from '../../../lambdas/send/tasks';
import { DynamoMetadataIndex } from '../../../lambdas/storage/dynamodb';
import { createDynamoDbClient } from '../../../lambdas/storage/dynamodb-table';
import { createS3Client, S3BlobStore } from '../../../lambdas/storage/s3';
import { DynamoSendRequestStore } from '../../../lambdas/storage/send-requests';
import { LocalSendWorkflow } from '../../../lib/local/local-send-workflow';
import { makeInstance } from '../../support/dicom-factory';
import { useEmulators } from '../../support/emulators';
import { startFakeDestination, type FakeDestination } from '../../support/fake-destination';
import { storeInstances } from '../../support/seed';

const BUCKET = 'archive-throttled-send';
const TABLE = 'archive-throttled-send';
const fixture = useEmulators({ name: 'throttled-send', bucketName: BUCKET, tableName: TABLE });

let destination: FakeDestination;
beforeAll(async () => {
  destination = await startFakeDestination();
});
afterAll(async () => {
  await destination?.close();
});

/** Middleware that fails the first call a predicate picks, before it reaches the service, as a throttled call does. */
function throttleOnce<C extends { middlewareStack: { add: (...args: never[]) => void } }>(
  client: C,
  picks: (commandName: string, input: Record<string, unknown>) => boolean,
  error: () => Error,
  name: string,
): { readonly thrown: () => number } {
  let thrown = 0;
  (client.middlewareStack as unknown as { add: (m: unknown, o: unknown) => void }).add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName: string }) => async (args: { input: Record<string, unknown> }) => {
      if (thrown === 0 && picks(context.commandName, args.input)) {
        thrown++;
        throw error();
      }
      return next(args);
    },
    { step: 'initialize', name },
  );
  return { thrown: () => thrown };
}

describe('Send under storage throttling (embedded runtime, emulators)', () => {
  it('retries each throttled Task and completes with every sub-operation counted once', async () => {
    const { emulators } = fixture();
    const dynamodb = createDynamoDbClient({ region: 'us-east-1', dynamodbEndpoint: emulators.dynamodbEndpoint });
    const s3 = createS3Client({ region: 'us-east-1', s3Endpoint: emulators.s3Endpoint });
    const index = new DynamoMetadataIndex(dynamodb, TABLE, 4);
    const blobs = new S3BlobStore(s3, BUCKET);
    const requests = new DynamoSendRequestStore(dynamodb, TABLE);

    const patientID = `THROTTLED-${newUid().slice(-8)}`;
    const studyInstanceUID = newUid();
    const seriesInstanceUID = newUid();
    const files = Array.from({ length: 7 }, () =>
      makeInstance({ patientID, studyInstanceUID, seriesInstanceUID, approximateBytes: 2_000 }),
    );
    await storeInstances(index, blobs, files, { baseUrl: 'http://archive.test' });
    const uids = files.map((f) => readPart10(f).sopInstanceUID);

    const transactionUID = newUid();
    const now = Math.floor(Date.now() / 1000);
    await requests.create({
      transactionUID,
      target: { level: 'STUDY' },
      search: [['PatientID', patientID]],
      destination: destination.url,
      state: 'PENDING',
      completed: 0,
      failed: 0,
      warning: 0,
      createdAt: new Date().toISOString(),
      expiresAt: now + 3600,
      deleteAt: now + 7200,
    });

    // Throttled from here on: Resolve's manifest PutObject (S3 SlowDown), a Deliver's counters
    // (DynamoDB ProvisionedThroughputExceededException) and Finalize's final update.
    const slowDown = throttleOnce(
      s3,
      (name, input) => name === 'PutObjectCommand' && String(input.Key).endsWith('manifest.jsonl'),
      () =>
        new S3ServiceException({
          name: 'SlowDown',
          $fault: 'server',
          $metadata: { httpStatusCode: 503 },
          message: 'Please reduce your request rate.',
        }),
      'slowDown',
    );
    const throttled = (expression: string) => () =>
      throttleOnce(
        dynamodb,
        (name, input) => name === 'UpdateItemCommand' && String(input.UpdateExpression).startsWith(expression),
        () =>
          new ProvisionedThroughputExceededException({
            $metadata: { httpStatusCode: 400 },
            message: 'Rate of requests exceeds the allowed throughput.',
          }),
        `throttle ${expression}`,
      );
    const counters = throttled('ADD #r')();
    const finalize = throttled('SET #state = :state')();

    const tasks = new SendTasks({
      requests,
      index,
      blobs,
      search: new SearchService(index, { maxCandidates: 1000, defaultLimit: 100, maxLimit: 100 }),
      destinations: { load: async () => parseDestinationRegistry({ destinations: [{ url: destination.url, auth: { type: 'none' } }] }) },
    });
    const workflow = new LocalSendWorkflow(() => tasks, { batchSize: 3, maxConcurrency: 2 });
    const before = destination.stored.length;
    const executionId = await workflow.start({ transactionUID, destination: destination.url });
    await workflow.settled(executionId);
    await workflow.close();

    expect([slowDown.thrown(), counters.thrown(), finalize.thrown()]).toEqual([1, 1, 1]);
    expect(await workflow.describe(executionId)).toBe('SUCCEEDED');
    expect(await requests.get(transactionUID)).toMatchObject({
      state: 'COMPLETED',
      status: 0,
      remaining: 0,
      completed: 7,
      warning: 0,
      failed: 0,
    });
    expect(new Set(destination.stored.slice(before))).toEqual(new Set(uids));
    expect(await requests.batchOutcomes(transactionUID)).toHaveLength(3);
  }, 60_000);
});
