/**
 * The request and response shapes every DICOMweb operation sees, independent of API Gateway.
 * lambdas/handlers/proxy.ts converts API Gateway REST proxy events to and from these, and the
 * embedded gateway (lib/local/gateway.ts) builds the very same proxy events.
 */

export interface DicomwebRequest {
  readonly method: string;
  /** The concrete path, e.g. /studies/1.2.3/series. */
  readonly path: string;
  /** The route template that matched, e.g. /studies/{study}/series. */
  readonly resource: string;
  readonly pathParameters: Readonly<Record<string, string>>;
  /** Query parameters with every value (repeated keys keep all their values, in order). */
  readonly query: ReadonlyMap<string, readonly string[]>;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: RequestBody;
  /** Base URL of the service root, e.g. http://127.0.0.1:8080 or https://x.execute-api.../prod. */
  readonly baseUrl: string;
  /** Milliseconds left before the function times out (Lambda context), when the caller knows it. */
  readonly remainingTimeMillis?: () => number;
}

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
