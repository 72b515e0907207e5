/**
 * The stored instances of Store sub-operations (the Send workflow's Deliver, C-MOVE), as the STOW-RS
 * and C-STORE clients take them: a small instance read whole, sent with others; a large one streamed
 * from storage at each attempt, never held whole, so a 1 GB instance fits a Deliver function of 1 GB.
 */
import type { BlobStore, InstanceObject } from '../storage/ports';
import { byteBoundedGroups } from './counters';
import type { InstanceToStore, StoredFile } from './store-request-body';

/**
 * Above this size an instance is streamed, on its own Store request. 8 MiB: a request of a
 * destination behind API Gateway takes at most about 4.5 MB (DEFAULT_SEND_MAX_BATCH_BYTES), so such
 * an instance goes alone anyway; its transfer (about 80 ms at 100 MB/s) dwarfs the round trip its
 * own request costs; and up to it C-STORE keeps transcoding a data set the peer takes only in another
 * uncompressed syntax, which needs it whole.
 */
export const STREAMED_INSTANCE_BYTES = 8 * 1024 * 1024;

/** An instance of a batch and its stored object (from its index entry). */
export interface StoredInstance {
  readonly sopInstanceUID: string;
  readonly object: InstanceObject;
}

export function isStreamed(object: InstanceObject): boolean {
  return object.size > STREAMED_INSTANCE_BYTES;
}

/**
 * Cuts a batch, in order, into groups of one request or association each: the instances read whole
 * add up to at most `maxBytes` (`sizeOf` each, framing included); a streamed one is never held, so it
 * counts nothing.
 */
export function deliveryGroups<T extends StoredInstance>(
  items: readonly T[],
  sizeOf: (object: InstanceObject) => number,
  maxBytes: number,
): T[][] {
  return byteBoundedGroups(items, ({ object }) => (isStreamed(object) ? 0 : sizeOf(object)), maxBytes);
}

/**
 * A group's instances to store, in order: small ones read (at once: the group is sent as one), large
 * ones as files opened when sent. `missing`: instances whose object is gone (deleted since the batch
 * was resolved); a streamed one found gone when sent fails there.
 */
export async function instancesToStore(
  blobs: BlobStore,
  group: readonly StoredInstance[],
): Promise<{ instances: InstanceToStore[]; missing: string[] }> {
  const read = await Promise.all(group.map(({ object }) => (isStreamed(object) ? undefined : blobs.get(object.objectKey))));
  const instances: InstanceToStore[] = [];
  const missing: string[] = [];
  group.forEach(({ sopInstanceUID, object }, i) => {
    const { sopClassUID } = object;
    const bytes = read[i];
    if (isStreamed(object)) instances.push({ sopInstanceUID, sopClassUID, file: storedFile(blobs, object) });
    else if (bytes) instances.push({ sopInstanceUID, sopClassUID, bytes });
    else missing.push(sopInstanceUID);
  });
  return { instances, missing };
}

function storedFile(blobs: BlobStore, object: InstanceObject): StoredFile {
  return { size: object.size, transferSyntaxUID: object.transferSyntaxUID, open: () => blobs.getStream(object.objectKey) };
}
