/**
 * What storing an instance computes from its bytes alone, before any storage call (PS3.18 10.5):
 * the instance read and checked (readInstance), its digests, its DICOM JSON, the keys of its objects
 * and its index entries. A pure function of the bytes and the bulk data threshold, so that the
 * embedded runtime can run it on worker threads (lib/local/store-workers.ts) while the event loop
 * serves the requests and the storage calls; in a Lambda function it runs inline.
 */
import { frameCountOf } from '../dicom/frames/frame-numbers';
import { frameOffsetsOf, frameOffsetsOfPixelData } from '../dicom/frames/frame-offsets';
import { toDicomJson, type DicomJson } from '../dicom/json';
import { Part10Error, readPart10, type ParsedInstance, type Part10Identity, type ReadPart10Options } from '../dicom/part10';
import { readPart10Json } from '../dicom/part10-json';
import { PIXEL_DATA_TAGS, Tag } from '../dicom/tags';
import { isValidUid } from '../dicom/uid';
import { instanceMetadataKey, instanceObjectKey, objectVersion } from '../storage/keys';
import type { InstanceObject } from '../storage/ports';
import { buildIndexEntries } from './index-entries';
import { FailureReason } from './status-codes';
import { contentDigests, type ContentDigests } from './stored-content';
import { bulkDataPath } from './uris';

/** An instance that was not stored, with its Failure Reason (PS3.2 J.4.2). */
export interface Failed {
  readonly sopClassUID: string;
  readonly sopInstanceUID: string;
  readonly failureReason: number;
}

/** The UIDs that name a stored instance in the Store Instances Response Module. */
export interface InstanceUids {
  readonly sopClassUID: string;
  readonly sopInstanceUID: string;
  readonly studyInstanceUID: string;
  readonly seriesInstanceUID: string;
}

/** A Studies Service instance ready for its storage calls. */
export interface PreparedInstance extends InstanceUids {
  readonly digests: ContentDigests;
  /** Its DICOM JSON (PS3.18 F.2), as the metadata object stores it. */
  readonly metadataJson: string;
  readonly modality?: string;
  /** Its index entries; the instance entry's InstanceObject names the keys of this write's objects. */
  readonly entries: ReturnType<typeof buildIndexEntries>;
}

export type Preparation = { readonly prepared: PreparedInstance } | { readonly failed: Failed };

/**
 * Prepares one instance: inline (prepareInstance) or on another thread; the same answer either way.
 * A preparer that copied the bytes for its thread may hand the copy over with a prepared instance
 * (`copy`: the same bytes, in a buffer of their own), for the caller to donate to the object's put
 * (ports.ts PutOptions) instead of the put copying the part again.
 */
export type InstancePreparer = (part10: Uint8Array) => Promise<Preparation & { readonly copy?: Uint8Array }>;

/**
 * Reads one instance of a Store request and checks what identifies it (PS3.18 10.5.2, PS3.4 B.4.1,
 * PS3.10 7.1): the SOP Class and Instance UIDs, and for a patient instance the Study and Series
 * Instance UIDs, which a Non-Patient Instance (PS3.18 12) does not have. A problem is the Failure
 * Reason of PS3.2 J.4.2, never a throw.
 */
export function readInstance(
  part10: Uint8Array,
  opts: { readonly patientInstance: boolean } & ReadPart10Options,
): { readonly instance: ParsedInstance; readonly digests: ContentDigests } | { readonly failed: Failed } {
  let instance: ParsedInstance;
  let digests: ContentDigests;
  try {
    instance = readPart10(part10, { bulkDataAbove: opts.bulkDataAbove });
    digests = contentDigests(part10);
  } catch (error) {
    if (error instanceof Part10Error) return cannotUnderstand();
    throw error;
  }
  return checkedInstance(instance, digests, opts);
}

/** The Failure Reason of a file that is not a DICOM Part 10 file the archive can read (PS3.2 J.4.2). */
export function cannotUnderstand(): { readonly failed: Failed } {
  return { failed: { sopClassUID: '', sopInstanceUID: '', failureReason: FailureReason.CannotUnderstand } };
}

/** readInstance's checks of an instance read (PS3.18 10.5.2, PS3.4 B.4.1, PS3.10 7.1). */
export function checkedInstance<T extends Part10Identity>(
  instance: T,
  digests: ContentDigests,
  opts: { readonly patientInstance: boolean },
): { readonly instance: T; readonly digests: ContentDigests } | { readonly failed: Failed } {
  const { sopClassUID, sopInstanceUID, studyInstanceUID, seriesInstanceUID } = instance;
  const fail = (failureReason: number) => ({ failed: { sopClassUID, sopInstanceUID, failureReason } });

  // PS3.18 10.5.2 / PS3.4 B.4.1: the identifying attributes must be present and well formed.
  const identifying = opts.patientInstance
    ? [sopClassUID, sopInstanceUID, studyInstanceUID, seriesInstanceUID]
    : [sopClassUID, sopInstanceUID];
  for (const uid of identifying) {
    if (uid === '') return fail(FailureReason.DataSetDoesNotMatchSOPClass);
    if (!isValidUid(uid)) return fail(FailureReason.CannotUnderstand);
  }
  if (!isValidUid(instance.transferSyntaxUID)) return fail(FailureReason.ReferencedTransferSyntaxNotSupported);
  // PS3.10 7.1: the File Meta Information must describe the data set it carries.
  if (
    (instance.mediaStorageSOPInstanceUID && instance.mediaStorageSOPInstanceUID !== sopInstanceUID) ||
    (instance.mediaStorageSOPClassUID && instance.mediaStorageSOPClassUID !== sopClassUID)
  ) {
    return fail(FailureReason.DataSetDoesNotMatchSOPClass);
  }
  return { instance, digests };
}

/**
 * Prepares a Studies Service instance for storing: read and checked, its DICOM JSON with BulkDataURIs
 * for the values above `bulkDataThreshold`, the keys of this write's objects (objectVersion: a write
 * never replaces another's bytes), and its index entries.
 */
export function prepareInstance(part10: Uint8Array, bulkDataThreshold: number): Preparation {
  // Most files are read straight to their DICOM JSON (part10-json.ts); the others through dcmjs. On
  // either path: the frames of compressed Pixel Data without an offset table, read by range when retrieved.
  const json = readPart10Json(part10, bulkDataThreshold, (uids, tagPath) => bulkDataPath(uids.study, uids.series, uids.sop, tagPath));
  if (json) {
    let digests: ContentDigests;
    try {
      digests = contentDigests(part10);
    } catch (error) {
      if (error instanceof Part10Error) return cannotUnderstand();
      throw error;
    }
    const checked = checkedInstance(json, digests, { patientInstance: true });
    if ('failed' in checked) return checked;
    const frameOffsets = frameOffsetsOfPixelData(part10, json.pixelData);
    return preparedFromMetadata(json, digests, json.json, { size: part10.byteLength, frameOffsets });
  }
  const read = readInstance(part10, { patientInstance: true, bulkDataAbove: bulkDataThreshold });
  if ('failed' in read) return read;
  return preparedInstance(read, { size: part10.byteLength, frameOffsets: frameOffsetsOf(part10, read.instance) }, bulkDataThreshold);
}

/**
 * prepareInstance's answer as JSON text, for a thread to send (lib/local/store-workers.ts): a
 * Preparation is plain JSON data, and V8 writes and reads it as one string faster than it clones its
 * objects (the event loop's Message::Deserialize was about 15 % of its STOW-RS CPU, perf).
 */
export function preparationJson(part10: Uint8Array, bulkDataThreshold: number): string {
  return JSON.stringify(prepareInstance(part10, bulkDataThreshold));
}

/**
 * prepareInstance's answer for an instance read and checked (readInstance, checkedInstance) whose
 * file is `size` bytes long and whose frames lie at `frameOffsets` (frameOffsetsOf).
 */
export function preparedInstance(
  read: { readonly instance: ParsedInstance; readonly digests: ContentDigests },
  file: { readonly size: number; readonly frameOffsets: number[] | undefined },
  bulkDataThreshold: number,
): Preparation {
  const { instance, digests } = read;
  const { studyInstanceUID, seriesInstanceUID, sopInstanceUID } = instance;
  const metadata = toDicomJson(instance.dict, {
    bulkDataThreshold,
    bulkDataUri: (tagPath) => bulkDataPath(studyInstanceUID, seriesInstanceUID, sopInstanceUID, tagPath),
  });
  return preparedFromMetadata(instance, digests, metadata, file);
}

/** preparedInstance's answer once the instance's DICOM JSON (`metadata`) is made. */
function preparedFromMetadata(
  instance: Part10Identity,
  digests: ContentDigests,
  metadata: DicomJson,
  file: { readonly size: number; readonly frameOffsets: number[] | undefined },
): Preparation {
  const { sopClassUID, sopInstanceUID, studyInstanceUID, seriesInstanceUID } = instance;
  const version = objectVersion(digests.digest);
  const objectKey = instanceObjectKey(studyInstanceUID, seriesInstanceUID, sopInstanceUID, version);
  const metadataKey = instanceMetadataKey(studyInstanceUID, seriesInstanceUID, sopInstanceUID, version);
  const { frameOffsets } = file;
  const object: InstanceObject = {
    sopClassUID,
    transferSyntaxUID: instance.transferSyntaxUID,
    objectKey,
    metadataKey,
    size: file.size,
    ...digests,
    numberOfFrames: numberOfFramesOf(metadata),
    ...(frameOffsets && { frameOffsets }),
  };
  const modality = metadata[Tag.Modality]?.Value?.[0];
  return {
    prepared: {
      sopClassUID,
      sopInstanceUID,
      studyInstanceUID,
      seriesInstanceUID,
      digests,
      metadataJson: JSON.stringify(metadata),
      ...(typeof modality === 'string' && { modality }),
      entries: buildIndexEntries(metadata, object),
    },
  };
}

/** The frames of the instance the index keeps: frameCountOf with Pixel Data, 0 without. */
function numberOfFramesOf(metadata: DicomJson): number {
  if (!PIXEL_DATA_TAGS.some((tag) => metadata[tag])) return 0;
  return frameCountOf(metadata[Tag.NumberOfFrames]?.Value?.[0]);
}
