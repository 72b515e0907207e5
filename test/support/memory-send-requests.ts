/**
 * In-memory SendRequestStore with the semantics of the DynamoDB adapter
 * (lambdas/storage/send-requests.ts): conditional create, Remaining set once, each batch counted once
 * (its first outcome standing) and only while PENDING, finish moving Remaining to Failed. For unit
 * tests of pure logic only; test/integration/storage/send-requests.test.ts runs one
 * behavioural suite against both, so they cannot drift apart.
 */
import { type SendBatchRecord, SendRequestNotFoundError, type SendRequestRecord, type SendRequestStore } from '../../lambdas/storage/ports';
import type { StoredSendRequestRecord } from '../../lambdas/storage/send-request-items';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Stored = Mutable<StoredSendRequestRecord>;

export class MemorySendRequestStore implements SendRequestStore {
  private readonly records = new Map<string, Stored>();
  private readonly batches = new Map<string, Map<string, SendBatchRecord>>();

  async create(record: SendRequestRecord): Promise<boolean> {
    if (this.records.has(record.transactionUID)) return false;
    this.records.set(record.transactionUID, structuredClone(record));
    return true;
  }

  async get(transactionUID: string): Promise<StoredSendRequestRecord | undefined> {
    const r = this.records.get(transactionUID);
    return r ? structuredClone(r) : undefined;
  }

  async setExecution(transactionUID: string, executionId: string): Promise<void> {
    this.existing(transactionUID).executionId = executionId;
  }

  async setMatched(transactionUID: string, matched: number): Promise<boolean> {
    const r = this.records.get(transactionUID);
    if (!r || r.state !== 'PENDING' || r.remaining !== undefined) return false;
    r.remaining = matched;
    return true;
  }

  async addBatchOutcome(transactionUID: string, batch: SendBatchRecord): Promise<boolean> {
    const r = this.existing(transactionUID);
    if (r.state !== 'PENDING') return false;
    const batches = this.batches.get(transactionUID) ?? new Map<string, SendBatchRecord>();
    this.batches.set(transactionUID, batches);
    if (batches.has(batch.batchId)) return true;
    batches.set(batch.batchId, { ...batch });
    // As DynamoDB's ADD: an unset Remaining counts from 0.
    r.remaining = (r.remaining ?? 0) - (batch.completed + batch.warning + batch.failed);
    r.completed += batch.completed;
    r.warning += batch.warning;
    r.failed += batch.failed;
    return true;
  }

  async batchOutcome(transactionUID: string, batchId: string): Promise<SendBatchRecord | undefined> {
    const b = this.batches.get(transactionUID)?.get(batchId);
    return b ? { ...b } : undefined;
  }

  async batchOutcomes(transactionUID: string): Promise<SendBatchRecord[]> {
    return [...(this.batches.get(transactionUID)?.values() ?? [])].map((b) => ({ ...b }));
  }

  async finish(
    transactionUID: string,
    outcome: { readonly state: 'COMPLETED' | 'FAILED'; readonly status: number; readonly failRemaining?: boolean },
  ): Promise<StoredSendRequestRecord> {
    const r = this.existing(transactionUID);
    if (r.state === 'PENDING') {
      r.state = outcome.state;
      r.status = outcome.status;
      if (outcome.failRemaining && r.remaining !== undefined) {
        r.failed += r.remaining;
        r.remaining = 0;
      }
    }
    return structuredClone(r);
  }

  private existing(transactionUID: string): Stored {
    const r = this.records.get(transactionUID);
    if (!r) throw new SendRequestNotFoundError(transactionUID);
    return r;
  }
}
