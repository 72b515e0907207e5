/**
 * Content negotiation of the Retrieve Transaction (PS3.18 8.7): the Accept header field, or the
 * `accept` query parameter which replaces it when present (PS3.18 8.3.3.1), ranked by quality value,
 * then matched against what each kind of resource can be returned as.
 */
import { MediaType } from './messages';
import { parseMediaType } from '../dicom/multipart';
import { isValidUid, TransferSyntax } from '../dicom/uid';
import { BadRequestError, NotAcceptableError } from './errors';

/** Any Transfer Syntax: the stored representation, unchanged (PS3.18 8.7.3.5.2). */
export const ANY_TRANSFER_SYNTAX = '*';

/**
 * Default Transfer Syntax of application/dicom and of uncompressed application/octet-stream when the
 * request names none (PS3.18 8.7.3.5.2, Table 8.7.3-3): Explicit VR Little Endian.
 */
export const DEFAULT_TRANSFER_SYNTAX = TransferSyntax.ExplicitVRLittleEndian;

/** One element of the Accept list. */
export interface AcceptableMediaType {
  /** type/subtype, lower-case; may be a range such as `*\/*` or `multipart/*`. */
  readonly mediaType: string;
  /** The `type` parameter of multipart/related (the media type of each part), lower-case. */
  readonly type?: string;
  /** The `transfer-syntax` parameter: '*' or a Transfer Syntax UID. */
  readonly transferSyntax?: string;
  /** Quality value (RFC 9110 12.4.2), 0 to 1. */
  readonly q: number;
}

/** What the client asked, before negotiation: the Accept header and the `accept` query parameter. */
export interface AcceptRequest {
  readonly accept: string | undefined;
  readonly acceptQuery?: string;
}

/**
 * The acceptable media types, most preferred first. The `accept` query parameter, when present,
 * replaces the header (PS3.18 8.3.3.1); neither present means anything is acceptable (RFC 9110 12.5.1).
 * Ranges with q=0 are "not acceptable" and left out.
 */
export function parseAccept({ accept, acceptQuery }: AcceptRequest): AcceptableMediaType[] {
  const fromQuery = acceptQuery !== undefined && acceptQuery.trim() !== '';
  const source = fromQuery ? acceptQuery : accept;
  const target = fromQuery ? 'accept' : 'Accept';
  if (source === undefined || source.trim() === '') return [{ mediaType: '*/*', q: 1 }];
  const ranked = splitList(source).map((element, position) => ({ ...parseElement(element, target), position }));
  return ranked
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q || specificity(b.mediaType) - specificity(a.mediaType) || a.position - b.position)
    .map(({ position: _position, ...range }) => range);
}

function parseElement(element: string, target: string): AcceptableMediaType {
  const { mediaType, params } = parseMediaType(element);
  if (!/^[^/\s]+\/[^/\s]+$/.test(mediaType)) {
    throw new BadRequestError('malformed media type in the accept list', [{ target, message: element }]);
  }
  const q = params.q === undefined ? 1 : Number(params.q);
  // RFC 9110 12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
  if (params.q !== undefined && (!/^[01](\.\d{0,3})?$/.test(params.q) || q > 1)) {
    throw new BadRequestError('malformed quality value in the accept list', [{ target, message: element }]);
  }
  const transferSyntax = params['transfer-syntax'];
  if (transferSyntax !== undefined && transferSyntax !== ANY_TRANSFER_SYNTAX && !isValidUid(transferSyntax)) {
    throw new BadRequestError('malformed transfer-syntax parameter in the accept list', [
      { target, message: `transfer-syntax is ${ANY_TRANSFER_SYNTAX} or a Transfer Syntax UID (PS3.18 8.7.3.5.2)` },
    ]);
  }
  return {
    mediaType,
    ...(params.type !== undefined && { type: params.type.toLowerCase() }),
    ...(transferSyntax !== undefined && { transferSyntax }),
    q,
  };
}

/** Splits a comma-separated header list, leaving commas inside quoted strings alone. */
function splitList(value: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted && c === '\\' && i + 1 < value.length) {
      current += c + value[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      out.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  out.push(current);
  return out.map((s) => s.trim()).filter((s) => s !== '');
}

/** `*\/*` < `type/*` < `type/subtype`: at equal q the more specific range is preferred. */
function specificity(mediaType: string): number {
  if (mediaType === '*/*') return 0;
  return mediaType.endsWith('/*') ? 1 : 2;
}

/** Whether a media range (`*\/*`, `type/*` or `type/subtype`) covers a concrete media type. */
export function mediaRangeMatches(range: string, mediaType: string): boolean {
  if (range === '*/*') return true;
  if (range.endsWith('/*')) return mediaType.startsWith(range.slice(0, -1));
  return range === mediaType;
}

/**
 * Transfer syntaxes acceptable for the parts of a multipart/related response whose parts are of
 * `partType`, most preferred first: '*' or UIDs; the default when a matching range names none.
 */
function acceptableTransferSyntaxes(ranges: readonly AcceptableMediaType[], partType: string): string[] {
  const out: string[] = [];
  for (const r of ranges) {
    if (!mediaRangeMatches(r.mediaType, MediaType.MultipartRelated)) continue;
    if (r.type !== undefined && !mediaRangeMatches(r.type, partType)) continue;
    const ts = r.transferSyntax ?? DEFAULT_TRANSFER_SYNTAX;
    if (!out.includes(ts)) out.push(ts);
  }
  return out;
}

function notAcceptable(produces: string): NotAcceptableError {
  return new NotAcceptableError('none of the acceptable media types can be produced for this resource', [
    { target: 'Accept', message: `this resource can be returned as ${produces}` },
  ]);
}

const instancesProduce = `multipart/related; type="${MediaType.Dicom}"; transfer-syntax=${ANY_TRANSFER_SYNTAX} (as stored) or ${DEFAULT_TRANSFER_SYNTAX}`;
const octetStreamProduce = `multipart/related; type="${MediaType.OctetStream}"; transfer-syntax=${ANY_TRANSFER_SYNTAX} (as stored) or ${DEFAULT_TRANSFER_SYNTAX} (uncompressed)`;

/**
 * Study, series and instance resources (PS3.18 10.4.1.1.1): multipart/related; type="application/dicom".
 * Returns the acceptable transfer syntaxes, most preferred first ('*' or UIDs); 406 when none.
 * Whether a given instance can be produced in one of them is the caller's decision.
 */
export function negotiateInstances(req: AcceptRequest): string[] {
  const syntaxes = acceptableTransferSyntaxes(parseAccept(req), MediaType.Dicom);
  if (syntaxes.length === 0) throw notAcceptable(instancesProduce);
  return syntaxes;
}

const instanceProduces = `${MediaType.Dicom} (single part) or ${instancesProduce}`;

/** How an Instance resource is returned: one Part 10 object (single part) or a multipart/related body of one part. */
export interface InstanceNegotiation {
  /** application/dicom without the multipart/related wrapper (PS3.18 10.4.4, 8.7.3.5). */
  readonly singlePart: boolean;
  /** The acceptable transfer syntaxes of that form, most preferred first ('*' or UIDs). */
  readonly syntaxes: string[];
}

/** A range naming the single part application/dicom (a multipart range or `*\/*` does not). */
const singlePartDicom = (r: AcceptableMediaType) => r.mediaType === MediaType.Dicom || r.mediaType === 'application/*';
const multipartDicom = (r: AcceptableMediaType) =>
  mediaRangeMatches(r.mediaType, MediaType.MultipartRelated) && (r.type === undefined || mediaRangeMatches(r.type, MediaType.Dicom));

/**
 * The Instance resource (PS3.18 10.4.1.1.1): besides multipart/related; type="application/dicom", the
 * single part application/dicom, which "specifies a single encoded object and shall only be used for
 * individual Instance Resources" (PS3.18 10.4.4; the dcm-singlepart of the media type syntax, 8.7.3.5).
 * The most preferred acceptable range decides the form; `*\/*` (or no Accept) keeps multipart/related.
 * Study and series resources ignore single part ranges (negotiateInstances: 406 when nothing else is left).
 */
export function negotiateInstance(req: AcceptRequest): InstanceNegotiation {
  const ranges = parseAccept(req);
  const preferred = ranges.find((r) => singlePartDicom(r) || multipartDicom(r));
  if (!preferred) throw notAcceptable(instanceProduces);
  if (multipartDicom(preferred)) return { singlePart: false, syntaxes: acceptableTransferSyntaxes(ranges, MediaType.Dicom) };
  const syntaxes = [...new Set(ranges.filter(singlePartDicom).map((r) => r.transferSyntax ?? DEFAULT_TRANSFER_SYNTAX))];
  return { singlePart: true, syntaxes };
}

/** Frames and bulkdata resources (PS3.18 10.4.1.1.3, 10.4.1.1.5): multipart/related; type="application/octet-stream". */
export function negotiateOctetStream(req: AcceptRequest): string[] {
  const syntaxes = acceptableTransferSyntaxes(parseAccept(req), MediaType.OctetStream);
  if (syntaxes.length === 0) throw notAcceptable(octetStreamProduce);
  return syntaxes;
}

/**
 * Metadata resources (PS3.18 10.4.1.1.2): application/dicom+json, also served to clients asking for
 * application/json. Returns the Content-Type to answer with.
 */
export function negotiateMetadata(req: AcceptRequest): string {
  for (const r of parseAccept(req)) {
    if (mediaRangeMatches(r.mediaType, MediaType.DicomJson)) return MediaType.DicomJson;
    if (r.mediaType === MediaType.Json) return MediaType.Json;
  }
  throw notAcceptable(`${MediaType.DicomJson} (or ${MediaType.Json})`);
}
