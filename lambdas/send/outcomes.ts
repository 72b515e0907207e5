/**
 * What the Deliver batches of a Send request ended with. Counters live in the send-request item
 * (SendRequestStore, one small item however large the Send); the SOP Instance UIDs that failed or
 * warned live in one object per batch (send-requests/{transactionUID}/outcomes/{batch}.json,
 * lambdas/storage/keys.ts), read back when a final Send Request Response Module is answered, so the
 * Failed SOP Instance UID List (0008,0058) has no cap (Sup 248 Annex @, PS3.4 C.4.2.3.1.1.4).
 *
 * A batch is named by its content, so a Deliver that Step Functions runs again for the same batch
 * (a retry) finds it recorded and counts nothing twice.
 */
import { createHash } from 'node:crypto';
import { sendOutcomeKey } from '../storage/keys';
import type { BlobStore, SendRequestStore } from '../storage/ports';
import type { OutcomeBasis } from './counters';
import type { ManifestItem } from './workflow-io';

/** A Deliver batch, every instance settled once; `bases` say how, per request or association (log-safe). */
export interface SettledBatch {
  readonly completed: readonly string[];
  readonly warning: readonly string[];
  readonly failed: readonly string[];
  readonly bases: readonly OutcomeBasis[];
}

/** The object of one batch: its failed and warning SOP Instance UIDs, and how that was decided. */
type OutcomeObject = Omit<SettledBatch, 'completed'>;

/** Batch objects read at once when a list is assembled. */
const READ_CONCURRENCY = 16;

/**
 * The id of a batch: a digest of its manifest items, in order. The same batch handed to Deliver again
 * has the same id; batches of one manifest are disjoint, so two never share one.
 */
export function batchIdOf(items: readonly ManifestItem[]): string {
  const hash = createHash('sha256');
  for (const i of items) hash.update(`${i.npi ?? ''}/${i.studyInstanceUID}/${i.seriesInstanceUID}/${i.sopInstanceUID}\n`);
  return hash.digest('base64url').slice(0, 32);
}

export class SendOutcomes {
  constructor(
    private readonly requests: SendRequestStore,
    private readonly blobs: BlobStore,
  ) {}

  /**
   * For a Deliver run again: when an earlier run recorded the batch, its counting is completed (the
   * first outcome standing) and the answer is true: nothing to send.
   */
  async resume(transactionUID: string, batchId: string): Promise<boolean> {
    const recorded = await this.requests.batchOutcome(transactionUID, batchId);
    if (!recorded) return false;
    await this.requests.addBatchOutcome(transactionUID, recorded);
    return true;
  }

  /**
   * Records a settled batch: its lists first (when any), then its counters, once. A crash in between
   * leaves an object no counter names yet; the retried Deliver writes it again and counts.
   */
  async record(transactionUID: string, batchId: string, outcome: SettledBatch): Promise<boolean> {
    if (outcome.failed.length > 0 || outcome.warning.length > 0) {
      const object: OutcomeObject = { failed: outcome.failed, warning: outcome.warning, bases: outcome.bases };
      await this.blobs.put(sendOutcomeKey(transactionUID, batchId), Buffer.from(JSON.stringify(object)), 'application/json');
    }
    return this.requests.addBatchOutcome(transactionUID, {
      batchId,
      completed: outcome.completed.length,
      warning: outcome.warning.length,
      failed: outcome.failed.length,
    });
  }

  /** Failed SOP Instance UID List (0008,0058): the failed UIDs of every counted batch, whole. */
  async failedSOPInstanceUIDs(transactionUID: string): Promise<string[]> {
    return (await this.failures(transactionUID)).sopInstanceUIDs;
  }

  /**
   * The failed UIDs of every counted batch, and how many of them the destination refused as too large
   * (HTTP 413 to a request of that one instance).
   */
  async failures(transactionUID: string): Promise<{ sopInstanceUIDs: string[]; tooLarge: number }> {
    const withFailures = (await this.requests.batchOutcomes(transactionUID)).filter((b) => b.failed > 0);
    const lists: string[][] = [];
    let tooLarge = 0;
    for (let i = 0; i < withFailures.length; i += READ_CONCURRENCY) {
      const objects = await Promise.all(
        withFailures.slice(i, i + READ_CONCURRENCY).map((b) => this.blobs.get(sendOutcomeKey(transactionUID, b.batchId))),
      );
      for (const bytes of objects) {
        if (!bytes) continue;
        const object = JSON.parse(Buffer.from(bytes).toString('utf8')) as OutcomeObject;
        lists.push([...object.failed]);
        tooLarge += (object.bases ?? []).reduce((n, basis) => n + refusedAsTooLarge(basis), 0);
      }
    }
    return { sopInstanceUIDs: lists.flat(), tooLarge };
  }
}

/**
 * Instances a basis says the destination refused as too large: a 413 is split down to one instance
 * (./stow-client.ts), so each 413 that is not split further is one instance.
 */
function refusedAsTooLarge(basis: OutcomeBasis): number {
  switch (basis.kind) {
    case 'split':
    case 'separate':
      return basis.parts.reduce((n, part) => n + refusedAsTooLarge(part), 0);
    case 'http-status':
    case 'response-module':
      return basis.httpStatus === 413 ? 1 : 0;
    default:
      return 0;
  }
}
