/**
 * The behaviours every SendRequestStore promises (lambdas/storage/ports.ts): create once, atomic batch
 * outcomes counted once per batch, nothing changed after the request ended (Sup 248, Check Send
 * Result). Run against every adapter: the in-memory one of test/support and DynamoDB on dynalite.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SendRequestNotFoundError, type SendRequestRecord, type SendRequestStore } from '../../lambdas/storage/ports';

let counter = 0;
/** A fresh Transaction UID per test, so tests sharing the table never see each other's items. */
export function uid(): string {
  return `2.25.${Date.now()}${++counter}`;
}

export function newRequest(overrides: Partial<SendRequestRecord> = {}): SendRequestRecord {
  return {
    transactionUID: uid(),
    target: {
      level: 'SERIES',
      studyInstanceUID: '1.2.840.1',
      seriesInstanceUID: '1.2.840.1.2',
    },
    search: [
      ['Modality', 'CT'],
      ['PatientName', ''],
    ],
    destination: 'https://pacs.example.org/dicomweb',
    state: 'PENDING',
    completed: 0,
    failed: 0,
    warning: 0,
    createdAt: '2026-01-02T03:04:05.000Z',
    expiresAt: 1_800_000_000,
    deleteAt: 1_900_000_000,
    ...overrides,
  };
}

/** One Deliver batch's counters. */
export const batch = (batchId: string, completed: number, warning: number, failed: number) => ({ batchId, completed, warning, failed });

export function describeSendRequestStoreContract(name: string, makeStore: () => SendRequestStore): void {
  describe(`${name} (SendRequestStore contract)`, () => {
    let store: SendRequestStore;
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
      await store.finish(ended.transactionUID, {
        state: 'COMPLETED',
        status: 0,
      });
      expect(await store.setMatched(ended.transactionUID, 3)).toBe(false);
      expect((await store.get(ended.transactionUID))?.remaining).toBeUndefined();
    });

    it('adds batch outcomes atomically: 10 concurrent batches account for every match', async () => {
      const r = await created();
      const matched = 40;
      await store.setMatched(r.transactionUID, matched);
      const batches = Array.from({ length: 10 }, (_, i) =>
        batch(`b${i}`, i % 3 === 0 ? 4 : 2, i % 3 === 1 ? 1 : 0, i % 3 === 0 ? 0 : i % 3 === 1 ? 1 : 2),
      );
      const outcomes = await Promise.all(batches.map((b) => store.addBatchOutcome(r.transactionUID, b)));
      expect(outcomes).toEqual(batches.map(() => true));

      const got = (await store.get(r.transactionUID))!;
      const sum = (k: 'completed' | 'warning' | 'failed') => batches.reduce((n, b) => n + b[k], 0);
      expect([got.completed, got.warning, got.failed]).toEqual([sum('completed'), sum('warning'), sum('failed')]);
      expect(got.remaining).toBe(matched - sum('completed') - sum('warning') - sum('failed'));
      expect(got.completed + got.warning + got.failed + got.remaining!).toBe(matched);
      expect((await store.batchOutcomes(r.transactionUID)).sort((a, b) => a.batchId.localeCompare(b.batchId))).toEqual(
        [...batches].sort((a, b) => a.batchId.localeCompare(b.batchId)),
      );
    });

    it('counts a batch once when Deliver runs again for it, the first outcome standing', async () => {
      const r = await created();
      await store.setMatched(r.transactionUID, 10);
      expect(await store.addBatchOutcome(r.transactionUID, batch('x', 3, 0, 1))).toBe(true);
      expect(await store.addBatchOutcome(r.transactionUID, batch('x', 4, 0, 0))).toBe(true);
      // Two runs at once (a Lambda invocation Step Functions retried while the first still ran).
      await Promise.all([
        store.addBatchOutcome(r.transactionUID, batch('y', 2, 1, 0)),
        store.addBatchOutcome(r.transactionUID, batch('y', 2, 1, 0)),
      ]);
      expect(await store.get(r.transactionUID)).toMatchObject({
        remaining: 3,
        completed: 5,
        warning: 1,
        failed: 1,
      });
      expect(await store.batchOutcome(r.transactionUID, 'x')).toEqual(batch('x', 3, 0, 1));
      expect(await store.batchOutcome(r.transactionUID, 'z')).toBeUndefined();
      expect(await store.batchOutcomes(r.transactionUID)).toHaveLength(2);
    });

    it('changes nothing once the request has ended', async () => {
      const r = await created();
      await store.setMatched(r.transactionUID, 5);
      await store.finish(r.transactionUID, {
        state: 'FAILED',
        status: 0xa702,
        failRemaining: true,
      });
      const before = await store.get(r.transactionUID);
      expect(await store.addBatchOutcome(r.transactionUID, batch('a', 1, 0, 1))).toBe(false);
      expect(await store.addBatchOutcome(r.transactionUID, batch('b', 2, 0, 0))).toBe(false);
      expect(await store.get(r.transactionUID)).toEqual(before);
    });

    it('finishes with the final Status, returning the stored record', async () => {
      const r = await created();
      await store.setMatched(r.transactionUID, 2);
      await store.addBatchOutcome(r.transactionUID, batch('a', 2, 0, 0));
      const done = await store.finish(r.transactionUID, {
        state: 'COMPLETED',
        status: 0x0000,
      });
      expect(done).toMatchObject({
        state: 'COMPLETED',
        status: 0,
        remaining: 0,
        completed: 2,
        failed: 0,
      });
      expect(await store.get(r.transactionUID)).toEqual(done);
    });

    it('with failRemaining counts what remains as failed', async () => {
      const r = await created();
      await store.setMatched(r.transactionUID, 10);
      await store.addBatchOutcome(r.transactionUID, batch('a', 3, 1, 1));
      const done = await store.finish(r.transactionUID, {
        state: 'FAILED',
        status: 0xb000,
        failRemaining: true,
      });
      expect(done).toMatchObject({
        state: 'FAILED',
        status: 0xb000,
        remaining: 0,
        completed: 3,
        warning: 1,
        failed: 6,
      });
    });

    it('with failRemaining leaves an unset Remaining unset (Resolve never counted)', async () => {
      const r = await created();
      const done = await store.finish(r.transactionUID, {
        state: 'FAILED',
        status: 0xa702,
        failRemaining: true,
      });
      expect(done.state).toBe('FAILED');
      expect(done.status).toBe(0xa702);
      expect(done.remaining).toBeUndefined();
      expect(done.failed).toBe(0);
    });

    it('keeps the first outcome when finished twice', async () => {
      const r = await created();
      await store.setMatched(r.transactionUID, 4);
      await store.finish(r.transactionUID, { state: 'COMPLETED', status: 0 });
      const again = await store.finish(r.transactionUID, {
        state: 'FAILED',
        status: 0xa702,
        failRemaining: true,
      });
      expect(again).toMatchObject({
        state: 'COMPLETED',
        status: 0,
        remaining: 4,
        failed: 0,
      });
      await expect(store.finish(uid(), { state: 'COMPLETED', status: 0 })).rejects.toBeInstanceOf(SendRequestNotFoundError);
    });
  });
}
