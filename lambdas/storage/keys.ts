/**
 * S3 object keys of the archive (docs/architecture.md, storage model). Every key is built here and nowhere else.
 *
 *   studies/{study}/series/{series}/instances/{sop}.{version}.dcm    the Part 10 file exactly as received
 *   studies/{study}/series/{series}/instances/{sop}.{version}.json   its DICOM JSON (PS3.18 F.2), BulkDataURI for large values
 *   studies/…/instances/{sop}.{version}.derived.{name}              an image derived from it (a cached thumbnail)
 *   send-requests/{transactionUID}/manifest.jsonl          the instances a Send selected
 *   send-requests/{transactionUID}/outcomes/{batch}.json   a Deliver batch's failed and warning SOP Instance UIDs
 *   npi/{category}/{sop}.{version}.dcm, .json              a Non-Patient Instance (PS3.18 12) and its DICOM JSON
 *   uploads/{uploadId}.dcm                                 an upload's Part 10 file, joined from its parts (docs/uploads.md)
 *
 * An instance's objects carry a version (objectVersion): every write of an instance goes to keys of
 * its own, so two writers of one SOP Instance UID racing (two functions, each past the lookup) never
 * write the same key, and the object the index entry names never changes after the entry was
 * written. Readers and Delete take the keys from the index entry (InstanceObject.objectKey and
 * metadataKey), never from here, so objects written without a version ({sop}.dcm, {sop}.json) by
 * earlier releases are served and deleted too.
 */

import { randomBytes } from 'node:crypto';
import { InvalidKeySegmentError } from './errors';

/**
 * The first segment of every key, one per kind of object. IAM grants name these prefixes
 * (lib/constructs/), so a new kind of object needs its prefix here and its grant there.
 */
export const KEY_PREFIXES = {
  studies: 'studies/',
  sendRequests: 'send-requests/',
  npi: 'npi/',
  uploads: 'uploads/',
} as const;

/**
 * Days after which a send request's objects (its manifest, its batches' outcomes) expire: the day
 * after its result does (SEND_RESULT_TTL_SECONDS, then Check Send Result answers 410), counted from
 * each object's creation, which is after the request's. The S3 lifecycle rule SendRequests
 * (lib/constructs/storage.ts) and the local engine's sweep (local/send-object-sweep.ts) both apply it.
 */
export function sendRequestObjectExpiryDays(resultTtlSeconds: number): number {
  return Math.ceil(resultTtlSeconds / 86400) + 1;
}

/**
 * Callers validate UIDs (PS3.5 9.1: digits and dots) before they reach here; this is defence in depth
 * so a malformed UID can never address an object outside its own prefix.
 */
function keySegment(name: string, uid: string): string {
  if (uid === '' || uid.includes('/') || uid.includes('..')) {
    throw new InvalidKeySegmentError(`${name} is not usable in an object key`);
  }
  return uid;
}

function instancePrefix(studyInstanceUID: string, seriesInstanceUID: string, sopInstanceUID: string): string {
  return (
    `${KEY_PREFIXES.studies}${keySegment('Study Instance UID', studyInstanceUID)}` +
    `/series/${keySegment('Series Instance UID', seriesInstanceUID)}` +
    `/instances/${keySegment('SOP Instance UID', sopInstanceUID)}`
  );
}

/**
 * The version of one write of an instance: the first 16 hex digits of the sha256 of its Part 10 bytes
 * (which content the objects hold, for an operator reading the bucket) and 8 random hex digits (which
 * write: two writes of the same content do not share keys either, so a writer may delete the objects
 * it wrote when it loses the race without touching anyone else's).
 */
export function objectVersion(digest: string): string {
  return `${digest.slice(0, 16)}-${randomHex8()}`;
}

/**
 * Random bytes drawn 4 KiB at a time (crypto-strong, as randomBytes(4) each) and used 4 at a time:
 * a call of randomBytes per instance showed in profiles of STOW-RS preparation (~8 us of ~150).
 */
const RANDOM_POOL_BYTES = 4096;
let randomPool = Buffer.alloc(0);
let randomAt = 0;
function randomHex8(): string {
  if (randomAt + 4 > randomPool.length) {
    randomPool = randomBytes(RANDOM_POOL_BYTES);
    randomAt = 0;
  }
  randomAt += 4;
  return randomPool.toString('hex', randomAt - 4, randomAt);
}

/** Key of the Part 10 object of one write (objectVersion) of an instance. */
export function instanceObjectKey(studyInstanceUID: string, seriesInstanceUID: string, sopInstanceUID: string, version: string): string {
  return `${instancePrefix(studyInstanceUID, seriesInstanceUID, sopInstanceUID)}.${keySegment('object version', version)}.dcm`;
}

/** Key of the DICOM JSON metadata of one write of an instance, beside its Part 10 object. */
export function instanceMetadataKey(studyInstanceUID: string, seriesInstanceUID: string, sopInstanceUID: string, version: string): string {
  return `${instancePrefix(studyInstanceUID, seriesInstanceUID, sopInstanceUID)}.${keySegment('object version', version)}.json`;
}

/**
 * Key of an image derived from one stored instance (a rendered thumbnail, PS3.18 10.4.1.1.4), beside
 * its Part 10 object: named after the object's own key, so a later write of the instance (another
 * version) never meets an image of the earlier one, and its Delete finds it from the index entry.
 * `name` is the derived image's name, e.g. `thumbnail.jpg`.
 */
export function derivedImageKey(objectKey: string, name: string): string {
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(name)) throw new InvalidKeySegmentError('derived image name is not usable in an object key');
  return `${objectKey.replace(/\.dcm$/, '')}.derived.${name}`;
}

/** Key of the manifest (one JSON object per line) of the instances a Send request selected. */
export function sendManifestKey(transactionUID: string): string {
  return `${KEY_PREFIXES.sendRequests}${keySegment('Transaction UID', transactionUID)}/manifest.jsonl`;
}

/** Key of the failed and warning SOP Instance UIDs of one Deliver batch of a Send request. */
export function sendOutcomeKey(transactionUID: string, batchId: string): string {
  return `send-requests/${keySegment('Transaction UID', transactionUID)}/outcomes/${keySegment('batch', batchId)}.json`;
}

function npiPrefix(category: string, sopInstanceUID: string): string {
  return `${KEY_PREFIXES.npi}${keySegment('NPI category', category)}/${keySegment('SOP Instance UID', sopInstanceUID)}`;
}

/** Key of the Part 10 object of one write (objectVersion) of a Non-Patient Instance (PS3.18 12), apart from the studies. */
export function npiObjectKey(category: string, sopInstanceUID: string, version: string): string {
  return `${npiPrefix(category, sopInstanceUID)}.${keySegment('object version', version)}.dcm`;
}

/** Key of the DICOM JSON of one write of a Non-Patient Instance, beside its Part 10 object. */
export function npiMetadataKey(category: string, sopInstanceUID: string, version: string): string {
  return `${npiPrefix(category, sopInstanceUID)}.${keySegment('object version', version)}.json`;
}

/**
 * Whether `key` names the DICOM JSON of an instance or of a Non-Patient Instance (instanceMetadataKey,
 * npiMetadataKey, and the unversioned `{sop}.json` of earlier releases): an object only an index entry
 * names, which the local engine keeps in the index database (local/local-blobs.ts).
 */
export function isMetadataKey(key: string): boolean {
  return (key.startsWith(KEY_PREFIXES.studies) || key.startsWith(KEY_PREFIXES.npi)) && key.endsWith('.json');
}

/**
 * Key of the object an upload's parts are joined into (docs/uploads.md): read by the Store rules, then
 * copied to the instance's own key and deleted. Upload ids are the archive's own (URL-safe base64).
 */
export function uploadObjectKey(uploadId: string): string {
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(uploadId)) throw new InvalidKeySegmentError('upload id is not usable in an object key');
  return `${KEY_PREFIXES.uploads}${uploadId}.dcm`;
}
