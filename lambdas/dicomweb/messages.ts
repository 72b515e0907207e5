/**
 * What a DICOMweb service takes and gives, independent of the transport: a request body read as it is
 * decoded, a response (status, headers, body), the media types of PS3.18 8.7 and the Warning header.
 * lambdas/http/ maps API Gateway proxy events to and from these.
 */
import type { StatusReportDetail } from './errors';

/**
 * A request body, decoded as it is read: Lambda hands a binary body over base64-encoded in the event,
 * and a Store request is read part by part (lambdas/dicomweb/store.ts), so it is never whole in memory
 * a second time.
 */
export interface RequestBody {
  /** Decoded size in bytes, known before any decoding. */
  readonly byteLength: number;
  /** The decoded bytes in order, a chunk at a time; each call reads the body from its start. */
  chunks(): Iterable<Uint8Array>;
}

/** A request body already in memory (tests, callers other than the proxy integration). */
export function bodyOf(bytes: Uint8Array): RequestBody {
  return {
    byteLength: bytes.byteLength,
    *chunks() {
      if (bytes.byteLength > 0) yield bytes;
    },
  };
}

export type ResponseBody = string | Uint8Array | AsyncIterable<Uint8Array>;

export interface DicomwebResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: ResponseBody;
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
