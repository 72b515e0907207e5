/**
 * What IAM authorizes for each recorded SDK call (Service Authorization Reference): the action and the
 * resource ARN as they are in the account, and the KMS use implied by a customer managed key on the
 * bucket, table or secret. Operations not listed map to `{prefix}:{Operation}` on the service's usual
 * resource, so a new call is checked rather than skipped.
 */
import type { RecordedAwsCall } from '../../../lambdas/storage/call-recorder';

/** The account every resolved ARN of the harness names (lambdas' emulator credentials have none). */
export const ACCOUNT = '000000000000';

export interface IamRequest {
  readonly action: string;
  readonly resource: string;
  /** The bucket, table or secret whose encryption key this request uses, and how (SSE-KMS). */
  readonly kms?: { readonly of: string; readonly action: 'kms:Decrypt' | 'kms:GenerateDataKey' };
  /** Condition keys the request carries (DynamoDB's dynamodb:LeadingKeys of a one-item call). */
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
}

const str = (v: unknown, what: string): string => {
  if (typeof v !== 'string' || v === '') throw new Error(`recorded call without ${what}`);
  return v;
};

function s3(call: RecordedAwsCall): IamRequest[] {
  const bucket = str(call.input.Bucket, 'Bucket');
  const bucketArn = `arn:aws:s3:::${bucket}`;
  const object = (key: unknown) => `${bucketArn}/${str(key, 'Key')}`;
  const read = (key: unknown): IamRequest => ({
    action: 's3:GetObject',
    resource: object(key),
    kms: { of: bucketArn, action: 'kms:Decrypt' },
  });
  const write = (key: unknown): IamRequest => ({
    action: 's3:PutObject',
    resource: object(key),
    kms: { of: bucketArn, action: 'kms:GenerateDataKey' },
  });
  switch (call.operation) {
    case 'GetObject':
    case 'HeadObject':
      return [read(call.input.Key)];
    case 'PutObject':
    case 'CreateMultipartUpload':
    case 'UploadPart':
    case 'CompleteMultipartUpload':
      return [write(call.input.Key)];
    case 'ListParts':
      // ListParts is authorized as s3:ListMultipartUploadParts on the object (Service Authorization Reference).
      return [{ action: 's3:ListMultipartUploadParts', resource: object(call.input.Key) }];
    case 'UploadPartCopy':
    case 'CopyObject': {
      // CopySource is "bucket/key" (URL-encoded); the copy reads the source and writes the target.
      const source = decodeURIComponent(str(call.input.CopySource, 'CopySource')).replace(/^\//, '');
      const sourceBucket = `arn:aws:s3:::${source.split('/')[0]}`;
      return [
        { action: 's3:GetObject', resource: `arn:aws:s3:::${source}`, kms: { of: sourceBucket, action: 'kms:Decrypt' } },
        write(call.input.Key),
      ];
    }
    case 'DeleteObject':
      return [{ action: 's3:DeleteObject', resource: object(call.input.Key) }];
    case 'DeleteObjects': {
      // DeleteObjects is authorized per key as s3:DeleteObject (S3 API reference, DeleteObjects).
      const objects = (call.input.Delete as { Objects?: { Key?: string }[] } | undefined)?.Objects ?? [];
      return objects.map((o) => ({ action: 's3:DeleteObject', resource: object(o.Key) }));
    }
    case 'ListObjectsV2':
    case 'ListObjects':
    case 'HeadBucket':
      return [{ action: 's3:ListBucket', resource: bucketArn }];
    default:
      return [{ action: `s3:${call.operation}`, resource: call.input.Key === undefined ? bucketArn : object(call.input.Key) }];
  }
}

const DYNAMODB_READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);

function dynamodb(call: RecordedAwsCall): IamRequest[] {
  const tableArn = (name: unknown) => `arn:aws:dynamodb:${call.region}:${ACCOUNT}:table/${str(name, 'TableName')}`;
  // DynamoDB decrypts the table key with the caller's permission on reads and writes alike.
  const request = (action: string, table: unknown, index?: unknown): IamRequest => ({
    action: `dynamodb:${action}`,
    resource: index === undefined ? tableArn(table) : `${tableArn(table)}/index/${str(index, 'IndexName')}`,
    kms: { of: tableArn(table), action: 'kms:Decrypt' },
  });
  switch (call.operation) {
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys((call.input.RequestItems as object | undefined) ?? {}).map((table) => request(call.operation, table));
    case 'TransactWriteItems':
    case 'TransactGetItems': {
      // Each item of a transaction is authorized as its own action (PutItem, UpdateItem, ...).
      const items = (call.input.TransactItems as Record<string, { TableName?: string }>[] | undefined) ?? [];
      const names: Record<string, string> = {
        Put: 'PutItem',
        Update: 'UpdateItem',
        Delete: 'DeleteItem',
        ConditionCheck: 'ConditionCheckItem',
        Get: 'GetItem',
      };
      return items.flatMap((item) => Object.entries(item).map(([kind, op]) => request(names[kind] ?? kind, op.TableName)));
    }
    default: {
      const one = request(call.operation, call.input.TableName, DYNAMODB_READS.has(call.operation) ? call.input.IndexName : undefined);
      const leading = leadingKey(call.input.Key);
      return [leading === undefined ? one : { ...one, context: { 'dynamodb:LeadingKeys': [leading] } }];
    }
  }
}

/**
 * The partition key value of a one-item call's Key (dynamodb:LeadingKeys): `PK` of the archive's
 * table, the only attribute of the clients table's; plain or marshalled ({ S: ... }).
 */
function leadingKey(key: unknown): string | undefined {
  if (!key || typeof key !== 'object') return undefined;
  const attributes = key as Record<string, unknown>;
  const names = Object.keys(attributes);
  const value = attributes.PK ?? (names.length === 1 ? attributes[names[0]!] : undefined);
  if (typeof value === 'string') return value;
  const s = (value as { S?: unknown } | undefined)?.S;
  return typeof s === 'string' ? s : undefined;
}

function sfn(call: RecordedAwsCall): IamRequest[] {
  const resource = call.input.executionArn ?? call.input.stateMachineArn ?? call.input.mapRunArn;
  return [{ action: `states:${call.operation}`, resource: str(resource, 'a state machine or execution ARN') }];
}

function secretsManager(call: RecordedAwsCall): IamRequest[] {
  const secret = str(call.input.SecretId, 'SecretId');
  return [{ action: `secretsmanager:${call.operation}`, resource: secret, kms: { of: secret, action: 'kms:Decrypt' } }];
}

function lambda(call: RecordedAwsCall): IamRequest[] {
  const name = str(call.input.FunctionName, 'FunctionName');
  const resource = name.startsWith('arn:') ? name : `arn:aws:lambda:${call.region}:${ACCOUNT}:function:${name}`;
  return [{ action: call.operation === 'Invoke' ? 'lambda:InvokeFunction' : `lambda:${call.operation}`, resource }];
}

const SERVICES: Record<string, (call: RecordedAwsCall) => IamRequest[]> = {
  S3: s3,
  DynamoDB: dynamodb,
  SFN: sfn,
  SecretsManager: secretsManager,
  Lambda: lambda,
};

/** The IAM requests of one recorded call; an unknown service fails loudly (teach it here). */
export function iamRequestsOf(call: RecordedAwsCall): IamRequest[] {
  const map = SERVICES[call.service];
  if (!map) throw new Error(`IAM harness: no action mapping for ${call.service}.${call.operation} (test/support/iam/iam-actions.ts)`);
  return map(call);
}
