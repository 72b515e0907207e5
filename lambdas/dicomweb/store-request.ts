/**
 * A Store request as a whole (PS3.18 10.5; the NPI Store of PS3.18 12.5 alike): its media type and
 * multipart body, read part by part while the instances are stored, and the Store Instances Response
 * Module (PS3.18 10.5.3) of their outcomes. The per-instance rules are in ./store.ts.
 */
import { MultipartError, parseMediaType, readMultipartRelated, type MultipartPart } from '../dicom/multipart';
import { asciiDecoder, scanPart10Header } from '../dicom/part10-scan';
import { Tag, tagNumber } from '../dicom/tags';
import { warningHeader } from './messages';
import type { DicomJson } from '../dicom/json';
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from './errors';
import { FailureReason } from './status-codes';
import type { StoreOutcome, StoreRequest, StoreResult, StoreTarget } from './store';
import { absolute, studyPath } from './uris';

const DICOM = 'application/dicom';

/**
 * Time a Store request keeps back from its function's timeout (lib/routes: 18 s behind API Gateway):
 * the parts being stored finish and the response is written. Once less remains, the rest of the body
 * is read but not stored, each instance failing with A700 (Refused: Out of Resources, PS3.2 J.4.2)
 * and a Warning saying to store it again: a request the function could not finish would otherwise be
 * cut by the timeout and answered 502, with nothing said of what was stored.
 */
export const STORE_TIME_RESERVE_MS = 5_000;

/**
 * Memory the parts of Store requests are assembled in, lent part by part and given back once a part
 * is stored (the embedded runtime's pool, lib/local/part-buffers.ts).
 */
export interface PartBuffers {
  /** At least `size` bytes for a part, or undefined: the part is then assembled without. */
  take(size: number): Uint8Array | undefined;
  /** A part's memory back, once nothing holds it any more; a part not taken from here is ignored. */
  give(part: Uint8Array): void;
}

/** SOP Class and Instance UIDs of a part left unstored, read from its header without dcmjs. */
function uidsOf(part10: Uint8Array): { sopClassUID: string; sopInstanceUID: string } {
  const header = scanPart10Header(part10, tagNumber(Tag.SOPInstanceUID) + 1);
  const value = (tag: string): string => {
    const at = header?.elements.get(tagNumber(tag));
    if (!at) return '';
    return asciiDecoder.decode(part10.subarray(at.valueStart, at.valueStart + at.length)).replace(/[\0 ]+$/, '');
  };
  return { sopClassUID: value(Tag.SOPClassUID), sopInstanceUID: value(Tag.SOPInstanceUID) };
}

/**
 * 413 for a request body over the limit, naming the upload path for an instance above it; the embedded
 * gateway answers with the same Status Report.
 */
export function requestTooLarge(limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`the request body exceeds ${limit} bytes, the most one request can carry`, [
    {
      target: 'body',
      message:
        'split the instances over several Store requests, each below the limit (one instance per request ' +
        `if need be); send an instance larger than ${limit} bytes through POST /uploads of the service root, ` +
        'the upload path (docs/uploads.md)',
    },
  ]);
}

/** A part of a Store request that is not application/dicom fails (PS3.18 10.5.1.2). */
export function isDicomPart(part: MultipartPart): boolean {
  const partType = part.headers['content-type'];
  return partType === undefined || parseMediaType(partType).mediaType === DICOM;
}

/** The boundary of a Store request's multipart body, once its media type is checked (PS3.18 10.5.1.2). */
export function requestBoundary(contentType: string | undefined): string {
  if (!contentType) throw new UnsupportedMediaTypeError('Content-Type is required: multipart/related; type="application/dicom"');
  const media = parseMediaType(contentType);
  if (media.mediaType !== 'multipart/related') {
    throw new UnsupportedMediaTypeError(`${media.mediaType} is not supported; use multipart/related; type="application/dicom"`);
  }
  const type = media.params.type?.toLowerCase();
  if (type !== undefined && type !== DICOM) {
    throw new UnsupportedMediaTypeError(
      `multipart/related; type="${type}" is not supported; this origin server stores application/dicom instances only`,
    );
  }
  const boundary = media.params.boundary;
  if (!boundary) throw new BadRequestError('the multipart/related Content-Type has no boundary parameter');
  return boundary;
}

/**
 * Stores the instances of a Store request (STOW-RS, or the NPI Store of PS3.18 12.5) part by part as
 * the body is read: up to `concurrency` parts are stored at once, and the next part is read only when
 * one of them is done, so memory is a few instances whatever the size of the request. Returns the
 * Store Instances Response Module with the outcomes in request order.
 *
 * A body found malformed (PS3.18 10.5.3.1: "bad syntax") is answered 400 when nothing was stored
 * before the malformation was read, as a whole body would have been. When instances before it were
 * stored, 400 ("unable to store any instances") would be false: the answer is 202 with those
 * instances in the Referenced SOP Sequence, one Failed SOP Sequence item with Failure Reason C000
 * (Cannot understand, PS3.2 J.4.2) and no UIDs for the unreadable rest, and a Warning saying what
 * was malformed. Nothing after the malformation is stored.
 *
 * `req.remainingMillis` (the function's remaining time) bounds the storing: see STORE_TIME_RESERVE_MS.
 * With `partBuffers`, each part is assembled in their memory and given back once its outcome is known
 * (not after the store failed: a call may still hold the part, which the garbage collector then frees).
 */
export async function storeRequestParts(
  req: Pick<StoreRequest, 'contentType' | 'body' | 'remainingMillis'>,
  maxRequestBytes: number,
  concurrency: number,
  target: StoreTarget,
  storeInstance: (part10: Uint8Array) => Promise<StoreOutcome>,
  partBuffers?: PartBuffers,
): Promise<StoreResult> {
  // A streamed body of unknown size is held to the limit as it is read (lib/local/gateway.ts).
  if (req.body.byteLength !== undefined && req.body.byteLength > maxRequestBytes) throw requestTooLarge(maxRequestBytes);
  const allocate = partBuffers && ((size: number) => partBuffers.take(size));
  const parts = readMultipartRelated(req.body.chunks(), requestBoundary(req.contentType), allocate);

  const outcomes: StoreOutcome[] = [];
  let malformed: MultipartError | undefined;
  let failed = false;
  let unstored = 0;
  const outOfTime = () => req.remainingMillis !== undefined && req.remainingMillis() < STORE_TIME_RESERVE_MS;
  let next = 0;
  const worker = async () => {
    while (!failed && malformed === undefined) {
      // The parts are handed out in request order: the i-th call to next() gets the i-th part.
      const i = next++;
      let part: IteratorResult<MultipartPart>;
      try {
        part = await parts.next();
      } catch (error) {
        if (!(error instanceof MultipartError)) throw error;
        malformed = error;
        return;
      }
      if (part.done) return;
      const { body } = part.value;
      if (isDicomPart(part.value) && (unstored > 0 || outOfTime())) {
        unstored++;
        outcomes[i] = { failed: { ...uidsOf(body), failureReason: FailureReason.OutOfMemory } };
        partBuffers?.give(body);
        continue;
      }
      try {
        outcomes[i] = isDicomPart(part.value)
          ? await storeInstance(body)
          : { failed: { sopClassUID: '', sopInstanceUID: '', failureReason: FailureReason.CannotUnderstand } };
      } catch (error) {
        failed = true; // an unavailable store fails the request: take no further part
        throw error;
      }
      partBuffers?.give(body);
    }
  };
  // Every worker ends before the outcome is decided, so no part is still being stored behind a failure.
  const ended = await Promise.allSettled(Array.from({ length: concurrency }, worker));
  for (const end of ended) if (end.status === 'rejected') throw end.reason;

  if (malformed) {
    const body = `malformed multipart body: ${malformed.message}`;
    if (!outcomes.some((o) => 'referenced' in o)) throw new BadRequestError(body);
    const rest: StoreOutcome = { failed: { sopClassUID: '', sopInstanceUID: '', failureReason: FailureReason.CannotUnderstand } };
    const warning = warningHeader(target.baseUrl, `${body} after part ${outcomes.length}; the parts before it were processed`);
    return { ...storeInstancesResponse([...outcomes, rest], target), warning };
  }
  if (outcomes.length === 0) throw new BadRequestError('the multipart body contains no instance');
  const result = storeInstancesResponse(outcomes, target);
  if (unstored === 0) return result;
  const warning = warningHeader(
    target.baseUrl,
    `the request's time ran out: ${unstored} instances were not stored (Failure Reason A700); store them again in another request`,
  );
  return { ...result, warning };
}

/** Store Instances Response Module, PS3.18 Table 10.5.3-1. */
export function storeInstancesResponse(outcomes: readonly StoreOutcome[], req: StoreTarget): StoreResult {
  const referencedItems: DicomJson[] = [];
  const failedItems: DicomJson[] = [];
  let warnings = 0;
  for (const o of outcomes) {
    if ('referenced' in o) {
      const r = o.referenced;
      const item: DicomJson = {
        [Tag.ReferencedSOPClassUID]: { vr: 'UI', Value: [r.sopClassUID] },
        [Tag.ReferencedSOPInstanceUID]: { vr: 'UI', Value: [r.sopInstanceUID] },
        [Tag.RetrieveURL]: { vr: 'UR', Value: [r.retrieveUrl] },
      };
      if (r.warningReason !== undefined) {
        item[Tag.WarningReason] = { vr: 'US', Value: [r.warningReason] };
        warnings++;
      }
      referencedItems.push(item);
    } else {
      const f = o.failed;
      failedItems.push({
        [Tag.ReferencedSOPClassUID]: f.sopClassUID ? { vr: 'UI', Value: [f.sopClassUID] } : { vr: 'UI' },
        [Tag.ReferencedSOPInstanceUID]: f.sopInstanceUID ? { vr: 'UI', Value: [f.sopInstanceUID] } : { vr: 'UI' },
        [Tag.FailureReason]: { vr: 'US', Value: [f.failureReason] },
      });
    }
  }
  const response: DicomJson = {};
  if (req.studyInstanceUID !== undefined) {
    response[Tag.RetrieveURL] = { vr: 'UR', Value: [absolute(req.baseUrl, studyPath(req.studyInstanceUID))] };
  }
  if (failedItems.length) response[Tag.FailedSOPSequence] = { vr: 'SQ', Value: failedItems };
  if (referencedItems.length) response[Tag.ReferencedSOPSequence] = { vr: 'SQ', Value: referencedItems };
  const status = referencedItems.length === 0 ? 409 : failedItems.length || warnings ? 202 : 200;
  return { status, response, stored: referencedItems.length, failed: failedItems.length };
}
