/**
 * The CloudFront Functions of the viewer's distribution (./viewer.ts), as the JavaScript CloudFront
 * runs (cloudfront-js-2.0: a top-level `handler(event)` returning the request). Kept as text so that
 * the stack deploys and the tests run exactly the same code (test/cdk/viewer.test.ts).
 */

/** The path of the DICOMweb services on the distribution: the API's stage behind it. */
export const DICOMWEB_PATH = '/dicomweb';

/**
 * Viewer request of the viewer's files: a path whose last segment has no file extension is a route
 * of the single-page application (/viewer?StudyInstanceUIDs=..., /callback) and gets index.html. A
 * function rather than the distribution's error responses, which would also turn the API's 403 and
 * 404 into index.html.
 */
export const SPA_FALLBACK_SOURCE = `function handler(event) {
  var request = event.request;
  var last = request.uri.substring(request.uri.lastIndexOf('/') + 1);
  if (last.indexOf('.') === -1) request.uri = '/index.html';
  return request;
}
`;

/**
 * Viewer request of the DICOMweb services: strips the path prefix (the origin path adds the stage)
 * and tells the archive how the viewer addressed it (X-Forwarded-Host, X-Forwarded-Prefix; API
 * Gateway adds X-Forwarded-Proto), so the URIs it writes (RetrieveURL, BulkDataURI, PS3.18 8.6.2)
 * point back through the distribution. A Forwarded header of the client is removed: it would speak
 * for a proxy that is not there.
 */
export const DICOMWEB_PREFIX_SOURCE = `function handler(event) {
  var request = event.request;
  var prefix = '${DICOMWEB_PATH}';
  var rest = request.uri.substring(prefix.length);
  request.uri = rest === '' ? '/' : rest;
  delete request.headers['forwarded'];
  if (request.headers.host) request.headers['x-forwarded-host'] = { value: request.headers.host.value };
  else delete request.headers['x-forwarded-host'];
  request.headers['x-forwarded-prefix'] = { value: prefix };
  return request;
}
`;
