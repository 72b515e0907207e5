/**
 * UploadStore over Amazon DynamoDB (or dynalite embedded): item UPLOAD#{uploadId} / #UPLOAD of the
 * archive's table (table-schema.ts), expiring by TTL on ExpiresAt (epoch seconds) as the send
 * requests do. TTL deletes within days, not at the second: a read treats an item past its expiry as
 * gone. A transition is one conditional UpdateItem on the state, so two completes racing move the
 * upload once. The Store's result is kept as a JSON string (one small module per upload).
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DicomJson } from '../dicom/json';
import { num, str, type Item, type TableKey } from './dynamodb-items';
import { DynamoTable } from './dynamodb-table';
import { AlreadyExistsError } from './errors';
import type { UploadRecord, UploadState, UploadStore } from './ports';
import { TABLE_PARTITION_KEY, TTL_ATTRIBUTE } from './table-schema';

export function uploadKey(uploadId: string): TableKey {
  return { PK: `UPLOAD#${uploadId}`, SK: '#UPLOAD' };
}

export class DynamoUploadStore implements UploadStore {
  private readonly table: DynamoTable;

  constructor(
    client: DynamoDBClient,
    tableName: string,
    private readonly now: () => number = Date.now,
  ) {
    this.table = new DynamoTable(client, tableName);
  }

  async create(record: UploadRecord): Promise<void> {
    try {
      // An item past its expiry that TTL has not deleted yet is gone for the port: its id is free.
      const put = new PutCommand({
        TableName: this.table.name,
        Item: toItem(record),
        ConditionExpression: 'attribute_not_exists(#pk) OR #ttl <= :now',
        ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY, '#ttl': TTL_ATTRIBUTE },
        ExpressionAttributeValues: { ':now': Math.floor(this.now() / 1000) },
      });
      await this.table.call(() => this.table.doc.send(put));
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new AlreadyExistsError(`upload ${record.uploadId} already exists`);
      throw error;
    }
  }

  async get(uploadId: string): Promise<UploadRecord | undefined> {
    const out = await this.table.call(() =>
      this.table.doc.send(new GetCommand({ TableName: this.table.name, Key: uploadKey(uploadId), ConsistentRead: true })),
    );
    if (!out.Item) return undefined;
    const record = fromItem(out.Item);
    return Date.parse(record.expiresAt) > this.now() ? record : undefined;
  }

  async transition(
    uploadId: string,
    from: readonly UploadState[],
    to: UploadState,
    fields: Partial<Pick<UploadRecord, 'storingSince' | 'result'>> = {},
  ): Promise<boolean> {
    if (from.length === 0) return false;
    const values: Record<string, unknown> = { ':to': to, ':now': Math.floor(this.now() / 1000) };
    from.forEach((state, i) => (values[`:from${i}`] = state));
    const sets = ['#state = :to'];
    const names: Record<string, string> = { '#pk': TABLE_PARTITION_KEY, '#state': 'State', '#ttl': TTL_ATTRIBUTE };
    if (fields.storingSince !== undefined) {
      sets.push('#storingSince = :storingSince');
      names['#storingSince'] = 'StoringSince';
      values[':storingSince'] = fields.storingSince;
    }
    if (fields.result !== undefined) {
      sets.push('#result = :result');
      names['#result'] = 'Result';
      values[':result'] = JSON.stringify(fields.result);
    }
    try {
      await this.table.call(() =>
        this.table.doc.send(
          new UpdateCommand({
            TableName: this.table.name,
            Key: uploadKey(uploadId),
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: `attribute_exists(#pk) AND #ttl > :now AND #state IN (${from.map((_, i) => `:from${i}`).join(', ')})`,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

function toItem(r: UploadRecord): Item {
  return {
    ...uploadKey(r.uploadId),
    UploadId: r.uploadId,
    ObjectKey: r.objectKey,
    MultipartUploadId: r.multipartUploadId,
    Size: r.size,
    PartSize: r.partSize,
    StudyInstanceUID: r.studyInstanceUID,
    CreatedBy: r.createdBy,
    State: r.state,
    CreatedAt: r.createdAt,
    UploadExpiresAt: r.expiresAt,
    [TTL_ATTRIBUTE]: Math.ceil(Date.parse(r.expiresAt) / 1000),
    StoringSince: r.storingSince,
    Result: r.result && JSON.stringify(r.result),
  };
}

function fromItem(item: Item): UploadRecord {
  const result = str(item.Result);
  return {
    uploadId: String(item.UploadId),
    objectKey: String(item.ObjectKey),
    multipartUploadId: String(item.MultipartUploadId),
    size: num(item.Size) ?? 0,
    partSize: num(item.PartSize) ?? 0,
    ...(str(item.StudyInstanceUID) !== undefined && { studyInstanceUID: str(item.StudyInstanceUID) }),
    createdBy: String(item.CreatedBy),
    state: item.State as UploadState,
    createdAt: String(item.CreatedAt),
    expiresAt: String(item.UploadExpiresAt),
    ...(str(item.StoringSince) !== undefined && { storingSince: str(item.StoringSince) }),
    ...(result !== undefined && { result: JSON.parse(result) as { status: number; response: DicomJson } }),
  };
}
