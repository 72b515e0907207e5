/**
 * Cross-Origin Resource Sharing (Fetch Standard, "CORS protocol") for browser viewers: the allowed
 * origins (CORS_ALLOWED_ORIGINS, context corsAllowedOrigins), the preflight answer and the headers
 * every answer to an allowed origin carries. Shared by the functions' middleware, the embedded
 * gateway's own answers and the CDK API (docs/architecture.md, docs/conformance-statement.md "CORS").
 */

/** Request headers a DICOMweb client sends: always allowed in a preflight. */
export const CORS_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Accept'] as const;
/**
 * Request headers a preflight may ask for beyond those: what Fetch sends unprompted or a viewer sets
 * (Accept-Language, Cache-Control, Range, Content-Language). An asked header outside both lists is
 * left out of the answer, so the browser refuses that request.
 */
const ASKABLE_HEADERS = new Set(['accept-language', 'content-language', 'cache-control', 'range', 'if-none-match', 'if-modified-since']);
/**
 * Response headers a client script reads (PS3.18 8.4: Warning; 202/503: Retry-After; Store and Send:
 * Content-Location, Location; the rendered resources' ETag, for a viewer that revalidates what it
 * keeps with If-None-Match), exposed beyond the CORS-safelisted ones.
 */
export const CORS_EXPOSED_HEADERS = ['Warning', 'Retry-After', 'Content-Location', 'Location', 'Content-Type', 'ETag'] as const;
/** How long a browser may cache a preflight answer, in seconds (Chromium caps it at 7200). */
export const CORS_MAX_AGE_SECONDS = 7200;

export class CorsOriginError extends Error {}

/**
 * An allowed origin: https with a host (and optional port), or http on localhost / 127.0.0.1 for a
 * viewer under development. No path, no wildcard: each origin is named.
 */
const ORIGIN = /^(https:\/\/[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?|http:\/\/(localhost|127\.0\.0\.1)(:\d{1,5})?)$/;

/**
 * The allowed origins of a setting: comma-separated, or a JSON array of strings; empty or absent is
 * none. Throws CorsOriginError naming the first invalid one.
 */
export function parseAllowedOrigins(raw: unknown): readonly string[] {
  if (raw === undefined || raw === null || raw === '') return [];
  let list: unknown = raw;
  if (typeof raw === 'string') list = raw.trim().startsWith('[') ? (JSON.parse(raw) as unknown) : raw.split(',');
  if (!Array.isArray(list))
    throw new CorsOriginError(`allowed origins must be a comma-separated list or an array, got ${JSON.stringify(raw)}`);
  const origins = list.map((o: unknown) => (typeof o === 'string' ? o.trim() : o)).filter((o) => o !== '');
  for (const o of origins) {
    if (typeof o !== 'string' || !ORIGIN.test(o)) {
      throw new CorsOriginError(
        `allowed origin ${JSON.stringify(o)} must be https://host[:port] or http://localhost|127.0.0.1[:port], without a path`,
      );
    }
  }
  return Object.freeze([...new Set(origins as string[])]);
}

type Headers = Readonly<Record<string, string | undefined>>;

function header(headers: Headers | null | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

/** The request's Origin when it is one of the allowed origins (exact match, as browsers send it). */
export function allowedOrigin(headers: Headers | null | undefined, allowed: readonly string[]): string | undefined {
  const origin = header(headers, 'origin');
  return origin !== undefined && allowed.includes(origin) ? origin : undefined;
}

/** A CORS preflight: OPTIONS with Origin and Access-Control-Request-Method (Fetch, "CORS-preflight request"). */
export function isPreflight(method: string, headers: Headers | null | undefined): boolean {
  return method.toUpperCase() === 'OPTIONS' && !!header(headers, 'origin') && !!header(headers, 'access-control-request-method');
}

/** What every answer to an allowed origin carries, errors included. */
export function corsResponseHeaders(origin: string): Record<string, string> {
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Expose-Headers': CORS_EXPOSED_HEADERS.join(', '),
    Vary: 'Origin',
  };
}

function varyOnOrigin(target: Record<string, string>): void {
  if (!target.Vary) target.Vary = 'Origin';
  else if (!/\borigin\b/i.test(target.Vary)) target.Vary = `${target.Vary}, Origin`;
}

/**
 * The headers of the 204 answering a preflight from an allowed origin: the resource's methods, the
 * DICOMweb request headers and those asked for that are allowed, and how long to cache the answer.
 */
export function preflightHeaders(
  origin: string,
  methods: readonly string[],
  requestHeaders: Headers | null | undefined,
): Record<string, string> {
  const asked = (header(requestHeaders, 'access-control-request-headers') ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '' && ASKABLE_HEADERS.has(h));
  return {
    ...corsResponseHeaders(origin),
    'Access-Control-Allow-Methods': methods.join(', '),
    'Access-Control-Allow-Headers': [...CORS_ALLOWED_HEADERS, ...new Set(asked)].join(', '),
    'Access-Control-Max-Age': String(CORS_MAX_AGE_SECONDS),
  };
}

/**
 * Adds to a response's headers (in place, keeping any set) the CORS headers when the request's Origin
 * is allowed, and `Vary: Origin` whenever any origin is: the answer then depends on the Origin, and
 * a browser cache must not serve an answer without them to an allowed origin.
 */
export function addCorsHeaders(
  target: Record<string, string>,
  requestHeaders: Headers | null | undefined,
  allowed: readonly string[],
): void {
  if (allowed.length === 0) return;
  varyOnOrigin(target);
  const origin = allowedOrigin(requestHeaders, allowed);
  if (!origin) return;
  target['Access-Control-Allow-Origin'] ??= origin;
  target['Access-Control-Expose-Headers'] ??= CORS_EXPOSED_HEADERS.join(', ');
}
