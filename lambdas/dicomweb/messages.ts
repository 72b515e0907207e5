/**
 * What a DICOMweb service takes and gives, independent of the transport: a request body read as it is
 * decoded, a response (status, headers, body), the media types of PS3.18 8.7 and the Warning header.
 * lambdas/http/ maps API Gateway proxy events to and from these.
 */
import type { StatusReportDetail } from './errors';

/**
 * A request body, read as it is consumed: Lambda hands a binary body over base64-encoded in the event,
 * decoded a slice at a time; the embedded gateway on the local engine hands over the connection's
 * stream itself (lambdas/http/proxy.ts). A Store request is read part by part (./store-request.ts),
 * so the body is never whole in memory a second time.
 */
export interface RequestBody {
  /**
   * Size in bytes, known before any reading; undefined for a streamed body sent without Content-Length
   * (chunked transfer coding), never for an empty one.
   */
  readonly byteLength: number | undefined;
  /**
   * The bytes in order, a chunk at a time. A streamed body is read once, as it arrives: a second call
   * throws. Reading fails with the 413 of a body passing the request limit, or a 400 when the client
   * ends the request before its body is complete.
   */
  chunks(): AsyncIterable<Uint8Array>;
}

/** A request body already in memory (tests, callers other than the proxy integration). */
export function bodyOf(bytes: Uint8Array): RequestBody {
  return {
    byteLength: bytes.byteLength,
    async *chunks() {
      if (bytes.byteLength > 0) yield bytes;
    },
  };
}

/**
 * The whole body in one buffer, for the small JSON bodies of the admin routes: `tooLarge` is thrown
 * as soon as the size, declared or counted, passes `limit`.
 */
export async function wholeBody(body: RequestBody, limit: number, tooLarge: () => Error): Promise<Buffer> {
  if (body.byteLength !== undefined && body.byteLength > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body.chunks()) {
    size += chunk.byteLength;
    if (size > limit) throw tooLarge();
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return Buffer.concat(chunks);
}

export type ResponseBody = string | Uint8Array | AsyncIterable<Uint8Array>;

export interface DicomwebResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: ResponseBody;
  /** Instances the transaction handled, where the operation counts them (per-use accounting, lambdas/http/usage-log.ts). */
  readonly instances?: number;
  /**
   * Called once the answer has been written or abandoned: gives back the memory its body's bytes
   * were read into (a BlobStore ReadLease). Absent when nothing was leased.
   */
  readonly release?: () => void;
}

export function isStreamBody(body: ResponseBody | undefined): body is AsyncIterable<Uint8Array> {
  return body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array);
}

export const MediaType = {
  DicomJson: 'application/dicom+json',
  Dicom: 'application/dicom',
  OctetStream: 'application/octet-stream',
  MultipartRelated: 'multipart/related',
  Json: 'application/json',
} as const;

/** A JSON response in application/dicom+json. */
export function dicomJson(status: number, payload: unknown, headers: Record<string, string> = {}): DicomwebResponse {
  return {
    status,
    headers: { 'Content-Type': MediaType.DicomJson, ...headers },
    body: JSON.stringify(payload),
  };
}

/** Warning header field (PS3.18 8.4.5, RFC 7234 5.5): `299 {host of the base URL} "text"`. */
export function warningHeader(baseUrl: string, text: string): string {
  let agent = '-';
  try {
    agent = new URL(baseUrl).host || '-';
  } catch {
    // keep the pseudonym
  }
  return `299 ${agent} "${text.replaceAll('"', "'")}"`;
}

/** The body of a failure response (PS3.18 8.6.3), as lambdas/http/status-report.ts writes it. */
export interface StatusReport {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly errors?: readonly StatusReportDetail[];
}
