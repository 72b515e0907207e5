/**
 * BlobStore over a directory of the local engine (DATA_DIR/objects): one file per key, the key's
 * segments as directories, so the tree reads like the S3 bucket (lambdas/storage/keys.ts).
 *
 * A put writes a temporary file beside the object (`.{name}.{random}.tmp`), fsyncs it, then renames
 * it over the object: rename(2) replaces a directory entry atomically (POSIX), so a reader sees the
 * old bytes or the new ones, never part of them, and a crash leaves at most a temporary file, which
 * no key can name (a segment starting with '.' is refused) and removeTemporaryFiles() sweeps.
 * Durability policy (docs/architecture.md, storage model): with `fsync` (the default) the file is
 * fsync'd before the rename and its directory after it (and every directory the put created, in its
 * parent), so an acknowledged put survives a power cut as well as a killed process; without, it
 * survives a killed process only (the page cache belongs to the kernel).
 *
 * The content type is not kept: the port never answers it (readers take the media type from the
 * index entry). Deleting leaves empty directories behind; they cost nothing and a later put reuses them.
 */
import { constants } from 'node:fs';
import { copyFile, link, mkdir, open, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { InvalidKeySegmentError, ObjectNotFoundError } from '../errors';
import type { BlobStore, PutOptions, ReadLease, ReadOptions } from '../ports';
import { fsCall, isMissing, NO_LINK_CODES, oneChunk, syncFile, transient } from './file-calls';
import { FileDirectories } from './file-directories';
import { FileIoThreads } from './file-io-threads';
import { newEntryDurableWithFile } from './file-systems';
import { removeTemporaryFiles, temporaryPath } from './file-temporaries';
import { PooledLease, ReadBufferPool } from './read-buffer-pool';

export interface FileBlobStoreOptions {
  /** fsync files and directories so that an acknowledged put survives a power cut (default true). */
  readonly fsync?: boolean;
  /** Size of the chunks getStream yields (default 256 KiB). */
  readonly chunkSize?: number;
  /**
   * Threads making the file calls, one message per object (file-io-threads.ts); 0 (the default):
   * Node's asynchronous fs calls.
   */
  readonly ioThreads?: number;
  /** With file threads, an object to stream up to this size is read whole, in one message (default 1 MiB). */
  readonly wholeReadMaxBytes?: number;
  /**
   * The file system makes a new file's directory entry durable with the file's fsync (file-systems.ts):
   * a fresh put, which creates its file in place, then skips its directory's fsync. Default false;
   * FileBlobStore.open asks the file system.
   */
  readonly newEntryDurableWithFile?: boolean;
}

const DEFAULT_CHUNK_SIZE = 256 * 1024;
const DEFAULT_WHOLE_READ_MAX_BYTES = 1024 * 1024;

export class FileBlobStore implements BlobStore {
  private readonly fsync: boolean;
  /** FileBlobStoreOptions.newEntryDurableWithFile. */
  private readonly newEntryDurable: boolean;
  private readonly chunkSize: number;
  private readonly threads?: FileIoThreads;
  private readonly wholeReadMaxBytes: number;
  /** Temporary files of puts under way in this process, which a sweep leaves alone. */
  private readonly writing = new Set<string>();
  /** The directories of the objects, made and synced as puts need them (file-directories.ts). */
  private readonly directories: FileDirectories;
  /**
   * The buffers leased reads go into and puts are written from (read-buffer-pool.ts), with file
   * threads; the embedded runtime's store threads and Store parts take theirs here too, so a buffer
   * donated to a put (ports.ts PutOptions) comes back to where it was taken.
   */
  readonly buffers = new ReadBufferPool();

  /** `root`: the directory holding the objects (created by the first put when missing). */
  constructor(
    readonly root: string,
    options: FileBlobStoreOptions = {},
  ) {
    this.fsync = options.fsync ?? true;
    this.newEntryDurable = options.newEntryDurableWithFile ?? false;
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (options.ioThreads) this.threads = new FileIoThreads(options.ioThreads);
    this.wholeReadMaxBytes = options.wholeReadMaxBytes ?? DEFAULT_WHOLE_READ_MAX_BYTES;
    this.directories = new FileDirectories(this.fsync, () => this.io);
  }

  /** Stops the file threads, if any; the store is not used afterwards. */
  async close(): Promise<void> {
    await this.threads?.close();
  }

  /** The file threads while one runs. */
  private get io(): FileIoThreads | undefined {
    return this.threads?.available ? this.threads : undefined;
  }

  /** A store over `root`, created when missing, with the temporary files of earlier crashes removed. */
  static async open(root: string, options: FileBlobStoreOptions = {}): Promise<FileBlobStore> {
    await mkdir(root, { recursive: true });
    const durable = options.newEntryDurableWithFile ?? (await newEntryDurableWithFile(root));
    const store = new FileBlobStore(root, { ...options, newEntryDurableWithFile: durable });
    await store.removeTemporaryFiles();
    return store;
  }

  async put(key: string, body: Uint8Array, _contentType: string, options: PutOptions = {}): Promise<void> {
    const path = this.pathOf(key);
    const dir = dirname(path);
    // A fresh key (ports.ts PutOptions) is written in place: no reader looks for it before it is complete.
    const temporary = options.fresh ? undefined : temporaryPath(path);
    // A reproducible object (a derived image) is not synced: a power cut costs a rendering, not data.
    const fsync = this.fsync && !options.reproducible;
    // A donated body (ports.ts PutOptions) goes to the file thread as it is, and comes back with the
    // answer (also a failure's, for the retry below); then its buffer goes to the pool.
    const size = body.byteLength;
    const donated = options.donated === true && size > 0 && body.byteOffset === 0 && body.buffer instanceof ArrayBuffer;
    let bytes = body;
    const given = donated ? (buffer: ArrayBuffer) => void (bytes = new Uint8Array(buffer, 0, size)) : undefined;
    if (temporary) this.writing.add(temporary);
    try {
      try {
        await this.directories.ready(dir);
        await this.writeObject(path, bytes, temporary, fsync, given);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw transient(error);
        this.directories.forget(dir);
        await this.directories.ready(dir);
        await fsCall(() => this.writeObject(path, bytes, temporary, fsync, given));
      }
    } finally {
      if (temporary) this.writing.delete(temporary);
      // Not when a thread that died kept it (detached here).
      if (donated && bytes.byteLength === size) this.buffers.give(bytes.buffer as ArrayBuffer);
    }
  }

  /**
   * The file created exclusively (the temporary one, else `path` itself), written, fdatasync'd (the
   * bytes and the size that reads them back), renamed to `path`, then with fsync its directory synced:
   * on a file thread in the same call, as a trip through the event loop per object cost more than the
   * directory fsyncs a group sync saved (file-io-threads.ts); else in a group sync (FileDirectories).
   * A file created in place where its fsync makes its entry durable (newEntryDurable) needs no
   * directory fsync; a renamed one always does. A failure removes what it created, never a file it found.
   * With `given`, the body's buffer is transferred to the file thread as it is and comes back through it.
   */
  private async writeObject(
    path: string,
    body: Uint8Array,
    temporary: string | undefined,
    fsync: boolean,
    given?: (buffer: ArrayBuffer) => void,
  ): Promise<void> {
    const directory = fsync && (temporary !== undefined || !this.newEntryDurable) ? dirname(path) : undefined;
    if (this.io) return this.io.write({ temporary, path, bytes: body, fsync, directory }, this.buffers, given);
    const created = temporary ?? path;
    const file = await open(created, 'wx');
    try {
      try {
        await file.writeFile(body);
        if (fsync) await file.datasync();
      } finally {
        await file.close();
      }
      if (temporary) await rename(temporary, path);
      if (directory) await this.directories.sync(directory);
    } catch (error) {
      await unlink(created).catch(() => undefined);
      throw error;
    }
  }

  /** A lease of pooled buffers (read-buffer-pool.ts); reads use it through the file threads. */
  readLease(): ReadLease {
    return this.buffers.lease();
  }

  /**
   * Bytes of a file through the file threads: undefined when missing, the size when above maxBytes.
   * Under a lease of this store, read into one of its buffers when the size is known.
   */
  private async readThreaded(io: FileIoThreads, key: string, start: number, end?: number, maxBytes?: number, options?: ReadOptions) {
    const lease = options?.lease instanceof PooledLease ? options.lease : undefined;
    const size = end !== undefined ? end - start : options?.size !== undefined ? options.size - start : undefined;
    const buffer = lease && size !== undefined && (maxBytes === undefined || size <= maxBytes) ? lease.take(size) : undefined;
    const into = buffer && lease && { buffer, unused: (b: ArrayBuffer) => lease.unused(b) };
    try {
      const answer = await io.read(this.pathOf(key), start, end, maxBytes, into);
      if (into && 'bytes' in answer) lease!.keep(answer.bytes.buffer as ArrayBuffer);
      return 'missing' in answer ? undefined : answer;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw transient(error);
    }
  }

  async get(key: string, options?: ReadOptions): Promise<Uint8Array | undefined> {
    const io = this.io;
    if (io) return ((await this.readThreaded(io, key, 0, undefined, undefined, options)) as { bytes: Uint8Array } | undefined)?.bytes;
    const path = this.pathOf(key);
    try {
      return await readFile(path);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw transient(error);
    }
  }

  async getRange(key: string, start: number, end: number, options?: ReadOptions): Promise<Uint8Array | undefined> {
    const io = this.io;
    if (io) return ((await this.readThreaded(io, key, start, end, undefined, options)) as { bytes: Uint8Array } | undefined)?.bytes;
    const opened = await this.openForReading(key);
    if (!opened) return undefined;
    const { file, size } = opened;
    try {
      const buffer = Buffer.allocUnsafe(Math.max(0, Math.min(end, size) - start));
      let filled = 0;
      // A regular file answers a read in full up to its end; the loop only guards a short read.
      while (filled < buffer.length) {
        const { bytesRead } = await file.read(buffer, filled, buffer.length - filled, start + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return buffer.subarray(0, filled);
    } finally {
      await file.close();
    }
  }

  /**
   * A hard link to the source's file at a temporary name, renamed to the key's: the bytes are not
   * written again (a 1 GB upload becomes its instance in a directory update), and they are durable
   * already (the source's put synced them); the directory is synced as a put's is. Where linking
   * fails (another file system), a copy synced like a put.
   */
  async copy(sourceKey: string, key: string, _contentType: string, options: PutOptions = {}): Promise<void> {
    const source = this.pathOf(sourceKey);
    const path = this.pathOf(key);
    const dir = dirname(path);
    const fsync = this.fsync && !options.reproducible;
    try {
      if (!(await stat(source)).isFile()) throw new ObjectNotFoundError('the object to copy does not exist');
    } catch (error) {
      if (isMissing(error)) throw new ObjectNotFoundError('the object to copy does not exist');
      throw transient(error);
    }
    const temporary = temporaryPath(path);
    this.writing.add(temporary);
    try {
      await this.directories.ready(dir);
      try {
        await link(source, temporary);
      } catch (error) {
        if (!NO_LINK_CODES.has((error as NodeJS.ErrnoException).code ?? '')) throw transient(error);
        await fsCall(() => copyFile(source, temporary, constants.COPYFILE_EXCL));
        if (fsync) await syncFile(temporary);
      }
      await fsCall(() => rename(temporary, path));
      if (fsync) await this.directories.sync(dir);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    } finally {
      this.writing.delete(temporary);
    }
  }

  /**
   * Writes the chunks of `body` as the object at `key`, never holding it whole: a temporary file,
   * fsynced, renamed over the object, its directory synced (as put). Not a port method: the local
   * engine's DirectTransfer joins an upload's parts with it.
   */
  async putStream(key: string, body: AsyncIterable<Uint8Array>): Promise<void> {
    const path = this.pathOf(key);
    const dir = dirname(path);
    const temporary = temporaryPath(path);
    this.writing.add(temporary);
    try {
      await this.directories.ready(dir);
      const file = await fsCall(() => open(temporary, 'wx'));
      try {
        for await (const chunk of body) await fsCall(() => file.write(chunk));
        if (this.fsync) await fsCall(() => file.datasync());
      } finally {
        await file.close();
      }
      await fsCall(() => rename(temporary, path));
      if (this.fsync) await this.directories.sync(dir);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    } finally {
      this.writing.delete(temporary);
    }
  }

  /** The object's size in bytes, or undefined when no object has the key. */
  async size(key: string): Promise<number | undefined> {
    try {
      const stats = await stat(this.pathOf(key));
      return stats.isFile() ? stats.size : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw transient(error);
    }
  }

  async getStream(key: string, start = 0, options?: ReadOptions): Promise<AsyncIterable<Uint8Array> | undefined> {
    const io = this.io;
    if (io) {
      // An object up to wholeReadMaxBytes is read whole, in one message; a larger one streams.
      const answer = await this.readThreaded(io, key, start, undefined, this.wholeReadMaxBytes, options);
      if (answer === undefined) return undefined;
      if ('bytes' in answer) return oneChunk(answer.bytes);
    }
    const opened = await this.openForReading(key);
    if (!opened) return undefined;
    const { file } = opened;
    // The stream owns the descriptor: closed at its end, or when a reader lets it go (iterator.return()).
    return file.createReadStream({ start, highWaterMark: this.chunkSize, autoClose: true });
  }

  async delete(keys: readonly string[]): Promise<void> {
    const paths = keys.map((key) => this.pathOf(key));
    for (const path of paths) {
      try {
        await unlink(path);
      } catch (error) {
        // As S3: deleting what does not exist succeeds, so a repeated Delete is harmless.
        if (!isMissing(error)) throw transient(error);
      }
    }
  }

  /**
   * Removes the temporary files interrupted puts left behind (a walk of the whole tree: run it once,
   * at start). Files of puts under way in this process are left alone. Answers how many it removed.
   */
  async removeTemporaryFiles(): Promise<number> {
    return removeTemporaryFiles(this.root, this.writing);
  }

  // -------------------------------------------------------------------------------------------

  /**
   * The file of a key. Keys come from keys.ts, whose UIDs are checked already; this is defence in
   * depth, as the S3 adapter's keys cannot leave the bucket: nothing here may leave `root` or name a
   * temporary file.
   */
  private pathOf(key: string): string {
    if (key === '' || key.includes('\0') || key.includes('\\') || key.startsWith('/')) {
      throw new InvalidKeySegmentError('the object key is not usable as a file path');
    }
    for (const segment of key.split('/')) {
      // '', '.', '..' would leave the key's place; a leading '.' is the temporary files' namespace.
      if (segment === '' || segment.startsWith('.')) {
        throw new InvalidKeySegmentError('the object key is not usable as a file path');
      }
    }
    const path = join(this.root, ...key.split('/'));
    if (relative(this.root, path).startsWith(`..${sep}`)) throw new InvalidKeySegmentError('the object key leaves the store');
    return path;
  }

  /** The object's file open for reading and its size; undefined when no object has the key. */
  private async openForReading(key: string): Promise<{ file: FileHandle; size: number } | undefined> {
    const path = this.pathOf(key);
    let file: FileHandle;
    try {
      file = await open(path, constants.O_RDONLY);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw transient(error);
    }
    const stats = await file.stat();
    // A key naming a directory of other objects names no object (as S3 has no directories).
    if (stats.isFile()) return { file, size: stats.size };
    await file.close();
    return undefined;
  }
}
