/**
 * The embedded runtime's PartBuffers (lambdas/dicomweb/store-request.ts): the parts of its Store
 * requests assembled in pooled buffers (lambdas/storage/local/read-buffer-pool.ts), given back once
 * stored. A part assembled in a new buffer lived for the whole store of its instance (the thread's
 * preparation, the file write, the index), long enough to outlive V8's young collections: new
 * external memory of ~0.5 MB per instance, and every 64 MB of it started a full collection ("external
 * memory pressure"), whose marking took V8's helper threads up to ~2 ms of CPU per ~0.5 MB instance
 * in bursts, the archive's CPU per instance going from ~3 to ~5.5 ms. A pooled buffer is the same
 * memory each time, counted once.
 */
import type { PartBuffers } from '../../lambdas/dicomweb/store-request';
import { ReadBufferPool } from '../../lambdas/storage/local/read-buffer-pool';

export class PooledPartBuffers implements PartBuffers {
  /** `pool`: the buffers, shared with the engine's object store (file-blobs.ts buffers) by the archive. */
  constructor(private readonly pool = new ReadBufferPool()) {}

  /** Buffers lent and not given back: a part is given back once, and only a part of this pool. */
  private readonly lent = new WeakSet<ArrayBuffer>();

  take(size: number): Uint8Array | undefined {
    const buffer = this.pool.take(size);
    if (!buffer) return undefined;
    this.lent.add(buffer);
    return new Uint8Array(buffer, 0, size);
  }

  give(part: Uint8Array): void {
    const buffer = part.buffer;
    if (!(buffer instanceof ArrayBuffer) || !this.lent.has(buffer)) return;
    this.lent.delete(buffer);
    this.pool.give(buffer);
  }

  /** Bytes of the free buffers (tests). */
  get pooledBytes(): number {
    return this.pool.pooledBytes;
  }
}
