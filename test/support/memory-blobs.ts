/**
 * In-memory BlobStore (lambdas/storage/ports.ts) for unit tests only; the production path talks S3
 * (or s3rver) through lambdas/storage/s3.ts.
 */
import { ObjectNotFoundError } from '../../lambdas/storage/errors';
import type { BlobStore } from '../../lambdas/storage/ports';

export interface StoredBlob {
  readonly body: Uint8Array;
  readonly contentType: string;
}

export class MemoryBlobStore implements BlobStore {
  readonly objects = new Map<string, StoredBlob>();
  /** Size of the chunks getStream yields, so consumers are exercised with several chunks. */
  constructor(private readonly chunkSize = 64 * 1024) {}

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    // Copy, so a caller that reuses its buffer cannot change what was stored.
    this.objects.set(key, { body: Uint8Array.from(body), contentType });
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const blob = this.objects.get(key);
    return blob ? Uint8Array.from(blob.body) : undefined;
  }

  async getRange(key: string, start: number, end: number): Promise<Uint8Array | undefined> {
    return this.objects.get(key)?.body.slice(start, end);
  }

  async getStream(key: string, start = 0): Promise<AsyncIterable<Uint8Array> | undefined> {
    const blob = this.objects.get(key);
    if (!blob) return undefined;
    const { body } = blob;
    const chunkSize = this.chunkSize;
    return (async function* () {
      for (let offset = start; offset < body.length; offset += chunkSize) {
        yield body.slice(offset, offset + chunkSize);
      }
    })();
  }

  async copy(sourceKey: string, key: string, contentType: string): Promise<void> {
    const blob = this.objects.get(sourceKey);
    if (!blob) throw new ObjectNotFoundError('the object to copy does not exist');
    this.objects.set(key, { body: blob.body, contentType });
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.objects.delete(key);
  }
}
