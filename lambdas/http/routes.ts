/**
 * THE route table: method + path template -> function group and transaction.
 * The CDK API (lib/constructs/api.ts), the embedded gateway (lib/local/gateway.ts) and Retrieve
 * Capabilities are all generated from it, so no route is written twice.
 *
 * Path parameter names are the same in every template that shares a prefix, as API Gateway requires.
 */
import { SERVICE_ROOT } from '../dicomweb/capabilities';
import { NPI_CATEGORIES } from '../dicomweb/npi-categories';
import type { Scope } from '../auth/scopes';

export type HttpMethod = 'GET' | 'POST' | 'DELETE' | 'OPTIONS';

/**
 * The transactions of each function group, named after PS3.18 (and Supplement 248): the keys of the
 * group handler's Operations, so a route whose transaction has no operation does not compile.
 */
export interface GroupTransactions {
  store: 'StoreInstances';
  search: 'SearchForStudies' | 'SearchForSeries' | 'SearchForInstances';
  retrieve:
    | 'RetrieveStudy'
    | 'RetrieveSeries'
    | 'RetrieveInstance'
    | 'RetrieveStudyMetadata'
    | 'RetrieveSeriesMetadata'
    | 'RetrieveInstanceMetadata'
    | 'RetrieveFrames'
    | 'RetrieveBulkdata';
  /** Rendered and thumbnail resources, PS3.18 10.4.1.1.3-4 (Tables 10.4.1-1 and 10.4.1-2). */
  render:
    | 'RetrieveRenderedStudy'
    | 'RetrieveRenderedSeries'
    | 'RetrieveRenderedInstance'
    | 'RetrieveRenderedFrames'
    | 'RetrieveStudyThumbnail'
    | 'RetrieveSeriesThumbnail'
    | 'RetrieveInstanceThumbnail'
    | 'RetrieveFramesThumbnail';
  delete: 'DeleteStudy' | 'DeleteSeries' | 'DeleteInstance';
  send: 'Send' | 'CheckSendResult';
  capabilities: 'RetrieveCapabilities';
  npi: 'StoreInstances' | 'SearchForInstances' | 'RetrieveInstance';
  /** The upload path for instances above the request limit (docs/uploads.md); an extension of the Studies Service. */
  upload: 'CreateUpload' | 'RetrieveUpload' | 'CompleteUpload' | 'AbortUpload';
  /** Management of API key clients and share links (docs/security.md); not DICOMweb. */
  admin: 'AddClient' | 'ListClients' | 'RevokeClient' | 'CreateShare' | 'ListShares' | 'RevokeShare';
}

/** One Lambda function per group; its handler module is lambdas/handlers/{group}.ts. */
export type FunctionGroup = keyof GroupTransactions;

/** A transaction of group G (of any group by default). */
export type Transaction<G extends FunctionGroup = FunctionGroup> = GroupTransactions[G];

export interface FunctionGroupSpec {
  /** Handler module, relative to the project root. */
  readonly entry: string;
  /** Lambda response streaming (REST API integration in STREAM mode). */
  readonly streaming: boolean;
  readonly memorySize: number;
  readonly timeoutSeconds: number;
}

/**
 * API Gateway REST API: a buffered (non-streaming) integration answers within 29 s, or the client
 * gets 504 (API Gateway quotas, "Integration timeout"). CDK's LambdaIntegration default.
 */
export const API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS = 29;
/**
 * Lambda's init phase may take up to 10 s (Lambda execution environment lifecycle, "Init phase") and
 * runs before the first invocation, inside the gateway's 29 s but outside the function's timeout.
 */
export const LAMBDA_MAX_INIT_SECONDS = 10;
/** The invoke itself (API Gateway to Lambda and back) within the gateway's wait. */
const INVOKE_MARGIN_SECONDS = 1;
/**
 * Timeout of a buffered function: a cold start's init plus a whole run still ends before API Gateway
 * gives up (18 + 10 + 1 = 29 s), so the client gets the function's answer, never a 504 while the
 * function is still working.
 */
export const BUFFERED_FUNCTION_TIMEOUT_SECONDS = API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS - LAMBDA_MAX_INIT_SECONDS - INVOKE_MARGIN_SECONDS;
/**
 * A streamed integration (response transfer mode STREAM) runs up to 15 minutes (API Gateway, "Stream
 * the integration response"): beyond the first 6 MB Lambda streams at most 2 MB/s (Lambda, "Bandwidth
 * limits for response streaming"; API Gateway's own cap starts later, at 10 MB), so a 200 MB response
 * needs about 100 s and a slow client longer. The streaming groups take the whole 15 minutes.
 */
export const STREAMED_FUNCTION_TIMEOUT_SECONDS = 900;

export const functionGroups: Readonly<Record<FunctionGroup, FunctionGroupSpec>> = {
  store: { entry: 'lambdas/handlers/store.ts', streaming: false, memorySize: 1024, timeoutSeconds: BUFFERED_FUNCTION_TIMEOUT_SECONDS },
  search: { entry: 'lambdas/handlers/search.ts', streaming: false, memorySize: 512, timeoutSeconds: BUFFERED_FUNCTION_TIMEOUT_SECONDS },
  retrieve: { entry: 'lambdas/handlers/retrieve.ts', streaming: true, memorySize: 1024, timeoutSeconds: STREAMED_FUNCTION_TIMEOUT_SECONDS },
  // Decoding and encoding images: CPU-bound, so more memory (Lambda's CPU share grows with it); a
  // rendered study or series streams its multipart answer like retrieve.
  render: { entry: 'lambdas/handlers/render.ts', streaming: true, memorySize: 1769, timeoutSeconds: STREAMED_FUNCTION_TIMEOUT_SECONDS },
  delete: { entry: 'lambdas/handlers/delete.ts', streaming: false, memorySize: 512, timeoutSeconds: BUFFERED_FUNCTION_TIMEOUT_SECONDS },
  send: { entry: 'lambdas/handlers/send.ts', streaming: false, memorySize: 512, timeoutSeconds: BUFFERED_FUNCTION_TIMEOUT_SECONDS },
  capabilities: { entry: 'lambdas/handlers/capabilities.ts', streaming: false, memorySize: 256, timeoutSeconds: 10 },
  // Store, Search and Retrieve of the Non-Patient Instance Service (PS3.18 12), every category.
  npi: { entry: 'lambdas/handlers/npi.ts', streaming: true, memorySize: 1024, timeoutSeconds: STREAMED_FUNCTION_TIMEOUT_SECONDS },
  // The upload path: complete reads a whole uploaded instance (any size, as a stream) and stores it, so it
  // runs streamed, up to the 15 minutes; 1 GB of memory as store (the object never whole in memory).
  upload: { entry: 'lambdas/handlers/upload.ts', streaming: true, memorySize: 1024, timeoutSeconds: STREAMED_FUNCTION_TIMEOUT_SECONDS },
  // API key clients and share links: a few small JSON requests to the clients table.
  admin: { entry: 'lambdas/handlers/admin.ts', streaming: false, memorySize: 256, timeoutSeconds: 10 },
};

/**
 * How long API Gateway waits for a group's function: 29 s buffered; a streamed integration's timeout
 * is the function's (lib/constructs/api.ts sets it so).
 */
export function integrationTimeoutSeconds(spec: FunctionGroupSpec): number {
  return spec.streaming ? spec.timeoutSeconds : API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS;
}

/** A route of group G. */
export interface GroupRoute<G extends FunctionGroup> {
  readonly method: HttpMethod;
  readonly path: string;
  readonly group: G;
  /** Transaction name after PS3.18 (and Supplement 248); the operation key in the group's handler. */
  readonly transaction: Transaction<G>;
}

/** A route of any group: the transaction is always one of its own group's. */
export type Route = { [G in FunctionGroup]: GroupRoute<G> }[FunctionGroup];

/** `{resource}/send-requests/{transactionUID}`: POST is Send, GET is Check Send Result. */
function sendRoutes(resource: string): Route[] {
  const path = `${resource}/send-requests/{transactionUID}`;
  return [
    { method: 'POST', path, group: 'send', transaction: 'Send' },
    { method: 'GET', path, group: 'send', transaction: 'CheckSendResult' },
  ];
}

/**
 * The NPI Service of one category, PS3.18 12.3 (Table 12.3-2): Store and Search on /{npi-name},
 * Retrieve on /{npi-name}/{uid}, and Send / Check Send Result on the path form
 * /{npi-name}/send-requests/{transactionUID} (Sup 248 Table 12.X.1-1). API Gateway needs literal
 * resources, so each category gets its own routes.
 */
function npiRoutes(npiName: string): Route[] {
  const all = `/${npiName}`;
  return [
    { method: 'POST', path: all, group: 'npi', transaction: 'StoreInstances' },
    { method: 'GET', path: all, group: 'npi', transaction: 'SearchForInstances' },
    { method: 'GET', path: `${all}/{uid}`, group: 'npi', transaction: 'RetrieveInstance' },
    ...sendRoutes(all),
  ];
}

const study = '/studies/{study}';
const series = `${study}/series/{series}`;
const instance = `${series}/instances/{instance}`;

/** The transactions the archive serves; Retrieve Capabilities (below) is derived from them. */
const transactionRoutes: readonly Route[] = [
  // Store Transaction, PS3.18 10.5
  { method: 'POST', path: '/studies', group: 'store', transaction: 'StoreInstances' },
  { method: 'POST', path: study, group: 'store', transaction: 'StoreInstances' },

  // Search Transaction, PS3.18 10.6
  { method: 'GET', path: '/studies', group: 'search', transaction: 'SearchForStudies' },
  { method: 'GET', path: '/series', group: 'search', transaction: 'SearchForSeries' },
  { method: 'GET', path: `${study}/series`, group: 'search', transaction: 'SearchForSeries' },
  { method: 'GET', path: '/instances', group: 'search', transaction: 'SearchForInstances' },
  { method: 'GET', path: `${study}/instances`, group: 'search', transaction: 'SearchForInstances' },
  { method: 'GET', path: `${series}/instances`, group: 'search', transaction: 'SearchForInstances' },

  // Retrieve Transaction, PS3.18 10.4
  { method: 'GET', path: study, group: 'retrieve', transaction: 'RetrieveStudy' },
  { method: 'GET', path: series, group: 'retrieve', transaction: 'RetrieveSeries' },
  { method: 'GET', path: instance, group: 'retrieve', transaction: 'RetrieveInstance' },
  { method: 'GET', path: `${study}/metadata`, group: 'retrieve', transaction: 'RetrieveStudyMetadata' },
  { method: 'GET', path: `${series}/metadata`, group: 'retrieve', transaction: 'RetrieveSeriesMetadata' },
  { method: 'GET', path: `${instance}/metadata`, group: 'retrieve', transaction: 'RetrieveInstanceMetadata' },
  { method: 'GET', path: `${instance}/frames/{frames}`, group: 'retrieve', transaction: 'RetrieveFrames' },
  { method: 'GET', path: `${instance}/bulkdata/{tag}`, group: 'retrieve', transaction: 'RetrieveBulkdata' },

  // Rendered and thumbnail resources, PS3.18 10.4.1.1.3-4
  { method: 'GET', path: `${study}/rendered`, group: 'render', transaction: 'RetrieveRenderedStudy' },
  { method: 'GET', path: `${series}/rendered`, group: 'render', transaction: 'RetrieveRenderedSeries' },
  { method: 'GET', path: `${instance}/rendered`, group: 'render', transaction: 'RetrieveRenderedInstance' },
  { method: 'GET', path: `${instance}/frames/{frames}/rendered`, group: 'render', transaction: 'RetrieveRenderedFrames' },
  { method: 'GET', path: `${study}/thumbnail`, group: 'render', transaction: 'RetrieveStudyThumbnail' },
  { method: 'GET', path: `${series}/thumbnail`, group: 'render', transaction: 'RetrieveSeriesThumbnail' },
  { method: 'GET', path: `${instance}/thumbnail`, group: 'render', transaction: 'RetrieveInstanceThumbnail' },
  { method: 'GET', path: `${instance}/frames/{frames}/thumbnail`, group: 'render', transaction: 'RetrieveFramesThumbnail' },

  // Send and Check Send Result, Supplement 248 10.X / 10.Y (Table 10.X.1-1: all six resources)
  ...sendRoutes('/studies'),
  ...sendRoutes(`${study}/series`),
  ...sendRoutes(`${study}/instances`),
  ...sendRoutes('/series'),
  ...sendRoutes(`${series}/instances`),
  ...sendRoutes('/instances'),

  // Delete (not a PS3.18 transaction; the archive's management of its own resources)
  { method: 'DELETE', path: study, group: 'delete', transaction: 'DeleteStudy' },
  { method: 'DELETE', path: series, group: 'delete', transaction: 'DeleteSeries' },
  { method: 'DELETE', path: instance, group: 'delete', transaction: 'DeleteInstance' },

  // Non-Patient Instance Service, PS3.18 12 (with Send, Sup 248 12.X / 12.Y)
  ...NPI_CATEGORIES.flatMap((category) => npiRoutes(category.name)),

  // The upload path (an extension, docs/uploads.md): Retrieve Capabilities advertises it with the rest
  { method: 'POST', path: '/uploads', group: 'upload', transaction: 'CreateUpload' },
  { method: 'POST', path: `${study}/uploads`, group: 'upload', transaction: 'CreateUpload' },
  { method: 'GET', path: '/uploads/{upload}', group: 'upload', transaction: 'RetrieveUpload' },
  { method: 'POST', path: '/uploads/{upload}/complete', group: 'upload', transaction: 'CompleteUpload' },
  { method: 'DELETE', path: '/uploads/{upload}', group: 'upload', transaction: 'AbortUpload' },
];

/**
 * Retrieve Capabilities, PS3.18 8.9: OPTIONS on the service root and on every resource above, so the
 * capabilities description is generated from the very routes that are served and cannot drift.
 */
function capabilityRoutes(served: readonly Route[]): Route[] {
  const paths = [SERVICE_ROOT, ...new Set(served.map((r) => r.path))];
  return paths.map((path): Route => ({ method: 'OPTIONS', path, group: 'capabilities', transaction: 'RetrieveCapabilities' }));
}

/**
 * The archive's own management, beside DICOMweb: API key clients and share links (docs/security.md). Kept out of
 * transactionRoutes, so Retrieve Capabilities does not describe them.
 */
const adminRoutes: readonly Route[] = [
  { method: 'POST', path: '/admin/clients', group: 'admin', transaction: 'AddClient' },
  { method: 'GET', path: '/admin/clients', group: 'admin', transaction: 'ListClients' },
  { method: 'DELETE', path: '/admin/clients/{clientId}', group: 'admin', transaction: 'RevokeClient' },
  { method: 'POST', path: '/admin/shares', group: 'admin', transaction: 'CreateShare' },
  { method: 'GET', path: '/admin/shares', group: 'admin', transaction: 'ListShares' },
  { method: 'DELETE', path: '/admin/shares/{shareId}', group: 'admin', transaction: 'RevokeShare' },
];

/** The DICOMweb services' routes: what Retrieve Capabilities describes. */
export const dicomwebRoutes: readonly Route[] = [...transactionRoutes, ...capabilityRoutes(transactionRoutes)];

/** Every route the API serves. */
export const routes: readonly Route[] = [...dicomwebRoutes, ...adminRoutes];

/**
 * The scope a route requires of a credential (lambdas/auth/scopes.ts, docs/security.md): reading is
 * Search, Retrieve (rendered and thumbnail resources too) and Capabilities; writing is Store and the upload path; Send and Check Send Result are `send`; the
 * management of share links is `share`, of API key clients `admin`.
 */
export function requiredScope(route: Route): Scope {
  switch (route.group) {
    case 'store':
    case 'upload':
      return 'write';
    case 'search':
    case 'retrieve':
    case 'render':
    case 'capabilities':
      return 'read';
    case 'delete':
      return 'delete';
    case 'send':
      return 'send';
    case 'npi':
      return route.transaction === 'StoreInstances' ? 'write' : 'read';
    case 'admin':
      return route.transaction === 'CreateShare' || route.transaction === 'ListShares' || route.transaction === 'RevokeShare'
        ? 'share'
        : 'admin';
  }
}

/** The methods a resource template allows (the Allow header, RFC 9110 10.2.1). */
export function allowedMethods(path: string): HttpMethod[] {
  return [...new Set(routes.filter((r) => r.path === path).map((r) => r.method))];
}

/** The non-empty segments of a path or template. */
function segmentsOf(path: string): string[] {
  return path.split('/').filter(Boolean);
}

function matchSegments(t: readonly string[], p: readonly string[]): Record<string, string> | undefined {
  if (t.length !== p.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < t.length; i++) {
    const seg = t[i]!;
    if (seg.startsWith('{') && seg.endsWith('}')) {
      let value: string;
      try {
        value = decodeURIComponent(p[i]!);
      } catch {
        return undefined;
      }
      params[seg.slice(1, -1)] = value;
    } else if (seg !== p[i]) {
      return undefined;
    }
  }
  return params;
}

/** Matches a concrete path against a template; returns the path parameters or undefined. */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  return matchSegments(segmentsOf(template), segmentsOf(path));
}

/** Every route's template split once: routesForPath runs for every request the embedded gateway serves. */
const compiledRoutes = routes.map((route) => {
  const segments = segmentsOf(route.path);
  return { route, segments, literals: segments.filter((seg) => !seg.startsWith('{')).length };
});

/**
 * The routes whose template matches the path, whatever their method, most specific first: like API
 * Gateway, a literal segment wins over a path parameter.
 */
export function routesForPath(path: string): { route: Route; pathParameters: Record<string, string> }[] {
  const segments = segmentsOf(path);
  const out: { route: Route; pathParameters: Record<string, string>; literals: number }[] = [];
  for (const { route, segments: template, literals } of compiledRoutes) {
    const pathParameters = matchSegments(template, segments);
    if (pathParameters) out.push({ route, pathParameters, literals });
  }
  return out.sort((a, b) => b.literals - a.literals).map(({ route, pathParameters }) => ({ route, pathParameters }));
}
