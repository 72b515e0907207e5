/**
 * The file calls of FileBlobStore on threads of their own, one message per object. Each asynchronous
 * fs call of Node is a trip through libuv's thread pool and back to the event loop: a put (open,
 * write, fdatasync, close, rename) was five, a read (open, fstat, read, read, close) five, and on a
 * small VM each trip cost the event loop ~30 us and ~60 us of CPU (STOW-RS and WADO-RS profiles).
 * Here a thread makes the same calls synchronously, in the same order, and answers once. A put's
 * directory fsync is in the write's call too: as a call of its own, shared by the puts waiting for
 * one (a group sync), each instance of a one-instance STOW-RS request took one more trip, and
 * interleaved rounds against Orthanc went from 0.82-0.87x to 0.93-1.04x (~40 KB, one per request)
 * and from 0.90-0.94x to 1.0-1.05x (110 per request).
 *
 * The calls and their order are FileBlobStore's (file-blobs.ts documents the durability policy);
 * errors come back with their errno code, so the store maps them as before.
 */
import { Worker } from 'node:worker_threads';
import { copyForThread, type ReadBufferPool } from './read-buffer-pool';

export interface WriteRequest {
  /**
   * The temporary file, created exclusively ('wx'), written, fdatasync'd (with fsync), renamed to
   * `path`; without one, `path` itself is created exclusively and written (a fresh put).
   */
  readonly temporary?: string;
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly fsync: boolean;
  /** The directory to fsync once the file is in place (its new entry), in the same call. */
  readonly directory?: string;
}

/** A read's answer: the bytes, no such file, or a file above `maxBytes` left unread (with its size). */
export type ReadAnswer = { readonly bytes: Uint8Array } | { readonly missing: true } | { readonly size: number };

// CommonJS, evaluated on the thread: plain fs calls, no loader.
const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const MISSING = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);
function write({ temporary, path, bytes, fsync, directory }) {
  const fd = fs.openSync(temporary || path, 'wx');
  try {
    for (let at = 0; at < bytes.length; ) at += fs.writeSync(fd, bytes, at, bytes.length - at);
    if (fsync) fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  if (temporary) fs.renameSync(temporary, path);
  if (directory) syncDirectory({ path: directory });
}
function syncDirectory({ path }) {
  const fd = fs.openSync(path, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
function read({ path, start, end, maxBytes, into }) {
  let fd;
  try {
    fd = fs.openSync(path, 'r');
  } catch (error) {
    if (MISSING.has(error.code)) return { missing: true };
    throw error;
  }
  try {
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) return { missing: true };
    const to = Math.min(end === undefined ? stats.size : end, stats.size);
    const length = Math.max(0, to - start);
    if (maxBytes !== undefined && length > maxBytes) return { size: stats.size };
    // The caller's buffer when it is large enough (given back filled); else one of this read's own, not
    // Buffer.allocUnsafe: a small one shares the pool's ArrayBuffer, which the transfer would take.
    const bytes = into && into.byteLength >= length ? Buffer.from(into, 0, length) : Buffer.allocUnsafeSlow(length);
    let filled = 0;
    while (filled < length) {
      const n = fs.readSync(fd, bytes, filled, length - filled, start + filled);
      if (n === 0) break;
      filled += n;
    }
    return { bytes: filled === length ? bytes : bytes.subarray(0, filled) };
  } finally {
    fs.closeSync(fd);
  }
}
const calls = { write, syncDirectory, read };
// A write's bytes go back with its answer: this thread runs little JavaScript, so buffers left here
// would wait long for a collection, and the process's memory would grow with every object written.
// So does a read's buffer it did not read into (the file was larger, missing, or the read failed).
parentPort.on('message', ({ id, call, args }) => {
  const given = call === 'write' ? args.bytes.buffer : args.into;
  try {
    const answer = calls[call](args);
    const answered = answer && answer.bytes ? answer.bytes.buffer : undefined;
    const back = given && given !== answered ? given : undefined;
    parentPort.postMessage({ id, answer, given: back }, [answered, back].filter(Boolean));
  } catch (error) {
    if (call === 'write' && error.code !== 'EEXIST') try { fs.unlinkSync(args.temporary || args.path); } catch {}
    parentPort.postMessage({ id, error: { code: error.code, message: error.message }, given }, given ? [given] : []);
  }
});
`;

/** Buffers lent to the calls and given back: the store's pool. */
export type ThreadBuffers = Pick<ReadBufferPool, 'take' | 'give'>;

type FromThread = { readonly id: number; readonly given?: ArrayBuffer } & (
  { readonly answer?: unknown } | { readonly error: { readonly code?: string; readonly message: string } }
);

interface Pending {
  resolve(answer: unknown): void;
  reject(error: Error): void;
  /** A buffer the call handed over and the thread gave back unused (a read's `into`). */
  unused?(buffer: ArrayBuffer): void;
}

class IoThread {
  alive = true;
  readonly pending = new Map<number, Pending>();
  private readonly worker: Worker;

  constructor() {
    // Little JavaScript runs here: a small heap keeps each thread's memory small.
    this.worker = new Worker(THREAD_SOURCE, {
      eval: true,
      execArgv: [],
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 },
    });
    this.worker.unref();
    this.worker.on('message', (message: FromThread) => {
      const pending = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.given) pending?.unused?.(message.given);
      if ('error' in message) pending?.reject(Object.assign(new Error(message.error.message), { code: message.error.code }));
      else pending?.resolve(message.answer);
    });
    const fail = (error: Error) => {
      this.alive = false;
      for (const pending of this.pending.values()) pending.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`a file thread exited (${code})`)));
  }

  call(id: number, call: string, args: object, transfer: ArrayBuffer[] = [], unused?: (buffer: ArrayBuffer) => void): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, ...(unused && { unused }) });
      this.worker.postMessage({ id, call, args }, transfer);
    });
  }

  async close(): Promise<void> {
    this.alive = false;
    await this.worker.terminate();
  }
}

export class FileIoThreads {
  private readonly threads: IoThread[];
  private nextId = 0;

  constructor(count: number) {
    this.threads = Array.from({ length: count }, () => new IoThread());
  }

  /** False once every thread has failed: the store then makes its calls itself. */
  get available(): boolean {
    return this.threads.some((thread) => thread.alive);
  }

  /**
   * Writes the object (see WriteRequest) from a copy of `bytes` (a view may share a larger buffer: the
   * caller's is never transferred), transferred, in a buffer of `buffers` when it has one, which the
   * thread gives back with its answer and goes back to them. With `given`, the bytes are the caller's
   * to give (they start their buffer): transferred without a copy, their buffer handed to `given`
   * when the thread gives it back, with a success or a failure.
   */
  write(request: WriteRequest, buffers?: ThreadBuffers, given?: (buffer: ArrayBuffer) => void): Promise<void> {
    if (given) return this.call('write', request, [request.bytes.buffer as ArrayBuffer], given) as Promise<void>;
    const { copy: bytes, pooled } = copyForThread(request.bytes, buffers);
    const back = pooled ? (buffer: ArrayBuffer) => buffers!.give(buffer) : undefined;
    return this.call('write', { ...request, bytes }, [bytes.buffer as ArrayBuffer], back) as Promise<void>;
  }

  /** fsync of a directory (its new entries). */
  syncDirectory(path: string): Promise<void> {
    return this.call('syncDirectory', { path }) as Promise<void>;
  }

  /**
   * Bytes [start, end) of a file (to its end without `end`); above `maxBytes`, its size only. With
   * `into`, transferred to the thread: the bytes are read into it when they fit (the answer's bytes
   * are then a view of the same memory, in another ArrayBuffer object), else it comes back through
   * `unused`.
   */
  read(
    path: string,
    start: number,
    end?: number,
    maxBytes?: number,
    into?: { readonly buffer: ArrayBuffer; unused(buffer: ArrayBuffer): void },
  ): Promise<ReadAnswer> {
    const args = { path, start, end, maxBytes, ...(into && { into: into.buffer }) };
    return this.call('read', args, into ? [into.buffer] : undefined, into?.unused) as Promise<ReadAnswer>;
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.close()));
  }

  private call(call: string, args: object, transfer?: ArrayBuffer[], unused?: (buffer: ArrayBuffer) => void): Promise<unknown> {
    let chosen: IoThread | undefined;
    for (const thread of this.threads) {
      if (thread.alive && (!chosen || thread.pending.size < chosen.pending.size)) chosen = thread;
    }
    if (!chosen) return Promise.reject(new Error('no file thread is running'));
    return chosen.call(this.nextId++, call, args, transfer, unused);
  }
}
