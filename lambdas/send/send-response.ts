/**
 * The Send Request Response Module (Sup 248 Annex @) of a tracked send request: Pending with the
 * counters so far while the request runs, the final Status and Failed SOP Instance UID List after
 * (assembled by ./outcomes.ts).
 */
import type { SendRequestRecord } from '../storage/ports';
import { SendStatus, sendStatus, type SendRequestResponse } from './response-module';

export function sendResponseOf(
  record: SendRequestRecord,
  failedSOPInstanceUIDs: readonly string[] = [],
  errorComment?: string,
): SendRequestResponse {
  const { completed, failed, warning } = record;
  if (record.state === 'PENDING') {
    // Before Resolve has counted the matches, nothing is known to remain yet.
    return { status: SendStatus.Pending, remaining: record.remaining ?? 0, completed, failed, warning };
  }
  const status = record.status ?? SendStatus.UnableToPerformSubOperations;
  const base = { status, completed, failed, warning, ...(failed > 0 && errorComment ? { errorComment } : {}) };
  return failed > 0 && failedSOPInstanceUIDs.length > 0 ? { ...base, failedSOPInstanceUIDList: [...failedSOPInstanceUIDs] } : base;
}

/** Error Comment (0000,0902) for instances the destination refused as too large (LO: 64 characters). */
export function tooLargeComment(tooLarge: number): string | undefined {
  if (tooLarge === 0) return undefined;
  return `${tooLarge} ${tooLarge === 1 ? 'instance' : 'instances'} too large for the destination (HTTP 413)`;
}

/**
 * How a pending request ends when its run fails (the workflow's Catch, or an execution the workflow
 * service ended without it): the remaining sub-operations count as failed and the Status follows
 * PS3.4 C.4.2.3.1 from the counters; A701 when the matches were never counted.
 */
export function failedOutcome(record: SendRequestRecord): { state: 'FAILED'; status: number; failRemaining?: boolean } {
  if (record.remaining === undefined) return { state: 'FAILED', status: SendStatus.UnableToCalculateMatches };
  const { completed, warning } = record;
  return {
    state: 'FAILED',
    status: sendStatus({ remaining: 0, completed, warning, failed: record.failed + record.remaining }),
    failRemaining: true,
  };
}
