/**
 * The IAM harness on the upload function's role (group `upload`, lambdas/handlers/upload.ts), for
 * the calls the workload of iam-harness.test.ts cannot make: that workload records an upload
 * created, listed, completed through the Store rules and aborted, on the emulators; the copy of an
 * instance above 5 GB (S3BlobStore.copy by UploadPartCopy, lambdas/storage/s3.ts) is written out
 * here as it is made, and evaluated against the synthesized role by the policy engine. The presigned
 * part URLs carry the role's own s3:PutObject (UploadPart).
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
const Bucket = LOCAL_BUCKET;
const TableName = LOCAL_TABLE;

/** The copy of an uploaded instance above 5 GB to its instance key: a multipart upload by ranges, aborted on a failure. */
const copyCalls = [
  call('S3', 'HeadObject', { Bucket, Key: UPLOAD_KEY }),
  call('S3', 'CreateMultipartUpload', { Bucket, Key: INSTANCE_KEY, ContentType: 'application/dicom' }),
  call('S3', 'UploadPartCopy', { Bucket, Key: INSTANCE_KEY, CopySource: `${Bucket}/${UPLOAD_KEY}`, UploadId: 'y', PartNumber: 1 }),
  call('S3', 'CompleteMultipartUpload', { Bucket, Key: INSTANCE_KEY, UploadId: 'y' }),
  call('S3', 'AbortMultipartUpload', { Bucket, Key: INSTANCE_KEY, UploadId: 'y' }),
];

describe("IAM harness: the upload function's role", () => {
  it('allows the copy of an instance above 5 GB, which the recorded workload cannot reach', async () => {
    const { account } = archiveAccount();
    expect(account.roles.has('upload')).toBe(true);
    expect(describeDenials(await denials(iamRequests(copyCalls, account), account))).toBe('');
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
