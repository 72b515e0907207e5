/**
 * SendRequestStore over Amazon DynamoDB (or dynalite embedded): item SEND#{transactionUID} / #SEND of
 * the archive's table (table-schema.ts). Every change is one conditional UpdateItem with atomic ADD,
 * so concurrent Deliver batches count exactly without transactions (DESIGN.md, SEND-RS), and nothing
 * changes once Finalize or Fail has ended the request.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { ServiceUnavailableError } from '../dicomweb/errors';
import { callAws } from './aws-calls';
import { isDynamoUnavailable, type TableKey } from './dynamodb';
import { type Level, type SendCountersDelta, SendRequestNotFoundError, type SendRequestRecord, type SendRequestState, type SendRequestStore } from './ports';
import { TABLE_PARTITION_KEY, TTL_ATTRIBUTE } from './table-schema';

type Item = Record<string, unknown>;
type UpdateExpressions = Pick<
  UpdateCommandInput,
  'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
>;

/**
 * Most Failed SOP Instance UIDs (0008,0058) kept on the item: 5,000 UIDs of 64 characters stay well
 * under DynamoDB's 400 KB item limit. Beyond it the list stops growing; the counters stay exact.
 */
export const MAX_FAILED_SOP_INSTANCE_UIDS = 5000;

/** The record as this adapter stores it: the port's fields plus whether the failed UID list was cut. */
export interface StoredSendRequestRecord extends SendRequestRecord {
  /** True when more instances failed than MAX_FAILED_SOP_INSTANCE_UIDS: the list holds the first ones. */
  readonly failedSOPInstanceUIDsTruncated?: boolean;
}

export function sendRequestKey(transactionUID: string): TableKey {
  return { PK: `SEND#${transactionUID}`, SK: '#SEND' };
}

const PENDING: SendRequestState = 'PENDING';

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
    FailedSOPInstanceUIDs: [...r.failedSOPInstanceUIDs],
    Status: r.status,
    ExecutionId: r.executionId,
    CreatedAt: r.createdAt,
    ResultExpiresAt: r.expiresAt,
    [TTL_ATTRIBUTE]: r.deleteAt,
  };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

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
    failedSOPInstanceUIDs: Array.isArray(item.FailedSOPInstanceUIDs) ? (item.FailedSOPInstanceUIDs as string[]) : [],
    createdAt: item.CreatedAt as string,
    expiresAt: num(item.ResultExpiresAt) ?? 0,
    deleteAt: num(item[TTL_ATTRIBUTE]) ?? 0,
  };
  if (num(item.Remaining) !== undefined) record.remaining = num(item.Remaining);
  if (num(item.Status) !== undefined) record.status = num(item.Status);
  if (str(item.ExecutionId) !== undefined) record.executionId = str(item.ExecutionId);
  if (item.FailedSOPInstanceUIDsTruncated === true) record.failedSOPInstanceUIDsTruncated = true;
  return record;
}

/** Rounds of a read-then-conditional-write that lost races to other writers before giving up (503). */
const MAX_OPTIMISTIC_ATTEMPTS = 5;

export interface DynamoSendRequestStoreOptions {
  /** Cap of the failed UID list; tests lower it. */
  readonly maxFailedSOPInstanceUIDs?: number;
}

export class DynamoSendRequestStore implements SendRequestStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly maxFailed: number;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    options: DynamoSendRequestStoreOptions = {},
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.maxFailed = options.maxFailedSOPInstanceUIDs ?? MAX_FAILED_SOP_INSTANCE_UIDS;
  }

  async create(record: SendRequestRecord): Promise<boolean> {
    const put = new PutCommand({
      TableName: this.tableName,
      Item: sendRequestToItem(record),
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY },
    });
    return this.conditional(() => this.doc.send(put));
  }

  async get(transactionUID: string): Promise<StoredSendRequestRecord | undefined> {
    const out = await this.call(() =>
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: sendRequestKey(transactionUID), ConsistentRead: true })),
    );
    return out.Item ? sendRequestFromItem(out.Item) : undefined;
  }

  async setExecution(transactionUID: string, executionId: string): Promise<void> {
    const set = this.update(transactionUID, {
      UpdateExpression: 'SET #e = :e',
      ConditionExpression: 'attribute_exists(#pk)',
      ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY, '#e': 'ExecutionId' },
      ExpressionAttributeValues: { ':e': executionId },
    });
    // UpdateItem would otherwise create a bare item holding only the execution.
    if (!(await this.conditional(set))) throw new SendRequestNotFoundError(transactionUID);
  }

  setMatched(transactionUID: string, matched: number): Promise<boolean> {
    // PS3.4 C.4.2.3.1.1.4: Number of Remaining Sub-operations starts at the number of matches.
    return this.conditional(
      this.update(transactionUID, {
        UpdateExpression: 'SET #r = :r',
        ConditionExpression: '#state = :pending AND attribute_not_exists(#r)',
        ExpressionAttributeNames: { '#state': 'State', '#r': 'Remaining' },
        ExpressionAttributeValues: { ':pending': PENDING, ':r': matched },
      }),
    );
  }

  async addBatchOutcome(transactionUID: string, delta: SendCountersDelta, failedSOPInstanceUIDs: readonly string[]): Promise<boolean> {
    // Resolve sets Remaining before any Deliver runs; were it unset, ADD would count it down from 0.
    // Fast path: the whole batch's failures fit in the list.
    const room = this.maxFailed - failedSOPInstanceUIDs.length;
    if (room >= 0 && (await this.conditional(this.batchUpdate(transactionUID, delta, failedSOPInstanceUIDs, { atMost: room })))) {
      return true;
    }
    // Not pending any more, or the list is (nearly) full: append what fits at the size read now.
    for (let attempt = 0; attempt < MAX_OPTIMISTIC_ATTEMPTS; attempt++) {
      const current = await this.get(transactionUID);
      if (!current) throw new SendRequestNotFoundError(transactionUID);
      if (current.state !== PENDING) return false;
      const size = current.failedSOPInstanceUIDs.length;
      const fits = failedSOPInstanceUIDs.slice(0, Math.max(0, this.maxFailed - size));
      const truncated = fits.length < failedSOPInstanceUIDs.length;
      if (await this.conditional(this.batchUpdate(transactionUID, delta, fits, { exactly: size, truncated }))) return true;
    }
    throw new ServiceUnavailableError('send request kept changing, retry later');
  }

  async finish(
    transactionUID: string,
    outcome: { readonly state: 'COMPLETED' | 'FAILED'; readonly status: number; readonly failRemaining?: boolean },
  ): Promise<StoredSendRequestRecord> {
    const names = { '#state': 'State', '#status': 'Status' };
    const values = { ':pending': PENDING, ':state': outcome.state, ':status': outcome.status };
    for (let attempt = 0; attempt < MAX_OPTIMISTIC_ATTEMPTS; attempt++) {
      if (outcome.failRemaining) {
        // Fail: what has not been delivered counts as failed (PS3.4 C.4.2.3.1.1.4); an unset Remaining stays unset.
        const moved = await this.updateReturning(transactionUID, {
          UpdateExpression: 'SET #state = :state, #status = :status, #failed = #failed + #r, #r = :zero',
          ConditionExpression: '#state = :pending AND attribute_exists(#r)',
          ExpressionAttributeNames: { ...names, '#r': 'Remaining', '#failed': 'Failed' },
          ExpressionAttributeValues: { ...values, ':zero': 0 },
        });
        if (moved) return moved;
      }
      const ended = await this.updateReturning(transactionUID, {
        UpdateExpression: 'SET #state = :state, #status = :status',
        ConditionExpression: outcome.failRemaining ? '#state = :pending AND attribute_not_exists(#r)' : '#state = :pending',
        ExpressionAttributeNames: outcome.failRemaining ? { ...names, '#r': 'Remaining' } : names,
        ExpressionAttributeValues: values,
      });
      if (ended) return ended;
      const current = await this.get(transactionUID);
      if (!current) throw new SendRequestNotFoundError(transactionUID);
      // Already ended (a retried Finalize, or Fail after Finalize): the first outcome stands.
      if (current.state !== PENDING) return current;
      // Remaining was set between the two attempts: go again.
    }
    throw new ServiceUnavailableError('send request kept changing, retry later');
  }

  // -------------------------------------------------------------------------------------------

  private call<T>(fn: () => Promise<T>): Promise<T> {
    return callAws('DynamoDB', fn, isDynamoUnavailable);
  }

  /** Runs a conditional write; false when its condition failed. */
  private async conditional(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await this.call(write);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  private update(transactionUID: string, expression: UpdateExpressions) {
    return () => this.doc.send(new UpdateCommand({ TableName: this.tableName, Key: sendRequestKey(transactionUID), ...expression }));
  }

  /** A conditional update answering the item as stored afterwards, or undefined when the condition failed. */
  private async updateReturning(transactionUID: string, expression: UpdateExpressions): Promise<StoredSendRequestRecord | undefined> {
    try {
      const out = await this.call(() =>
        this.doc.send(
          new UpdateCommand({ TableName: this.tableName, Key: sendRequestKey(transactionUID), ReturnValues: 'ALL_NEW', ...expression }),
        ),
      );
      return sendRequestFromItem(out.Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /**
   * One Deliver batch as one UpdateItem: ADD the counters, Remaining -= the batch's sub-operations,
   * append the failed UIDs, while PENDING. The list guard is either "at most `atMost` entries now"
   * (so the append cannot overflow) or "exactly `exactly` entries" (the size the caller read).
   */
  private batchUpdate(
    transactionUID: string,
    delta: SendCountersDelta,
    failedUIDs: readonly string[],
    guard: { readonly atMost: number } | { readonly exactly: number; readonly truncated: boolean },
  ) {
    const names: Record<string, string> = { '#state': 'State', '#r': 'Remaining', '#c': 'Completed', '#w': 'Warning', '#f': 'Failed' };
    const values: Record<string, unknown> = {
      ':pending': PENDING,
      // PS3.4 C.4.2.3.1.1.4: each completed, warning or failed sub-operation is no longer remaining.
      ':done': -(delta.completed + delta.warning + delta.failed),
      ':c': delta.completed,
      ':w': delta.warning,
      ':f': delta.failed,
    };
    const sets: string[] = [];
    let condition = '#state = :pending';
    const listed = failedUIDs.length > 0 || 'exactly' in guard;
    if (listed) {
      names['#list'] = 'FailedSOPInstanceUIDs';
      if ('atMost' in guard) {
        values[':room'] = guard.atMost;
        condition += ' AND size(#list) <= :room';
      } else {
        values[':size'] = guard.exactly;
        condition += ' AND size(#list) = :size';
      }
      if (failedUIDs.length > 0) {
        values[':uids'] = [...failedUIDs];
        sets.push('#list = list_append(#list, :uids)');
      }
      if ('exactly' in guard && guard.truncated) {
        names['#cut'] = 'FailedSOPInstanceUIDsTruncated';
        values[':cut'] = true;
        sets.push('#cut = :cut');
      }
    }
    const update = `ADD #r :done, #c :c, #w :w, #f :f${sets.length > 0 ? ` SET ${sets.join(', ')}` : ''}`;
    return this.update(transactionUID, {
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
  }
}
