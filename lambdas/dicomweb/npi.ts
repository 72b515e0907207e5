/**
 * The Non-Patient Instance (NPI) Service, PS3.18 12: Store (12.5), Search (12.6) and Retrieve (12.4)
 * of the six categories of npi-categories.ts. NPI instances live apart from the patient studies
 * (S3 npi/{category}/..., index partition NPI#{category}) and never show up in a Studies search.
 *
 * Store shares the request parsing, per-instance checks and Store Instances Response Module of
 * STOW-RS (store.ts); Search shares the query parameter rules and the matching of QIDO-RS
 * (query-params.ts, matching.ts) with each category's own keys; Retrieve shares the content
 * negotiation and multipart writing of WADO-RS (accept.ts, representation.ts, stored-objects.ts).
 */
import { toDicomJson } from '../dicom/json';
import { toExplicitVRLittleEndian } from '../dicom/part10';
import { Tag } from '../dicom/tags';
import { isValidUid } from '../dicom/uid';
import { MediaType, type DicomwebResponse, type RequestBody } from './messages';
import { npiMetadataKey, npiObjectKey, objectVersion } from '../storage/keys';
import type { BlobStore, InstanceObject, NpiEntry, NpiIndex } from '../storage/ports';
import type { DicomJson } from '../dicom/json';
import { negotiateInstances, negotiateMetadata } from './accept';
import { BadRequestError, NotAcceptableError, NotFoundError, PayloadTooLargeError } from './errors';
import { isSopClassOf, type NpiCategory } from './npi-categories';
import { npiIndexedTags, npiMatchableTags } from './npi-keys';
import { parseSearchParameters, type ParseOptions, type SearchParameters } from './query-params';
import { matchesAll } from './matching';
import { multipartResponse, representationOf } from './representation';
import { readObject, streamObject } from './stored-objects';
import { fitsIndex } from './index-entries';
import { DuplicateSOPInstance, type StoreOutcome, type StoreResult } from './store';
import { readInstance } from './store-prepare';
import { holdsSameDataSet } from './stored-content';
import { storeRequestParts } from './store-request';
import { FailureReason } from './status-codes';
import { absolute, npiInstancePath } from './uris';
import type { SearchLimits, SearchResult } from './search';

export interface NpiOptions extends SearchLimits {
  readonly maxRequestBytes: number;
  readonly maxResponseBytes: number;
}

export interface NpiStoreRequest {
  readonly category: NpiCategory;
  readonly contentType: string | undefined;
  readonly body: RequestBody;
  readonly baseUrl: string;
}

export interface NpiSearchRequest {
  readonly category: NpiCategory;
  readonly parameters: SearchParameters;
  readonly baseUrl: string;
}

export interface NpiRetrieveRequest {
  readonly category: NpiCategory;
  /** The {uid} path segment: a SOP Instance UID. */
  readonly sopInstanceUID: string | undefined;
  readonly accept: string | undefined;
  readonly acceptQuery?: string;
  readonly baseUrl: string;
}

/**
 * The query parameters of a search (or Send, Sup 248 12.X.1.2) of the category: the QIDO-RS rules of
 * PS3.18 8.3.4 with the category's matching keys (Sup 248 Table 12.X.1-2).
 */
export function parseNpiSearchParameters(
  query: ReadonlyMap<string, readonly string[]>,
  category: NpiCategory,
  opts: Pick<ParseOptions, 'ignoreIncludefield'> = {},
): SearchParameters {
  return parseSearchParameters(query, 'INSTANCE', {
    ...opts,
    matchable: { resource: category.resourceCategory, tagPaths: npiMatchableTags(category) },
  });
}

export class NpiService {
  constructor(
    private readonly index: NpiIndex,
    private readonly blobs: BlobStore,
    private readonly opts: NpiOptions,
  ) {}

  /** Store, PS3.18 12.5: POST /{npi-name}; answers with the Store Instances Response Module. */
  async storeInstances(req: NpiStoreRequest): Promise<StoreResult> {
    // One instance at a time: two copies of one SOP Instance in a request must see each other, and
    // the NPI Store has no per-instance exclusion like the Studies Store's.
    return storeRequestParts(req, this.opts.maxRequestBytes, 1, { baseUrl: req.baseUrl }, (part10) => this.storeInstance(part10, req));
  }

  /** Search, PS3.18 12.6: GET /{npi-name}?{params}; results [] answer 204. */
  async search(req: NpiSearchRequest): Promise<SearchResult> {
    const matches = await this.matchingEntries(req.category, { ...req.parameters, limit: undefined, offset: 0 });
    const { offset } = req.parameters;
    const limit = Math.min(req.parameters.limit ?? this.opts.defaultLimit, this.opts.maxLimit);
    const page = matches.slice(offset, offset + limit);
    const results = page.map((entry) => resultOf(entry, req.baseUrl));
    return { results, truncated: matches.length > offset + page.length };
  }

  /**
   * The entries of the category the parameters match, in SOP Instance UID order; limit and offset,
   * when given, select among them (what a Send on /{npi-name}/send-requests sends, Sup 248 12.X.2).
   */
  async matchingEntries(category: NpiCategory, parameters: SearchParameters): Promise<NpiEntry[]> {
    const matches: NpiEntry[] = [];
    let read = 0;
    for await (const entry of this.index.query(category.name)) {
      if (++read > this.opts.maxCandidates) {
        throw new PayloadTooLargeError(
          `the query matches too many entries (more than ${this.opts.maxCandidates} to examine); add a SOPInstanceUID key`,
        );
      }
      if (matchesAll(entry.attributes, parameters.matchKeys, { fuzzymatching: parameters.fuzzymatching })) matches.push(entry);
    }
    matches.sort((a, b) => (a.sopInstanceUID < b.sopInstanceUID ? -1 : a.sopInstanceUID > b.sopInstanceUID ? 1 : 0));
    const { offset, limit } = parameters;
    return matches.slice(offset, limit === undefined ? undefined : offset + limit);
  }

  /**
   * Retrieve, PS3.18 12.4: GET /{npi-name}/{uid} as multipart/related; type="application/dicom"
   * (PS3.18 8.7.3.5.2), or, when only application/dicom+json is acceptable, the instance's DICOM JSON.
   */
  async retrieveInstance(req: NpiRetrieveRequest): Promise<DicomwebResponse> {
    const uid = req.sopInstanceUID ?? '';
    if (!isValidUid(uid)) {
      throw new BadRequestError('malformed UID in the request path', [{ target: 'uid', message: 'not a valid UID (PS3.5 9.1)' }]);
    }
    let syntaxes: string[] | undefined;
    let metadataType: string | undefined;
    try {
      syntaxes = negotiateInstances(req);
    } catch (error) {
      if (!(error instanceof NotAcceptableError)) throw error;
      try {
        metadataType = negotiateMetadata(req);
      } catch {
        throw error;
      }
    }
    const entry = await this.index.getInstance(req.category.name, uid);
    if (!entry) throw new NotFoundError(`no ${req.category.resourceCategory} instance ${uid}`);
    const location = absolute(req.baseUrl, npiInstancePath(entry.category, entry.sopInstanceUID));

    if (metadataType !== undefined) {
      const bytes = await readObject(this.blobs, entry.instance, 'metadataKey');
      return {
        status: 200,
        headers: { 'Content-Type': metadataType, 'Content-Location': location },
        body: `[${Buffer.from(bytes).toString('utf8')}]`,
      };
    }
    const representation = representationOf(entry.instance, syntaxes!);
    if (!representation) {
      throw new NotAcceptableError('the instance cannot be returned in the requested transfer syntax', [
        { target: 'Accept', message: `stored in ${entry.instance.transferSyntaxUID}; ask for transfer-syntax=* or this one` },
      ]);
    }
    if (entry.instance.size > this.opts.maxResponseBytes) {
      throw new PayloadTooLargeError(`the response would exceed ${this.opts.maxResponseBytes} bytes`);
    }
    const body = representation.transcode
      ? toExplicitVRLittleEndian(await readObject(this.blobs, entry.instance))
      : await streamObject(this.blobs, entry.instance);
    return multipartResponse(MediaType.Dicom, [
      {
        contentType: `${MediaType.Dicom}; transfer-syntax=${representation.transferSyntaxUID}`,
        headers: { 'Content-Location': location },
        body,
      },
    ]);
  }

  /** One instance of a Store request: the category's SOP Classes only, never an overwrite. */
  private async storeInstance(part10: Uint8Array, req: NpiStoreRequest): Promise<StoreOutcome> {
    const read = readInstance(part10, { patientInstance: false });
    if ('failed' in read) return read;
    const { instance, digests } = read;
    const { sopClassUID, sopInstanceUID } = instance;
    const fail = (failureReason: number): StoreOutcome => ({ failed: { sopClassUID, sopInstanceUID, failureReason } });
    // PS3.18 12.5 / PS3.4 GG: only the Storage SOP Classes of the category (Table GG.3-1).
    if (!isSopClassOf(req.category, sopClassUID)) return fail(FailureReason.ReferencedSOPClassNotSupported);

    const category = req.category.name;
    const retrieveUrl = absolute(req.baseUrl, npiInstancePath(category, sopInstanceUID));
    const stored: StoreOutcome = { referenced: { sopClassUID, sopInstanceUID, retrieveUrl } };
    const existing = await this.index.getInstance(category, sopInstanceUID);
    // An identical re-store (the same data set, from any sender: stored-content.ts) succeeds without
    // writing again; other content under the UID fails.
    const sameDataSet = (entry: NpiEntry) => holdsSameDataSet(this.blobs, entry.instance, digests);
    if (existing) return (await sameDataSet(existing)) ? stored : fail(DuplicateSOPInstance);

    // No bulkdata resource exists for NPI: every value stays inline in the metadata.
    const metadata = toDicomJson(instance.dict, {
      bulkDataThreshold: Number.POSITIVE_INFINITY,
      bulkDataUri: () => npiInstancePath(category, sopInstanceUID),
    });
    // Keys of this write alone (lambdas/storage/keys.ts): a racing writer never replaces these bytes.
    const version = objectVersion(digests.digest);
    const object: InstanceObject = {
      sopClassUID,
      transferSyntaxUID: instance.transferSyntaxUID,
      objectKey: npiObjectKey(category, sopInstanceUID, version),
      metadataKey: npiMetadataKey(category, sopInstanceUID, version),
      size: part10.byteLength,
      ...digests,
      numberOfFrames: 0,
    };
    // Object first, then the index entry (docs/architecture.md, write order): a crash leaves an unindexed object only.
    await this.blobs.put(object.objectKey, part10, MediaType.Dicom);
    await this.blobs.put(object.metadataKey, Buffer.from(JSON.stringify(metadata)), MediaType.DicomJson);
    const attributes: DicomJson = {};
    // As for patient instances, an attribute too large for an index entry is kept in the stored object only.
    for (const tag of npiIndexedTags(req.category)) if (metadata[tag] && fitsIndex(metadata[tag]!)) attributes[tag] = metadata[tag]!;
    const put = await this.index.putInstance({ category, sopInstanceUID, attributes, instance: object });
    if (put.outcome === 'created') return stored;
    // A racing writer's entry won: this write's objects are unreferenced (best effort, as in store.ts).
    await this.blobs.delete([object.objectKey, object.metadataKey]).catch(() => undefined);
    return put.outcome === 'identical' || (await sameDataSet(put.existing)) ? stored : fail(DuplicateSOPInstance);
  }
}

/**
 * One search result (PS3.18 12.6): the attributes the index keeps for the category (its matching keys,
 * Table 12.X.1-2) and the Retrieve URL. includefield cannot add others: the conformance statement says so.
 */
function resultOf(entry: NpiEntry, baseUrl: string): DicomJson {
  const view: DicomJson = {
    ...entry.attributes,
    [Tag.RetrieveURL]: { vr: 'UR', Value: [absolute(baseUrl, npiInstancePath(entry.category, entry.sopInstanceUID))] },
  };
  return Object.fromEntries(
    Object.keys(view)
      .sort()
      .map((tag) => [tag, view[tag]!]),
  );
}
