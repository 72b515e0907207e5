/**
 * The IAM harness's evaluator on the synthesized stack (test/support/iam/): it must deny what a role
 * lacks, the KMS use a key policy only delegates included, so the harness cannot pass on its own.
 */
import { describe, expect, it } from 'vitest';
import type { RecordedAwsCall } from '../../lambdas/storage/call-recorder';
import { Caller } from '../../lib/local/call-attribution';
import { LOCAL_BUCKET, LOCAL_TABLE } from '../../lib/local/archive';
import { archiveAccount } from '../support/iam/archive-account';
import { denials, iamRequests } from '../support/iam/evaluate';

const call = (caller: string, service: string, operation: string, input: Record<string, unknown>): RecordedAwsCall => ({
  caller,
  service,
  operation,
  input,
  region: 'us-east-1',
});

describe('IAM harness evaluator', () => {
  const { account, env } = archiveAccount();
  const dataKey = account.keys.get(`arn:aws:s3:::${LOCAL_BUCKET}`)!;
  const decide = async (calls: RecordedAwsCall[]) =>
    (await denials(iamRequests(calls, account), account)).map((d) => `${d.caller} ${d.action} ${d.resource.replace(dataKey, 'data key')}`);

  it('allows what the roles grant', async () => {
    const calls = [
      call('retrieve', 'S3', 'GetObject', { Bucket: LOCAL_BUCKET, Key: 'studies/1/series/2/instances/3.dcm' }),
      call('search', 'DynamoDB', 'Query', { TableName: LOCAL_TABLE, IndexName: 'ByUid' }),
      call(Caller.task('resolve'), 'S3', 'PutObject', { Bucket: LOCAL_BUCKET, Key: 'send-requests/1.2/manifest.jsonl' }),
      call('send', 'SFN', 'StartExecution', { stateMachineArn: env.SEND_STATE_MACHINE_ARN, name: 'send-1-2' }),
      call('send', 'SecretsManager', 'GetSecretValue', { SecretId: env.DESTINATIONS_SECRET_ARN }),
    ];
    expect(await decide(calls)).toEqual([]);
  });

  it('denies what a role lacks, with the KMS use its key policy only delegates', async () => {
    const calls = [
      call('capabilities', 'S3', 'GetObject', { Bucket: LOCAL_BUCKET, Key: 'studies/1/series/2/instances/3.dcm' }),
      call('search', 'S3', 'PutObject', { Bucket: LOCAL_BUCKET, Key: 'studies/x.dcm' }),
      call(Caller.task('resolve'), 'S3', 'PutObject', { Bucket: LOCAL_BUCKET, Key: 'studies/x.dcm' }),
      call('retrieve', 'DynamoDB', 'PutItem', { TableName: LOCAL_TABLE }),
      call('search', 'SFN', 'StartExecution', { stateMachineArn: env.SEND_STATE_MACHINE_ARN, name: 'n' }),
    ];
    expect((await decide(calls)).sort()).toEqual(
      [
        'capabilities s3:GetObject arn:aws:s3:::dicomweb-archive/studies/1/series/2/instances/3.dcm',
        'capabilities kms:Decrypt data key',
        'search s3:PutObject arn:aws:s3:::dicomweb-archive/studies/x.dcm',
        'search kms:GenerateDataKey data key',
        'send-resolve s3:PutObject arn:aws:s3:::dicomweb-archive/studies/x.dcm',
        'retrieve dynamodb:PutItem arn:aws:dynamodb:us-east-1:000000000000:table/dicomweb-archive',
        'search states:StartExecution ' + env.SEND_STATE_MACHINE_ARN,
      ].sort(),
    );
  });

  it('reports a caller that has no role in the template', async () => {
    const denied = await denials(
      iamRequests([call('cleanup', 'S3', 'DeleteObject', { Bucket: LOCAL_BUCKET, Key: 'k' })], account),
      account,
    );
    expect(denied.map((d) => d.decision)).toEqual(['no role in the template for this caller']);
  });
});
