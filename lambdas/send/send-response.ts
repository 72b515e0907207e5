/**
 * The Send Request Response Module (Sup 248 Annex @) of a tracked send request: Pending with the
 * counters so far while the request runs, the final Status and Failed SOP Instance UID List after.
 */
import type { SendRequestRecord } from '../storage/ports';
import { SendStatus, type SendRequestResponse } from './response-module';

export function sendResponseOf(record: SendRequestRecord): SendRequestResponse {
  const { completed, failed, warning } = record;
  if (record.state === 'PENDING') {
    // Before Resolve has counted the matches, nothing is known to remain yet.
    return { status: SendStatus.Pending, remaining: record.remaining ?? 0, completed, failed, warning };
  }
  const status = record.status ?? SendStatus.UnableToPerformSubOperations;
  const base = { status, completed, failed, warning };
  return failed > 0 && record.failedSOPInstanceUIDs.length > 0
    ? { ...base, failedSOPInstanceUIDList: [...record.failedSOPInstanceUIDs] }
    : base;
}
