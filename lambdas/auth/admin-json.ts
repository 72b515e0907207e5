/**
 * The JSON of the archive's admin resources (/admin/clients, /admin/shares; not DICOMweb): answers in
 * application/json only (RFC 8259), requests as one small JSON object whose fields are known; bad
 * input gets 400 (or 406, 413, 415) with a Status Report.
 */
import { parseMediaType } from '../dicom/multipart';
import { mediaRangeMatches, parseAccept } from '../dicomweb/accept';
import { BadRequestError, NotAcceptableError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../dicomweb/errors';
import { MediaType, wholeBody, type DicomwebResponse, type RequestBody } from '../dicomweb/messages';

/** A request of the admin resources is a small JSON object; anything larger is not one. */
export const MAX_ADMIN_REQUEST_BYTES = 16 * 1024;

export interface AdminRequest {
  readonly contentType: string | undefined;
  readonly accept: string | undefined;
  readonly body: RequestBody;
}

export function json(status: number, payload: unknown, headers: Record<string, string> = {}): DicomwebResponse {
  return { status, headers: { ...headers, 'Content-Type': MediaType.Json }, body: JSON.stringify(payload) };
}

/** The admin routes answer application/json only (RFC 9110 12.5.1: no Accept means anything). */
export function negotiateJson(accept: string | undefined): void {
  if (parseAccept({ accept }).some((r) => mediaRangeMatches(r.mediaType, MediaType.Json))) return;
  throw new NotAcceptableError(`the admin routes answer ${MediaType.Json} only`, [{ target: 'Accept', message: accept ?? '' }]);
}

/**
 * The request's JSON object, its fields among `fields`; `what` names the request and `shape` shows
 * the object expected, in error messages.
 */
export async function readJsonObject(
  req: AdminRequest,
  what: string,
  shape: string,
  fields: readonly string[],
): Promise<Record<string, unknown>> {
  if (!req.contentType || parseMediaType(req.contentType).mediaType !== MediaType.Json) {
    throw new UnsupportedMediaTypeError(`${what} is ${MediaType.Json}: ${shape}`);
  }
  const bytes = await wholeBody(
    req.body,
    MAX_ADMIN_REQUEST_BYTES,
    () => new PayloadTooLargeError(`${what} is at most ${MAX_ADMIN_REQUEST_BYTES} bytes`),
  );
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new BadRequestError('the request body is not JSON (RFC 8259)');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadRequestError(`the request body is a JSON object: ${shape}`);
  }
  const unknown = Object.keys(value).filter((f) => !fields.includes(f));
  if (unknown.length) {
    throw new BadRequestError(
      'unknown field in the request',
      unknown.slice(0, 10).map((f) => ({ target: f.slice(0, 64), message: `not a field; fields are ${fields.join(', ')}` })),
    );
  }
  return value as Record<string, unknown>;
}
