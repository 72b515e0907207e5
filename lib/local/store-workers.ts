/**
 * The embedded runtime's instance preparation (lambdas/dicomweb/store-prepare.ts) on worker threads.
 * Reading a Part 10 file, its two digests, its DICOM JSON and its index entries are the CPU of a
 * Store that needs no storage call, and the event loop was the bottleneck of STOW-RS: with them on
 * other threads, the loop parses multipart bodies and drives the file and SQLite calls while the
 * next instances are read. Lambda functions have one vCPU and prepare inline.
 *
 * Each thread gets its own copy of the bytes (the part may be a view of a larger chunk, which a
 * transfer would take whole) and answers the same Preparation as prepareInstance. Until a thread is
 * ready, and if every thread has failed, instances are prepared inline: the same answer, later.
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import { prepareInstance, type InstancePreparer, type Preparation } from '../../lambdas/dicomweb/store-prepare';
import { LAMBDA_BUNDLE } from '../constructs/bundling';

/** Threads that prepare instances: every core but the event loop's, one at least, four at most. */
export function defaultStoreWorkers(): number {
  return Math.max(1, Math.min(4, os.availableParallelism() - 1));
}

/** The young generation of a preparing thread's heap, in MB (V8's default is up to 48 on 64-bit). */
const PREPARE_YOUNG_GENERATION_MB = 8;

/**
 * The thread's program: store-prepare.ts and what it imports, bundled by esbuild as the functions are
 * (../constructs/bundling.ts), once per process. Plain CommonJS on the thread, rather than tsx's
 * loader in it (which runs its hooks on a thread of their own): about 55 MB less per thread.
 */
let threadSource: Promise<string> | undefined;
function prepareThreadSource(): Promise<string> {
  return (threadSource ??= (async () => {
    const built = await build({
      ...LAMBDA_BUNDLE,
      external: [...LAMBDA_BUNDLE.external],
      mainFields: [...LAMBDA_BUNDLE.mainFields],
      target: 'node20',
      minify: false,
      sourcemap: false,
      entryPoints: [fileURLToPath(new URL('../../lambdas/dicomweb/store-prepare.ts', import.meta.url))],
      bundle: true,
      write: false,
      logLevel: 'silent',
    });
    return `
const { parentPort, workerData } = require('node:worker_threads');
const module = { exports: {} };
(function (module, exports) {
${built.outputFiles![0]!.text}
})(module, module.exports);
const { prepareInstance } = module.exports;
// The bytes go back with the answer: buffers left on this thread would wait for its collections,
// and the process's memory would grow with every instance stored.
parentPort.on('message', ({ id, bytes }) => {
  try {
    parentPort.postMessage({ id, preparation: prepareInstance(bytes, workerData.bulkDataThreshold), bytes }, [bytes.buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.stack) || error), bytes }, [bytes.buffer]);
  }
});
parentPort.postMessage({ ready: true });
`;
  })());
}

type FromThread =
  | { readonly ready: true }
  | { readonly failed: string }
  | { readonly id: number; readonly preparation: Preparation }
  | { readonly id: number; readonly error: string };

interface Pending {
  readonly part10: Uint8Array;
  resolve(preparation: Preparation): void;
  reject(error: unknown): void;
}

class PrepareThread {
  ready = false;
  alive = true;
  readonly pending = new Map<number, Pending>();
  /** Settles when the thread is ready or has failed. */
  readonly settled: Promise<void>;
  private readonly worker: Worker;

  constructor(
    source: string,
    private readonly bulkDataThreshold: number,
  ) {
    this.worker = new Worker(source, {
      eval: true,
      execArgv: [],
      // Its garbage is short-lived (a parse per instance): a small young generation is collected
      // often and keeps the thread's memory small (the archive's peak RSS target, docs/performance.md).
      resourceLimits: { maxYoungGenerationSizeMb: PREPARE_YOUNG_GENERATION_MB },
      workerData: { bulkDataThreshold },
    });
    this.worker.unref();
    this.settled = new Promise((resolve) => {
      this.worker.once('message', () => resolve());
      this.worker.once('exit', () => resolve());
    });
    this.worker.on('message', (message: FromThread) => {
      if ('ready' in message) this.ready = true;
      else if ('failed' in message) this.fail(new Error(`a store worker did not start: ${message.failed}`));
      else {
        const pending = this.pending.get(message.id);
        this.pending.delete(message.id);
        if ('preparation' in message) pending?.resolve(message.preparation);
        else pending?.reject(new Error(`a store worker failed: ${message.error}`));
      }
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`a store worker exited (${code})`)));
  }

  prepare(id: number, part10: Uint8Array): Promise<Preparation> {
    const bytes = new Uint8Array(part10); // a copy in a buffer of its own (Buffer#slice would share), transferred whole
    return new Promise((resolve, reject) => {
      this.pending.set(id, { part10, resolve, reject });
      this.worker.postMessage({ id, bytes }, [bytes.buffer]);
    });
  }

  async close(): Promise<void> {
    this.alive = false; // its exit is no failure to report
    await this.worker.terminate();
  }

  /** A thread that failed takes no more instances; those it held are prepared inline. */
  private fail(error: Error): void {
    if (this.alive) console.error(JSON.stringify({ level: 'error', storeWorker: error.message.split('\n')[0] }));
    this.alive = false;
    this.ready = false;
    for (const pending of this.pending.values()) {
      try {
        pending.resolve(prepareInstance(pending.part10, this.bulkDataThreshold));
      } catch (inline) {
        pending.reject(inline);
      }
    }
    this.pending.clear();
  }
}

export class StoreWorkers {
  private threads: PrepareThread[] | undefined;
  private starting?: Promise<void>;
  private closed = false;
  private nextId = 0;

  constructor(
    private readonly count: number,
    private readonly bulkDataThreshold: number,
  ) {}

  /** Starts the threads (on first use otherwise); settles once each is ready or has failed. */
  async start(): Promise<void> {
    this.starting ??= (async () => {
      const source = await prepareThreadSource();
      if (this.closed) return;
      this.threads = Array.from({ length: this.count }, () => new PrepareThread(source, this.bulkDataThreshold));
      await Promise.all(this.threads.map((thread) => thread.settled));
    })();
    await this.starting;
  }

  /** Threads ready to take instances. */
  get readyThreads(): number {
    return (this.threads ?? []).filter((thread) => thread.ready && thread.alive).length;
  }

  /** The InstancePreparer of StoreService: the least busy ready thread, or inline. Threads start on first use. */
  readonly prepare: InstancePreparer = (part10) => {
    if (!this.starting) void this.start().catch(() => undefined);
    let chosen: PrepareThread | undefined;
    for (const thread of this.threads ?? []) {
      if (thread.ready && thread.alive && (!chosen || thread.pending.size < chosen.pending.size)) chosen = thread;
    }
    if (!chosen) return Promise.resolve(prepareInstance(part10, this.bulkDataThreshold));
    return chosen.prepare(this.nextId++, part10);
  };

  async close(): Promise<void> {
    this.closed = true;
    const threads = this.threads ?? [];
    this.threads = [];
    await Promise.all(threads.map((thread) => thread.close()));
  }
}
