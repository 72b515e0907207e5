/**
 * The IAM harness on the Lambda authorizer's role (auth=oidc, lib/constructs/auth.ts): it reads one API
 * key client or share link at a time from the clients table (a GetItem) and counts a share link's uses
 * (ShareLinkStore.recordUses, an UpdateItem of a share#... item), and nothing else: no object, no
 * archive table, no workflow, no secret, no scan of the clients and no write of a client's item. The embedded
 * runtime runs no authorizer (the functions verify credentials themselves), so its calls are the
 * ones ClientStore.get and a stray function would make, evaluated by the same policy engine.
 */
import { describe, expect, it } from 'vitest';
import type { RecordedAwsCall } from '../../../lambdas/storage/call-recorder';
import { LOCAL_BUCKET, LOCAL_CLIENTS_TABLE as CLIENTS_TABLE, LOCAL_TABLE } from '../../../lib/local/archive';
import { AUTHORIZER_CALLER, archiveAccount } from '../../support/iam/archive-account';
import { denials, describeDenials, iamRequests } from '../../support/iam/evaluate';

const call = (service: string, operation: string, input: Record<string, unknown>): RecordedAwsCall => ({
  caller: AUTHORIZER_CALLER,
  service,
  operation,
  input,
  region: 'us-east-1',
});

/** What the authorizer must never do: everything the DICOMweb functions do with the archive's data. */
const archiveCalls = (env: Readonly<Record<string, string>>) => [
  call('S3', 'GetObject', { Bucket: LOCAL_BUCKET, Key: 'studies/1/series/2/instances/3.dcm' }),
  call('S3', 'PutObject', { Bucket: LOCAL_BUCKET, Key: 'studies/1/series/2/instances/3.dcm' }),
  call('DynamoDB', 'GetItem', { TableName: LOCAL_TABLE }),
  call('DynamoDB', 'Query', { TableName: LOCAL_TABLE }),
  call('DynamoDB', 'PutItem', { TableName: LOCAL_TABLE }),
  call('SFN', 'StartExecution', { stateMachineArn: env.SEND_STATE_MACHINE_ARN, name: 'send-1-2' }),
  call('SecretsManager', 'GetSecretValue', { SecretId: env.DESTINATIONS_SECRET_ARN }),
];

describe("IAM harness: the authorizer's role", () => {
  it('reaches no object, no archive table, no workflow and no secret in the stack (auth=oidc)', async () => {
    const { account, env } = archiveAccount();
    expect(account.roles.has(AUTHORIZER_CALLER)).toBe(true);
    const requests = iamRequests(archiveCalls(env), account);
    const denied = await denials(requests, account);
    expect(denied.map((d) => `${d.action} ${d.resource}`).sort()).toEqual(requests.map((r) => `${r.action} ${r.resource}`).sort());
  });

  it('reads a client by key from the clients table, with its key, and nothing more', async () => {
    const { account } = archiveAccount();
    const get = call('DynamoDB', 'GetItem', { TableName: CLIENTS_TABLE, Key: { id: 'abc' }, ConsistentRead: true });
    const allowed = iamRequests([get], account);
    expect(allowed.map((r) => r.action).sort()).toEqual(['dynamodb:GetItem', 'kms:Decrypt']);
    expect(describeDenials(await denials(allowed, account))).toBe('');

    const refused = [
      call('DynamoDB', 'Scan', { TableName: CLIENTS_TABLE }),
      call('DynamoDB', 'PutItem', { TableName: CLIENTS_TABLE }),
      call('DynamoDB', 'UpdateItem', { TableName: CLIENTS_TABLE }),
      call('DynamoDB', 'DeleteItem', { TableName: CLIENTS_TABLE }),
      call('S3', 'GetObject', { Bucket: LOCAL_BUCKET, Key: 'studies/1/series/2/instances/3.dcm' }),
      call('DynamoDB', 'GetItem', { TableName: LOCAL_TABLE }),
    ];
    const denied = await denials(iamRequests(refused, account), account);
    expect(new Set(denied.filter((d) => !d.action.startsWith('kms:')).map((d) => `${d.action} ${d.resource.split(':').pop()}`))).toEqual(
      new Set([
        `dynamodb:Scan table/${CLIENTS_TABLE}`,
        `dynamodb:PutItem table/${CLIENTS_TABLE}`,
        `dynamodb:UpdateItem table/${CLIENTS_TABLE}`,
        `dynamodb:DeleteItem table/${CLIENTS_TABLE}`,
        `s3:GetObject ${LOCAL_BUCKET}/studies/1/series/2/instances/3.dcm`,
        `dynamodb:GetItem table/${LOCAL_TABLE}`,
      ]),
    );
  });

  it("reads a share link and counts its uses, but updates no client's item", async () => {
    const { account } = archiveAccount();
    const allowed = [
      call('DynamoDB', 'GetItem', { TableName: CLIENTS_TABLE, Key: { id: 'share#abcdefghijkl' }, ConsistentRead: true }),
      call('DynamoDB', 'UpdateItem', { TableName: CLIENTS_TABLE, Key: { id: 'share#abcdefghijkl' } }),
    ];
    expect(describeDenials(await denials(iamRequests(allowed, account), account))).toBe('');
    const refused = [
      call('DynamoDB', 'UpdateItem', { TableName: CLIENTS_TABLE, Key: { id: 'abcdefghijkl' } }),
      call('DynamoDB', 'UpdateItem', { TableName: CLIENTS_TABLE, Key: { id: { S: 'abcdefghijkl' } } }),
      call('DynamoDB', 'PutItem', { TableName: CLIENTS_TABLE, Key: { id: 'share#abcdefghijkl' } }),
    ];
    const denied = await denials(iamRequests(refused, account), account);
    // The plain and the marshalled key are one request (the same leading key).
    expect(denied.filter((d) => !d.action.startsWith('kms:')).map((d) => [d.action, d.context])).toEqual([
      ['dynamodb:UpdateItem', { 'dynamodb:LeadingKeys': ['abcdefghijkl'] }],
      ['dynamodb:PutItem', { 'dynamodb:LeadingKeys': ['share#abcdefghijkl'] }],
    ]);
  });
});
