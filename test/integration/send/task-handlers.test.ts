/**
 * The Lambda entries of the Send state machine's Tasks (lib/send-workflow.ts sendTaskFunctions), each
 * wired from the environment as in AWS (lambdas/handlers/send-resolve.ts, deliver.ts, send-finish.ts),
 * over the embedded S3 and DynamoDB: Resolve writes the manifest and counts the matches, Deliver sends
 * each batch to a DICOMweb destination and counts its sub-operations, Finalize answers the Send Request
 * Response Module (Sup 248, PS3.4 C.4.2.3.1). Each builds only what its task needs; this is where
 * their wiring runs.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPart10 } from '../../../lambdas/dicom/part10';
import { newUid } from '../../../lambdas/dicom/uid';
import { DeleteService } from '../../../lambdas/dicomweb/delete';
import { SendOutcomes } from '../../../lambdas/send/outcomes';
import { SendResponseTag, SendStatus } from '../../../lambdas/send/response-module';
import { DynamoMetadataIndex } from '../../../lambdas/storage/dynamodb';
import type { SendRequestRecord } from '../../../lambdas/storage/ports';
import { S3BlobStore } from '../../../lambdas/storage/s3';
import { DynamoSendRequestStore } from '../../../lambdas/storage/send-requests';
import { makeInstance } from '../../support/dicom-factory';
import { useEmulators } from '../../support/emulators';
import { startFakeDestination, type FakeDestination } from '../../support/fake-destination';
import { storeInstances } from '../../support/seed';

const BUCKET = 'archive-send-task-handlers';
const TABLE = 'archive-send-task-handlers';
const fixture = useEmulators({ name: 'send-task-handlers', bucketName: BUCKET, tableName: TABLE });

let destination: FakeDestination;
let dir: string;
let handlers: typeof import('../../../lambdas/handlers/send-resolve') &
  typeof import('../../../lambdas/handlers/deliver') &
  typeof import('../../../lambdas/handlers/send-finish');
let requests: DynamoSendRequestStore;
let index: DynamoMetadataIndex;
let blobs: S3BlobStore;

beforeAll(async () => {
  const { emulators, clients } = fixture();
  destination = await startFakeDestination();
  dir = await mkdtemp(path.join(tmpdir(), 'send-task-handlers-'));
  const destinationsFile = path.join(dir, 'destinations.json');
  await writeFile(destinationsFile, JSON.stringify({ destinations: [{ url: destination.url, auth: { type: 'none' } }] }));
  // The environment a Task function gets from lib/constructs (config read once, on the first call).
  Object.assign(process.env, {
    BUCKET_NAME: BUCKET,
    TABLE_NAME: TABLE,
    AWS_REGION: 'us-east-1',
    S3_ENDPOINT: emulators.s3Endpoint,
    DYNAMODB_ENDPOINT: emulators.dynamodbEndpoint,
    DESTINATIONS_FILE: destinationsFile,
  });
  handlers = {
    ...(await import('../../../lambdas/handlers/send-resolve')),
    ...(await import('../../../lambdas/handlers/deliver')),
    ...(await import('../../../lambdas/handlers/send-finish')),
  };
  requests = new DynamoSendRequestStore(clients.dynamodb, TABLE);
  index = new DynamoMetadataIndex(clients.dynamodb, TABLE, 4);
  blobs = new S3BlobStore(clients.s3, BUCKET);
});

afterAll(async () => {
  await destination?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A study of `count` instances of a patient of its own, stored through the Store service. */
async function storedStudy(count: number) {
  const patientID = `TASKS-${newUid().slice(-10)}`;
  const studyInstanceUID = newUid();
  const seriesInstanceUID = newUid();
  const files = Array.from({ length: count }, () =>
    makeInstance({ patientID, studyInstanceUID, seriesInstanceUID, approximateBytes: 2_000 }),
  );
  await storeInstances(index, blobs, files, { baseUrl: 'http://archive.test' });
  return { patientID, studyInstanceUID, seriesInstanceUID, uids: files.map((f) => readPart10(f).sopInstanceUID) };
}

async function sendRequest(patientID: string, url = destination.url): Promise<SendRequestRecord> {
  const record: SendRequestRecord = {
    transactionUID: newUid(),
    target: { level: 'STUDY' },
    search: [['PatientID', patientID]],
    destination: url,
    state: 'PENDING',
    completed: 0,
    failed: 0,
    warning: 0,
    createdAt: new Date().toISOString(),
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
    deleteAt: Math.floor(Date.now() / 1000) + 7200,
  };
  expect(await requests.create(record)).toBe(true);
  return record;
}

describe('Send Task Lambda entries, wired from the environment', () => {
  it('Resolve, Deliver per batch and Finalize send every match and answer Status 0000', async () => {
    const study = await storedStudy(5);
    const record = await sendRequest(study.patientID);
    const before = destination.stored.length;

    const resolved = await handlers.resolve({ transactionUID: record.transactionUID, batchSize: 2 });
    expect(resolved.matched).toBe(5);
    expect(resolved.batches!.map((b) => b.length)).toEqual([2, 2, 1]);
    for (const Items of resolved.batches!) {
      await handlers.deliver({ Items, BatchInput: { transactionUID: record.transactionUID, destination: destination.url } });
    }
    const [module] = await handlers.finalize({ transactionUID: record.transactionUID });

    expect(new Set(destination.stored.slice(before))).toEqual(new Set(study.uids));
    expect(module![SendResponseTag.Status]?.Value).toEqual([SendStatus.Success]);
    expect(await requests.get(record.transactionUID)).toMatchObject({
      state: 'COMPLETED',
      remaining: 0,
      completed: 5,
      failed: 0,
      warning: 0,
    });
  });

  it('Deliver counts an instance deleted since Resolve as a failed sub-operation, and sends the rest', async () => {
    const study = await storedStudy(3);
    const record = await sendRequest(study.patientID);
    const before = destination.stored.length;
    const resolved = await handlers.resolve({ transactionUID: record.transactionUID, batchSize: 10 });
    const [gone, ...kept] = study.uids;
    await new DeleteService(index, blobs).deleteInstance({ ...study, sopInstanceUID: gone! });

    await handlers.deliver({
      Items: resolved.batches![0]!,
      BatchInput: { transactionUID: record.transactionUID, destination: destination.url },
    });
    const [module] = await handlers.finalize({ transactionUID: record.transactionUID });

    expect(new Set(destination.stored.slice(before))).toEqual(new Set(kept));
    expect(module![SendResponseTag.Status]?.Value).toEqual([SendStatus.Warning]);
    expect(module![SendResponseTag.NumberOfCompletedSuboperations]?.Value).toEqual([2]);
    expect(module![SendResponseTag.NumberOfFailedSuboperations]?.Value).toEqual([1]);
    expect(await new SendOutcomes(requests, blobs).failedSOPInstanceUIDs(record.transactionUID)).toEqual([gone]);
  });

  it('Deliver streams a ~50 MB instance from S3 to the destination, which receives it byte-identical', async () => {
    const study = await storedStudy(2);
    const large = makeInstance({
      patientID: study.patientID,
      studyInstanceUID: study.studyInstanceUID,
      seriesInstanceUID: study.seriesInstanceUID,
      approximateBytes: 50_000_000,
    });
    const sop = readPart10(large, { bulkDataAbove: 0 }).sopInstanceUID;
    await storeInstances(index, blobs, [large], { baseUrl: 'http://archive.test' });
    const record = await sendRequest(study.patientID);
    const resolved = await handlers.resolve({ transactionUID: record.transactionUID, batchSize: 10 });
    const before = destination.requests;
    await handlers.deliver({
      Items: resolved.batches![0]!,
      BatchInput: { transactionUID: record.transactionUID, destination: destination.url },
    });
    // The two small ones together, the large one on a request of its own.
    expect(destination.requests - before).toBe(2);
    expect(destination.digests.get(sop)).toBe(createHash('sha256').update(large).digest('hex'));
    expect(await requests.get(record.transactionUID)).toMatchObject({ remaining: 0, completed: 3, failed: 0, warning: 0 });
  }, 120_000);

  it('Deliver refuses a destination the registry does not hold, before any outbound request', async () => {
    const study = await storedStudy(1);
    const outside = 'http://127.0.0.1:9/dicomweb';
    const record = await sendRequest(study.patientID, outside);
    const resolved = await handlers.resolve({ transactionUID: record.transactionUID, batchSize: 10 });
    const requestsBefore = destination.requests;

    await expect(
      handlers.deliver({ Items: resolved.batches![0]!, BatchInput: { transactionUID: record.transactionUID, destination: outside } }),
    ).rejects.toThrow(/registry|destination/i);
    expect(destination.requests).toBe(requestsBefore);
    expect(await requests.get(record.transactionUID)).toMatchObject({ completed: 0, failed: 0, remaining: 1 });
  });

  it('Deliver splits a batch a gateway-fronted destination answers 413, down to one instance, which alone fails', async () => {
    const study = await storedStudy(4);
    const large = makeInstance({
      patientID: study.patientID,
      studyInstanceUID: study.studyInstanceUID,
      seriesInstanceUID: study.seriesInstanceUID,
      approximateBytes: 12_000,
    });
    await storeInstances(index, blobs, [large], { baseUrl: 'http://archive.test' });
    const record = await sendRequest(study.patientID);
    const resolved = await handlers.resolve({ transactionUID: record.transactionUID, batchSize: 10 });
    expect(resolved.matched).toBe(5);
    const before = { stored: destination.stored.length, requests: destination.requests };
    // Two ~2 KB instances per request at most; the large one never fits.
    destination.behaviour = { kind: 'limit', maxBytes: 5_000 };
    try {
      await handlers.deliver({
        Items: resolved.batches![0]!,
        BatchInput: { transactionUID: record.transactionUID, destination: destination.url },
      });
    } finally {
      destination.behaviour = { kind: 'ok' };
    }
    expect(new Set(destination.stored.slice(before.stored))).toEqual(new Set(study.uids));
    expect(destination.requests - before.requests).toBeGreaterThan(2);
    const [module] = await handlers.finalize({ transactionUID: record.transactionUID });
    expect(module![SendResponseTag.Status]?.Value).toEqual([SendStatus.Warning]);
    expect(await requests.get(record.transactionUID)).toMatchObject({ completed: 4, failed: 1, remaining: 0 });
  });

  it('Deliver run twice for one batch (a retried Task) sends and counts it once', async () => {
    const study = await storedStudy(3);
    const record = await sendRequest(study.patientID);
    const resolved = await handlers.resolve({ transactionUID: record.transactionUID, batchSize: 10 });
    const input = { Items: resolved.batches![0]!, BatchInput: { transactionUID: record.transactionUID, destination: destination.url } };
    const before = destination.requests;
    await handlers.deliver(input);
    await handlers.deliver(input);
    expect(destination.requests - before).toBe(1);
    expect(await requests.get(record.transactionUID)).toMatchObject({ remaining: 0, completed: 3, failed: 0, warning: 0 });
    expect(await requests.batchOutcomes(record.transactionUID)).toHaveLength(1);
  });
});
