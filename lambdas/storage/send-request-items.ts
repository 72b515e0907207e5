/**
 * The items of a send request in the archive's table (table-schema.ts): SEND#{transactionUID} /
 * #SEND holding the request and its counters, SEND#{transactionUID} / BATCH#{batch} per counted
 * Deliver batch (Sup 248). Pure: the codec DynamoSendRequestStore reads and writes them with.
 */
import { num, str, type Item, type TableKey } from './dynamodb-items';
import type { Level, SendBatchRecord, SendRequestRecord, SendRequestState } from './ports';
import { TTL_ATTRIBUTE } from './table-schema';

/** The record as this adapter stores it (the port's record). */
export type StoredSendRequestRecord = SendRequestRecord;

/** The item of a send request: the request, its state and its counters. */
export function sendRequestKey(transactionUID: string): TableKey {
  return { PK: `SEND#${transactionUID}`, SK: '#SEND' };
}

/** The item of one counted Deliver batch of a send request, in the request's partition. */
export function sendBatchKey(transactionUID: string, batchId: string): TableKey {
  return { PK: `SEND#${transactionUID}`, SK: `${BATCH_PREFIX}${batchId}` };
}

/** Sort key prefix of the batch items in a request's partition. */
export const BATCH_PREFIX = 'BATCH#';

/** The state of a request no Finalize or Fail has ended. */
export const PENDING: SendRequestState = 'PENDING';

/** The item of a new send request. ExpiresAt (the TTL attribute) is deleteAt: the tombstone outlives the result. */
export function sendRequestToItem(r: SendRequestRecord): Item {
  return {
    ...sendRequestKey(r.transactionUID),
    TransactionUID: r.transactionUID,
    TargetLevel: r.target.level,
    StudyInstanceUID: r.target.studyInstanceUID,
    SeriesInstanceUID: r.target.seriesInstanceUID,
    Npi: r.target.npi,
    // Search values may be empty strings (universal matching): one JSON string keeps them intact.
    Search: JSON.stringify(r.search),
    Destination: r.destination,
    State: r.state,
    Remaining: r.remaining,
    Completed: r.completed,
    Failed: r.failed,
    Warning: r.warning,
    Status: r.status,
    ExecutionId: r.executionId,
    CreatedAt: r.createdAt,
    ResultExpiresAt: r.expiresAt,
    [TTL_ATTRIBUTE]: r.deleteAt,
  };
}

/** The record an item holds (inverse of sendRequestToItem). */
export function sendRequestFromItem(item: Item): StoredSendRequestRecord {
  const record: { -readonly [K in keyof StoredSendRequestRecord]: StoredSendRequestRecord[K] } = {
    transactionUID: item.TransactionUID as string,
    target: {
      level: item.TargetLevel as Level,
      ...(str(item.StudyInstanceUID) !== undefined && { studyInstanceUID: str(item.StudyInstanceUID) }),
      ...(str(item.SeriesInstanceUID) !== undefined && { seriesInstanceUID: str(item.SeriesInstanceUID) }),
      ...(str(item.Npi) !== undefined && { npi: str(item.Npi) }),
    },
    search: JSON.parse(item.Search as string) as [string, string][],
    destination: item.Destination as string,
    state: item.State as SendRequestState,
    completed: num(item.Completed) ?? 0,
    failed: num(item.Failed) ?? 0,
    warning: num(item.Warning) ?? 0,
    createdAt: item.CreatedAt as string,
    expiresAt: num(item.ResultExpiresAt) ?? 0,
    deleteAt: num(item[TTL_ATTRIBUTE]) ?? 0,
  };
  if (num(item.Remaining) !== undefined) record.remaining = num(item.Remaining);
  if (num(item.Status) !== undefined) record.status = num(item.Status);
  if (str(item.ExecutionId) !== undefined) record.executionId = str(item.ExecutionId);
  if (Array.isArray(item.FailedSOPInstanceUIDs) && item.FailedSOPInstanceUIDs.length > 0) {
    record.itemFailedSOPInstanceUIDs = item.FailedSOPInstanceUIDs as string[];
  }
  return record;
}

export function batchToItem(batch: SendBatchRecord): Item {
  return { BatchId: batch.batchId, Completed: batch.completed, Warning: batch.warning, Failed: batch.failed };
}

export function batchFromItem(item: Item): SendBatchRecord {
  return {
    batchId: item.BatchId as string,
    completed: num(item.Completed) ?? 0,
    warning: num(item.Warning) ?? 0,
    failed: num(item.Failed) ?? 0,
  };
}
