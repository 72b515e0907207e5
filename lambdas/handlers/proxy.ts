/**
 * API Gateway REST proxy events <-> DicomwebRequest / DicomwebResponse.
 * The embedded gateway (lib/local/gateway.ts) builds the same events, so this is the only place that
 * knows the proxy format.
 */
import { Readable } from 'node:stream';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { DicomwebRequest, DicomwebResponse } from './http';
import { isStreamBody } from './http';

/** What a handler returns: the proxy result, with a stream body for response-streaming functions. */
export interface ProxyResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string | Readable;
  isBase64Encoded: boolean;
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

/** Base URL of the service root: the public URL when configured, else derived from the request. */
export function baseUrlOf(event: APIGatewayProxyEvent, headers: Record<string, string>, publicBaseUrl?: string): string {
  if (publicBaseUrl) return publicBaseUrl;
  const proto = headers['x-forwarded-proto'] ?? 'https';
  const host = headers.host ?? 'localhost';
  // requestContext.path includes the stage (/prod/studies); event.path does not (/studies).
  const fullPath = event.requestContext?.path ?? event.path;
  const prefix = fullPath.endsWith(event.path) ? fullPath.slice(0, fullPath.length - event.path.length) : '';
  return `${proto}://${host}${prefix}`;
}

export function toDicomwebRequest(event: APIGatewayProxyEvent, publicBaseUrl?: string): DicomwebRequest {
  const headers = lowerCaseHeaders(event);
  const body = event.body ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
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
    baseUrl: baseUrlOf(event, headers, publicBaseUrl),
  };
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  return Buffer.concat(chunks);
}

/**
 * Turns a response into a proxy result. Streaming functions keep stream bodies as streams
 * (Lambda response streaming); buffered functions base64-encode binary bodies as API Gateway expects.
 */
export async function toProxyResult(response: DicomwebResponse, streaming: boolean): Promise<ProxyResult> {
  const headers = { ...(response.headers ?? {}) };
  const body = response.body;
  if (body === undefined) return { statusCode: response.status, headers, body: '', isBase64Encoded: false };
  if (typeof body === 'string') return { statusCode: response.status, headers, body, isBase64Encoded: false };
  if (isStreamBody(body)) {
    if (streaming) return { statusCode: response.status, headers, body: Readable.from(body), isBase64Encoded: false };
    return { statusCode: response.status, headers, body: (await collect(body)).toString('base64'), isBase64Encoded: true };
  }
  return {
    statusCode: response.status,
    headers,
    body: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64'),
    isBase64Encoded: true,
  };
}
