/**
 * BlobStore over Amazon S3 (or s3rver in the embedded runtime: same wire protocol).
 */
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  UploadPartCopyCommand,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import type { Config } from '../config';
import type { BlobStore } from './ports';
import { callAws, clientOptions } from './aws-calls';
import { recordCalls } from './call-recorder';
import { ObjectNotFoundError } from './errors';

/** The S3 client of this process (S3 or s3rver). */
export function createS3Client(config: Pick<Config, 'region' | 's3Endpoint'>): S3Client {
  return recordCalls(
    new S3Client({
      ...clientOptions(config, config.s3Endpoint),
      ...(config.s3Endpoint && {
        // s3rver serves buckets by path and corrupts streamed uploads that carry flexible checksums.
        forcePathStyle: true,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }),
    }),
  );
}

/** DeleteObjects accepts at most 1000 keys per request. */
export const DELETE_OBJECTS_BATCH = 1000;

/** CopyObject copies at most 5 GB; above it, UploadPartCopy in parts (S3 User Guide, "Copying objects"). */
export const COPY_OBJECT_MAX_BYTES = 5 * 1024 ** 3;
/** Part size of a multipart copy: 10,000 parts of 1 GiB cover S3's 5 TB objects. */
export const COPY_PART_BYTES = 1024 ** 3;

export class S3BlobStore implements BlobStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    await callAws('S3', () =>
      this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType, ContentLength: body.byteLength }),
      ),
    );
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const body = await this.getBody(key);
    // The SDK collects the body into a fresh Uint8Array of its own: no second copy.
    return body && (await body.transformToByteArray());
  }

  async getRange(key: string, start: number, end: number): Promise<Uint8Array | undefined> {
    // RFC 9110 14.1.2: the last byte position is inclusive.
    const body = await this.getBody(key, `bytes=${start}-${end - 1}`);
    return body && (await body.transformToByteArray());
  }

  async getStream(key: string, start = 0): Promise<AsyncIterable<Uint8Array> | undefined> {
    // RFC 9110 14.1.2: a range without its last byte position runs to the end.
    const body = await this.getBody(key, start > 0 ? `bytes=${start}-` : undefined);
    if (!body) return undefined;
    // In Node the SDK hands back an http.IncomingMessage: already an async iterable of Buffers.
    return body instanceof Readable ? body : Readable.fromWeb(body.transformToWebStream() as Parameters<typeof Readable.fromWeb>[0]);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_OBJECTS_BATCH) {
      const batch = keys.slice(i, i + DELETE_OBJECTS_BATCH);
      // Deleting a missing key is a success in S3, so a repeated delete is harmless.
      const out = await callAws('S3', () =>
        this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        ),
      );
      if (out.Errors && out.Errors.length > 0) {
        // Keys are archive paths (UIDs), never patient data, but the count is enough for the log.
        throw new Error(`S3 DeleteObjects failed for ${out.Errors.length} of ${batch.length} keys (${out.Errors[0]?.Code})`);
      }
    }
  }

  async copy(sourceKey: string, key: string, contentType: string): Promise<void> {
    const size = await this.size(sourceKey);
    if (size === undefined) throw new ObjectNotFoundError('the object to copy does not exist');
    const source = `${this.bucket}/${encodeURIComponent(sourceKey).replace(/%2F/g, '/')}`;
    if (size <= COPY_OBJECT_MAX_BYTES) {
      await callAws('S3', () =>
        this.client.send(
          new CopyObjectCommand({
            Bucket: this.bucket,
            Key: key,
            CopySource: source,
            ContentType: contentType,
            MetadataDirective: 'REPLACE',
          }),
        ),
      );
      return;
    }
    const { UploadId } = await callAws('S3', () =>
      this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: contentType })),
    );
    try {
      const parts: { PartNumber: number; ETag: string }[] = [];
      for (let start = 0, n = 1; start < size; start += COPY_PART_BYTES, n++) {
        const range = `bytes=${start}-${Math.min(start + COPY_PART_BYTES, size) - 1}`;
        const out = await callAws('S3', () =>
          this.client.send(
            new UploadPartCopyCommand({
              Bucket: this.bucket,
              Key: key,
              UploadId,
              PartNumber: n,
              CopySource: source,
              CopySourceRange: range,
            }),
          ),
        );
        parts.push({ PartNumber: n, ETag: out.CopyPartResult?.ETag ?? '' });
      }
      await callAws('S3', () =>
        this.client.send(
          new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }),
        ),
      );
    } catch (error) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId })).catch(() => undefined);
      throw error;
    }
  }

  /** The object's size (HeadObject), or undefined when the key does not exist. */
  async size(key: string): Promise<number | undefined> {
    try {
      const out = await callAws('S3', () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })));
      return out.ContentLength ?? 0;
    } catch (error) {
      if (error instanceof NotFound || error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  private async getBody(key: string, range?: string): Promise<NonNullable<GetObjectCommandOutput['Body']> | undefined> {
    try {
      const out = await callAws('S3', () => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range })));
      return out.Body;
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }
}
