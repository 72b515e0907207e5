/**
 * The BlobStore port (re-exported by ./ports.ts): object storage, S3 in AWS (./s3.ts), files under
 * DATA_DIR on the local engine (./local/file-blobs.ts). Its contract suite is
 * test/contract/blob-store.contract.ts.
 */

/** How a put may be made. */
export interface PutOptions {
  /**
   * The key is this write's own (keys.ts objectVersion) and no reader looks it up before the caller
   * publishes it (an index entry naming it): an adapter may skip what makes a put atomic to readers.
   * The local engine then writes the file in place, not a temporary file renamed; S3 ignores it.
   */
  readonly fresh?: boolean;
  /**
   * The object can be made again from others (a derived image): an adapter may skip making it
   * durable. The local engine then syncs neither the file nor its directory; S3 ignores it.
   */
  readonly reproducible?: boolean;
  /**
   * The body is the caller's to give: its buffer holds nothing else (the body starts it) and the
   * caller never reads it again, whatever the put's outcome. An adapter may hand the buffer to
   * another thread without copying it; the local engine writes it from its file thread and keeps it
   * for later buffers (local/read-buffer-pool.ts). S3 ignores it.
   */
  readonly donated?: boolean;
}

/**
 * Memory an adapter may lend the reads of one answer: bytes read under a lease are valid until
 * release(), after which the adapter may read other objects into the same memory, so the caller
 * releases it only once nothing uses them (the answer written or abandoned). The local engine reads
 * into pooled buffers (local/read-buffer-pool.ts: no new memory for the garbage collector per read);
 * an adapter without leases (S3) has no readLease.
 */
export interface ReadLease {
  release(): void;
}

/** How a read may be made. */
export interface ReadOptions {
  /** The lease whose memory the bytes may be read into (see ReadLease). */
  readonly lease?: ReadLease;
  /** The object's size when the caller knows it (the index keeps it): what a leased buffer is sized for. */
  readonly size?: number;
}

/** Object storage (S3). Keys are built by lambdas/storage/keys.ts only. */
export interface BlobStore {
  put(key: string, body: Uint8Array, contentType: string, options?: PutOptions): Promise<void>;
  /** The whole object, or undefined when the key does not exist. */
  get(key: string, options?: ReadOptions): Promise<Uint8Array | undefined>;
  /**
   * The object from byte `start` (default 0) to its end, as a stream of chunks, or undefined when the
   * key does not exist; `start` lies inside the object.
   */
  getStream(key: string, start?: number, options?: ReadOptions): Promise<AsyncIterable<Uint8Array> | undefined>;
  /**
   * Bytes [start, end) of the object (fewer when it ends before `end`), or undefined when the key does
   * not exist; `start` lies inside the object.
   */
  getRange(key: string, start: number, end: number, options?: ReadOptions): Promise<Uint8Array | undefined>;
  delete(keys: readonly string[]): Promise<void>;
  /**
   * The bytes of the object at `sourceKey` put at `key` too (as put would, `options` included),
   * without passing through the caller: S3 copies inside the bucket, the local engine links the file.
   * Rejects when the source does not exist.
   */
  copy(sourceKey: string, key: string, contentType: string, options?: PutOptions): Promise<void>;
  /** A lease for the reads of one answer (see ReadLease); absent where reads take no lease. */
  readLease?(): ReadLease;
}
