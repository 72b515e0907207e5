/**
 * Retrieve Transaction (WADO-RS), PS3.18 10.4: instances, metadata, frames and bulkdata of the Studies
 * Service. Responses stream: instances go out one at a time, so memory stays a small multiple of one
 * instance whatever the size of the study.
 *
 * Every check that can fail the request (400, 404/410, 406, 413) runs before the response starts;
 * once the body streams, only a storage failure can interrupt it.
 */
import type { DicomJson } from '../dicom/json';
import type { OutgoingPart } from '../dicom/multipart';
import { PIXEL_DATA_TAGS } from '../dicom/tags';
import type { BlobStore, DirectTransfer, IndexEntry, InstanceObject, MetadataIndex, ReadLease } from '../storage/ports';
import { ANY_TRANSFER_SYNTAX, negotiateInstance, negotiateInstances, negotiateMetadata, negotiateOctetStream } from './accept';
import { BadRequestError, NotAcceptableError, NotFoundError, PayloadTooLargeError } from './errors';
import { MediaType, warningHeader, type DicomwebResponse } from './messages';
import { multipartResponse, octetStreamTransferSyntax, representationOf } from './representation';
import {
  absentResourceError,
  assertNotBeingDeleted,
  assertValidUids,
  eachInstanceOf,
  instancesOf,
  levelOf,
  type ResourceUids,
} from './resources';
import { storedBulkData, storedFrames } from './instance-values';
import { FRAMES_ADVICE, lowerLevelAdvice, singlePartInstance } from './retrieve-single-part';
import { closeBody, dcmjsCodec, mapOrdered, readObject, streamObject, withReadLease } from './stored-objects';
import { absolute, bulkDataPath, instancePath, tagPathFromSegment } from './uris';

export interface RetrieveRequest extends ResourceUids {
  /** Frame list of RetrieveFrames, e.g. '1,3,5' (PS3.18 10.4.1.1.3). */
  readonly frames?: string;
  /** Bulkdata path segment of RetrieveBulkdata (uris.ts bulkDataPath). */
  readonly tag?: string;
  /** Accept header field. */
  readonly accept: string | undefined;
  /** `accept` query parameter (PS3.18 8.3.3.1); replaces the header when present. */
  readonly acceptQuery?: string;
  /** Base URL of the service root, for Content-Location and BulkDataURI. */
  readonly baseUrl: string;
  /** Prefer header field (RFC 7240): `return=redirect` opts into the redirect of a single part instance below the limit. */
  readonly prefer?: string;
}

export interface RetrieveLimits {
  /** Largest response, in bytes (the Lambda response streaming limit). */
  readonly maxResponseBytes: number;
}

/** How many metadata objects are read ahead while the JSON array streams. */
const METADATA_READ_AHEAD = 8;
/**
 * Objects requested ahead while an instance streams (mapOrdered starts the next call as it yields a
 * result): 1 keeps at most two objects open, the one streaming and the next.
 */
const INSTANCE_READ_AHEAD = 1;

export class RetrieveService {
  /**
   * `transfer`, where the deployment has one (S3 presigned URLs, the local engine's signed URLs),
   * lets a single part instance above the response limit leave by a redirect (./retrieve-single-part.ts).
   */
  constructor(
    private readonly index: MetadataIndex,
    private readonly blobs: BlobStore,
    private readonly limits: RetrieveLimits,
    private readonly transfer?: DirectTransfer,
  ) {}

  /** Retrieve Study, PS3.18 10.4.1.1.1. */
  retrieveStudy(req: RetrieveRequest): Promise<DicomwebResponse> {
    return withReadLease(this.blobs, (lease) => this.retrieveInstances(studyUids(req), req, lease));
  }
  /** Retrieve Series, PS3.18 10.4.1.1.1. */
  retrieveSeries(req: RetrieveRequest): Promise<DicomwebResponse> {
    return withReadLease(this.blobs, (lease) => this.retrieveInstances(seriesUids(req), req, lease));
  }
  /**
   * Retrieve Instance, PS3.18 10.4.1.1.1: multipart/related, or the single part application/dicom
   * (PS3.18 10.4.4), which above the response limit (or when preferred) is a 303 to the object itself.
   */
  retrieveInstance(req: RetrieveRequest): Promise<DicomwebResponse> {
    return withReadLease(this.blobs, async (lease) => {
      const uids = instanceUids(req);
      assertValidUids(uids);
      const { singlePart, syntaxes } = negotiateInstance(req);
      if (!singlePart) return this.retrieveInstances(uids, req, lease, syntaxes);
      const object = await this.instanceObject(uids);
      const ctx = { blobs: this.blobs, transfer: this.transfer, limits: this.limits, lease };
      return singlePartInstance(ctx, object, uids, syntaxes, req);
    });
  }

  /** Retrieve Study Metadata, PS3.18 10.4.1.1.2. */
  retrieveStudyMetadata(req: RetrieveRequest): Promise<DicomwebResponse> {
    return this.retrieveMetadata(studyUids(req), req);
  }
  /** Retrieve Series Metadata, PS3.18 10.4.1.1.2. */
  retrieveSeriesMetadata(req: RetrieveRequest): Promise<DicomwebResponse> {
    return this.retrieveMetadata(seriesUids(req), req);
  }
  /** Retrieve Instance Metadata, PS3.18 10.4.1.1.2. */
  retrieveInstanceMetadata(req: RetrieveRequest): Promise<DicomwebResponse> {
    return this.retrieveMetadata(instanceUids(req), req);
  }

  /** Retrieve Frames, PS3.18 10.4.1.1.3: the frames of one instance, in the order of the frame list. */
  retrieveFrames(req: RetrieveRequest): Promise<DicomwebResponse> {
    return withReadLease(this.blobs, (lease) => this.frames(req, lease));
  }

  private async frames(req: RetrieveRequest, lease: ReadLease | undefined): Promise<DicomwebResponse> {
    const uids = instanceUids(req);
    assertValidUids(uids);
    const frameNumbers = parseFrameList(req.frames);
    const syntaxes = negotiateOctetStream(req);
    const object = await this.instanceObject(uids);
    const transferSyntaxUID = octetStreamTransferSyntax(object.transferSyntaxUID, true, syntaxes);
    const limit = (total: number) => this.assertWithinLimit(total, FRAMES_ADVICE);
    const { frames, missing, frameCount } = await storedFrames(this.blobs, object, frameNumbers, { lease, limit });
    if (frames.length === 0) {
      throw new NotFoundError('none of the requested frames exists', [
        { target: 'frames', message: `the instance has ${frameCount} frame(s)` },
      ]);
    }
    this.assertWithinLimit(
      frames.reduce((sum, f) => sum + f.byteLength, 0),
      FRAMES_ADVICE,
    );
    const missingSet = new Set(missing);
    const returned = frameNumbers.filter((n) => !missingSet.has(n));
    const path = instancePath(uids.studyInstanceUID, uids.seriesInstanceUID, uids.sopInstanceUID);
    const parts = frames.map((body, i) => ({
      contentType: `${MediaType.OctetStream}; transfer-syntax=${transferSyntaxUID}`,
      headers: { 'Content-Location': absolute(req.baseUrl, `${path}/frames/${returned[i]}`) },
      body,
    }));
    const warning =
      missing.length > 0 ? warningHeader(req.baseUrl, `frame(s) ${missing.join(',')} do not exist in this instance`) : undefined;
    return multipartResponse(MediaType.OctetStream, parts, warning);
  }

  /** Retrieve Bulkdata, PS3.18 10.4.1.1.5: the value of one attribute, by its tag path. */
  async retrieveBulkdata(req: RetrieveRequest): Promise<DicomwebResponse> {
    const uids = instanceUids(req);
    assertValidUids(uids);
    const tagPath = parseTagPath(req.tag);
    const syntaxes = negotiateOctetStream(req);
    const object = await this.instanceObject(uids);
    // Only Pixel Data (and its float variants) is encapsulated in a compressed transfer syntax (PS3.5 A.4).
    const transferSyntaxUID = octetStreamTransferSyntax(object.transferSyntaxUID, PIXEL_DATA_TAGS.includes(tagPath), syntaxes);
    const limit = (total: number) => this.assertWithinLimit(total, lowerLevelAdvice('INSTANCE', this.transfer !== undefined));
    const value = await storedBulkData(this.blobs, object, tagPath, limit);
    if (value === undefined) {
      throw new NotFoundError('the instance has no binary value at this tag path', [{ target: 'tag', message: req.tag ?? '' }]);
    }
    const part = {
      contentType: `${MediaType.OctetStream}; transfer-syntax=${transferSyntaxUID}`,
      headers: {
        'Content-Location': absolute(
          req.baseUrl,
          bulkDataPath(uids.studyInstanceUID, uids.seriesInstanceUID, uids.sopInstanceUID, tagPath),
        ),
      },
      body: value,
    };
    return multipartResponse(MediaType.OctetStream, [part]);
  }

  /** Instances as multipart/related; type="application/dicom" (PS3.18 10.4.1.1.1, 8.7.3.5.2). */
  private async retrieveInstances(
    uids: ResourceUids,
    req: RetrieveRequest,
    lease: ReadLease | undefined,
    syntaxes: string[] = negotiateInstances(req),
  ): Promise<DicomwebResponse> {
    assertValidUids(uids);
    // What the response needs of each instance, not its whole index entry (about 5 KB of attributes),
    // the entries read a page at a time: a large series does not hold all its entries at once.
    const instances: { readonly object: InstanceObject; readonly path: string }[] = [];
    const live = assertNotBeingDeleted(this.index, uids);
    for await (const entry of eachInstanceOf(this.index, uids)) {
      instances.push({
        object: entry.instance!,
        path: instancePath(entry.studyInstanceUID, entry.seriesInstanceUID!, entry.sopInstanceUID!),
      });
    }
    await live;
    if (instances.length === 0) throw await absentResourceError(this.index, uids);
    const producible = instances.flatMap((instance) => {
      const representation = representationOf(instance.object, syntaxes);
      return representation ? [{ ...instance, representation }] : [];
    });
    if (producible.length === 0) {
      const stored = [...new Set(instances.map((i) => i.object.transferSyntaxUID))];
      throw new NotAcceptableError('the instances cannot be returned in the requested transfer syntax', [
        { target: 'Accept', message: `stored in ${stored.join(', ')}; ask for transfer-syntax=${ANY_TRANSFER_SYNTAX} or one of these` },
      ]);
    }
    this.assertWithinLimit(
      producible.reduce((sum, p) => sum + p.object.size, 0),
      lowerLevelAdvice(levelOf(uids), this.transfer !== undefined),
    );

    const blobs = this.blobs;
    const baseUrl = req.baseUrl;
    // The next instance's object is requested while this one streams (INSTANCE_READ_AHEAD), so a
    // series does not wait for one object's first byte after another.
    const parts = mapOrdered(
      producible,
      INSTANCE_READ_AHEAD,
      async ({ object, path, representation }): Promise<OutgoingPart> => {
        const body: OutgoingPart['body'] = representation.transcode
          ? (await dcmjsCodec()).toExplicitVRLittleEndian(await readObject(blobs, object))
          : await streamObject(blobs, object, 0, lease);
        return {
          contentType: `${MediaType.Dicom}; transfer-syntax=${representation.transferSyntaxUID}`,
          headers: { 'Content-Location': absolute(baseUrl, path) },
          body,
        };
      },
      // A response that ends early (the client went away) releases the objects read ahead.
      (part) => void closeBody(part.body),
    );
    const skipped = instances.length - producible.length;
    const warning =
      skipped > 0
        ? warningHeader(baseUrl, `${skipped} of ${instances.length} instance(s) cannot be returned in the requested transfer syntax`)
        : undefined;
    return multipartResponse(MediaType.Dicom, parts, warning);
  }

  /** Metadata as a DICOM JSON array (PS3.18 10.4.1.1.2, Annex F), BulkDataURI made absolute. */
  private async retrieveMetadata(uids: ResourceUids, req: RetrieveRequest): Promise<DicomwebResponse> {
    assertValidUids(uids);
    const contentType = negotiateMetadata(req);
    const entries = await this.instances(uids);
    const blobs = this.blobs;
    const encoder = new TextEncoder();
    const decoder = new TextDecoder();
    async function* body(): AsyncIterable<Uint8Array> {
      let separator = '[';
      const objects = mapOrdered(entries, METADATA_READ_AHEAD, async (entry) => {
        const bytes = await readObject(blobs, entry.instance!, 'metadataKey');
        return JSON.parse(decoder.decode(bytes)) as DicomJson;
      });
      for await (const dataset of objects) {
        yield encoder.encode(separator + JSON.stringify(withAbsoluteBulkDataURIs(dataset, req.baseUrl)));
        separator = ',';
      }
      yield encoder.encode(separator === '[' ? '[]' : ']');
    }
    return { status: 200, headers: { 'Content-Type': contentType }, body: body() };
  }

  /** The instance entries of the resource; 404, or 410 when it was deleted, if there is none. */
  private async instances(uids: ResourceUids): Promise<IndexEntry[]> {
    const live = assertNotBeingDeleted(this.index, uids);
    const entries = await instancesOf(this.index, uids);
    await live;
    if (entries.length === 0) throw await absentResourceError(this.index, uids);
    return entries;
  }

  private async instanceObject(uids: ResourceUids): Promise<InstanceObject> {
    const [entry] = await this.instances(uids);
    return entry!.instance!;
  }

  private assertWithinLimit(bytes: number, advice: string): void {
    if (bytes > this.limits.maxResponseBytes) {
      throw new PayloadTooLargeError(`the response would exceed ${this.limits.maxResponseBytes} bytes`, [{ message: advice }]);
    }
  }
}

/** The UIDs of each level, so a study route ignores parameters it does not have. */
function studyUids(req: RetrieveRequest): { studyInstanceUID: string } {
  return { studyInstanceUID: req.studyInstanceUID };
}
function seriesUids(req: RetrieveRequest): { studyInstanceUID: string; seriesInstanceUID: string } {
  return { studyInstanceUID: req.studyInstanceUID, seriesInstanceUID: required(req.seriesInstanceUID, 'seriesInstanceUID') };
}
function instanceUids(req: RetrieveRequest): { studyInstanceUID: string; seriesInstanceUID: string; sopInstanceUID: string } {
  return { ...seriesUids(req), sopInstanceUID: required(req.sopInstanceUID, 'sopInstanceUID') };
}
function required(uid: string | undefined, name: string): string {
  if (uid === undefined) throw new BadRequestError('the resource path lacks a UID', [{ target: name, message: 'missing' }]);
  return uid;
}

/** Frame list of PS3.18 10.4.1.1.3: comma-separated frame numbers, each a positive integer. */
export function parseFrameList(frames: string | undefined): number[] {
  const items = (frames ?? '').split(',').map((s) => s.trim());
  const bad = items.filter((s) => !/^[1-9][0-9]{0,9}$/.test(s));
  if (bad.length > 0 || items.length === 0) {
    throw new BadRequestError('malformed frame list', [
      { target: 'frames', message: 'a comma-separated list of frame numbers, each an integer from 1' },
    ]);
  }
  return [...new Set(items.map(Number))];
}

/** Tag path of a bulkdata URI: 'GGGGEEEE' or, for a nested value, 'GGGGEEEE/item/GGGGEEEE...'. */
function parseTagPath(segment: string | undefined): string {
  const tagPath = tagPathFromSegment(segment ?? '').toUpperCase();
  if (!/^[0-9A-F]{8}(\/(0|[1-9][0-9]*)\/[0-9A-F]{8})*$/.test(tagPath)) {
    throw new BadRequestError('malformed bulkdata tag path', [
      { target: 'tag', message: "a tag 'GGGGEEEE', or tag.item.tag for a nested value" },
    ]);
  }
  return tagPath;
}

/** A copy of a stored DICOM JSON object whose relative BulkDataURIs (uris.ts) are made absolute. */
export function withAbsoluteBulkDataURIs(dataset: DicomJson, baseUrl: string): DicomJson {
  const out: DicomJson = {};
  for (const [tag, element] of Object.entries(dataset)) {
    if (element.BulkDataURI?.startsWith('/')) {
      out[tag] = { ...element, BulkDataURI: absolute(baseUrl, element.BulkDataURI) };
    } else if (element.vr === 'SQ' && element.Value) {
      out[tag] = { ...element, Value: element.Value.map((item) => withAbsoluteBulkDataURIs(item as DicomJson, baseUrl)) };
    } else {
      out[tag] = element;
    }
  }
  return out;
}
