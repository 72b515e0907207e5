/**
 * The one middleware chain of every function: the usage line first (its `after` runs last, on the final
 * response; ./usage-log.ts), header normalisation, then the CORS preflight
 * answer (before any credential check), authentication and authorization, the operation, and the error
 * mapping last. Errors become responses here and nowhere else.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { authorize, checksCredentials, createAuthenticator, type Authenticator, type Principal } from '../auth/authenticate';
import { fromAuthorizerContext } from '../auth/authorizer-context';
import { DicomwebError } from '../dicomweb/errors';
import type { ClientStore, ShareLinkStore } from '../storage/ports';
import { InvalidKeySegmentError, StorageUnavailableError } from '../storage/errors';
import type { FunctionGroup, Route, Transaction } from './routes';
import { allowedMethods, functionGroups, requiredScope, routes as allRoutes } from './routes';
import type { DicomwebResponse } from '../dicomweb/messages';
import type { DicomwebRequest } from './request';
import type { ProxyResult } from './proxy';
import { toDicomwebRequest, toProxyResult } from './proxy';
import type { Config } from '../config';
import { allowedOrigin, addCorsHeaders, isPreflight, preflightHeaders } from './cors';
import { sourceMappedStack } from './source-mapped-stack';
import { statusReport } from './status-report';
import { restrictToSharedStudy } from './share-scope';
import { usageLog } from './usage-log';

/**
 * One transaction of a function group, over the services it uses (`S`: a part of the archive's
 * services, so the embedded runtime can hand every group all of them while a Lambda function builds
 * only its own).
 */
export type Operation<S> = (request: DicomwebRequest, services: S) => Promise<DicomwebResponse>;
/** The operations of group G, one per transaction of its routes (routes.ts GroupTransactions). */
export type Operations<G extends FunctionGroup, S> = Readonly<Record<Transaction<G>, Operation<S>>>;

/** Lower-cases header names in place (middy convention: header normaliser runs first). */
export const httpHeaderNormalizer = (): middy.MiddlewareObj<APIGatewayProxyEvent> => ({
  before: (request) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.event.headers ?? {})) {
      if (value != null) headers[name.toLowerCase()] = value;
    }
    request.event.headers = headers;
  },
});

/** The principal each request was authenticated as, for its operation (DicomwebRequest.principal). */
const principals = new WeakMap<APIGatewayProxyEvent, Principal>();

/** Instances each request's operation reported (DicomwebResponse.instances), for its usage line. */
const reportedInstances = new WeakMap<APIGatewayProxyEvent, number>();

/** The Authenticator of each archive's services (the embedded runtime runs several in one process). */
const authenticators = new WeakMap<object, Authenticator>();

function authenticatorOf(services: AuthServices): Authenticator {
  let authenticator = authenticators.get(services);
  if (!authenticator) {
    authenticator = createAuthenticator(services.config, { clientStore: services.clientStore, shareLinkStore: services.shareLinkStore });
    authenticators.set(services, authenticator);
  }
  return authenticator;
}

/** What the authentication middleware reads of the services. */
export interface AuthServices {
  readonly config: Config;
  /** API key clients (AUTH=api-keys). */
  readonly clientStore?: ClientStore;
  /** Share links, whatever AUTH names (but none or iam). */
  readonly shareLinkStore?: ShareLinkStore;
}

/**
 * Authentication, then authorization (docs/security.md), after the CORS preflight: with AUTH none or
 * iam nothing (API Gateway checked SigV4); else the context of our API Gateway authorizer when the
 * event carries one, otherwise the Authorization header checked here (embedded runtime). Then a share
 * link's principal is held to its study (./share-scope.ts), and the route's scope (routes.ts
 * requiredScope) must be among the principal's, else 403.
 */
export const authentication = (opts: {
  getServices: () => AuthServices;
  routeOf: (event: APIGatewayProxyEvent) => Route | undefined;
}): middy.MiddlewareObj<APIGatewayProxyEvent> => ({
  before: async (request) => {
    const services = opts.getServices();
    if (!checksCredentials(services.config)) return;
    const { event } = request;
    const principal =
      fromAuthorizerContext(event.requestContext?.authorizer) ??
      (await authenticatorOf(services).authenticate(event.headers?.authorization));
    const route = opts.routeOf(event);
    if (principal.mechanism === 'share') logShareUse(principal.principal, route, event);
    restrictToSharedStudy(principal, route, event);
    // A route this function does not serve fails later; until then it needs the strongest scope.
    authorize(principal, route ? requiredScope(route) : 'admin', services.config.oidcScopePrefix);
    principals.set(event, principal);
  },
});

/**
 * One log line per request made with a share link's token (docs/security.md, "Share links"): the
 * link, the transaction and the resource template; never the token, and no UID or patient data (the
 * link's record names its study).
 */
function logShareUse(shareId: string, route: Route | undefined, event: APIGatewayProxyEvent): void {
  const line = {
    level: 'info',
    event: 'share-link-use',
    share: shareId,
    transaction: route?.transaction ?? 'unknown',
    method: event.httpMethod,
    resource: event.resource,
    requestId: event.requestContext?.requestId,
  };
  console.log(JSON.stringify(line));
}

/**
 * Maps typed errors to their status with a Status Report: the services' DicomwebError subclasses, and
 * the storage layer's own errors (503 with Retry-After, 400); anything else is a 500 without internals.
 */
export function errorResponse(error: unknown): DicomwebResponse {
  if (error instanceof DicomwebError) {
    return statusReport(error.status, error.message, error.details, error.headers);
  }
  if (error instanceof StorageUnavailableError) {
    return statusReport(503, error.message, [], { 'Retry-After': String(error.retryAfterSeconds) });
  }
  if (error instanceof InvalidKeySegmentError) return statusReport(400, error.message);
  // Log the failure without request data: no patient data in logs.
  const e = error instanceof Error ? error : new Error(String(error));
  console.error(JSON.stringify({ level: 'error', error: e.name, message: e.message, stack: e.stack && sourceMappedStack(e.stack) }));
  return statusReport(500, 'the archive could not complete the request; it has been logged');
}

export const httpErrorHandler = (opts: {
  streaming: boolean;
  corsAllowedOrigins?: () => readonly string[];
}): middy.MiddlewareObj<APIGatewayProxyEvent, ProxyResult> => ({
  onError: async (request) => {
    const result = await toProxyResult(errorResponse(request.error), opts.streaming);
    request.response = finish(result, request.event, opts.corsAllowedOrigins);
  },
});

/**
 * What every response gets, errors included, in this one place: the methods its resource allows
 * (PS3.18 8.9; RFC 9110 10.2.1), and for an allowed Origin the CORS headers (./cors.ts).
 */
function finish(result: ProxyResult, event: APIGatewayProxyEvent, corsAllowedOrigins?: () => readonly string[]): ProxyResult {
  const allow = event.resource ? allowedMethods(event.resource) : [];
  if (allow.length && !result.headers.Allow) result.headers.Allow = allow.join(', ');
  addCorsHeaders(result.headers, event.headers, originsOf(corsAllowedOrigins));
  return result;
}

/** The allowed origins, none when the configuration itself cannot be read (that error is answered). */
function originsOf(corsAllowedOrigins?: () => readonly string[]): readonly string[] {
  try {
    return corsAllowedOrigins?.() ?? [];
  } catch {
    return [];
  }
}

/**
 * Answers a CORS preflight from an allowed origin with 204 and the resource's methods, before any
 * credential check: a browser sends a preflight without credentials (Fetch, "CORS-preflight request").
 * A preflight from an origin not allowed goes on as a plain OPTIONS, Retrieve Capabilities with its
 * credential check, and its answer carries no CORS headers, so the browser refuses the request.
 */
export const corsPreflight = (opts: {
  corsAllowedOrigins: () => readonly string[];
}): middy.MiddlewareObj<APIGatewayProxyEvent, ProxyResult> => ({
  before: (request) => {
    const { event } = request;
    if (!isPreflight(event.httpMethod, event.headers)) return;
    const origin = allowedOrigin(event.headers, originsOf(opts.corsAllowedOrigins));
    if (!origin) return;
    const methods = event.resource ? allowedMethods(event.resource) : [];
    return { statusCode: 204, headers: preflightHeaders(origin, methods, event.headers), body: '', isBase64Encoded: false };
  },
});

/**
 * Builds the Lambda handler of a function group: finds the operation of the route that API Gateway
 * matched (event.resource + method), runs it, and writes its response. `getServices` gives the
 * services: the function's own in Lambda (./function-services.ts), the embedded runtime's (so several
 * archives can run in one process).
 */
export function dicomwebHandler<G extends FunctionGroup, S extends object>(
  group: G,
  operations: Operations<G, S>,
  getServices: () => S & AuthServices,
) {
  const spec = functionGroups[group];
  const corsAllowedOrigins = () => getServices().config.corsAllowedOrigins;
  const routes = new Map<string, Route>();
  for (const r of allRoutes) if (r.group === group) routes.set(`${r.method} ${r.path}`, r);
  const routeOf = (event: APIGatewayProxyEvent) => routes.get(`${event.httpMethod.toUpperCase()} ${event.resource}`);

  const core = async (event: APIGatewayProxyEvent, context?: Context): Promise<ProxyResult> => {
    const transaction = routeOf(event)?.transaction as Transaction<G> | undefined;
    const operation = transaction ? operations[transaction] : undefined;
    if (!operation) throw new Error(`no operation for ${event.httpMethod} ${event.resource} in ${group}`);
    const services = getServices();
    const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? () => context.getRemainingTimeInMillis() : undefined;
    const principal = principals.get(event);
    const request = {
      ...toDicomwebRequest(event, services.config),
      ...(remaining && { remainingTimeMillis: remaining }),
      ...(principal && { principal: `${principal.mechanism}:${principal.principal}` }),
    };
    const response = await operation(request, services);
    if (response.instances !== undefined) reportedInstances.set(event, response.instances);
    return finish(await toProxyResult(response, spec.streaming), event, corsAllowedOrigins);
  };

  // Only the Lambda runtime provides awslambda.streamifyResponse (the AWS SDK may define an empty
  // awslambda global elsewhere, so test for the function itself).
  const runtime = (globalThis as { awslambda?: { streamifyResponse?: unknown } }).awslambda;
  const streamify = spec.streaming && typeof runtime?.streamifyResponse === 'function';
  const clientOf = (event: APIGatewayProxyEvent) => {
    const p = principals.get(event);
    return p && `${p.mechanism}:${p.principal}`;
  };
  return middy<APIGatewayProxyEvent, ProxyResult, Error, Context>(core, { streamifyResponse: streamify, timeoutEarlyInMillis: 0 })
    .use(
      usageLog({
        group,
        routeOf,
        clientOf,
        instancesOf: (event) => reportedInstances.get(event),
        enabled: () => getServices().config.usageLog,
      }),
    )
    .use(httpHeaderNormalizer())
    .use(corsPreflight({ corsAllowedOrigins }))
    .use(authentication({ getServices, routeOf }))
    .use(httpErrorHandler({ streaming: spec.streaming, corsAllowedOrigins }));
}
