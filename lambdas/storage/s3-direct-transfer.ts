/**
 * DirectTransfer over Amazon S3 (lambdas/storage/direct-transfer.ts): multipart uploads, and URLs
 * presigned (Signature Version 4, query parameters) for UploadPart and GetObject, so a client moves
 * the bytes to and from the bucket with no other credential and no function in the way. The URLs are
 * signed with the function's own credentials: they expire no later than those (a Lambda role's
 * session lasts longer than the default 1 h of UPLOAD_URL_EXPIRY).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  NoSuchUpload,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { callAws } from './aws-calls';
import type { DirectTransfer, UploadedPart } from './ports';

export class S3DirectTransfer implements DirectTransfer {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async createMultipartUpload(key: string, contentType: string): Promise<string> {
    const out = await callAws('S3', () =>
      this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: contentType })),
    );
    if (!out.UploadId) throw new Error('S3 CreateMultipartUpload answered no UploadId');
    return out.UploadId;
  }

  partUploadUrl(key: string, uploadId: string, partNumber: number, expiresInSeconds: number): Promise<string> {
    return getSignedUrl(this.client, new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: partNumber }), {
      expiresIn: expiresInSeconds,
    });
  }

  async listParts(key: string, uploadId: string): Promise<readonly UploadedPart[] | undefined> {
    const parts: UploadedPart[] = [];
    let marker: string | undefined;
    try {
      do {
        const after = marker;
        const out = await callAws('S3', () =>
          this.client.send(new ListPartsCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumberMarker: after })),
        );
        for (const p of out.Parts ?? []) parts.push({ partNumber: p.PartNumber ?? 0, size: p.Size ?? 0, etag: p.ETag ?? '' });
        marker = out.IsTruncated ? out.NextPartNumberMarker : undefined;
      } while (marker);
    } catch (error) {
      if (isNoSuchUpload(error)) return undefined;
      throw error;
    }
    return parts;
  }

  async completeMultipartUpload(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<void> {
    await callAws('S3', () =>
      this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }),
      ),
    );
  }

  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    try {
      await callAws('S3', () => this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })));
    } catch (error) {
      if (!isNoSuchUpload(error)) throw error;
    }
  }

  downloadUrl(key: string, expiresInSeconds: number, opts: { readonly contentType: string; readonly filename?: string }): Promise<string> {
    return getSignedUrl(
      this.client,
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: key,
        ResponseContentType: opts.contentType,
        ...(opts.filename !== undefined && {
          ResponseContentDisposition: `attachment; filename="${opts.filename.replace(/["\\\r\n]/g, '_')}"`,
        }),
      }),
      { expiresIn: expiresInSeconds },
    );
  }
}

function isNoSuchUpload(error: unknown): boolean {
  return error instanceof NoSuchUpload || (error instanceof S3ServiceException && error.name === 'NoSuchUpload');
}
