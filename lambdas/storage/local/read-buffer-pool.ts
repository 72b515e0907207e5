/**
 * The memory the file threads read into for the answers of the Retrieve and rendering transactions
 * (blob-store.ts ReadLease), and write the objects of puts from (file-io-threads.ts ThreadBuffers,
 * given back with the write's answer), kept between requests. Every buffer a thread allocates and hands to the
 * event loop is new external memory to V8, and V8 runs a full (mark-compact) collection each time
 * external memory grows by 64 MB: retrieving 0.5 MB frames at ~450/s ran one every ~280 ms, and the
 * collections (marking the ~40 MB heap) cost about a third of the process's CPU (perf, V8's
 * --trace-incremental-marking: "external memory pressure"). A buffer sent to a thread and given back
 * is the same memory, already counted: reads into pooled buffers grow nothing, nor do the copies a
 * put hands its thread (a new one per instance stored before).
 *
 * A lease hands out buffers to one answer's reads and takes them all back on release(); the pool keeps
 * at most POOLED_MAX_BYTES of free buffers, and one lease holds at most LEASE_MAX_BYTES (a series
 * retrieved whole reads beyond it into plain buffers, as before). A lease never released (an answer
 * dropped) only leaves its buffers to the garbage collector.
 */
import type { ReadLease } from '../blob-store';

/** Free buffers kept for later reads. */
const POOLED_MAX_BYTES = 32 * 1024 * 1024;
/** Buffers one lease may hold at once. */
const LEASE_MAX_BYTES = 16 * 1024 * 1024;
/** The smallest buffer size; a buffer's size is a power of two from here to LARGEST. */
const SMALLEST = 64 * 1024;
/** Reads larger than this are not pooled: rare, and they would hold much memory idle. */
const LARGEST = 4 * 1024 * 1024;

/** The size class of a read of `size` bytes: the power of two at or above it, from SMALLEST. */
function sizeClass(size: number): number {
  let c = SMALLEST;
  while (c < size) c *= 2;
  return c;
}

export class ReadBufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private freeBytes = 0;

  /** A lease for one answer's reads. */
  lease(): PooledLease {
    return new PooledLease(this);
  }

  /** A free buffer of at least `size` bytes (new when none is free); undefined for a size not pooled. */
  take(size: number): ArrayBuffer | undefined {
    if (size <= 0 || size > LARGEST) return undefined;
    const c = sizeClass(size);
    const buffer = this.free.get(c)?.pop();
    if (buffer) {
      this.freeBytes -= c;
      return buffer;
    }
    return new ArrayBuffer(c);
  }

  /**
   * A buffer back in the pool, unless it was transferred away (detached). A full pool makes room by
   * dropping free buffers of other sizes, the least recently given first: the reads of the moment
   * (0.5 MB frames, then 2 MB ultrasound objects) get their size pooled, or each would allocate anew.
   */
  give(buffer: ArrayBuffer): void {
    const c = buffer.byteLength;
    if (c < SMALLEST || c > LARGEST || c !== sizeClass(c)) return;
    for (const [size, list] of this.free) {
      if (this.freeBytes + c <= POOLED_MAX_BYTES) break;
      if (size === c) continue;
      while (list.length > 0 && this.freeBytes + c > POOLED_MAX_BYTES) {
        list.shift();
        this.freeBytes -= size;
      }
    }
    if (this.freeBytes + c > POOLED_MAX_BYTES) return;
    // Map order is insertion order: a size given again moves to the end, the last to be dropped.
    let list = this.free.get(c);
    if (list) this.free.delete(c);
    this.free.set(c, (list ??= []));
    list.push(buffer);
    this.freeBytes += c;
  }

  /** Bytes of the free buffers (tests, the memory figures of docs/performance.md). */
  get pooledBytes(): number {
    return this.freeBytes;
  }
}

/**
 * `bytes` copied for a thread, to transfer: into a free buffer of `pool` when it has one for the
 * size (`pooled`: the caller gives it back once the thread hands it back), else into a new buffer of
 * its own. The copy starts its buffer, so a transfer takes nothing of the caller's (a part may be a
 * view of a larger buffer).
 */
export function copyForThread(bytes: Uint8Array, pool?: Pick<ReadBufferPool, 'take'>): { copy: Uint8Array; pooled: boolean } {
  const size = bytes.byteLength;
  const buffer = pool?.take(size);
  const copy = buffer ? new Uint8Array(buffer, 0, size) : new Uint8Array(size);
  copy.set(bytes);
  return { copy, pooled: buffer !== undefined };
}

/** A ReadLease of a ReadBufferPool: what the reads under it took, given back together. */
export class PooledLease implements ReadLease {
  private readonly held = new Set<ArrayBuffer>();
  private heldBytes = 0;
  private released = false;

  constructor(private readonly pool: ReadBufferPool) {}

  /** A buffer for a read of `size` bytes, or undefined (released, over LEASE_MAX_BYTES, not pooled). */
  take(size: number): ArrayBuffer | undefined {
    if (this.released || this.heldBytes + size > LEASE_MAX_BYTES) return undefined;
    const buffer = this.pool.take(size);
    if (buffer) this.heldBytes += buffer.byteLength;
    return buffer;
  }

  /**
   * The buffer a read answered in (the one taken, given back by the thread that filled it: another
   * ArrayBuffer object over the same memory), held until release(). One answered after release()
   * (a read that outlived its answer) is left to the garbage collector: its bytes may still be used.
   */
  keep(buffer: ArrayBuffer): void {
    if (!this.released) this.held.add(buffer);
  }

  /** A buffer taken and not read into (the read failed, or answered in memory of its own): back to the pool. */
  unused(buffer: ArrayBuffer): void {
    this.heldBytes -= buffer.byteLength;
    this.pool.give(buffer);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    for (const buffer of this.held) this.pool.give(buffer);
    this.held.clear();
  }
}
