/**
 * URIs of Studies service resources (PS3.18 10.1.1), relative to the service root and made absolute
 * with the request's base URL. Stored metadata keeps BulkDataURI relative (leading '/') so it stays
 * valid whatever host or stage serves it; retrieve prefixes the base URL.
 */

const enc = encodeURIComponent;

export function studyPath(study: string): string {
  return `/studies/${enc(study)}`;
}
export function seriesPath(study: string, series: string): string {
  return `${studyPath(study)}/series/${enc(series)}`;
}
export function instancePath(study: string, series: string, sop: string): string {
  return `${seriesPath(study, series)}/instances/${enc(sop)}`;
}
/**
 * Bulkdata of one binary value. A nested value's tag path ('00540016/0/00181072': tag, item index, tag)
 * is written with '.' so that it stays one path segment.
 */
export function bulkDataPath(study: string, series: string, sop: string, tagPath: string): string {
  return `${instancePath(study, series, sop)}/bulkdata/${tagPath.replaceAll('/', '.')}`;
}
/** Inverse of the segment encoding of bulkDataPath. */
export function tagPathFromSegment(segment: string): string {
  return segment.replaceAll('.', '/');
}

/** Absolute URI: base URL of the service root + a path from above (or a stored relative BulkDataURI). */
export function absolute(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path}`;
}

/**
 * A DirectTransfer URL as a client reaches it (lambdas/storage/direct-transfer.ts): a relative one,
 * which the local engine's gateway serves, under the request's base URL; S3's absolute ones as they are.
 */
export function transferUrl(baseUrl: string, url: string): string {
  return url.startsWith('/') ? absolute(baseUrl, url) : url;
}

/** All Instances of a Non-Patient Instance category, PS3.18 12.3 (Table 12.3-2): /{npi-name}. */
export function npiPath(npiName: string): string {
  return `/${enc(npiName)}`;
}
/** One Non-Patient Instance, PS3.18 12.3: /{npi-name}/{uid}. */
export function npiInstancePath(npiName: string, sop: string): string {
  return `${npiPath(npiName)}/${enc(sop)}`;
}
