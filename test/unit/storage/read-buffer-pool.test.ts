/**
 * Unit: the local engine's pool of read buffers (lambdas/storage/local/read-buffer-pool.ts): sizes by
 * powers of two, buffers reused once a lease is released and never before, the pool's and a lease's
 * bounds, and buffers that left (transferred) or came back late left to the garbage collector.
 */
import { describe, expect, it } from 'vitest';
import { ReadBufferPool } from '../../../lambdas/storage/local/read-buffer-pool';

const KB = 1024;
const MB = 1024 * KB;

describe('ReadBufferPool', () => {
  it('hands out buffers by power-of-two size from 64 KB, and none for an empty read or one above 4 MB', () => {
    const lease = new ReadBufferPool().lease();
    expect(lease.take(1)!.byteLength).toBe(64 * KB);
    expect(lease.take(64 * KB + 1)!.byteLength).toBe(128 * KB);
    expect(lease.take(524_288)!.byteLength).toBe(512 * KB);
    expect(lease.take(4 * MB)!.byteLength).toBe(4 * MB);
    expect(lease.take(0)).toBeUndefined();
    expect(lease.take(4 * MB + 1)).toBeUndefined();
  });

  it('reuses a buffer only after the lease that kept it is released', () => {
    const pool = new ReadBufferPool();
    const first = pool.lease();
    const a = first.take(100 * KB)!;
    first.keep(a);
    const second = pool.lease();
    const b = second.take(100 * KB)!;
    expect(b).not.toBe(a); // still held by the first lease
    first.release();
    expect(pool.pooledBytes).toBe(128 * KB);
    expect(second.take(100 * KB)).toBe(a);
    expect(pool.pooledBytes).toBe(0);
  });

  it('gives a buffer the read did not use straight back to the pool', () => {
    const pool = new ReadBufferPool();
    const lease = pool.lease();
    const a = lease.take(200 * KB)!;
    lease.unused(a);
    expect(pool.pooledBytes).toBe(256 * KB);
    expect(lease.take(200 * KB)).toBe(a);
  });

  it('drops a buffer kept after release (a read that outlived its answer) and one transferred away', () => {
    const pool = new ReadBufferPool();
    const lease = pool.lease();
    const late = lease.take(64 * KB)!;
    const gone = lease.take(64 * KB)!;
    lease.keep(gone);
    structuredClone(gone, { transfer: [gone] }); // detached, as a buffer handed to a render thread
    lease.release();
    lease.keep(late);
    expect(pool.pooledBytes).toBe(0);
    expect(lease.take(64 * KB)).toBeUndefined(); // a released lease lends nothing more
  });

  it('holds at most 16 MB per lease and keeps at most 32 MB of free buffers', () => {
    const pool = new ReadBufferPool();
    const leases = [pool.lease(), pool.lease(), pool.lease()];
    for (const lease of leases) {
      for (let i = 0; i < 4; i++) lease.keep(lease.take(4 * MB)!);
      expect(lease.take(64 * KB)).toBeUndefined();
    }
    for (const lease of leases) lease.release();
    expect(pool.pooledBytes).toBe(32 * MB);
  });

  it('makes room for the size read now by dropping free buffers of other sizes, least recently given first', () => {
    const pool = new ReadBufferPool();
    const fill = (size: number, count: number) => {
      const lease = pool.lease();
      for (let i = 0; i < count; i++) lease.keep(lease.take(size)!);
      lease.release();
    };
    fill(64 * KB, 16); // 1 MB of small buffers, given first
    fill(1 * MB, 15); // 15 MB
    fill(1 * MB, 15); // 30 MB in all, then 31 MB: the pool is nearly full
    fill(2 * MB, 8); // 16 MB more: the small buffers go first, then the oldest 1 MB ones
    expect(pool.pooledBytes).toBeLessThanOrEqual(32 * MB);
    const lease = pool.lease();
    const twoMb = Array.from({ length: 8 }, () => lease.take(2 * MB)!);
    expect(new Set(twoMb).size).toBe(8);
    expect(pool.pooledBytes).toBe(16 * MB); // the 2 MB buffers came from the pool, 16 MB of 1 MB ones remain
  });
});
