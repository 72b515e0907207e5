/**
 * The Failed SOP Instance UID List of a Send (Sup 248 Annex @, (0008,0058)) kept per Deliver batch in
 * objects (lambdas/send/outcomes.ts) and answered whole by Check Send Result, however many failed;
 * the send-request item holds the counters only. Over the memory adapters of test/support and over
 * the S3 and DynamoDB adapters on the emulators.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { newUid } from '../../../lambdas/dicom/uid';
import { SendService } from '../../../lambdas/dicomweb/send';
import { parseDestinationRegistry } from '../../../lambdas/send/destinations';
import { SendOutcomes } from '../../../lambdas/send/outcomes';
import { SendResponseTag, SendStatus } from '../../../lambdas/send/response-module';
import type { AwsClients } from '../../../lambdas/storage/clients';
import type { BlobStore, SendRequestStore } from '../../../lambdas/storage/ports';
import { S3BlobStore } from '../../../lambdas/storage/s3';
import { DynamoSendRequestStore } from '../../../lambdas/storage/send-requests';
import { sendRequestKey } from '../../../lambdas/storage/send-request-items';
import { useEmulators } from '../../support/emulators';
import { MemoryBlobStore } from '../../support/memory-blobs';
import { MemorySendRequestStore } from '../../support/memory-send-requests';

const BUCKET = 'archive-send-outcomes';
const TABLE = 'archive-send-outcomes';
const fixture = useEmulators({ name: 'send-outcomes', bucketName: BUCKET, tableName: TABLE });
let clients: AwsClients;
beforeAll(() => {
  ({ clients } = fixture());
});

const DEST = 'http://127.0.0.1:8043/dicom-web';
/** More than the 5,000 UIDs the list was once capped at, in batches of 10 as Deliver counts them. */
const BATCHES = 520;
const PER_BATCH = 10;
/** A UID of the longest length (64 characters, PS3.5 9.1). */
const longUid = (b: number, i: number) => `2.25.${b}.${i}.`.padEnd(64, '7');

const adapters: [string, () => { requests: SendRequestStore; blobs: BlobStore }][] = [
  ['memory adapters', () => ({ requests: new MemorySendRequestStore(), blobs: new MemoryBlobStore() })],
  [
    'S3 and DynamoDB adapters (emulators)',
    () => ({ requests: new DynamoSendRequestStore(clients.dynamodb, TABLE), blobs: new S3BlobStore(clients.s3, BUCKET) }),
  ],
];

describe.each(adapters)('Failed SOP Instance UID List over the %s', (name, make) => {
  it(`answers ${BATCHES * PER_BATCH} failed sub-operations whole, the send-request item staying small`, async () => {
    const { requests, blobs } = make();
    const outcomes = new SendOutcomes(requests, blobs);
    const transactionUID = newUid();
    const now = 1_700_000_000;
    await requests.create({
      transactionUID,
      target: { level: 'STUDY' },
      search: [['PatientID', 'MANY']],
      destination: DEST,
      state: 'PENDING',
      completed: 0,
      failed: 0,
      warning: 0,
      executionId: 'exec-1',
      createdAt: new Date(now * 1000).toISOString(),
      expiresAt: now + 3600,
      deleteAt: now + 7200,
    });
    const matched = BATCHES * PER_BATCH + 3;
    await requests.setMatched(transactionUID, matched);
    const failed: string[] = [];
    for (let b = 0; b < BATCHES; b += 20) {
      await Promise.all(
        Array.from({ length: 20 }, (_, k) => {
          const uids = Array.from({ length: PER_BATCH }, (_, i) => longUid(b + k, i));
          failed.push(...uids);
          const basis = { kind: 'http-status' as const, httpStatus: 409, attempts: 1 };
          return outcomes.record(transactionUID, `batch-${b + k}`, { completed: [], warning: [], failed: uids, bases: [basis] });
        }),
      );
    }
    await outcomes.record(transactionUID, 'batch-ok', { completed: ['2.25.1', '2.25.2'], warning: ['2.25.3'], failed: [], bases: [] });
    await requests.finish(transactionUID, { state: 'COMPLETED', status: SendStatus.Warning });

    const service = new SendService(
      requests,
      outcomes,
      { start: async () => 'exec-1', describe: async () => 'SUCCEEDED' },
      { load: async () => parseDestinationRegistry({ destinations: [{ url: DEST, auth: { type: 'none' } }] }) },
      { waitMs: 0, retryAfterSeconds: 1, resultTtlSeconds: 3600, tombstoneTtlSeconds: 3600 },
      () => now * 1000,
    );
    const answer = await service.checkSendResult({ target: { level: 'STUDY' }, transactionUID, accept: 'application/dicom+json' });
    expect(answer.status).toBe(200);
    const [module] = answer.payload as Record<string, { Value: unknown[] }>[];
    expect(module![SendResponseTag.Status]!.Value).toEqual([SendStatus.Warning]);
    expect(module![SendResponseTag.NumberOfFailedSuboperations]!.Value).toEqual([failed.length]);
    expect(module![SendResponseTag.NumberOfCompletedSuboperations]!.Value).toEqual([2]);
    expect(module![SendResponseTag.NumberOfWarningSuboperations]!.Value).toEqual([1]);
    const list = module![SendResponseTag.FailedSOPInstanceUIDList]!.Value as string[];
    expect(list).toHaveLength(failed.length);
    expect(new Set(list)).toEqual(new Set(failed));

    if (name.startsWith('S3')) {
      const key = sendRequestKey(transactionUID);
      const { Item } = await clients.dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { PK: { S: key.PK }, SK: { S: key.SK } } }));
      // Counters, search and times: well under 1 KB, against ~330 KB with 5,000 UIDs in the item.
      expect(JSON.stringify(Item).length).toBeLessThan(1024);
    }
  }, 120_000);
});
