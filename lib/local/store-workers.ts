/**
 * The embedded runtime's instance preparation (lambdas/dicomweb/store-prepare.ts) on worker threads
 * (./module-threads.ts). Reading a Part 10 file, its two digests, its DICOM JSON and its index entries
 * are the CPU of a Store that needs no storage call, and the event loop was the bottleneck of
 * STOW-RS: with them on other threads, the loop parses multipart bodies and drives the file and
 * SQLite calls while the next instances are read. Lambda functions have one vCPU and prepare inline.
 *
 * Each thread gets its own copy of the bytes (the part may be a view of a larger chunk, which a
 * transfer would take whole) and answers the same Preparation as prepareInstance, as JSON text
 * (store-prepare.ts preparationJson). The copy comes back with the answer and goes with a prepared
 * instance to its caller, whose put writes it without copying the part again (store-prepare.ts
 * InstancePreparer). Small instances are prepared inline (INLINE_MAX_BYTES).
 */
import os from 'node:os';
import { preparationJson, prepareInstance, type InstancePreparer, type Preparation } from '../../lambdas/dicomweb/store-prepare';
import { copyForThread, ReadBufferPool } from '../../lambdas/storage/local/read-buffer-pool';
import { ModuleThreads, ThreadFailedError, threadsBesideTheEventLoop } from './module-threads';

/** Threads that prepare instances: every core but the event loop's, one at least, four at most. */
export function defaultStoreWorkers(): number {
  return threadsBesideTheEventLoop(os.availableParallelism());
}

const PROGRAM = {
  module: '../../lambdas/dicomweb/store-prepare.ts',
  exportName: 'preparationJson',
  name: 'storeWorker',
  // Its garbage is short-lived (a parse per instance): a small young generation is collected often
  // and keeps the thread's memory small (the archive's peak RSS target, docs/performance.md).
  youngGenerationMb: 8,
};

/**
 * Instances up to this size are prepared on the event loop, the larger on a thread. A trip to a
 * thread and back costs the event loop about what preparing a ~40 KB instance does (~130 us of CPU on
 * the bench's VM: waking the thread and being woken, the copy, the answer's JSON), and adds a
 * thread's wake-up to the instance's latency; hashing ~0.5 MB twice does not belong on the loop.
 * Old and new alternated (STOW-RS, rounds of 400): ~40 KB all inline 1.13x (one per request) and
 * 1.11x (110 per request) the threaded rate; ~0.5 MB inline 0.82x and 0.75x.
 */
const INLINE_MAX_BYTES = 64 * 1024;

export interface StoreWorkersOptions {
  /** Instances up to this size are prepared inline (default INLINE_MAX_BYTES). */
  readonly inlineMaxBytes?: number;
  /**
   * Where the copies are taken, and where a failed preparation's goes back: the engine's object store
   * (file-blobs.ts buffers), which takes a donated copy back once written. A pool of their own by default.
   */
  readonly buffers?: ReadBufferPool;
}

export class StoreWorkers {
  private readonly threads: ModuleThreads<typeof preparationJson>;
  private readonly buffers: ReadBufferPool;

  constructor(count: number, bulkDataThreshold: number, options: StoreWorkersOptions = {}) {
    const inlineMaxBytes = options.inlineMaxBytes ?? INLINE_MAX_BYTES;
    this.buffers = options.buffers ?? new ReadBufferPool();
    this.threads = new ModuleThreads(PROGRAM, count, preparationJson);
    this.prepare = async (part10) => {
      if (part10.byteLength <= inlineMaxBytes) return prepareInstance(part10, bulkDataThreshold);
      // A copy in a buffer of its own (the part may share a larger one), transferred whole; from the
      // pool: a new ~0.5 MB buffer per instance was external memory V8 counts towards a full
      // collection every 64 MB (lib/local/part-buffers.ts has the figures).
      const { copy: bytes } = copyForThread(part10, this.buffers);
      let copy: Uint8Array | undefined;
      const back = ([given]: readonly [Uint8Array, number]) => void (copy = given);
      const json = await this.threads.call([bytes, bulkDataThreshold], [bytes.buffer as ArrayBuffer], back).catch((error: unknown) => {
        // The thread died with the copy: the caller's bytes are still here, prepared inline.
        if (error instanceof ThreadFailedError) return preparationJson(part10, bulkDataThreshold);
        throw error;
      });
      const preparation = JSON.parse(json) as Preparation;
      if (!copy) return preparation;
      if ('failed' in preparation) {
        this.buffers.give(copy.buffer as ArrayBuffer);
        return preparation;
      }
      return { prepared: preparation.prepared, copy };
    };
  }

  /** The InstancePreparer of StoreService. Threads start on first use. */
  readonly prepare: InstancePreparer;

  /** Starts the threads (on first use otherwise); settles once each is ready or has failed. */
  start(): Promise<void> {
    return this.threads.start();
  }

  /** Threads ready to take instances. */
  get readyThreads(): number {
    return this.threads.readyThreads;
  }

  close(): Promise<void> {
    return this.threads.close();
  }
}
