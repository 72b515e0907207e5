/**
 * A BlobStore for tests of code that must stream large objects: get() and getRange() of an object
 * above a size throw, so a test fails when such an object is read whole. Objects are held in memory,
 * or made on the fly (`putGenerated`: a large instance that no buffer of the test holds).
 */
import type { BlobStore } from '../../lambdas/storage/ports';
import { MemoryBlobStore } from './memory-blobs';

export class WholeReadError extends Error {}

interface Generated {
  readonly size: number;
  readonly chunks: () => AsyncIterable<Uint8Array>;
}

export class StreamOnlyBlobStore implements BlobStore {
  readonly memory = new MemoryBlobStore(1024 * 1024);
  private readonly generated = new Map<string, Generated>();
  /** Streams opened, per key. */
  readonly opened = new Map<string, number>();

  /** `maxWholeBytes`: the largest object get() returns. */
  constructor(private readonly maxWholeBytes: number) {}

  put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    return this.memory.put(key, body, contentType);
  }

  /** An object of `size` bytes whose content `chunks` makes anew at each read. */
  putGenerated(key: string, size: number, chunks: () => AsyncIterable<Uint8Array>): void {
    this.generated.set(key, { size, chunks });
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.refuseWhole(key);
    return this.memory.get(key);
  }

  async getRange(key: string, start: number, end: number): Promise<Uint8Array | undefined> {
    if (end - start > this.maxWholeBytes) this.refuseWhole(key);
    return this.memory.getRange(key, start, end);
  }

  async getStream(key: string, start = 0): Promise<AsyncIterable<Uint8Array> | undefined> {
    this.opened.set(key, (this.opened.get(key) ?? 0) + 1);
    const generated = this.generated.get(key);
    if (!generated) return this.memory.getStream(key, start);
    if (start !== 0) throw new RangeError('a generated object is read from its start');
    return generated.chunks();
  }

  async copy(sourceKey: string, key: string, contentType: string): Promise<void> {
    const generated = this.generated.get(sourceKey);
    if (generated) {
      this.generated.set(key, generated);
      return;
    }
    return this.memory.copy(sourceKey, key, contentType);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.generated.delete(key);
    await this.memory.delete(keys);
  }

  private refuseWhole(key: string): void {
    const size = this.generated.get(key)?.size ?? this.memory.objects.get(key)?.body.byteLength ?? 0;
    if (size > this.maxWholeBytes) throw new WholeReadError(`${key} (${size} bytes) read whole`);
  }
}
