/**
 * Duplicates judged on the data set, not the file (docs/conformance-statement.md, Store): the same
 * instance re-sent by STOW-RS, by C-STORE or by another AE title comes in other File Meta Information,
 * maybe in the other Little Endian VR encoding, and is the same content; another data set under a
 * stored SOP Instance UID is not. Shared by the Studies Store (STOW-RS and C-STORE) and the NPI Store.
 */
import { createHash } from 'node:crypto';
import { dataSetDigest } from '../dicom/data-set-digest';
import { Part10Error } from '../dicom/part10-scan';
import type { BlobStore, InstanceObject } from '../storage/ports';

/** What identifies a Part 10 file's content: the sha256 of its bytes, and of its data set (data-set-digest.ts). */
export interface ContentDigests {
  readonly digest: string;
  readonly datasetDigest: string;
}

/** The digests of a file readPart10 has read. */
export function contentDigests(part10: Uint8Array): ContentDigests {
  return { digest: createHash('sha256').update(part10).digest('hex'), datasetDigest: dataSetDigest(part10) };
}

/**
 * Whether a stored instance holds the data set `incoming` does. An entry stored before data set
 * digests existed carries its file digest only: the same bytes are the same data set; otherwise its
 * object is read once and its data set digest computed. An object that cannot be read or parsed is
 * other content, as before this judgment existed: the stored instance stays, the new one is refused.
 */
export async function holdsSameDataSet(blobs: BlobStore, stored: InstanceObject | undefined, incoming: ContentDigests): Promise<boolean> {
  if (stored === undefined) return false;
  if (stored.datasetDigest !== undefined) return stored.datasetDigest === incoming.datasetDigest;
  if (stored.digest === incoming.digest) return true;
  const bytes = await blobs.get(stored.objectKey);
  if (bytes === undefined) return false;
  try {
    return dataSetDigest(bytes) === incoming.datasetDigest;
  } catch (error) {
    if (error instanceof Part10Error) return false;
    throw error;
  }
}
