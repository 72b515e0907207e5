/**
 * Integration: the multipart calls the embedded S3 adds to s3rver (lib/local/s3rver-multipart.ts),
 * spoken through the SDK as the adapters speak them: ListParts and its pages, AbortMultipartUpload,
 * UploadPartCopy by ranges (S3BlobStore.copy above 5 GB), S3's answers to an unknown upload and to
 * a part list that does not match the parts uploaded, and UploadPart answering once its part is written.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../../../lambdas/storage/s3';
import { bytes } from '../../contract/blob-store.contract';
import { useEmulators } from '../../support/emulators';

// s3rver's store, patched by lib/local/emulators.ts (loaded by useEmulators).
const FilesystemStore = createRequire(import.meta.url)('s3rver/lib/stores/filesystem') as new (root: string) => {
  getResourcePath(bucket: string, key: undefined, kind: string): string;
  putPart(bucket: string, uploadId: string, partNumber: number, content: Readable): Promise<{ size: number; md5: string }>;
};
const Bucket = 'multipart-test';
const fixture = useEmulators({ name: 's3rver-multipart', bucketName: Bucket, tableName: 'multipart-test' });
const MiB = 1024 * 1024;
let s3: S3Client;
let blobs: S3BlobStore;

beforeAll(() => {
  s3 = fixture().clients.s3;
  blobs = new S3BlobStore(s3, Bucket);
});

async function create(Key: string): Promise<string> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ContentType: 'application/dicom' }));
  return UploadId!;
}

async function part(Key: string, UploadId: string, PartNumber: number, Body: Uint8Array): Promise<string> {
  const { ETag } = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body }));
  return ETag!;
}

/** The S3 error a call answers: its code and HTTP status. */
async function s3Error(call: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  const error: unknown = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(S3ServiceException);
  return { name: (error as S3ServiceException).name, status: (error as S3ServiceException).$metadata.httpStatusCode };
}

describe('the embedded S3: multipart calls s3rver lacks', () => {
  it('lists the parts received with the ETags UploadPart answered, their sizes and dates, by pages', async () => {
    const Key = 'uploads/list-0123456789.dcm';
    const UploadId = await create(Key);
    const etags = [
      await part(Key, UploadId, 3, bytes(30, 3)),
      await part(Key, UploadId, 1, bytes(10, 1)),
      await part(Key, UploadId, 2, bytes(20, 2)),
    ];
    expect(etags.every((e) => /^"[0-9a-f]{32}"$/.test(e))).toBe(true);
    const all = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
    expect(all.Parts?.map((p) => [p.PartNumber, p.ETag, p.Size])).toEqual([
      [1, etags[1], 10],
      [2, etags[2], 20],
      [3, etags[0], 30],
    ]);
    expect(all.IsTruncated).toBe(false);
    expect(Math.abs(all.Parts![0]!.LastModified!.getTime() - Date.now())).toBeLessThan(60_000);
    const first = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId, MaxParts: 2 }));
    expect([first.Parts?.map((p) => p.PartNumber), first.IsTruncated, first.NextPartNumberMarker]).toEqual([[1, 2], true, '2']);
    const rest = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId, PartNumberMarker: first.NextPartNumberMarker }));
    expect([rest.Parts?.map((p) => p.PartNumber), rest.IsTruncated]).toEqual([[3], false]);
  });

  it('answers NoSuchUpload (404) for an unknown, aborted or completed upload, or another key', async () => {
    const Key = 'uploads/gone-0123456789.dcm';
    const unknown = 'f'.repeat(32);
    expect(await s3Error(s3.send(new ListPartsCommand({ Bucket, Key, UploadId: unknown })))).toEqual({ name: 'NoSuchUpload', status: 404 });
    expect(await s3Error(s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: unknown })))).toEqual({
      name: 'NoSuchUpload',
      status: 404,
    });
    expect(await s3Error(part(Key, unknown, 1, bytes(10)))).toEqual({ name: 'NoSuchUpload', status: 404 });
    expect(await s3Error(s3.send(new ListPartsCommand({ Bucket, Key, UploadId: '../../x' })))).toEqual({
      name: 'NoSuchUpload',
      status: 404,
    });

    const UploadId = await create(Key);
    expect(await s3Error(s3.send(new ListPartsCommand({ Bucket, Key: 'uploads/other.dcm', UploadId })))).toEqual({
      name: 'NoSuchUpload',
      status: 404,
    });
    await part(Key, UploadId, 1, bytes(10));
    const aborted = await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
    expect(aborted.$metadata.httpStatusCode).toBe(204);
    expect(await s3Error(part(Key, UploadId, 2, bytes(10)))).toEqual({ name: 'NoSuchUpload', status: 404 });
    const complete = s3.send(
      new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"x"' }] } }),
    );
    expect(await s3Error(complete)).toEqual({ name: 'NoSuchUpload', status: 404 });
    expect(await blobs.get(Key)).toBeUndefined();
  });

  it('refuses a part list naming a part not uploaded, a stale ETag, parts out of order or too small', async () => {
    const Key = 'uploads/checks-0123456789.dcm';
    const UploadId = await create(Key);
    const small = await part(Key, UploadId, 1, bytes(1000, 1));
    const last = await part(Key, UploadId, 2, bytes(10, 2));
    const complete = (Parts: { PartNumber: number; ETag: string }[]) =>
      s3Error(s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } })));
    expect(await complete([{ PartNumber: 3, ETag: last }])).toEqual({ name: 'InvalidPart', status: 400 });
    expect(await complete([{ PartNumber: 2, ETag: small }])).toEqual({ name: 'InvalidPart', status: 400 });
    expect(
      await complete([
        { PartNumber: 2, ETag: last },
        { PartNumber: 1, ETag: small },
      ]),
    ).toEqual({ name: 'InvalidPartOrder', status: 400 });
    expect(
      await complete([
        { PartNumber: 1, ETag: small },
        { PartNumber: 2, ETag: last },
      ]),
    ).toEqual({ name: 'EntityTooSmall', status: 400 });
    // Nothing lost: the upload stays open with its parts, and completes with a list S3 accepts.
    expect((await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }))).Parts).toHaveLength(2);
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 2, ETag: last }] } }),
    );
    expect(Buffer.from((await blobs.get(Key))!).equals(Buffer.from(bytes(10, 2)))).toBe(true);
  });

  it('copies ranges of an object into parts (UploadPartCopy), as S3BlobStore.copy does above 5 GB', async () => {
    const source = bytes(5 * MiB + 4321, 17);
    await blobs.put('uploads/copy-source-0123456789.dcm', source, 'application/dicom');
    const Key = 'studies/1.2/series/1.2.3/instances/1.2.3.9.dcm';
    const CopySource = `${Bucket}/uploads/copy-source-0123456789.dcm`;
    const UploadId = await create(Key);
    const copyPart = (PartNumber: number, CopySourceRange: string) =>
      s3.send(new UploadPartCopyCommand({ Bucket, Key, UploadId, PartNumber, CopySource, CopySourceRange }));
    const first = await copyPart(1, `bytes=0-${5 * MiB - 1}`);
    const second = await copyPart(2, `bytes=${5 * MiB}-${source.byteLength - 1}`);
    expect(first.CopyPartResult?.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    const listed = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
    expect(listed.Parts?.map((p) => [p.ETag, p.Size])).toEqual([
      [first.CopyPartResult?.ETag, 5 * MiB],
      [second.CopyPartResult?.ETag, 4321],
    ]);
    expect(await s3Error(copyPart(3, `bytes=0-${source.byteLength}`))).toEqual({ name: 'InvalidRange', status: 416 });
    // A range of one byte, and a part copied again: the last copy wins.
    await copyPart(3, 'bytes=0-0');
    expect((await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }))).Parts?.[2]?.Size).toBe(1);
    await copyPart(3, 'bytes=5-6');
    expect((await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }))).Parts?.[2]?.Size).toBe(2);
    const missing = s3.send(new UploadPartCopyCommand({ Bucket, Key, UploadId, PartNumber: 3, CopySource: `${Bucket}/uploads/none.dcm` }));
    expect(await s3Error(missing)).toEqual({ name: 'NoSuchKey', status: 404 });
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: first.CopyPartResult!.ETag! },
            { PartNumber: 2, ETag: second.CopyPartResult!.ETag! },
          ],
        },
      }),
    );
    expect(Buffer.from((await blobs.get(Key))!).equals(Buffer.from(source))).toBe(true);
  });
});

describe('the embedded S3: UploadPart', () => {
  it("answers once the part is written whole (s3rver's store resolved before its file was)", async () => {
    const dir = await mkdtemp(join(tmpdir(), 's3rver-part-'));
    try {
      const store = new FilesystemStore(dir);
      const sizes: number[] = [];
      for (let n = 1; n <= 10; n++) {
        const size = 8 * MiB + n;
        const written = await store.putPart('b', 'abc', n, Readable.from([Buffer.alloc(size, n)]));
        expect(written.size).toBe(size);
        sizes.push((await stat(join(store.getResourcePath('b', undefined, 'uploads'), 'abc', String(n)))).size - size);
      }
      expect(sizes).toEqual(new Array<number>(10).fill(0));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lists and completes a large part at once after its answer, byte-identical', async () => {
    const Key = 'uploads/written-0123456789.dcm';
    const body = bytes(24 * MiB + 5, 5);
    const UploadId = await create(Key);
    const ETag = await part(Key, UploadId, 1, body);
    const listed = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
    expect(listed.Parts?.map((p) => [p.ETag, p.Size])).toEqual([[ETag, body.byteLength]]);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] } }));
    expect(Buffer.from((await blobs.get(Key))!).equals(Buffer.from(body))).toBe(true);
  });
});
