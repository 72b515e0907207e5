/**
 * HTTP caching of the rendered answers: a strong entity tag (RFC 9110 8.8.3) per stored objects,
 * resource and normalised request; If-None-Match (13.1.2) answered 304; Cache-Control and Vary.
 */
import { createHash } from 'node:crypto';
import type { DicomwebResponse } from './messages';
import { normalisedParameters, type RenderedMediaType, type RenderedParameters } from './rendered-params';

/** How long a user agent may reuse a rendered answer: a stored instance never changes (a day). */
export const RENDERED_MAX_AGE_SECONDS = 86_400;

/** A strong entity tag (RFC 9110 8.8.3): the digest of the stored objects' keys and the normalised request. */
export function entityTag(objectKeys: readonly string[], resource: string, params: RenderedParameters, type: RenderedMediaType): string {
  const hash = createHash('sha256');
  for (const key of objectKeys) hash.update(`${key}\n`);
  hash.update(`${resource}\n${normalisedParameters(params, type)}`);
  return `"${hash.digest('base64url').slice(0, 32)}"`;
}

/** If-None-Match (RFC 9110 13.1.2): `*` or a list of entity tags, compared weakly. */
export function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const tags = ifNoneMatch.split(',').map((t) => t.trim().replace(/^W\//, ''));
  return tags.includes('*') || tags.includes(etag);
}

function cachingHeaders(etag: string): Record<string, string> {
  // private: access is authenticated, so shared caches keep no copy; Vary: the media type is negotiated.
  return { ETag: etag, 'Cache-Control': `private, max-age=${RENDERED_MAX_AGE_SECONDS}`, Vary: 'Accept' };
}

export function notModified(etag: string): DicomwebResponse {
  return { status: 304, headers: cachingHeaders(etag) };
}

export function imageResponse(body: Uint8Array, type: RenderedMediaType, etag: string): DicomwebResponse {
  return { status: 200, headers: { 'Content-Type': type, ...cachingHeaders(etag) }, body };
}

export function withCaching(response: DicomwebResponse, etag: string): DicomwebResponse {
  return { ...response, headers: { ...response.headers, ...cachingHeaders(etag) } };
}
