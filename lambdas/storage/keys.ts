/**
 * S3 object keys of the archive (DESIGN.md, storage model). Every key is built here and nowhere else.
 *
 *   studies/{study}/series/{series}/instances/{sop}.dcm    the Part 10 file exactly as received
 *   studies/{study}/series/{series}/instances/{sop}.json   its DICOM JSON (PS3.18 F.2), BulkDataURI for large values
 *   send-requests/{transactionUID}/manifest.jsonl          the instances a Send selected
 *   npi/{category}/{sop}.dcm, npi/{category}/{sop}.json    a Non-Patient Instance (PS3.18 12) and its DICOM JSON
 */

import { BadRequestError } from '../dicomweb/errors';

/**
 * The first segment of every key, one per kind of object. IAM grants name these prefixes
 * (lib/constructs/), so a new kind of object needs its prefix here and its grant there.
 */
export const KEY_PREFIXES = {
  studies: 'studies/',
  sendRequests: 'send-requests/',
  npi: 'npi/',
} as const;

/**
 * Callers validate UIDs (PS3.5 9.1: digits and dots) before they reach here; this is defence in depth
 * so a malformed UID can never address an object outside its own prefix.
 */
function keySegment(name: string, uid: string): string {
  if (uid === '' || uid.includes('/') || uid.includes('..')) {
    throw new BadRequestError(`${name} is not usable in an object key`);
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

/** Key of the Part 10 object of one instance. */
export function instanceObjectKey(studyInstanceUID: string, seriesInstanceUID: string, sopInstanceUID: string): string {
  return `${instancePrefix(studyInstanceUID, seriesInstanceUID, sopInstanceUID)}.dcm`;
}

/** Key of the DICOM JSON metadata of one instance, beside its Part 10 object. */
export function instanceMetadataKey(studyInstanceUID: string, seriesInstanceUID: string, sopInstanceUID: string): string {
  return `${instancePrefix(studyInstanceUID, seriesInstanceUID, sopInstanceUID)}.json`;
}

/** Key of the manifest (one JSON object per line) of the instances a Send request selected. */
export function sendManifestKey(transactionUID: string): string {
  return `${KEY_PREFIXES.sendRequests}${keySegment('Transaction UID', transactionUID)}/manifest.jsonl`;
}

function npiPrefix(category: string, sopInstanceUID: string): string {
  return `${KEY_PREFIXES.npi}${keySegment('NPI category', category)}/${keySegment('SOP Instance UID', sopInstanceUID)}`;
}

/** Key of the Part 10 object of one Non-Patient Instance (PS3.18 12), apart from the studies. */
export function npiObjectKey(category: string, sopInstanceUID: string): string {
  return `${npiPrefix(category, sopInstanceUID)}.dcm`;
}

/** Key of the DICOM JSON of one Non-Patient Instance, beside its Part 10 object. */
export function npiMetadataKey(category: string, sopInstanceUID: string): string {
  return `${npiPrefix(category, sopInstanceUID)}.json`;
}
