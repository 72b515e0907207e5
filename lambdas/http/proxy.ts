/**
 * API Gateway REST proxy events <-> DicomwebRequest / DicomwebResponse.
 * The embedded gateway (lib/local/gateway.ts) builds the same events, so this is the only place that
 * knows the proxy format.
 */
import { Readable } from 'node:stream';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { LAMBDA_MAX_PAYLOAD_BYTES, PROXY_FIELDS_HEADROOM_BYTES } from '../config';
import type { DicomwebResponse, RequestBody } from '../dicomweb/messages';
import type { DicomwebRequest } from './request';
import { bodyOf, isStreamBody } from '../dicomweb/messages';
import { publicBaseUrlOf, type PublicUriOptions } from './public-uri';

/** What a handler returns: the proxy result, with a stream body for response-streaming functions. */
export interface ProxyResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string | Readable;
  isBase64Encoded: boolean;
  /**
   * The response's release (DicomwebResponse), for a streamed body: whoever writes the body calls it
   * once written or abandoned (the embedded gateway; in AWS nothing is leased, and it is absent).
   */
  release?: () => void;
}

function lowerCaseHeaders(event: APIGatewayProxyEvent): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined && value !== null) out[name.toLowerCase()] = value;
  }
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
    if (values && values.length > 1) out[name.toLowerCase()] = values.join(', ');
  }
  return out;
}

function queryParameters(event: APIGatewayProxyEvent): Map<string, string[]> {
  const query = new Map<string, string[]>();
  const multi = event.multiValueQueryStringParameters ?? {};
  for (const [name, values] of Object.entries(multi)) {
    if (values) query.set(name, [...values]);
  }
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (!query.has(name) && value !== undefined && value !== null) query.set(name, [value]);
  }
  return query;
}

/** Characters of base64 decoded at a time: a multiple of 4, so each slice decodes on its own (48 KiB). */
const BASE64_CHUNK_CHARACTERS = 4 * 16 * 1024;

/**
 * The embedded gateway's streamed body; API Gateway never sets it. On the local engine the gateway
 * (lib/local/gateway.ts) hands the handler the connection's body as it arrives instead of a base64
 * copy in `body`; the event is otherwise the one API Gateway sends. Only this module reads it.
 */
const STREAMED_BODY = Symbol('streamedBody');

type StreamedEvent = APIGatewayProxyEvent & { [STREAMED_BODY]?: RequestBody };

/** The event with `body` attached as its streamed body (`body` and `isBase64Encoded` left empty). */
export function withStreamedBody(event: APIGatewayProxyEvent, body: RequestBody): APIGatewayProxyEvent {
  // Enumerable, so that a spread copy of the event keeps it.
  return Object.defineProperty({ ...event, body: null, isBase64Encoded: false }, STREAMED_BODY, { value: body, enumerable: true });
}

/**
 * The event's body, decoded chunk by chunk when read: API Gateway base64-encodes a binary body (one
 * string without line breaks, RFC 4648 4), so a slice of whole 4-character groups decodes alone and
 * the body is never held decoded in full next to the event. The embedded gateway's streamed body,
 * when there is one, is the body.
 */
export function eventBody(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>): RequestBody {
  const streamed = (event as Partial<StreamedEvent>)[STREAMED_BODY];
  if (streamed) return streamed;
  const text = event.body ?? '';
  if (!event.isBase64Encoded) return bodyOf(Buffer.from(text, 'utf8'));
  return {
    byteLength: Buffer.byteLength(text, 'base64'),
    async *chunks() {
      for (let at = 0; at < text.length; at += BASE64_CHUNK_CHARACTERS) {
        yield Buffer.from(text.slice(at, at + BASE64_CHUNK_CHARACTERS), 'base64');
      }
    },
  };
}

export function toDicomwebRequest(event: APIGatewayProxyEvent, publicUris: PublicUriOptions = {}): DicomwebRequest {
  const headers = lowerCaseHeaders(event);
  const body = eventBody(event);
  const pathParameters: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.pathParameters ?? {})) {
    if (value !== undefined) pathParameters[name] = value;
  }
  return {
    method: event.httpMethod.toUpperCase(),
    path: event.path,
    resource: event.resource,
    pathParameters,
    query: queryParameters(event),
    headers,
    body,
    baseUrl: publicBaseUrlOf(event, headers, publicUris),
  };
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  return Buffer.concat(chunks);
}

/**
 * Bytes a JSON value adds to a buffered function's payload when sent as (part of) a text body: the
 * proxy result is itself JSON, so the body's JSON text travels escaped as a JSON string.
 */
export function bufferedJsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(JSON.stringify(value)), 'utf8') - 2;
}

/**
 * What a buffered function's JSON array body may hold: Lambda's 6 MB payload less the result's other
 * fields and the brackets, each element counted as it travels (escaped), with its comma.
 */
export const BUFFERED_JSON_ARRAY_BUDGET = {
  maxBytes: LAMBDA_MAX_PAYLOAD_BYTES - PROXY_FIELDS_HEADROOM_BYTES - 2,
  sizeOf: (element: unknown): number => bufferedJsonBytes(element) + 1,
} as const;

/**
 * Turns a response into a proxy result. Streaming functions send every binary body as a stream
 * (Lambda response streaming writes the body's bytes as they are: its prelude has no isBase64Encoded,
 * so base64 text would reach the client as text); buffered functions base64-encode binary bodies as
 * API Gateway expects.
 */
export async function toProxyResult(response: DicomwebResponse, streaming: boolean): Promise<ProxyResult> {
  if (!response.release) return proxyResult(response, streaming);
  const release = response.release;
  let result: ProxyResult;
  try {
    result = await proxyResult(response, streaming);
  } catch (error) {
    release();
    throw error;
  }
  // A body sent as a stream still reads the leased bytes; one encoded into the result no longer does.
  if (result.body instanceof Readable) return { ...result, release };
  release();
  return result;
}

async function proxyResult(response: DicomwebResponse, streaming: boolean): Promise<ProxyResult> {
  const headers = { ...(response.headers ?? {}) };
  const body = response.body;
  if (body === undefined) return { statusCode: response.status, headers, body: '', isBase64Encoded: false };
  if (typeof body === 'string') return { statusCode: response.status, headers, body, isBase64Encoded: false };
  if (isStreamBody(body)) {
    if (streaming) return { statusCode: response.status, headers, body: Readable.from(body), isBase64Encoded: false };
    return { statusCode: response.status, headers, body: (await collect(body)).toString('base64'), isBase64Encoded: true };
  }
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (streaming) return { statusCode: response.status, headers, body: Readable.from([bytes]), isBase64Encoded: false };
  return { statusCode: response.status, headers, body: bytes.toString('base64'), isBase64Encoded: true };
}
