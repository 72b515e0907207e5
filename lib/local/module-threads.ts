/**
 * One exported function of a module run on worker threads of the embedded runtime: the module and
 * what it imports bundled by esbuild as the functions are (../constructs/bundling.ts), once per
 * process, and evaluated on each thread as plain CommonJS. tsx's loader on a thread would run its
 * hooks on a thread of its own: about 55 MB more per thread.
 *
 * A call goes to the least busy ready thread, with the buffers the caller hands over transferred; they
 * come back with the answer, whose Uint8Arrays are transferred too.
 * Until a thread is ready, and once every thread has failed or the pool is closed, calls run inline:
 * the same answer, on the event loop. Lambda functions (one request at a time) always run inline.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import { LAMBDA_BUNDLE, RENDER_LAYER_PACKAGES } from '../constructs/bundling';

export interface ModuleProgram {
  /** The module, relative to this file's directory. */
  readonly module: string;
  /** The exported function threads call. */
  readonly exportName: string;
  /** What the threads are called in a log line. */
  readonly name: string;
  /** The young generation of a thread's heap, in MB (V8's default is up to 48 on 64-bit). */
  readonly youngGenerationMb: number;
}

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Each program's thread source, built once per process. */
const sources = new Map<string, Promise<string>>();
function threadSource(program: ModuleProgram): Promise<string> {
  const entry = fileURLToPath(new URL(program.module, import.meta.url));
  let source = sources.get(`${entry}#${program.exportName}`);
  if (!source) {
    source = (async () => {
      const built = await build({
        ...LAMBDA_BUNDLE,
        // Native addons and Emscripten builds stay in node_modules, required from the project's root.
        external: [...LAMBDA_BUNDLE.external, ...RENDER_LAYER_PACKAGES],
        mainFields: [...LAMBDA_BUNDLE.mainFields],
        target: 'node20',
        minify: false,
        sourcemap: false,
        entryPoints: [entry],
        bundle: true,
        write: false,
        logLevel: 'silent',
      });
      return `
const { parentPort } = require('node:worker_threads');
const projectRequire = require('node:module').createRequire(${JSON.stringify(`${PROJECT_ROOT}package.json`)});
const module = { exports: {} };
(function (module, exports, require) {
${built.outputFiles![0]!.text}
})(module, module.exports, projectRequire);
const call = module.exports[${JSON.stringify(program.exportName)}];
/**
 * The buffers of a message's Uint8Arrays, to transfer, down to a few levels: only a view's own buffer
 * (covering it whole). A part of a larger one may be a slice of Node's Buffer pool, which cannot be
 * transferred (the whole message would then be copied) and is small: cloned.
 */
function transferables(value, depth = 0, found = new Set()) {
  if (value instanceof Uint8Array) {
    const own = value.buffer instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === value.buffer.byteLength;
    if (own) found.add(value.buffer);
  } else if (depth < 5 && value && typeof value === 'object') {
    for (const v of Array.isArray(value) ? value : Object.values(value)) transferables(v, depth + 1, found);
  }
  return [...found];
}
/**
 * The buffers of the arguments' Uint8Arrays, whatever part of them a view covers: this thread's own
 * (transferred or cloned to it). A copy in a pooled buffer is a view of its first bytes; cloned back,
 * it cost a copy on each side and new memory per call on the caller's.
 */
function argumentBuffers(args) {
  return args.filter((a) => a instanceof Uint8Array && a.buffer instanceof ArrayBuffer).map((a) => a.buffer);
}
function answer(message) {
  try {
    parentPort.postMessage(message, [...new Set([...transferables(message), ...argumentBuffers(message.args)])]);
  } catch {
    parentPort.postMessage(message); // a buffer that cannot be transferred (e.g. a WebAssembly memory) is copied
  }
}
// The arguments go back with the answer: their buffers, left on this thread, would wait for its
// collections, and the process's memory would grow with every call.
parentPort.on('message', async ({ id, args }) => {
  try {
    answer({ id, result: await call(...args), args });
  } catch (error) {
    answer({ id, error: String((error && error.stack) || error), args });
  }
});
parentPort.postMessage({ ready: true });
`;
    })();
    sources.set(`${entry}#${program.exportName}`, source);
  }
  return source;
}

type FromThread =
  | { readonly ready: true }
  | { readonly id: number; readonly result: unknown; readonly args?: readonly unknown[] }
  | { readonly id: number; readonly error: string; readonly args?: readonly unknown[] };

/**
 * A call whose thread failed after its buffers were transferred to it: they are gone from this thread
 * (detached), so the call cannot run inline with them. The caller, which may still hold the bytes,
 * runs it again or answers that the service is unavailable.
 */
export class ThreadFailedError extends Error {}

interface Pending {
  readonly args: readonly unknown[];
  /** Sees the call's arguments as the thread gave them back with its answer (their buffers transferred back). */
  readonly given?: (args: readonly unknown[]) => void;
  /** Whether buffers went with the call (then it cannot run again here). */
  readonly transferred: boolean;
  resolve(result: unknown): void;
  reject(error: unknown): void;
}

class ModuleThread {
  ready = false;
  alive = true;
  readonly pending = new Map<number, Pending>();
  /** Settles when the thread is ready or has failed. */
  readonly settled: Promise<void>;
  private readonly worker: Worker;

  constructor(
    source: string,
    private readonly program: ModuleProgram,
    private readonly inline: (...args: never[]) => unknown,
  ) {
    this.worker = new Worker(source, { eval: true, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: program.youngGenerationMb } });
    this.worker.unref();
    this.settled = new Promise((resolve) => {
      this.worker.once('message', () => resolve());
      this.worker.once('exit', () => resolve());
    });
    this.worker.on('message', (message: FromThread) => {
      if ('ready' in message) {
        this.ready = true;
        return;
      }
      const pending = this.pending.get(message.id);
      this.pending.delete(message.id);
      if ('args' in message && Array.isArray(message.args)) pending?.given?.(message.args);
      if ('result' in message) pending?.resolve(message.result);
      else pending?.reject(new Error(`a ${program.name} thread failed: ${message.error}`));
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`a ${program.name} thread exited (${code})`)));
  }

  call(
    id: number,
    args: readonly unknown[],
    transfer: readonly ArrayBuffer[],
    given?: (args: readonly unknown[]) => void,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.pending.set(id, { args, transferred: transfer.length > 0, resolve, reject, ...(given && { given }) });
      this.worker.postMessage({ id, args }, [...transfer]);
    });
  }

  async close(): Promise<void> {
    this.alive = false; // its exit is no failure to report
    await this.worker.terminate();
  }

  /**
   * A thread that failed takes no more calls; those it held run inline, but for those whose buffers
   * it took: they reject with ThreadFailedError.
   */
  private fail(error: Error): void {
    if (this.alive) console.error(JSON.stringify({ level: 'error', [this.program.name]: error.message.split('\n')[0] }));
    this.alive = false;
    this.ready = false;
    for (const pending of this.pending.values()) {
      if (pending.transferred) {
        pending.reject(new ThreadFailedError(`a ${this.program.name} thread failed with the call's buffers`));
        continue;
      }
      Promise.resolve()
        .then(() => (this.inline as (...args: readonly unknown[]) => unknown)(...pending.args))
        .then(pending.resolve, pending.reject);
    }
    this.pending.clear();
  }
}

/** `count` threads running `program`'s function `F`; `inline` is the same function on this thread. */
export class ModuleThreads<F extends (...args: never[]) => unknown> {
  private threads: ModuleThread[] | undefined;
  private starting?: Promise<void>;
  private closed = false;
  private nextId = 0;

  constructor(
    private readonly program: ModuleProgram,
    private readonly count: number,
    private readonly inline: F,
  ) {}

  /** Starts the threads (on first call otherwise); settles once each is ready or has failed. */
  async start(): Promise<void> {
    this.starting ??= (async () => {
      const source = await threadSource(this.program);
      if (this.closed) return;
      this.threads = Array.from({ length: this.count }, () => new ModuleThread(source, this.program, this.inline));
      await Promise.all(this.threads.map((thread) => thread.settled));
    })();
    await this.starting;
  }

  /** Threads ready to take calls. */
  get readyThreads(): number {
    return (this.threads ?? []).filter((thread) => thread.ready && thread.alive).length;
  }

  /**
   * `F(...args)` on the least busy ready thread, or inline. The buffers in `transfer` go to the
   * thread (the caller must not use them after), so hand over copies of what the caller keeps;
   * `given` sees the arguments the thread gives back with its answer (not when run inline).
   */
  call(
    args: Parameters<F>,
    transfer: readonly ArrayBuffer[] = [],
    given?: (args: Readonly<Parameters<F>>) => void,
  ): Promise<Awaited<ReturnType<F>>> {
    if (!this.starting) void this.start().catch(() => undefined);
    let chosen: ModuleThread | undefined;
    for (const thread of this.threads ?? []) {
      if (thread.ready && thread.alive && (!chosen || thread.pending.size < chosen.pending.size)) chosen = thread;
    }
    if (!chosen) return Promise.resolve().then(() => this.inline(...args)) as Promise<Awaited<ReturnType<F>>>;
    return chosen.call(this.nextId++, args, transfer, given as ((args: readonly unknown[]) => void) | undefined) as Promise<
      Awaited<ReturnType<F>>
    >;
  }

  async close(): Promise<void> {
    this.closed = true;
    const threads = this.threads ?? [];
    this.threads = [];
    await Promise.all(threads.map((thread) => thread.close()));
  }
}

/** Every core but the event loop's, one at least, four at most: the default count of a pool. */
export function threadsBesideTheEventLoop(availableParallelism: number): number {
  return Math.max(1, Math.min(4, availableParallelism - 1));
}
