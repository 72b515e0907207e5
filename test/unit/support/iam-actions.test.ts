import { describe, expect, it } from 'vitest';
import type { RecordedAwsCall } from '../../../lambdas/storage/call-recorder';
import { iamRequestsOf } from '../../support/iam/iam-actions';

const call = (service: string, operation: string, input: Record<string, unknown>): RecordedAwsCall => ({
  caller: 'f',
  service,
  operation,
  input,
  region: 'us-east-1',
});
const table = 'arn:aws:dynamodb:us-east-1:000000000000:table/t';

describe('IAM requests of SDK calls (Service Authorization Reference)', () => {
  it('S3: HeadObject is s3:GetObject, DeleteObjects s3:DeleteObject per key, ListObjectsV2 s3:ListBucket on the bucket', () => {
    expect(iamRequestsOf(call('S3', 'HeadObject', { Bucket: 'b', Key: 'npi/x.dcm' }))).toEqual([
      { action: 's3:GetObject', resource: 'arn:aws:s3:::b/npi/x.dcm', kms: { of: 'arn:aws:s3:::b', action: 'kms:Decrypt' } },
    ]);
    const deleted = iamRequestsOf(call('S3', 'DeleteObjects', { Bucket: 'b', Delete: { Objects: [{ Key: 'a' }, { Key: 'c/d' }] } }));
    expect(deleted).toEqual([
      { action: 's3:DeleteObject', resource: 'arn:aws:s3:::b/a' },
      { action: 's3:DeleteObject', resource: 'arn:aws:s3:::b/c/d' },
    ]);
    expect(iamRequestsOf(call('S3', 'ListObjectsV2', { Bucket: 'b', Prefix: 'studies/' }))).toEqual([
      { action: 's3:ListBucket', resource: 'arn:aws:s3:::b' },
    ]);
    expect(iamRequestsOf(call('S3', 'PutObject', { Bucket: 'b', Key: 'k' }))[0]!.kms).toEqual({
      of: 'arn:aws:s3:::b',
      action: 'kms:GenerateDataKey',
    });
  });

  it('DynamoDB: a Query on an index names the index, a batch call each table, a transaction each item', () => {
    expect(iamRequestsOf(call('DynamoDB', 'Query', { TableName: 't', IndexName: 'ByUid' }))[0]!.resource).toBe(`${table}/index/ByUid`);
    expect(iamRequestsOf(call('DynamoDB', 'UpdateItem', { TableName: 't' }))[0]).toMatchObject({
      action: 'dynamodb:UpdateItem',
      resource: table,
    });
    const batch = iamRequestsOf(call('DynamoDB', 'BatchWriteItem', { RequestItems: { t: [], u: [] } }));
    expect(batch.map((r) => r.resource)).toEqual([table, 'arn:aws:dynamodb:us-east-1:000000000000:table/u']);
    const transaction = iamRequestsOf(
      call('DynamoDB', 'TransactWriteItems', { TransactItems: [{ Put: { TableName: 't' } }, { ConditionCheck: { TableName: 't' } }] }),
    );
    expect(transaction.map((r) => r.action)).toEqual(['dynamodb:PutItem', 'dynamodb:ConditionCheckItem']);
  });

  it('Step Functions, Secrets Manager and Lambda name their ARNs; an unknown service fails loudly', () => {
    const sm = 'arn:aws:states:us-east-1:000000000000:stateMachine:s';
    expect(iamRequestsOf(call('SFN', 'StartExecution', { stateMachineArn: sm, name: 'n' }))).toEqual([
      { action: 'states:StartExecution', resource: sm },
    ]);
    expect(iamRequestsOf(call('SecretsManager', 'GetSecretValue', { SecretId: 'arn:s' }))[0]).toMatchObject({
      action: 'secretsmanager:GetSecretValue',
      resource: 'arn:s',
    });
    expect(iamRequestsOf(call('Lambda', 'Invoke', { FunctionName: 'fn' }))).toEqual([
      { action: 'lambda:InvokeFunction', resource: 'arn:aws:lambda:us-east-1:000000000000:function:fn' },
    ]);
    expect(() => iamRequestsOf(call('SQS', 'SendMessage', {}))).toThrow(/no action mapping for SQS.SendMessage/);
  });
});
