/**
 * The IAM harness on the upload function's role (group `upload`, lambdas/handlers/upload.ts): the
 * calls UploadService makes through its adapters, as they make them (lambdas/storage/s3-direct-transfer.ts,
 * s3.ts, dynamodb-uploads.ts, and the Store rules' calls of store.ts), evaluated against the synthesized
 * role by the policy engine. They are written out here rather than recorded by the workload of
 * iam-harness.test.ts: s3rver lacks ListParts and AbortMultipartUpload, so an upload cannot run to
 * its end on the emulators. The presigned part URLs carry the role's own s3:PutObject (UploadPart).
 */
import { describe, expect, it } from 'vitest';
import type { RecordedAwsCall } from '../../../lambdas/storage/call-recorder';
import { LOCAL_BUCKET, LOCAL_TABLE } from '../../../lib/local/archive';
import { archiveAccount } from '../../support/iam/archive-account';
import { denials, describeDenials, iamRequests } from '../../support/iam/evaluate';

const call = (service: string, operation: string, input: Record<string, unknown>): RecordedAwsCall => ({
  caller: 'upload',
  service,
  operation,
  input,
  region: 'us-east-1',
});

const UPLOAD_KEY = 'uploads/AAAAAAAAAAAAAAAAAAAAAA.dcm';
const INSTANCE_KEY = 'studies/1.2/series/1.2.3/instances/1.2.3.4.0123456789abcdef-01234567.dcm';
const METADATA_KEY = 'studies/1.2/series/1.2.3/instances/1.2.3.4.0123456789abcdef-01234567.json';
const Bucket = LOCAL_BUCKET;
const TableName = LOCAL_TABLE;
const item = { PK: 'UPLOAD#AAAAAAAAAAAAAAAAAAAAAA', SK: '#UPLOAD' };

/** Create, status, parts (presigned as UploadPart), complete and the Store rules, abort. */
const uploadCalls = [
  call('S3', 'CreateMultipartUpload', { Bucket, Key: UPLOAD_KEY, ContentType: 'application/dicom' }),
  call('DynamoDB', 'PutItem', { TableName, Item: item }),
  call('DynamoDB', 'GetItem', { TableName, Key: item, ConsistentRead: true }),
  call('S3', 'ListParts', { Bucket, Key: UPLOAD_KEY, UploadId: 'x' }),
  call('S3', 'UploadPart', { Bucket, Key: UPLOAD_KEY, UploadId: 'x', PartNumber: 1 }),
  call('DynamoDB', 'UpdateItem', { TableName, Key: item }),
  call('S3', 'CompleteMultipartUpload', { Bucket, Key: UPLOAD_KEY, UploadId: 'x' }),
  call('S3', 'GetObject', { Bucket, Key: UPLOAD_KEY }),
  // The Store rules: the instance looked up, its study and series ensured, the copy, the metadata, the entry.
  call('DynamoDB', 'Query', { TableName, IndexName: 'ByUid' }),
  call('DynamoDB', 'BatchGetItem', { RequestItems: { [TableName]: {} } }),
  call('S3', 'HeadObject', { Bucket, Key: UPLOAD_KEY }),
  call('S3', 'CopyObject', { Bucket, Key: INSTANCE_KEY, CopySource: `${Bucket}/${UPLOAD_KEY}` }),
  call('S3', 'UploadPartCopy', { Bucket, Key: INSTANCE_KEY, CopySource: `${Bucket}/${UPLOAD_KEY}`, UploadId: 'y', PartNumber: 1 }),
  call('S3', 'PutObject', { Bucket, Key: METADATA_KEY }),
  call('DynamoDB', 'PutItem', { TableName, Item: { PK: 'STUDY#1.2', SK: 'INSTANCE#1.2.3#1.2.3.4' } }),
  call('S3', 'GetObject', { Bucket, Key: INSTANCE_KEY }),
  call('S3', 'DeleteObjects', { Bucket, Delete: { Objects: [{ Key: INSTANCE_KEY }, { Key: METADATA_KEY }] } }),
  call('S3', 'DeleteObjects', { Bucket, Delete: { Objects: [{ Key: UPLOAD_KEY }] } }),
  call('S3', 'AbortMultipartUpload', { Bucket, Key: UPLOAD_KEY, UploadId: 'x' }),
];

describe("IAM harness: the upload function's role", () => {
  it('allows every call of the upload path and of the Store rules it applies', async () => {
    const { account } = archiveAccount();
    expect(account.roles.has('upload')).toBe(true);
    expect(describeDenials(await denials(iamRequests(uploadCalls, account), account))).toBe('');
  });

  it('reaches no other prefix: no send request, no Non-Patient Instance, no multipart upload outside uploads/', async () => {
    const { account } = archiveAccount();
    const refused = [
      call('S3', 'PutObject', { Bucket, Key: 'send-requests/1.2/manifest.jsonl' }),
      call('S3', 'GetObject', { Bucket, Key: 'send-requests/1.2/manifest.jsonl' }),
      call('S3', 'DeleteObjects', { Bucket, Delete: { Objects: [{ Key: 'npi/color-palettes/1.2.dcm' }] } }),
      call('S3', 'ListParts', { Bucket, Key: INSTANCE_KEY, UploadId: 'x' }),
      call('DynamoDB', 'Scan', { TableName }),
    ];
    const denied = await denials(iamRequests(refused, account), account);
    expect(new Set(denied.map((d) => d.action))).toEqual(
      new Set(['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:ListMultipartUploadParts', 'dynamodb:Scan']),
    );
  });
});
