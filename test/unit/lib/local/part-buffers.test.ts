/**
 * Unit: the embedded runtime's part memory (lib/local/part-buffers.ts): pooled buffers lent for the
 * parts of Store requests, taken back once and only when they are the pool's own.
 */
import { describe, expect, it } from 'vitest';
import { PooledPartBuffers } from '../../../../lib/local/part-buffers';

describe('PooledPartBuffers', () => {
  it('lends pooled memory, takes back only its own, once, and lends it again', () => {
    const pool = new PooledPartBuffers();
    const part = pool.take(100_000)!;
    expect(part.byteLength).toBe(100_000);
    pool.give(new Uint8Array(100_000)); // not its own
    expect(pool.pooledBytes).toBe(0);
    pool.give(part.subarray(10, 20)); // a view of its memory counts as the part
    pool.give(part);
    expect(pool.pooledBytes).toBe(part.buffer.byteLength);
    expect(pool.take(90_000)!.buffer).toBe(part.buffer);
    expect(pool.take(5 * 1024 * 1024)).toBeUndefined(); // above the pool's largest size: assembled without
  });
});
