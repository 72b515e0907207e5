/**
 * In-memory SendRequestStore with the semantics of the DynamoDB adapter
 * (lambdas/storage/send-requests.ts): conditional create, Remaining set once, atomic batch outcomes
 * only while PENDING, the failed UID list capped with a truncation flag, finish moving Remaining to
 * Failed. For unit tests of pure logic only (DESIGN.md); test/integration/storage/send-requests.test.ts
 * runs one behavioural suite against both, so they cannot drift apart.
 */
import { type SendCountersDelta, SendRequestNotFoundError, type SendRequestRecord, type SendRequestStore } from '../../lambdas/storage/ports';
import { MAX_FAILED_SOP_INSTANCE_UIDS, type StoredSendRequestRecord } from '../../lambdas/storage/send-requests';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Stored = Mutable<StoredSendRequestRecord> & { failedSOPInstanceUIDs: string[] };

export class MemorySendRequestStore implements SendRequestStore {
  private readonly records = new Map<string, Stored>();
  private readonly maxFailed: number;

  constructor(options: { readonly maxFailedSOPInstanceUIDs?: number } = {}) {
    this.maxFailed = options.maxFailedSOPInstanceUIDs ?? MAX_FAILED_SOP_INSTANCE_UIDS;
  }

  async create(record: SendRequestRecord): Promise<boolean> {
    if (this.records.has(record.transactionUID)) return false;
    this.records.set(record.transactionUID, { ...structuredClone(record), failedSOPInstanceUIDs: [...record.failedSOPInstanceUIDs] });
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

  async addBatchOutcome(transactionUID: string, delta: SendCountersDelta, failedSOPInstanceUIDs: readonly string[]): Promise<boolean> {
    const r = this.existing(transactionUID);
    if (r.state !== 'PENDING') return false;
    // As DynamoDB's ADD: an unset Remaining counts from 0.
    r.remaining = (r.remaining ?? 0) - (delta.completed + delta.warning + delta.failed);
    r.completed += delta.completed;
    r.warning += delta.warning;
    r.failed += delta.failed;
    const fits = failedSOPInstanceUIDs.slice(0, Math.max(0, this.maxFailed - r.failedSOPInstanceUIDs.length));
    r.failedSOPInstanceUIDs.push(...fits);
    if (fits.length < failedSOPInstanceUIDs.length) r.failedSOPInstanceUIDsTruncated = true;
    return true;
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
