/**
 * Reading stored instances for the Retrieve Transaction and the NPI Service: the object whole, by
 * range or as a stream; its header walked from its beginning without dcmjs; parsed by dcmjs when
 * nothing less will do; and read ahead in order while a multipart response streams.
 */
import { Readable } from 'node:stream';
import type { OutgoingPart } from '../dicom/multipart';
import { once } from '../dicom/lazy';
import { concatBytes, scanPart10HeaderOrNeed, type Part10Header } from '../dicom/part10-scan';
import type { BlobStore, InstanceObject, ReadLease } from '../storage/ports';
import { NotAcceptableError } from './errors';
import type { DicomwebResponse } from './messages';

/**
 * The Part 10 codec (dcmjs), loaded on first use: instances as stored, metadata and frames of native
 * pixel data need none of it, so the retrieve function's cold start does not load it.
 */
export const dcmjsCodec = once(() => import('../dicom/part10'));

/**
 * Objects larger than this have their frames read by range: the header first (HEADER_PREFIX_BYTES),
 * then the bytes of the frames asked, so memory and transfer follow the frames, not the object.
 */
const FRAME_RANGE_MIN_BYTES = 1024 * 1024;
/** The beginning of an object read for its header; a longer header is read further, up to HEADER_PREFIX_MAX_BYTES. */
const HEADER_PREFIX_BYTES = 64 * 1024;
/** A header longer than this makes the object be read whole. */
const HEADER_PREFIX_MAX_BYTES = 4 * 1024 * 1024;

/**
 * The object (or its metadata object) whole. `lease`: the answer's (BlobStore ReadLease), whose memory
 * the bytes may be read into; they are then used only until it is released.
 */
export async function readObject(
  blobs: BlobStore,
  object: InstanceObject,
  key: 'objectKey' | 'metadataKey' = 'objectKey',
  lease?: ReadLease,
): Promise<Uint8Array> {
  const bytes = await blobs.get(object[key], lease && key === 'objectKey' ? { lease, size: object.size } : undefined);
  // Indexed but absent: the index was written after the object (docs/architecture.md), so this is a storage fault.
  if (!bytes) throw new Error(`stored object missing for an indexed instance (${key})`);
  return bytes;
}

export async function readRange(
  blobs: BlobStore,
  object: InstanceObject,
  start: number,
  end: number,
  lease?: ReadLease,
): Promise<Uint8Array> {
  const bytes = await blobs.getRange(object.objectKey, start, end, lease && { lease });
  if (!bytes) throw new Error('stored object missing for an indexed instance (objectKey)');
  return bytes;
}

async function* chunks(parts: readonly Uint8Array[]): AsyncIterable<Uint8Array> {
  yield* parts;
}

export async function streamObject(
  blobs: BlobStore,
  object: InstanceObject,
  start = 0,
  lease?: ReadLease,
): Promise<AsyncIterable<Uint8Array>> {
  const stream = await blobs.getStream(object.objectKey, start, lease && { lease, size: object.size });
  if (!stream) throw new Error('stored object missing for an indexed instance (objectKey)');
  return stream;
}

/**
 * A reader of a stored object (a StoredObjectReader of lambdas/dicom/frames with its header and its whole) that holds its
 * beginning for a header walk: of an object above FRAME_RANGE_MIN_BYTES whose header may be walked
 * (`walkable`), its first HEADER_PREFIX_BYTES; of any other, all of it. `read(start,
 * end)` answers bytes of the object, by range beyond the head; `stream(start)` the object from start
 * on, in chunks (a StoredObjectReader); `whole()` the object. Reads under `lease` as readObject's.
 */
export async function storedObjectReader(blobs: BlobStore, object: InstanceObject, walkable: boolean, lease?: ReadLease) {
  const ranged = walkable && object.size > FRAME_RANGE_MIN_BYTES;
  let head = ranged ? await readRange(blobs, object, 0, HEADER_PREFIX_BYTES, lease) : await readObject(blobs, object, 'objectKey', lease);
  return {
    size: object.size,
    read: (start: number, end: number): Promise<Uint8Array> =>
      end <= head.length ? Promise.resolve(head.subarray(start, end)) : readRange(blobs, object, start, end, lease),
    stream: async (start: number): Promise<AsyncIterable<Uint8Array>> =>
      ranged ? streamObject(blobs, object, start, lease) : chunks([head.subarray(start)]),
    whole: (): Promise<Uint8Array> => (ranged ? readObject(blobs, object, 'objectKey', lease) : Promise.resolve(head)),
    /**
     * The header up to `stopTag` (scanPart10Header) and the bytes it was read from: the head, read
     * further while the header does not end in it (a long header: an Extended Offset Table of many
     * frames, say), up to HEADER_PREFIX_MAX_BYTES. No header where scanPart10Header answers undefined.
     */
    header: async (stopTag: number): Promise<{ header?: Part10Header; bytes: Uint8Array }> => {
      for (;;) {
        const scan = scanPart10HeaderOrNeed(head, stopTag);
        if (!scan || 'stop' in scan) return { header: scan, bytes: head };
        const to = Math.min(object.size, scan.bytesNeeded + HEADER_PREFIX_BYTES);
        if (!ranged || to <= head.length || to > HEADER_PREFIX_MAX_BYTES) return { bytes: head };
        head = concatBytes([head, await readRange(blobs, object, head.length, to, lease)]);
      }
    },
  };
}

/**
 * An answer whose stored bytes are read under a lease of the store's (BlobStore ReadLease), if it
 * lends any: the response carries the lease's release, which the gateway calls once the body is
 * written; an answer that fails releases it at once.
 */
export async function withReadLease(
  blobs: BlobStore,
  answer: (lease: ReadLease | undefined) => Promise<DicomwebResponse>,
): Promise<DicomwebResponse> {
  const lease = blobs.readLease?.();
  if (!lease) return answer(undefined);
  try {
    return { ...(await answer(lease)), release: () => lease.release() };
  } catch (error) {
    lease.release();
    throw error;
  }
}

/**
 * A stored instance read with dcmjs. The Store reads every instance before storing it, so one it
 * cannot read was stored by an earlier version that read less (or changed in S3): answered 406, what
 * it holds cannot be produced, rather than 500.
 */
export async function storedInstance(bytes: Uint8Array, what: string) {
  const { readPart10, Part10Error } = await dcmjsCodec();
  try {
    return readPart10(bytes);
  } catch (error) {
    if (!(error instanceof Part10Error)) throw error;
    throw new NotAcceptableError(`the stored instance cannot be read for ${what}`, [
      { message: 'retrieve the instance as stored (transfer-syntax=*) instead' },
    ]);
  }
}

/**
 * Maps items with at most `concurrency` calls in flight, yielding results in input order.
 * A rejection surfaces when its turn comes; none is left unhandled meanwhile. When the consumer stops
 * early, `dispose` receives the results already started and never yielded.
 */
export async function* mapOrdered<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
  dispose: (result: R) => void = () => undefined,
): AsyncIterable<R> {
  const pending: Promise<R>[] = [];
  let next = 0;
  const start = () => {
    const p = fn(items[next++]!);
    p.catch(() => undefined);
    pending.push(p);
  };
  try {
    while (next < items.length && pending.length < concurrency) start();
    while (pending.length > 0) {
      const result = await pending.shift()!;
      if (next < items.length) start();
      yield result;
    }
  } finally {
    for (const p of pending) p.then(dispose, () => undefined);
  }
}

/** Ends a part body that will not be read, releasing its connection. */
export async function closeBody(body: OutgoingPart['body']): Promise<void> {
  if (body instanceof Uint8Array) return;
  // A Node stream (what the S3 adapter answers) is destroyed: its async iterator, never started,
  // would not release it.
  if (body instanceof Readable) {
    body.destroy();
    return;
  }
  try {
    await body[Symbol.asyncIterator]().return?.();
  } catch {
    // already failed: nothing left to release
  }
}
