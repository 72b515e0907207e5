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
  readonly body: Buffer;
  /** Base URL of the service root, e.g. http://127.0.0.1:8080 or https://x.execute-api.../prod. */
  readonly baseUrl: string;
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
