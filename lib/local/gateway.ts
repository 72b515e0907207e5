/**
 * The embedded API gateway: a Node HTTP server that serves THE route table (lambdas/http/routes.ts) by
 * turning each request into the API Gateway REST proxy event the cloud sends (binary bodies
 * base64-encoded, as with binaryMediaTypes '*\/*'), invoking the function group's handler, and writing
 * its result back, streamed bodies included. It enforces the cloud's limits (the request body here,
 * the response payload and the timeouts in ./lambda-limits.ts) so that what passes here passes in AWS.
 * On the local engine (streamRequestBodies) the request body is not base64-encoded into the event but
 * handed over as the connection's stream (./streamed-body.ts), read as the handler consumes it.
 */
import type { TransferSite } from './transfer-site';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { addCorsHeaders } from '../../lambdas/http/cors';
import { errorResponse } from '../../lambdas/http/middleware';
import type { ProxyResult } from '../../lambdas/http/proxy';
import { toProxyResult, withStreamedBody } from '../../lambdas/http/proxy';
import { MethodNotAllowedError, NotFoundError, ServiceUnavailableError } from '../../lambdas/dicomweb/errors';
import { requestTooLarge } from '../../lambdas/dicomweb/store-request';
import type { FunctionGroup, Route } from '../../lambdas/http/routes';
import { routesForPath } from '../../lambdas/http/routes';
import { GatewayFailure, invokeWithinLimits, type InvocationTimeouts, type ProxyHandler } from './lambda-limits';
import { DeclaredBodyTooLarge, StreamedRequestBody, type AfterAnswer } from './streamed-body';

export type { ProxyHandler } from './lambda-limits';

export interface GatewayOptions {
  readonly handlers: Readonly<Record<FunctionGroup, ProxyHandler>>;
  /**
   * Largest request body accepted: MAX_REQUEST_BYTES, whose default is what Lambda's 6 MB invocation
   * payload holds base64-encoded (LAMBDA_MAX_REQUEST_BYTES, lambdas/config.ts).
   */
  readonly maxRequestBytes: number;
  /**
   * Hands each handler the request body as it arrives (the local engine), rather than whole and
   * base64-encoded in the event as API Gateway does (the emulators' path, which keeps the cloud's
   * limits). The limit then applies as the body is read: 413 with the same Status Report. The
   * function's timeout then also covers receiving the body, which API Gateway would have received first.
   */
  readonly streamRequestBodies?: boolean;
  /** Function and integration timeouts replacing the route table's (./lambda-limits.ts). */
  readonly timeouts?: InvocationTimeouts;
  /**
   * Most requests handled at once; beyond it the gateway answers 503 with Retry-After and a Status
   * Report. In AWS the same overload is met by Lambda's concurrency limit (a throttled invocation,
   * which API Gateway answers 503 for a proxy integration) and by API Gateway's stage throttling (429).
   * Unbounded when absent.
   */
  readonly maxInFlightRequests?: number;
  /**
   * Origins allowed by CORS (CORS_ALLOWED_ORIGINS): the gateway's own answers (404, 405, 413, 503,
   * 502, 504) carry the CORS headers for them, as API Gateway's gateway responses do in AWS.
   */
  readonly corsAllowedOrigins?: readonly string[];
  /** Files served beside the route table: the viewer (./viewer-site.ts), asked first. */
  readonly site?: StaticSite;
  /** The local engine's signed transfer URLs (./transfer-site.ts), served before everything else. */
  readonly transfer?: TransferSite;
  readonly host?: string;
  readonly port?: number;
}

export interface StaticSite {
  handles(pathname: string, req: http.IncomingMessage): boolean;
  answer(pathname: string, req: http.IncomingMessage): Promise<ProxyResult>;
}

export interface Gateway {
  readonly url: string;
  readonly server: http.Server;
  close(): Promise<void>;
}

class BodyTooLarge extends Error {}

/** How long an idle keep-alive connection stays open (see startGateway). */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Retry-After of the 503 answered beyond maxInFlightRequests, in seconds. */
const OVERLOAD_RETRY_AFTER_SECONDS = 1;

const EMPTY_BODY = Buffer.alloc(0);

/**
 * The request body in one buffer. With a Content-Length (which Node's parser holds the body to) the
 * chunks are copied into a buffer of that size as they come, rather than gathered and concatenated:
 * the body is in memory once, not twice.
 */
async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  // RFC 9112 6.3: a request with neither Content-Length nor Transfer-Encoding has no body (every
  // retrieve and search); nothing to iterate.
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
    req.resume();
    return EMPTY_BODY;
  }
  const declared = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
  if (declared !== undefined && declared > limit) throw new BodyTooLarge();
  const body = declared !== undefined && Number.isSafeInteger(declared) ? Buffer.allocUnsafe(declared) : undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    if (size + chunk.length > limit) throw new BodyTooLarge();
    if (body) chunk.copy(body, size);
    else chunks.push(chunk);
    size += chunk.length;
  }
  return body ? body.subarray(0, size) : Buffer.concat(chunks);
}

/**
 * Sets a client-chosen name (a header or query parameter: `valueOf`, `__proto__`...) as an own
 * property, as the JSON.parse of API Gateway's event would, never reaching the object's prototype.
 */
function appendOwn<T>(map: Record<string, T[]>, name: string, value: T): void {
  if (Object.hasOwn(map, name)) map[name]!.push(value);
  else setOwn(map, name, [value]);
}
function setOwn<T>(map: Record<string, T>, name: string, value: T): void {
  Object.defineProperty(map, name, { value, enumerable: true, writable: true, configurable: true });
}

/** The REST proxy event API Gateway would send for this request and route. */
export function proxyEvent(
  req: http.IncomingMessage,
  url: Pick<URL, 'pathname' | 'searchParams'>,
  route: Route,
  pathParameters: Record<string, string>,
  body: Buffer,
): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    const value = req.rawHeaders[i + 1]!;
    setOwn(headers, name, value);
    appendOwn(multiValueHeaders, name, value);
  }
  // API Gateway tells the function the scheme of the hop it terminated, plain HTTP here, as the last
  // element of X-Forwarded-Proto; what a proxy in front sent stays before it (lambdas/http/public-uri.ts).
  const forwardedProto = Object.keys(headers).filter((name) => name.toLowerCase() === 'x-forwarded-proto');
  const protos = forwardedProto.flatMap((name) => multiValueHeaders[name]!);
  for (const name of forwardedProto) {
    delete headers[name];
    delete multiValueHeaders[name];
  }
  headers['X-Forwarded-Proto'] = [...protos, 'http'].join(', ');
  multiValueHeaders['X-Forwarded-Proto'] = [headers['X-Forwarded-Proto']];
  const queryStringParameters: Record<string, string> = {};
  const multiValueQueryStringParameters: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    setOwn(queryStringParameters, name, value);
    appendOwn(multiValueQueryStringParameters, name, value);
  }
  const hasQuery = url.searchParams.size > 0;
  return {
    resource: route.path,
    path: url.pathname,
    httpMethod: route.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? queryStringParameters : null,
    multiValueQueryStringParameters: hasQuery ? multiValueQueryStringParameters : null,
    pathParameters: Object.keys(pathParameters).length ? pathParameters : null,
    stageVariables: null,
    body: body.length ? body.toString('base64') : null,
    isBase64Encoded: body.length > 0,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: route.method,
      identity: { sourceIp: req.socket.remoteAddress ?? '127.0.0.1' } as APIGatewayProxyEvent['requestContext']['identity'],
      path: url.pathname,
      stage: 'local',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: route.path,
    },
  };
}

async function writeResult(res: http.ServerResponse, result: ProxyResult, deadline?: number): Promise<void> {
  try {
    await writeProxyResult(res, result, deadline);
  } finally {
    // The body is written (every byte handed to the kernel: sendBody waits for 'finish') or abandoned.
    result.release?.();
  }
}

async function writeProxyResult(res: http.ServerResponse, result: ProxyResult, deadline?: number): Promise<void> {
  res.statusCode = result.statusCode;
  for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
  if (result.body instanceof Readable) {
    // A streamed response ends when its function times out: the client gets a cut body.
    const body = result.body;
    const cut =
      deadline === undefined
        ? undefined
        : setTimeout(() => {
            console.error(JSON.stringify({ level: 'error', gateway: 'FunctionTimeout', streamed: true }));
            body.destroy(new Error('the function timed out while streaming its response'));
          }, deadline - Date.now());
    try {
      await sendBody(body, res);
    } finally {
      clearTimeout(cut);
    }
    return;
  }
  const body = result.isBase64Encoded ? Buffer.from(result.body, 'base64') : Buffer.from(result.body, 'utf8');
  res.setHeader('Content-Length', body.length);
  res.end(body);
}

/**
 * `body` written to `res` as stream.pipeline would (backpressure; an error or an early close on either
 * side destroys both and rejects), without pipeline's AbortController, which it aborts at every end,
 * building a DOMException with its stack trace, and its end-of-stream watchers: a 40 KB instance
 * retrieved cost 0.72-0.76 ms of CPU through pipeline, 0.60-0.62 through this (steady state).
 */
function sendBody(body: Readable, res: http.ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      if (!error) return resolve();
      body.destroy();
      res.destroy(error);
      reject(error);
    };
    body.once('error', settle);
    res.once('error', settle);
    res.once('finish', () => settle());
    res.once('close', () => settle(res.writableFinished ? undefined : new Error('the connection closed before the body was written')));
    body.pipe(res);
  });
}

/** The gateway's own answer: a Status Report, with the CORS headers for an allowed origin. */
async function writeError(res: http.ServerResponse, error: unknown, cors: (headers: Record<string, string>) => void): Promise<void> {
  const result = await toProxyResult(errorResponse(error), false);
  cors(result.headers);
  await writeResult(res, result);
}

/**
 * The path as the client sent it, and its query. URL parsing would resolve dot segments
 * (`/studies/%2e%2e/series` becoming `/series`); API Gateway routes the path as sent, so this does too,
 * and a `..` in a UID position then fails as a malformed UID.
 */
export function requestTarget(rawUrl: string | undefined): Pick<URL, 'pathname' | 'searchParams'> {
  const raw = rawUrl ?? '/';
  const queryAt = raw.indexOf('?');
  const pathname = queryAt < 0 ? raw : raw.slice(0, queryAt);
  const parsed = new URL(raw, 'http://localhost');
  // An absolute-form request target (GET http://host/path) keeps only its path.
  return { pathname: pathname.startsWith('/') ? pathname : parsed.pathname, searchParams: parsed.searchParams };
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const maxInFlight = opts.maxInFlightRequests ?? Infinity;
  const corsAllowedOrigins = opts.corsAllowedOrigins ?? [];
  let inFlight = 0;
  const server = http.createServer((req, res) => {
    const cors = (headers: Record<string, string>) => addCorsHeaders(headers, { origin: req.headers.origin }, corsAllowedOrigins);
    if (inFlight >= maxInFlight) {
      req.resume();
      void writeError(
        res,
        new ServiceUnavailableError('the archive is handling as many requests as it can; retry later', OVERLOAD_RETRY_AFTER_SECONDS),
        cors,
      );
      return;
    }
    inFlight++;
    res.once('close', () => inFlight--);
    void handle(req, res, cors).catch((error) => {
      if (!res.headersSent) void writeError(res, error, cors);
      else res.destroy(error instanceof Error ? error : undefined);
    });
  });

  async function handle(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    cors: (headers: Record<string, string>) => void,
  ): Promise<void> {
    const url = requestTarget(req.url);
    if (opts.transfer?.handles(url.pathname)) return opts.transfer.serve(req, res, url.pathname, url.searchParams);
    if (opts.site?.handles(url.pathname, req)) {
      req.resume();
      return writeResult(res, await opts.site.answer(url.pathname, req));
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const candidates = routesForPath(url.pathname);
    if (candidates.length === 0) {
      req.resume();
      return writeError(res, new NotFoundError(`no DICOMweb resource at ${url.pathname}`), cors);
    }
    const match = candidates.find((c) => c.route.method === method);
    if (!match) {
      req.resume();
      const allow = [...new Set(candidates.map((c) => c.route.method))];
      return writeError(res, new MethodNotAllowedError(`${method} is not allowed on ${url.pathname}`, allow), cors);
    }
    let event: APIGatewayProxyEvent;
    let streamed: StreamedRequestBody | undefined;
    try {
      if (opts.streamRequestBodies) {
        streamed = await StreamedRequestBody.of(req, opts.maxRequestBytes);
        event = withStreamedBody(proxyEvent(req, url, match.route, match.pathParameters, EMPTY_BODY), streamed);
      } else {
        // The bytes are dropped once the event holds them base64-encoded, as API Gateway hands them
        // over: the handler runs with the body in memory once, not twice.
        event = proxyEvent(req, url, match.route, match.pathParameters, await readBody(req, opts.maxRequestBytes));
      }
    } catch (error) {
      if (!(error instanceof BodyTooLarge || error instanceof DeclaredBodyTooLarge)) throw error;
      res.setHeader('Connection', 'close');
      await writeError(res, requestTooLarge(opts.maxRequestBytes), cors);
      req.destroy();
      return;
    }
    // With Connection: close, Node ends the connection once the answer is written.
    const after = (answered: boolean) => {
      const next: AfterAnswer = streamed?.release(answered) ?? 'keep-alive';
      if (next === 'close' && !res.headersSent) res.setHeader('Connection', 'close');
    };
    const group = match.route.group;
    let invocation;
    try {
      invocation = await invokeWithinLimits(group, opts.handlers[group], event, opts.timeouts);
    } catch (error) {
      after(false);
      if (!(error instanceof GatewayFailure)) throw error;
      // What the function's log would say in AWS; no request data.
      console.error(JSON.stringify({ level: 'error', gateway: error.reason, group, status: error.status }));
      const result = error.result();
      cors(result.headers);
      return writeResult(res, result);
    }
    after(true);
    await writeResult(res, invocation.result, invocation.deadline);
  }

  // Idle keep-alive connections are closed after 65 s, not Node's 5 s: a client whose event loop was
  // busy for a moment (a STOW-RS client building its next request) may send on a pooled connection the
  // server has just closed, which fails the request at the socket ("fetch failed"), and a POST is not
  // retried. Long enough that a pooled connection is reused well before the server drops it, as load
  // balancers do (AWS ALB: 60 s idle). Headers must still arrive within their own timeout, beyond it.
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
