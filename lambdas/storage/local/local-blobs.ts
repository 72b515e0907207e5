/**
 * The local engine's BlobStore: the DICOM JSON of the instances (keys.ts isMetadataKey) up to
 * DATABASE_OBJECT_MAX_BYTES as rows of the index database (sqlite-objects.ts), every other object as a
 * file laid out like its S3 key (file-blobs.ts). A stored instance is then one file, its Part 10
 * object: its metadata as a second file cost an inode, an fdatasync and a share of a directory fsync,
 * about a tenth of the CPU of storing a ~40 KB instance (docs/performance.md).
 *
 * A metadata key is looked up in the database first, then as a file: a data directory of an earlier
 * release keeps its metadata files, and one above the limit is a file too. A put removes the key's
 * other copy, once its own is durable, unless the key is fresh (ports.ts PutOptions: nothing was
 * written under it before); a crash between the two leaves both, and the row, read first, is the
 * newer only when the put went to the database.
 */
import { ObjectNotFoundError } from '../errors';
import { isMetadataKey } from '../keys';
import type { BlobStore, PutOptions, ReadLease, ReadOptions } from '../ports';
import { oneChunk } from './file-calls';
import type { FileBlobStore } from './file-blobs';
import type { SqliteObjects } from './sqlite-objects';

/**
 * Largest metadata object kept in the database: the metadata of an instance is a few KB (its large
 * values are BulkDataURIs); an enhanced multi-frame's per-frame groups can reach megabytes, which the
 * synchronous database calls would hold the event loop for.
 */
export const DATABASE_OBJECT_MAX_BYTES = 256 * 1024;

export class LocalBlobStore implements BlobStore {
  constructor(
    /** The objects kept as files; the engine's sweeps and uploads use it directly. */
    readonly files: FileBlobStore,
    private readonly rows: SqliteObjects,
  ) {}

  async put(key: string, body: Uint8Array, contentType: string, options: PutOptions = {}): Promise<void> {
    const fresh = options.fresh === true;
    if (isMetadataKey(key) && body.byteLength <= DATABASE_OBJECT_MAX_BYTES) {
      await this.rows.put(key, body, fresh);
      if (!fresh) await this.files.delete([key]);
      return;
    }
    await this.files.put(key, body, contentType, options);
    // The row a smaller put left would be read before this file: it goes before the put is acknowledged.
    if (!fresh && isMetadataKey(key)) await this.rows.delete(key, true);
  }

  async get(key: string, options?: ReadOptions): Promise<Uint8Array | undefined> {
    return this.row(key) ?? this.files.get(key, options);
  }

  async getStream(key: string, start = 0, options?: ReadOptions): Promise<AsyncIterable<Uint8Array> | undefined> {
    const row = this.row(key);
    return row ? oneChunk(row.subarray(start)) : this.files.getStream(key, start, options);
  }

  async getRange(key: string, start: number, end: number, options?: ReadOptions): Promise<Uint8Array | undefined> {
    const row = this.row(key);
    return row ? row.subarray(start, end) : this.files.getRange(key, start, end, options);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) if (isMetadataKey(key)) await this.rows.delete(key);
    await this.files.delete(keys);
  }

  async copy(sourceKey: string, key: string, contentType: string, options: PutOptions = {}): Promise<void> {
    const row = this.row(sourceKey);
    if (row) return this.put(key, row, contentType, options);
    if (isMetadataKey(key)) {
      // A metadata object copied from a file goes where a put of it would.
      const bytes = await this.files.get(sourceKey);
      if (!bytes) throw new ObjectNotFoundError('the object to copy does not exist');
      return this.put(key, bytes, contentType, options);
    }
    return this.files.copy(sourceKey, key, contentType, options);
  }

  readLease(): ReadLease {
    return this.files.readLease();
  }

  /** The row of a metadata key, if the database holds it. */
  private row(key: string): Uint8Array | undefined {
    return isMetadataKey(key) ? this.rows.get(key) : undefined;
  }
}
