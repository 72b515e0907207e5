/**
 * The body of a Store Instances request (PS3.18 10.5.1.1: multipart/related;
 * type="application/dicom") that the STOW-RS client (./stow-client.ts) sends: the instances held
 * whole, buffered once, or one large instance streamed from storage at each attempt.
 */
import { newBoundary, writeMultipartRelated } from '../dicom/multipart';
import { MediaType } from '../dicomweb/messages';

/**
 * A stored Part 10 file read from storage at each attempt and sent as it is read, never held whole:
 * how a large instance goes out (lambdas/send/stored-instances.ts decides which).
 */
export interface StoredFile {
  /** Bytes of the Part 10 file, known before it is read (the Content-Length of its request). */
  readonly size: number;
  readonly transferSyntaxUID: string;
  /** The file from its first byte, a new stream at each call; undefined when the object is gone. */
  open(): Promise<AsyncIterable<Uint8Array> | undefined>;
}

/** An instance of a Store sub-operation: its Part 10 file held whole (`bytes`) or streamed (`file`). */
export type InstanceToStore = {
  readonly sopInstanceUID: string;
  readonly sopClassUID: string;
} & ({ readonly bytes: Uint8Array; readonly file?: undefined } | { readonly file: StoredFile; readonly bytes?: undefined });

/** Bytes a part adds to the Store request body besides its instance: boundary line, header, CRLFs. */
export const STORE_PART_OVERHEAD_BYTES = Buffer.byteLength(`--${newBoundary()}\r\nContent-Type: ${MediaType.Dicom}\r\n\r\n\r\n`);
/** Bytes of the closing boundary line of the Store request body. */
export const STORE_CLOSE_OVERHEAD_BYTES = Buffer.byteLength(`--${newBoundary()}--\r\n`);

/** A stored object that vanished (deleted) between the batch's index read and its sending. */
export class StoredObjectMissingError extends Error {
  override readonly name = 'StoredObjectMissingError';
}

/** A stored object whose bytes are not as many as its index entry says. */
export class StoredObjectSizeError extends Error {
  override readonly name = 'StoredObjectSizeError';
}

export interface StoreRequestBody {
  readonly contentType: string;
  /** Set for a streamed body (a stream has no length of its own); a buffered one carries its own. */
  readonly contentLength?: number;
  /** The body of one attempt: the same bytes each time, a stream opened anew. */
  open(): Promise<Uint8Array | ReadableStream<Uint8Array>>;
}

/**
 * The Store request body (PS3.18 10.5.1.1: multipart/related; type="application/dicom", one part per
 * instance): buffered once so that a retry sends the very same bytes, or, for one streamed instance,
 * its multipart framing around the object's stream, opened at each attempt.
 */
export async function storeRequestBody(instances: readonly InstanceToStore[]): Promise<StoreRequestBody> {
  const boundary = newBoundary();
  const contentType = `${MediaType.MultipartRelated}; type="${MediaType.Dicom}"; boundary=${boundary}`;
  const [first] = instances;
  if (instances.length === 1 && first?.file) {
    const file = first.file;
    // The framing's bytes: the same body around an empty part.
    let framing = 0;
    for await (const chunk of writeMultipartRelated([{ contentType: MediaType.Dicom, body: new Uint8Array(0) }], boundary)) {
      framing += chunk.byteLength;
    }
    const contentLength = framing + file.size;
    return {
      contentType,
      contentLength,
      open: async () => {
        const stream = await file.open();
        if (!stream) throw new StoredObjectMissingError('the stored object is gone');
        return readableOf(writeMultipartRelated([{ contentType: MediaType.Dicom, body: stream }], boundary), contentLength);
      },
    };
  }
  const chunks: Uint8Array[] = [];
  const parts = instances.map((i) => {
    if (!i.bytes) throw new TypeError('a streamed instance is sent alone');
    return { contentType: MediaType.Dicom, body: i.bytes };
  });
  for await (const chunk of writeMultipartRelated(parts, boundary)) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  return { contentType, open: async () => body };
}

/**
 * A fetch body pulled from `chunks` as the connection takes them (one chunk held at a time), which
 * errors when they do not add up to the Content-Length announced: the request then fails, never
 * sending a body shorter or longer than announced.
 */
function readableOf(chunks: AsyncIterable<Uint8Array>, contentLength: number): ReadableStream<Uint8Array> {
  const iterator = chunks[Symbol.asyncIterator]();
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) {
        if (sent === contentLength) controller.close();
        else controller.error(new StoredObjectSizeError(`the stored object has ${sent} of ${contentLength} bytes`));
        return;
      }
      sent += next.value.byteLength;
      if (sent > contentLength) {
        controller.error(new StoredObjectSizeError(`the stored object exceeds ${contentLength} bytes`));
        await iterator.return?.();
        return;
      }
      controller.enqueue(next.value);
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
