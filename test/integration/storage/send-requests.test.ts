import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../../lambdas/storage/clients';
import { SendRequestNotFoundError, type SendRequestRecord } from '../../../lambdas/storage/ports';
import {
  DynamoSendRequestStore,
  MAX_FAILED_SOP_INSTANCE_UIDS,
  sendRequestKey,
  type StoredSendRequestRecord,
} from '../../../lambdas/storage/send-requests';
import { TTL_ATTRIBUTE } from '../../../lambdas/storage/table-schema';

import { MemorySendRequestStore } from '../../support/memory-send-requests';
import { useEmulators } from '../../support/emulators';

const TABLE = 'archive-send-requests-test';
/** A small cap so the truncation path runs without 5,000 UIDs; one test below checks the real cap. */
const SMALL_CAP = 6;

const fixture = useEmulators({ name: 'send-requests-adapter', bucketName: 'archive-send-requests-test', tableName: TABLE });
let clients: AwsClients;

beforeAll(() => {
  ({ clients } = fixture());
});

let counter = 0;
/** A fresh Transaction UID per test, so tests sharing the table never see each other's items. */
function uid(): string {
  return `2.25.${Date.now()}${++counter}`;
}

function sopUids(n: number, prefix = uid()): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}.${i + 1}`);
}

function newRequest(overrides: Partial<SendRequestRecord> = {}): SendRequestRecord {
  return {
    transactionUID: uid(),
    target: { level: 'SERIES', studyInstanceUID: '1.2.840.1', seriesInstanceUID: '1.2.840.1.2' },
    search: [
      ['Modality', 'CT'],
      ['PatientName', ''],
    ],
    destination: 'https://pacs.example.org/dicomweb',
    state: 'PENDING',
    completed: 0,
    failed: 0,
    warning: 0,
    failedSOPInstanceUIDs: [],
    createdAt: '2026-01-02T03:04:05.000Z',
    expiresAt: 1_800_000_000,
    deleteAt: 1_900_000_000,
    ...overrides,
  };
}

type Store = DynamoSendRequestStore | MemorySendRequestStore;
const stores: [string, (cap?: number) => Store][] = [
  ['DynamoSendRequestStore', (cap) => new DynamoSendRequestStore(clients.dynamodb, TABLE, { maxFailedSOPInstanceUIDs: cap })],
  ['MemorySendRequestStore', (cap) => new MemorySendRequestStore({ maxFailedSOPInstanceUIDs: cap })],
];

describe.each(stores)('%s (SendRequestStore contract)', (_name, makeStore) => {
  let store: Store;
  beforeAll(() => {
    store = makeStore();
  });

  async function created(overrides: Partial<SendRequestRecord> = {}): Promise<SendRequestRecord> {
    const r = newRequest(overrides);
    expect(await store.create(r)).toBe(true);
    return r;
  }

  it('creates once: a second create of the same Transaction UID answers false and changes nothing', async () => {
    const r = await created();
    expect(await store.create({ ...r, destination: 'https://other.example.org/' })).toBe(false);
    expect((await store.get(r.transactionUID))?.destination).toBe(r.destination);
  });

  it('round-trips every field', async () => {
    const r = newRequest({
      target: { level: 'STUDY', studyInstanceUID: '1.2.3' },
      remaining: 7,
      completed: 1,
      warning: 2,
      failed: 3,
      failedSOPInstanceUIDs: ['1.2.3.4', '1.2.3.5', '1.2.3.6'],
      status: 0xb000,
      executionId: 'arn:aws:states:us-east-1:123456789012:execution:send:x',
    });
    expect(await store.create(r)).toBe(true);
    expect(await store.get(r.transactionUID)).toEqual(r);

    const bare = await created({ target: { level: 'INSTANCE' }, search: [] });
    const got = await store.get(bare.transactionUID);
    expect(got).toEqual(bare);
    expect(got).not.toHaveProperty('remaining');
    expect(got).not.toHaveProperty('status');
    expect(got).not.toHaveProperty('executionId');
    expect(got?.target).toEqual({ level: 'INSTANCE' });
  });

  it('answers undefined for an unknown Transaction UID', async () => {
    expect(await store.get(uid())).toBeUndefined();
  });

  it('records the execution', async () => {
    const r = await created();
    await store.setExecution(r.transactionUID, 'exec-1');
    expect((await store.get(r.transactionUID))?.executionId).toBe('exec-1');
    await expect(store.setExecution(uid(), 'exec-2')).rejects.toBeInstanceOf(SendRequestNotFoundError);
  });

  it('sets the number of matches once, and only while pending', async () => {
    const r = await created();
    expect(await store.setMatched(r.transactionUID, 12)).toBe(true);
    expect(await store.setMatched(r.transactionUID, 99)).toBe(false);
    expect((await store.get(r.transactionUID))?.remaining).toBe(12);

    const ended = await created();
    await store.finish(ended.transactionUID, { state: 'COMPLETED', status: 0 });
    expect(await store.setMatched(ended.transactionUID, 3)).toBe(false);
    expect((await store.get(ended.transactionUID))?.remaining).toBeUndefined();
  });

  it('adds batch outcomes atomically: 10 concurrent batches account for every match', async () => {
    const r = await created();
    const matched = 40;
    await store.setMatched(r.transactionUID, matched);
    const batches = Array.from({ length: 10 }, (_, i) => ({
      completed: i % 3 === 0 ? 4 : 2,
      warning: i % 3 === 1 ? 1 : 0,
      failed: i % 3 === 0 ? 0 : i % 3 === 1 ? 1 : 2,
    }));
    const outcomes = await Promise.all(batches.map((b, i) => store.addBatchOutcome(r.transactionUID, b, sopUids(b.failed, `9.${i}`))));
    expect(outcomes).toEqual(batches.map(() => true));

    const got = (await store.get(r.transactionUID))!;
    const sum = (k: 'completed' | 'warning' | 'failed') => batches.reduce((n, b) => n + b[k], 0);
    expect([got.completed, got.warning, got.failed]).toEqual([sum('completed'), sum('warning'), sum('failed')]);
    expect(got.remaining).toBe(matched - sum('completed') - sum('warning') - sum('failed'));
    expect(got.completed + got.warning + got.failed + got.remaining!).toBe(matched);
    expect(got.failedSOPInstanceUIDs).toHaveLength(sum('failed'));
    expect(new Set(got.failedSOPInstanceUIDs).size).toBe(sum('failed'));
  });

  it('appends failed SOP Instance UIDs in the order the failures were counted', async () => {
    const r = await created();
    await store.setMatched(r.transactionUID, 10);
    await store.addBatchOutcome(r.transactionUID, { completed: 1, warning: 0, failed: 2 }, ['1.1', '1.2']);
    await store.addBatchOutcome(r.transactionUID, { completed: 3, warning: 0, failed: 0 }, []);
    await store.addBatchOutcome(r.transactionUID, { completed: 0, warning: 1, failed: 1 }, ['1.3']);
    const got = (await store.get(r.transactionUID))!;
    expect(got.failedSOPInstanceUIDs).toEqual(['1.1', '1.2', '1.3']);
    expect(got).toMatchObject({ remaining: 2, completed: 4, warning: 1, failed: 3 });
  });

  it('changes nothing once the request has ended', async () => {
    const r = await created();
    await store.setMatched(r.transactionUID, 5);
    await store.finish(r.transactionUID, { state: 'FAILED', status: 0xa702, failRemaining: true });
    const before = await store.get(r.transactionUID);
    expect(await store.addBatchOutcome(r.transactionUID, { completed: 1, warning: 0, failed: 1 }, ['2.1'])).toBe(false);
    expect(await store.addBatchOutcome(r.transactionUID, { completed: 2, warning: 0, failed: 0 }, [])).toBe(false);
    expect(await store.get(r.transactionUID)).toEqual(before);
  });

  it('finishes with the final Status, returning the stored record', async () => {
    const r = await created();
    await store.setMatched(r.transactionUID, 2);
    await store.addBatchOutcome(r.transactionUID, { completed: 2, warning: 0, failed: 0 }, []);
    const done = await store.finish(r.transactionUID, { state: 'COMPLETED', status: 0x0000 });
    expect(done).toMatchObject({ state: 'COMPLETED', status: 0, remaining: 0, completed: 2, failed: 0 });
    expect(await store.get(r.transactionUID)).toEqual(done);
  });

  it('with failRemaining counts what remains as failed', async () => {
    const r = await created();
    await store.setMatched(r.transactionUID, 10);
    await store.addBatchOutcome(r.transactionUID, { completed: 3, warning: 1, failed: 1 }, ['3.1']);
    const done = await store.finish(r.transactionUID, { state: 'FAILED', status: 0xb000, failRemaining: true });
    expect(done).toMatchObject({ state: 'FAILED', status: 0xb000, remaining: 0, completed: 3, warning: 1, failed: 6 });
    expect(done.failedSOPInstanceUIDs).toEqual(['3.1']);
  });

  it('with failRemaining leaves an unset Remaining unset (Resolve never counted)', async () => {
    const r = await created();
    const done = await store.finish(r.transactionUID, { state: 'FAILED', status: 0xa702, failRemaining: true });
    expect(done.state).toBe('FAILED');
    expect(done.status).toBe(0xa702);
    expect(done.remaining).toBeUndefined();
    expect(done.failed).toBe(0);
  });

  it('keeps the first outcome when finished twice', async () => {
    const r = await created();
    await store.setMatched(r.transactionUID, 4);
    await store.finish(r.transactionUID, { state: 'COMPLETED', status: 0 });
    const again = await store.finish(r.transactionUID, { state: 'FAILED', status: 0xa702, failRemaining: true });
    expect(again).toMatchObject({ state: 'COMPLETED', status: 0, remaining: 4, failed: 0 });
    await expect(store.finish(uid(), { state: 'COMPLETED', status: 0 })).rejects.toBeInstanceOf(SendRequestNotFoundError);
  });

  it('caps the failed UID list and notes the truncation, counters staying exact', async () => {
    const capped = makeStore(SMALL_CAP);
    const r = newRequest();
    await capped.create(r);
    await capped.setMatched(r.transactionUID, 20);
    await capped.addBatchOutcome(r.transactionUID, { completed: 0, warning: 0, failed: 4 }, ['4.1', '4.2', '4.3', '4.4']);
    expect((await capped.get(r.transactionUID))?.failedSOPInstanceUIDsTruncated).toBeUndefined();
    await capped.addBatchOutcome(r.transactionUID, { completed: 1, warning: 0, failed: 3 }, ['4.5', '4.6', '4.7']);
    await capped.addBatchOutcome(r.transactionUID, { completed: 0, warning: 0, failed: 1 }, ['4.8']);
    const got = (await capped.get(r.transactionUID)) as StoredSendRequestRecord;
    expect(got.failedSOPInstanceUIDs).toEqual(['4.1', '4.2', '4.3', '4.4', '4.5', '4.6']);
    expect(got.failedSOPInstanceUIDsTruncated).toBe(true);
    expect(got).toMatchObject({ failed: 8, completed: 1, remaining: 11 });
  });

  it('caps concurrent appends exactly at the limit', async () => {
    const capped = makeStore(SMALL_CAP);
    const r = newRequest();
    await capped.create(r);
    await capped.setMatched(r.transactionUID, 30);
    await Promise.all(
      Array.from({ length: 5 }, (_, i) => capped.addBatchOutcome(r.transactionUID, { completed: 0, warning: 0, failed: 2 }, sopUids(2, `5.${i}`))),
    );
    const got = (await capped.get(r.transactionUID)) as StoredSendRequestRecord;
    expect(got.failedSOPInstanceUIDs).toHaveLength(SMALL_CAP);
    expect(new Set(got.failedSOPInstanceUIDs).size).toBe(SMALL_CAP);
    expect(got.failedSOPInstanceUIDsTruncated).toBe(true);
    expect(got).toMatchObject({ failed: 10, remaining: 20 });
  });
});

describe('DynamoSendRequestStore item', () => {
  it('carries the TTL attribute ExpiresAt = deleteAt, keyed SEND#{transactionUID} / #SEND', async () => {
    const store = new DynamoSendRequestStore(clients.dynamodb, TABLE);
    const r = newRequest();
    await store.create(r);
    const { Item } = await clients.dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { PK: { S: `SEND#${r.transactionUID}` }, SK: { S: '#SEND' } } }));
    expect(sendRequestKey(r.transactionUID)).toEqual({ PK: `SEND#${r.transactionUID}`, SK: '#SEND' });
    expect(Item?.[TTL_ATTRIBUTE]).toEqual({ N: String(r.deleteAt) });
    expect(Item?.Remaining).toBeUndefined();
  });

  it(`holds ${MAX_FAILED_SOP_INSTANCE_UIDS} failed UIDs of 64 characters within the item size limit`, async () => {
    const store = new DynamoSendRequestStore(clients.dynamodb, TABLE);
    const r = newRequest();
    await store.create(r);
    await store.setMatched(r.transactionUID, MAX_FAILED_SOP_INSTANCE_UIDS + 10);
    const longUid = (i: number) => `1.2.${String(i).padStart(6, '0')}.`.padEnd(64, '9');
    const failed = Array.from({ length: MAX_FAILED_SOP_INSTANCE_UIDS + 10 }, (_, i) => longUid(i));
    const n = failed.length;
    expect(await store.addBatchOutcome(r.transactionUID, { completed: 0, warning: 0, failed: n }, failed)).toBe(true);
    const got = (await store.get(r.transactionUID))!;
    expect(got.failedSOPInstanceUIDs).toEqual(failed.slice(0, MAX_FAILED_SOP_INSTANCE_UIDS));
    expect(got.failedSOPInstanceUIDsTruncated).toBe(true);
    expect(got).toMatchObject({ failed: n, remaining: 0 });
  });
});
