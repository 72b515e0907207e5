/**
 * Per-use accounting (docs/cost.md, "Per-client accounting"): one log line per request carrying what
 * the bill is made of -- the function, the transaction, bytes in and out, instances, status, duration
 * -- and who asked: the client identity the authentication middleware found (an OIDC `sub` or
 * `client_id`, an API key's or share link's id, an IAM caller's ARN), never a credential. No UID,
 * path, query or attribute value: the resource is the route's template.
 */
import type middy from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { Readable } from 'node:stream';
import type { ProxyResult } from './proxy';

/** The `event` field of every usage line, which the Logs Insights query filters on. */
export const USAGE_EVENT = 'dicomweb-usage';

export interface UsageLine {
  readonly level: 'info';
  readonly event: typeof USAGE_EVENT;
  /** The function group (lambdas/http/routes.ts functionGroups). */
  readonly function: string;
  /** The route's transaction (PS3.18 names: StoreInstances, RetrieveInstance, SearchForStudies...). */
  readonly transaction: string;
  /** The route's resource template, e.g. /studies/{study}/series. */
  readonly resource: string;
  readonly method: string;
  /** `{mechanism}:{principal}`, `iam:{caller ARN}`, or `anonymous`. */
  readonly client: string;
  readonly status: number;
  /** Request body bytes (as sent, before API Gateway's base64). */
  readonly bytesIn: number;
  /** Response body bytes, counted as they are sent for a streamed response. */
  readonly bytesOut: number;
  /** Instances the request stored (the Store's operation says) or the DICOM parts it returned. */
  readonly instances: number;
  readonly durationMs: number;
  readonly requestId?: string;
}

/** What the middleware reads of the request (the chain's route table and the authenticated principal). */
export interface UsageLogOptions {
  readonly group: string;
  readonly routeOf: (event: APIGatewayProxyEvent) => { readonly transaction: string } | undefined;
  readonly clientOf: (event: APIGatewayProxyEvent) => string | undefined;
  /** Instances the operation reported for this request (DicomwebResponse.instances). */
  readonly instancesOf: (event: APIGatewayProxyEvent) => number | undefined;
  /** Config USAGE_LOG; a configuration that cannot be read logs nothing (its error is answered). */
  readonly enabled: () => boolean;
  /** Where lines go; console.log (CloudWatch Logs in Lambda) by default. */
  readonly write?: (line: string) => void;
}

const started = new WeakMap<APIGatewayProxyEvent, number>();

/**
 * The middleware: first in the chain, so its `after` and `onError` run last and see the final
 * response, errors included. A streamed body is logged when its last byte has been read (or the
 * client went away). A CORS preflight answered early (no credential, no operation) is not logged.
 */
export const usageLog = (opts: UsageLogOptions): middy.MiddlewareObj<APIGatewayProxyEvent, ProxyResult> => {
  const write = opts.write ?? ((line: string) => console.log(line));
  const finish = (event: APIGatewayProxyEvent, result: ProxyResult | null | undefined) => {
    if (!result || !started.has(event)) return;
    const line = (bytesOut: number, instances: number) =>
      write(JSON.stringify(usageLine(opts, event, result.statusCode, bytesOut, instances)));
    const reported = opts.instancesOf(event);
    if (typeof result.body === 'string') {
      const bytes = result.isBase64Encoded ? base64Bytes(result.body) : Buffer.byteLength(result.body);
      const body = result.body;
      line(bytes, reported ?? dicomParts(result.headers, () => (result.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body))));
      return;
    }
    result.body = countedStream(result.body, result.headers, (bytes, parts) => line(bytes, reported ?? parts));
  };
  return {
    before: (request) => {
      if (isEnabled(opts)) started.set(request.event, performance.now());
    },
    after: (request) => finish(request.event, request.response),
    onError: (request) => finish(request.event, request.response),
  };
};

function isEnabled(opts: UsageLogOptions): boolean {
  try {
    return opts.enabled();
  } catch {
    return false;
  }
}

function usageLine(opts: UsageLogOptions, event: APIGatewayProxyEvent, status: number, bytesOut: number, instances: number): UsageLine {
  const start = started.get(event)!;
  return {
    level: 'info',
    event: USAGE_EVENT,
    function: opts.group,
    transaction: opts.routeOf(event)?.transaction ?? 'unknown',
    resource: event.resource,
    method: event.httpMethod,
    client: opts.clientOf(event) ?? iamCaller(event) ?? 'anonymous',
    status,
    bytesIn: requestBytes(event),
    bytesOut,
    instances,
    durationMs: Math.round(performance.now() - start),
    ...(event.requestContext?.requestId && { requestId: event.requestContext.requestId }),
  };
}

/** The SigV4 caller API Gateway verified (AUTH=iam): an ARN, not a credential. */
function iamCaller(event: APIGatewayProxyEvent): string | undefined {
  const arn = event.requestContext?.identity?.userArn;
  return arn ? `iam:${arn}` : undefined;
}

/** The body's size as the client sent it: Content-Length, else the event's body decoded. */
function requestBytes(event: APIGatewayProxyEvent): number {
  const declared = Number(event.headers?.['content-length']);
  if (Number.isFinite(declared) && declared >= 0 && event.headers?.['content-length'] !== '') return declared;
  if (!event.body) return 0;
  return event.isBase64Encoded ? base64Bytes(event.body) : Buffer.byteLength(event.body);
}

function base64Bytes(text: string): number {
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return Math.floor((text.length * 3) / 4) - padding;
}

/** The boundary delimiter of a multipart/related answer whose parts are DICOM instances, if it is one. */
function instanceDelimiter(headers: Record<string, string>): Buffer | undefined {
  const type = Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '';
  if (/^application\/dicom\s*(;|$)/i.test(type)) return undefined;
  if (!/^multipart\/related/i.test(type) || !/type="?application\/dicom"?(\s*;|\s*$)/i.test(type)) return undefined;
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  return boundary ? Buffer.from(`--${boundary}\r\n`) : undefined;
}

/** DICOM instances in a whole (buffered) body: one for application/dicom, else its parts. */
function dicomParts(headers: Record<string, string>, body: (() => Buffer) | undefined): number {
  const type = Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '';
  if (/^application\/dicom\s*(;|$)/i.test(type)) return 1;
  const delimiter = instanceDelimiter(headers);
  return delimiter && body ? countParts(body(), delimiter) : 0;
}

/** Parts of a multipart body: its boundary lines that open a part (the closing one ends in `--`). */
function countParts(bytes: Buffer, delimiter: Buffer): number {
  let n = 0;
  for (let at = bytes.indexOf(delimiter); at !== -1; at = bytes.indexOf(delimiter, at + 1)) n++;
  return n;
}

/**
 * The stream, counting its bytes and, for a multipart answer of instances, its parts (a delimiter may
 * straddle two chunks: the last delimiter's length of each chunk is carried over); `done` once.
 */
function countedStream(body: Readable, headers: Record<string, string>, done: (bytes: number, parts: number) => void): Readable {
  const delimiter = instanceDelimiter(headers);
  const single = dicomParts(headers, undefined) === 1;
  async function* counted() {
    let bytes = 0;
    let parts = 0;
    let carry = Buffer.alloc(0);
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (delimiter) {
          const window = Buffer.concat([carry, chunk]);
          parts += countParts(window, delimiter);
          carry = window.subarray(Math.max(0, window.length - delimiter.length + 1));
        }
        bytes += chunk.length;
        yield chunk;
      }
    } finally {
      done(bytes, single ? 1 : parts);
    }
  }
  return Readable.from(counted());
}
