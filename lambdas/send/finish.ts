/**
 * The Finalize and Fail tasks of the Send state machine (lib/send-workflow.ts): they end a send
 * request from its counters alone. Apart from Resolve (./resolve.ts) because they run as Lambda functions
 * of their own, once per Send and so nearly always from a cold start: they need the send-request item
 * only, not the search, the index or the Part 10 codec, so their start loads none of them.
 */
import { SendRequestNotFoundError, type SendRequestRecord, type SendRequestStore } from '../storage/ports';
import type { DicomJson } from '../dicom/json';
import { encodeSendRequestResponse, sendStatus } from './response-module';
import { failedOutcome, sendResponseOf } from './send-response';
import { retryableOnStorageFaults } from './task-errors';
import type { FailInput, FinalizeInput } from './workflow-io';

/** The send request a Task's input names; a Task for an unknown one is a fault of the workflow. */
export async function sendRequestOf(requests: SendRequestStore, transactionUID: string): Promise<SendRequestRecord> {
  const record = await requests.get(transactionUID);
  if (!record) throw new SendRequestNotFoundError(transactionUID);
  return record;
}

export class SendFinish {
  constructor(private readonly requests: SendRequestStore) {}

  /** Finalize: the final Status per PS3.4 C.4.2.3.1 from the counters; returns the module without the UID list. */
  finalize(input: FinalizeInput): Promise<DicomJson[]> {
    return retryableOnStorageFaults(() => this.finalizeFromCounters(input));
  }

  /**
   * Fail (the Catch of the whole run): remaining sub-operations count as failed; when the matches were
   * never determined the Status is A701 (unable to calculate number of matches).
   */
  fail(input: FailInput): Promise<void> {
    return retryableOnStorageFaults(() => this.failRemaining(input));
  }

  private async finalizeFromCounters(input: FinalizeInput): Promise<DicomJson[]> {
    const record = await sendRequestOf(this.requests, input.transactionUID);
    const counters = { remaining: record.remaining ?? 0, completed: record.completed, failed: record.failed, warning: record.warning };
    // A batch lost without being counted leaves Remaining > 0: those sub-operations count as failed.
    const final = await this.requests.finish(input.transactionUID, {
      state: 'COMPLETED',
      status: sendStatus({ ...counters, failed: counters.failed + counters.remaining, remaining: 0 }),
      failRemaining: counters.remaining > 0,
    });
    // The counters and Status only: Check Send Result answers the Failed SOP Instance UID List
    // (./outcomes.ts), which may be far larger than a state's 256 KiB of output.
    return encodeSendRequestResponse(sendResponseOf(final));
  }

  private async failRemaining(input: FailInput): Promise<void> {
    const record = await sendRequestOf(this.requests, input.transactionUID);
    if (record.state !== 'PENDING') return;
    await this.requests.finish(input.transactionUID, failedOutcome(record));
  }
}
