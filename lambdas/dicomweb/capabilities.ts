/**
 * Retrieve Capabilities (PS3.18 8.9, Annex H with the Table H-1 rows of Supplement 248): a description
 * of the resources and transactions the origin server serves, generated from the route table so that
 * it says exactly what is served. Formats: WADL (application/vnd.sun.wadl+xml, PS3.18 8.9.3, the
 * default) and the same content as JSON (application/json) for user agents that prefer it.
 */
import { NotAcceptableError } from './errors';
import { parseAccept, mediaRangeMatches } from './accept';

/** The service root, whose OPTIONS describes every resource (PS3.18 8.9). */
export const SERVICE_ROOT = '/';

/** A served transaction as the description needs it: one row of the route table. */
export interface ServedTransaction {
  readonly method: string;
  readonly path: string;
  readonly transaction: string;
}

export const WADL = 'application/vnd.sun.wadl+xml';
const JSON_TYPE = 'application/json';

/** The rendered media types (PS3.18 8.7.4), one image, or a multipart/related of them. */
const RENDERED_IMAGES = ['image/jpeg', 'image/png', 'image/gif'];
const RENDERED_PARTS = RENDERED_IMAGES.map((t) => `multipart/related; type="${t}"`);
/**
 * The query parameters of the rendered resources the archive acts on (PS3.18 8.3.5, Table 8.3.5-1):
 * `annotation` is not among them, as no text is burned in (checked, then ignored).
 */
const RENDERED_QUERY = ['accept', 'window', 'viewport', 'quality', 'iccprofile', 'charset'];
/** A thumbnail takes the viewport only (PS3.18 10.4.1.1.4). */
const THUMBNAIL_QUERY = ['accept', 'viewport', 'charset'];

/** What a transaction accepts and answers, for the description. */
const representations: Record<string, { request?: string; response: string[]; query?: string[] }> = {
  StoreInstances: { request: 'multipart/related; type="application/dicom"', response: ['application/dicom+json'] },
  SearchForStudies: { response: ['application/dicom+json'] },
  SearchForSeries: { response: ['application/dicom+json'] },
  SearchForInstances: { response: ['application/dicom+json'] },
  RetrieveStudy: { response: ['multipart/related; type="application/dicom"'] },
  RetrieveSeries: { response: ['multipart/related; type="application/dicom"'] },
  RetrieveInstance: { response: ['multipart/related; type="application/dicom"', 'application/dicom'] },
  RetrieveStudyMetadata: { response: ['application/dicom+json'] },
  RetrieveSeriesMetadata: { response: ['application/dicom+json'] },
  RetrieveInstanceMetadata: { response: ['application/dicom+json'] },
  RetrieveFrames: { response: ['multipart/related; type="application/octet-stream"'] },
  RetrieveBulkdata: { response: ['multipart/related; type="application/octet-stream"'] },
  RetrieveRenderedStudy: { response: RENDERED_PARTS, query: RENDERED_QUERY },
  RetrieveRenderedSeries: { response: RENDERED_PARTS, query: RENDERED_QUERY },
  RetrieveRenderedInstance: { response: RENDERED_IMAGES, query: RENDERED_QUERY },
  RetrieveRenderedFrames: { response: [...RENDERED_IMAGES, ...RENDERED_PARTS], query: RENDERED_QUERY },
  RetrieveStudyThumbnail: { response: RENDERED_IMAGES, query: THUMBNAIL_QUERY },
  RetrieveSeriesThumbnail: { response: RENDERED_IMAGES, query: THUMBNAIL_QUERY },
  RetrieveInstanceThumbnail: { response: RENDERED_IMAGES, query: THUMBNAIL_QUERY },
  RetrieveFramesThumbnail: { response: RENDERED_IMAGES, query: THUMBNAIL_QUERY },
  Send: { response: ['application/dicom+json'] },
  CheckSendResult: { response: ['application/dicom+json'] },
  RetrieveCapabilities: { response: [WADL, JSON_TYPE] },
  // The upload path (docs/uploads.md), an extension: the upload is JSON, its Store answer DICOM JSON.
  CreateUpload: { request: JSON_TYPE, response: [JSON_TYPE] },
  RetrieveUpload: { response: [JSON_TYPE] },
  CompleteUpload: { response: ['application/dicom+json', JSON_TYPE] },
  AbortUpload: { response: [] },
};

export interface CapabilityMethod {
  readonly name: string;
  readonly transaction: string;
  readonly request?: string;
  readonly response: readonly string[];
  /** The query parameters it acts on, where the description lists them. */
  readonly query?: readonly string[];
}
export interface CapabilityResource {
  /** The resource's path segment (a literal or a {parameter}). */
  readonly path: string;
  readonly methods: CapabilityMethod[];
  readonly resources: CapabilityResource[];
}

/** The resource tree of the routes under `scope` (a template of the table, or the service root). */
export function capabilityTree(routes: readonly ServedTransaction[], scope: string = SERVICE_ROOT): CapabilityResource {
  const root: CapabilityResource = { path: scope, methods: [], resources: [] };
  const prefix = scope === SERVICE_ROOT ? [] : scope.split('/').filter(Boolean);
  for (const route of routes) {
    const segments = route.path.split('/').filter(Boolean);
    if (prefix.some((seg, i) => segments[i] !== seg) || segments.length < prefix.length) continue;
    let node = root;
    for (const seg of segments.slice(prefix.length)) {
      let child = node.resources.find((r) => r.path === seg);
      if (!child) {
        child = { path: seg, methods: [], resources: [] };
        node.resources.push(child);
      }
      node = child;
    }
    const rep = representations[route.transaction] ?? { response: [] };
    node.methods.push({ name: route.method, transaction: route.transaction, ...rep });
  }
  return root;
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function wadlResource(r: CapabilityResource, indent: string): string {
  const methods = r.methods.map(
    (m) =>
      `${indent}  <method name="${m.name}">\n${indent}    <doc title="${xml(m.transaction)}"/>\n` +
      (m.request || m.query ? `${indent}    <request>${wadlRequest(m)}</request>\n` : '') +
      `${indent}    <response>${m.response.map((t) => `<representation mediaType="${xml(t)}"/>`).join('')}</response>\n${indent}  </method>\n`,
  );
  const children = r.resources.map((c) => wadlResource(c, `${indent}  `));
  const param = /^\{(.+)\}$/.exec(r.path)?.[1];
  const params = param ? `${indent}  <param name="${xml(param)}" style="template" type="xsd:string" required="true"/>\n` : '';
  return `${indent}<resource path="${xml(r.path)}">\n${params}${methods.join('')}${children.join('')}${indent}</resource>\n`;
}

function wadlRequest(m: CapabilityMethod): string {
  const params = (m.query ?? []).map((name) => `<param name="${xml(name)}" style="query" type="xsd:string"/>`).join('');
  return params + (m.request ? `<representation mediaType="${xml(m.request)}"/>` : '');
}

/** The description as WADL (PS3.18 8.9.3); `path` is the concrete path of the described resource. */
export function toWadl(tree: CapabilityResource, baseUrl: string, path: string): string {
  const base = `${baseUrl.replace(/\/+$/, '')}${path === SERVICE_ROOT ? '/' : path}`;
  const top = tree.path === SERVICE_ROOT ? tree.resources : [{ ...tree, path: '' }];
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<application xmlns="http://wadl.dev.java.net/2009/02" xmlns:xsd="http://www.w3.org/2001/XMLSchema">\n' +
    `  <resources base="${xml(base)}">\n` +
    (tree.path === SERVICE_ROOT ? wadlResourceMethods(tree, '    ') : '') +
    top.map((r) => wadlResource(r, '    ')).join('') +
    '  </resources>\n</application>\n'
  );
}

function wadlResourceMethods(tree: CapabilityResource, indent: string): string {
  // The root's own methods (OPTIONS) are listed as a resource with an empty path.
  return tree.methods.length ? wadlResource({ path: '', methods: tree.methods, resources: [] }, indent) : '';
}

/** The representation the user agent accepts: WADL by default, JSON on request; else 406. */
export function negotiateCapabilities(accept: string | undefined): typeof WADL | typeof JSON_TYPE {
  for (const r of parseAccept({ accept })) {
    if (mediaRangeMatches(r.mediaType, WADL)) return WADL;
    if (mediaRangeMatches(r.mediaType, JSON_TYPE)) return JSON_TYPE;
  }
  throw new NotAcceptableError(`the capabilities description is available as ${WADL} or ${JSON_TYPE}`);
}
