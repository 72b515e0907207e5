/**
 * SendRequestStore over Amazon DynamoDB (or dynalite embedded): item SEND#{transactionUID} / #SEND of
 * the archive's table (table-schema.ts), counters only, so it stays small however many sub-operations
 * fail (their UIDs are objects in S3, lambdas/send/outcomes.ts); and one item SEND#{transactionUID} /
 * BATCH#{batch} per Deliver batch. Counters change by conditional UpdateItem with atomic ADD, so
 * concurrent batches count exactly without transactions, and nothing changes once Finalize or Fail has
 * ended the request. A batch is counted once (see addBatchOutcome) however often Deliver runs for it.
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { StorageUnavailableError } from './errors';
import { str, type Item, type TableKey } from './dynamodb-items';
import { DynamoTable } from './dynamodb-table';
import { type SendBatchRecord, SendRequestNotFoundError, type SendRequestRecord, type SendRequestStore } from './ports';
import {
  BATCH_PREFIX,
  batchFromItem,
  batchToItem,
  PENDING,
  sendBatchKey,
  sendRequestFromItem,
  sendRequestKey,
  sendRequestToItem,
  type StoredSendRequestRecord,
} from './send-request-items';
import { TABLE_PARTITION_KEY, TABLE_SORT_KEY, TTL_ATTRIBUTE } from './table-schema';

type UpdateExpressions = Pick<
  UpdateCommandInput,
  'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
>;

/** Rounds of a read-then-conditional-write lost to other writers before StorageUnavailableError. */
const MAX_OPTIMISTIC_ATTEMPTS = 5;

export class DynamoSendRequestStore implements SendRequestStore {
  private readonly table: DynamoTable;

  constructor(client: DynamoDBClient, tableName: string) {
    this.table = new DynamoTable(client, tableName);
  }

  create(record: SendRequestRecord): Promise<boolean> {
    return this.table.putIfAbsent(sendRequestToItem(record));
  }

  async get(transactionUID: string): Promise<StoredSendRequestRecord | undefined> {
    const out = await this.table.call(() =>
      this.table.doc.send(new GetCommand({ TableName: this.table.name, Key: sendRequestKey(transactionUID), ConsistentRead: true })),
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

  /**
   * Counts a batch once, without transactions, in four steps each safe to repeat:
   *   (1) the batch item, conditional put: the first outcome recorded for the batch stands;
   *   (2) the counters ADDed and the request item's attribute Applying#{batch} set to this run's id,
   *       unless that attribute exists (an earlier run counted and has not marked the batch yet);
   *   (3) the batch item marked Applied by the run whose (2) counted it;
   *   (4) Applying#{batch} removed.
   * A Deliver run again after a crash between two steps resumes at the next, adopting the earlier
   * run's (2). Two runs at once (a Lambda invocation retried while the first still ran) that both
   * passed (2) meet at (3): the one not marked takes its counters back.
   */
  async addBatchOutcome(transactionUID: string, batch: SendBatchRecord): Promise<boolean> {
    const request = await this.get(transactionUID);
    if (!request) throw new SendRequestNotFoundError(transactionUID);
    if (request.state !== PENDING) return false;
    const run = randomUUID();
    const created = await this.table.putIfAbsent({
      ...sendBatchKey(transactionUID, batch.batchId),
      ...batchToItem(batch),
      Applied: false,
      [TTL_ATTRIBUTE]: request.deleteAt,
    });
    const recorded = created ? { ...batch, applied: false } : await this.batchItem(transactionUID, batch.batchId);
    if (!recorded) throw new SendRequestNotFoundError(transactionUID);
    let applier = recorded.appliedBy;
    if (!recorded.applied) {
      if (await this.conditional(this.applyBatch(transactionUID, recorded, run))) applier = run;
      else {
        const current = await this.item(transactionUID);
        if (!current) throw new SendRequestNotFoundError(transactionUID);
        if (current.State !== PENDING) return false;
        // Counted by an earlier run not yet marked, or marked since this run read the batch item.
        applier = str(current[applyingAttribute(batch.batchId)]) ?? (await this.batchItem(transactionUID, batch.batchId))?.appliedBy;
        if (!applier) throw new StorageUnavailableError('send request kept changing, retry later');
      }
      // The counts of the batch item: what (2) added, whichever run recorded them.
      applier = await this.markApplied(transactionUID, recorded, applier, run);
    }
    // (4): only the marker of the run that counted; a later run's marker is its own to remove.
    if (applier === undefined) return true;
    await this.conditional(
      this.update(transactionUID, {
        UpdateExpression: 'REMOVE #applying',
        ConditionExpression: '#applying = :applier',
        ExpressionAttributeNames: { '#applying': applyingAttribute(batch.batchId) },
        ExpressionAttributeValues: { ':applier': applier },
      }),
    );
    return true;
  }

  /**
   * Step (3): marks the batch applied by `applier`, unless another run's counting is marked already;
   * then, if `applier` is this run, its counters go back. Answers the run whose counting stands.
   */
  private async markApplied(
    transactionUID: string,
    batch: SendBatchRecord,
    applier: string | undefined,
    run: string,
  ): Promise<string | undefined> {
    const key = sendBatchKey(transactionUID, batch.batchId);
    const marked = await this.conditional(
      this.update(
        transactionUID,
        {
          UpdateExpression: 'SET #a = :t, #by = :applier',
          ConditionExpression: '#a = :f OR #by = :applier',
          ExpressionAttributeNames: { '#a': 'Applied', '#by': 'AppliedBy' },
          ExpressionAttributeValues: { ':t': true, ':f': false, ':applier': applier },
        },
        key,
      ),
    );
    if (marked) return applier;
    const standing = (await this.batchItem(transactionUID, batch.batchId))?.appliedBy;
    if (applier === run) {
      await this.conditional(
        this.update(transactionUID, {
          UpdateExpression: 'ADD #r :done, #c :c, #w :w, #f :f REMOVE #applying',
          ConditionExpression: '#applying = :run',
          ExpressionAttributeNames: batchCounterNames(batch),
          ExpressionAttributeValues: batchCounterValues(batch, -1, run),
        }),
      );
    }
    return standing;
  }

  async batchOutcome(transactionUID: string, batchId: string): Promise<SendBatchRecord | undefined> {
    const recorded = await this.batchItem(transactionUID, batchId);
    if (!recorded) return undefined;
    return batchFromItem(batchToItem(recorded));
  }

  async batchOutcomes(transactionUID: string): Promise<SendBatchRecord[]> {
    const batches: SendBatchRecord[] = [];
    const items = this.table.queryRaw({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :batch)',
      ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY, '#sk': TABLE_SORT_KEY },
      ExpressionAttributeValues: { ':pk': sendRequestKey(transactionUID).PK, ':batch': BATCH_PREFIX },
      ConsistentRead: true,
    });
    for await (const item of items) batches.push(batchFromItem(item));
    return batches;
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
    throw new StorageUnavailableError('send request kept changing, retry later');
  }

  // -------------------------------------------------------------------------------------------

  /** Runs a conditional write; false when its condition failed. */
  private async conditional(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await this.table.call(write);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  private update(transactionUID: string, expression: UpdateExpressions, key: TableKey = sendRequestKey(transactionUID)) {
    return () => this.table.doc.send(new UpdateCommand({ TableName: this.table.name, Key: key, ...expression }));
  }

  /** A conditional update answering the item as stored afterwards, or undefined when the condition failed. */
  private async updateReturning(transactionUID: string, expression: UpdateExpressions): Promise<StoredSendRequestRecord | undefined> {
    try {
      const out = await this.table.call(() =>
        this.table.doc.send(
          new UpdateCommand({ TableName: this.table.name, Key: sendRequestKey(transactionUID), ReturnValues: 'ALL_NEW', ...expression }),
        ),
      );
      return sendRequestFromItem(out.Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /**
   * Step (2) of addBatchOutcome: ADD the counters, Remaining -= the batch's sub-operations, this run's
   * id into Applying#{batch}; while PENDING and unless that attribute exists. Resolve sets Remaining
   * before any Deliver runs; were it unset, ADD would count it down from 0.
   */
  private applyBatch(transactionUID: string, batch: SendBatchRecord, run: string) {
    return this.update(transactionUID, {
      UpdateExpression: 'ADD #r :done, #c :c, #w :w, #f :f SET #applying = :run',
      ConditionExpression: '#state = :pending AND attribute_not_exists(#applying)',
      ExpressionAttributeNames: { '#state': 'State', ...batchCounterNames(batch) },
      ExpressionAttributeValues: { ':pending': PENDING, ...batchCounterValues(batch, 1, run) },
    });
  }

  private async item(transactionUID: string): Promise<Item | undefined> {
    const out = await this.table.call(() =>
      this.table.doc.send(new GetCommand({ TableName: this.table.name, Key: sendRequestKey(transactionUID), ConsistentRead: true })),
    );
    return out.Item;
  }

  private async batchItem(
    transactionUID: string,
    batchId: string,
  ): Promise<(SendBatchRecord & { applied: boolean; appliedBy?: string }) | undefined> {
    const out = await this.table.call(() =>
      this.table.doc.send(new GetCommand({ TableName: this.table.name, Key: sendBatchKey(transactionUID, batchId), ConsistentRead: true })),
    );
    if (!out.Item) return undefined;
    return { ...batchFromItem(out.Item), applied: out.Item.Applied === true, appliedBy: str(out.Item.AppliedBy) };
  }
}

/** The request item's attribute naming the run that counted a batch not yet marked Applied. */
function applyingAttribute(batchId: string): string {
  return `Applying#${batchId}`;
}

/** The counters of the send-request item and a batch's run marker, as the counting updates name them. */
function batchCounterNames(batch: SendBatchRecord): Record<string, string> {
  return { '#r': 'Remaining', '#c': 'Completed', '#w': 'Warning', '#f': 'Failed', '#applying': applyingAttribute(batch.batchId) };
}

/**
 * What a batch adds to the counters (sign 1) or takes back (-1), with the counting run's id. PS3.4
 * C.4.2.3.1.1.4: each completed, warning or failed sub-operation is no longer remaining.
 */
function batchCounterValues(batch: SendBatchRecord, sign: 1 | -1, run: string): Record<string, unknown> {
  return {
    ':done': -sign * (batch.completed + batch.warning + batch.failed),
    ':c': sign * batch.completed,
    ':w': sign * batch.warning,
    ':f': sign * batch.failed,
    ':run': run,
  };
}
