/**
 * The OHIF Viewer served by the embedded gateway under /viewer/, on the origin of the DICOMweb
 * services (so the viewer needs no CORS): the published build (lib/viewer/dist.ts) rebased to the
 * path (lib/viewer/site-files.ts), app-config.js generated from the archive's configuration
 * (lib/viewer/app-config.ts), the single-page application's routes answered with index.html.
 * The path the browser sees is the public base's (PUBLIC_BASE_URL, else what a trusted proxy forwarded:
 * lambdas/http/public-uri.ts) followed by /viewer/, so the rewritten files are kept per base.
 * Without the build, every path of the viewer answers 503 naming the command that fetches it.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gzip as zlibGzip } from 'node:zlib';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { Config } from '../../lambdas/config';
import { BadRequestError, MethodNotAllowedError, NotFoundError, ServiceUnavailableError } from '../../lambdas/dicomweb/errors';
import { errorResponse } from '../../lambdas/http/middleware';
import { toProxyResult, type ProxyResult } from '../../lambdas/http/proxy';
import { FORWARDED_HEADERS, publicBaseUrlOf } from '../../lambdas/http/public-uri';
import { defaultViewerScope, viewerAppConfig } from '../viewer/app-config';
import { VIEWER_FETCH_COMMAND } from '../viewer/dist';
import { inlineScriptHashes, mayNeedRebase, rebaseIndexHtml, rebaseViewerText } from '../viewer/site-files';

/** Where the gateway serves the viewer (behind a proxy, the public base's path comes before it). */
export const VIEWER_PATH = '/viewer';

export interface ViewerSiteOptions {
  /** The build's directory (ensureViewerDist); absent when it could not be fetched. */
  readonly dist?: string;
  /** Why the build is absent, told in the 503. */
  readonly unavailableReason?: string;
  readonly config: Config;
}

export interface ViewerSite {
  /** True when the gateway should hand this request to the site rather than to the route table. */
  handles(pathname: string, req: http.IncomingMessage): boolean;
  answer(pathname: string, req: http.IncomingMessage): Promise<ProxyResult>;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.xml': 'application/xml; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.onnx': 'application/octet-stream',
};

/** File names carrying their content's hash (webpack's `[contenthash]`): never change, cached for a year. */
const HASHED_NAME = /(^|[./-])[0-9a-f]{16}\.[a-z0-9]+$/;
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html, app-config.js and the unhashed files: revalidated each time (ETag), so a new build shows at once. */
const REVALIDATE = 'no-cache';

/** Text (and WebAssembly) compress to a quarter or so: sent gzipped to a client that takes it, made once. */
const COMPRESSIBLE = /\.(js|mjs|css|html|json|svg|wasm|txt|xml)$/i;
const MIN_COMPRESSED_BYTES = 1024;
const gzip = promisify(zlibGzip);

/** Public bases whose rewritten files are kept at once; the least recently used is dropped beyond. */
const MAX_KEPT_BASES = 4;

/** Names the single-page fallback must not answer with index.html: a missing asset is a 404, not HTML. */
const ASSET_EXTENSION = /\.(js|mjs|css|map|wasm|json|png|jpe?g|gif|svg|ico|woff2?|ttf|xml|txt|onnx|html)$/i;

/** The origin of a URL, or undefined for a value that is none. */
function originOf(url: string | undefined): string | undefined {
  try {
    return url ? new URL(url).origin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Content-Security-Policy of the viewer's pages. Scripts: the build's own and the two inline scripts
 * of index.html (by hash); WebAssembly compiled from the codecs ('wasm-unsafe-eval'); styles inline
 * (React and its CSS-in-JS set them); images and workers also from blob: (thumbnails, decoders); the
 * PDF viewport shows a blob: document. Network: the archive, and the issuer of the login.
 */
function contentSecurityPolicy(scriptHashes: readonly string[], config: Config, issuerOrigins: readonly string[]): string {
  const issuer = issuerOrigins.length ? issuerOrigins.join(' ') : undefined;
  const connect = ["'self'", originOf(config.publicBaseUrl), ...issuerOrigins].filter((s): s is string => s !== undefined);
  return [
    "default-src 'self'",
    `script-src 'self' 'wasm-unsafe-eval' ${scriptHashes.join(' ')}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src ${[...new Set(connect)].join(' ')}`,
    "worker-src 'self' blob:",
    `frame-src 'self' blob:${issuer ? ` ${issuer}` : ''}`,
    "object-src 'self' blob:",
    "base-uri 'self'",
    `form-action 'self'${issuer ? ` ${issuer}` : ''}`,
    "frame-ancestors 'self'",
  ].join('; ');
}

/**
 * The origins of the login's issuer the page calls or goes to: the issuer's, and those of the endpoints
 * its discovery document names (OpenID Connect Discovery 1.0, 3), which may differ (Cognito's token
 * endpoint is on the user pool's domain). `complete` is false when the document could not be read.
 */
async function issuerOrigins(issuer: string): Promise<{ origins: string[]; complete: boolean }> {
  const origins = new Set([new URL(issuer).origin]);
  try {
    const response = await fetch(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) return { origins: [...origins], complete: false };
    const metadata = (await response.json()) as Record<string, unknown>;
    for (const key of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'end_session_endpoint', 'revocation_endpoint']) {
      const origin = originOf(typeof metadata[key] === 'string' ? metadata[key] : undefined);
      if (origin) origins.add(origin);
    }
    return { origins: [...origins], complete: true };
  } catch {
    return { origins: [...origins], complete: false };
  }
}

/** Headers of every answer of the site. */
function securityHeaders(): Record<string, string> {
  return {
    'X-Content-Type-Options': 'nosniff',
    // A share link carries its token in the URL: never sent on as a Referer.
    'Referrer-Policy': 'no-referrer',
  };
}

async function errorResult(error: unknown): Promise<ProxyResult> {
  const result = await toProxyResult(errorResponse(error), false);
  Object.assign(result.headers, securityHeaders());
  return result;
}

function etagOf(bytes: Buffer | string): string {
  return `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`;
}

function matchesEtag(req: http.IncomingMessage, etag: string): boolean {
  const header = req.headers['if-none-match'];
  return header !== undefined && header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/** Bytes kept in memory with their ETag, computed once. */
interface InMemory {
  readonly bytes: Buffer;
  readonly etag: string;
}

function inMemory(bytes: Buffer): InMemory {
  return { bytes, etag: etagOf(bytes) };
}

/** The value kept under `key`, made once (concurrent requests share the promise). */
function remember<T>(map: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let value = map.get(key);
  if (!value) {
    value = make();
    map.set(key, value);
    // A failed read is tried again by the next request.
    value.catch(() => map.delete(key));
  }
  return value;
}

/** True when the client takes gzip (RFC 9110 12.5.3), unless it says q=0. */
function acceptsGzip(req: http.IncomingMessage): boolean {
  const accepted = (req.headers['accept-encoding'] ?? '').split(',').map((coding) => coding.trim().toLowerCase());
  return accepted.some((coding) => /^(gzip|\*)\s*(;|$)/.test(coding) && !/;\s*q=0(\.0*)?\s*$/.test(coding));
}

/** A whole answer from memory, 304 when the client holds it already; HEAD gets the headers only. */
function bytesResult(req: http.IncomingMessage, content: InMemory, headers: Record<string, string>): ProxyResult {
  const { bytes, etag } = content;
  const common = { ...securityHeaders(), ...headers, ETag: etag };
  if (matchesEtag(req, etag)) return { statusCode: 304, headers: common, body: '', isBase64Encoded: false };
  // A stream body: the gateway writes it as is, with this Content-Length (HEAD included).
  const body = Readable.from(req.method === 'HEAD' ? [] : [bytes]);
  return { statusCode: 200, headers: { ...common, 'Content-Length': String(bytes.length) }, body, isBase64Encoded: false };
}

/**
 * The path of the public base of a request of the site (lambdas/http/public-uri.ts), without a
 * trailing slash: the event holds what publicBaseUrlOf reads, as the gateway's proxyEvent builds it.
 */
function publicPrefixOf(pathname: string, req: http.IncomingMessage, config: Config): string {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  // The gateway's own hop, plain HTTP, is the last element of X-Forwarded-Proto.
  headers['x-forwarded-proto'] = [headers['x-forwarded-proto'], 'http'].filter(Boolean).join(', ');
  const event = { path: pathname, requestContext: { path: pathname, identity: { sourceIp: req.socket?.remoteAddress } } };
  const base = publicBaseUrlOf(event as APIGatewayProxyEvent, headers, config);
  return new URL(base).pathname.replace(/\/+$/, '');
}

/** The viewer at one public base: its path, app-config.js and the files rewritten to it, made once. */
interface SiteAtBase {
  readonly basePath: string;
  readonly appConfig: InMemory;
  /** Rewritten files by name (undefined: served as published), and those gzipped. */
  readonly rebased: Map<string, Promise<InMemory | undefined>>;
  readonly gzipped: Map<string, Promise<InMemory>>;
  page?: Promise<{ html: InMemory; hashes: string[] }>;
}

export function viewerSite(opts: ViewerSiteOptions): ViewerSite {
  const { config } = opts;
  const oidc =
    config.auth.includes('oidc') && config.oidcIssuer && config.viewerOidcClientId
      ? {
          authority: config.oidcIssuer,
          clientId: config.viewerOidcClientId,
          scope: config.viewerOidcScope ?? defaultViewerScope(config.oidcScopePrefix),
        }
      : undefined;
  // Without PUBLIC_BASE_URL, a trusted proxy decides the path: what depends on it varies on its headers.
  const forwardedBase = !config.publicBaseUrl && config.trustedProxies.length > 0;
  const baseVary: Record<string, string> = forwardedBase ? { Vary: FORWARDED_HEADERS.join(', ') } : {};
  /** The viewer by public prefix (a small map, in order of use), and the published files gzipped. */
  const bases = new Map<string, SiteAtBase>();
  const gzipped = new Map<string, Promise<InMemory>>();
  let issuer: Promise<{ origins: string[]; complete: boolean }> | undefined;
  const distRoot = opts.dist ? realpath(opts.dist) : undefined;

  function siteAt(prefix: string): SiteAtBase {
    let site = bases.get(prefix);
    if (site) bases.delete(prefix);
    else {
      const basePath = `${prefix}${VIEWER_PATH}`;
      // The service root: PUBLIC_BASE_URL, else the page's own origin followed by the prefix.
      const roots = config.publicBaseUrl ? { serviceRoot: config.publicBaseUrl } : { serviceRootPath: prefix };
      const script = viewerAppConfig({ basePath, ...roots, ...(oidc && { oidc }) });
      site = { basePath, appConfig: inMemory(Buffer.from(script)), rebased: new Map(), gzipped: new Map() };
    }
    bases.set(prefix, site);
    if (bases.size > MAX_KEPT_BASES) bases.delete(bases.keys().next().value!);
    return site;
  }

  const indexPage = (site: SiteAtBase, dist: string) =>
    (site.page ??= readFile(path.join(dist, 'index.html'), 'utf8').then((published) => {
      const html = rebaseIndexHtml(published, site.basePath);
      return { html: inMemory(Buffer.from(html)), hashes: inlineScriptHashes(html) };
    }));

  /** The issuer's origins for the CSP, read again on the next page while its document could not be. */
  async function loginOrigins(): Promise<string[]> {
    if (!oidc) return [];
    const found = await (issuer ??= issuerOrigins(oidc.authority));
    if (!found.complete) issuer = undefined;
    return found.origins;
  }

  async function indexResult(req: http.IncomingMessage, site: SiteAtBase, dist: string): Promise<ProxyResult> {
    const [{ html, hashes }, origins] = await Promise.all([indexPage(site, dist), loginOrigins()]);
    const csp = contentSecurityPolicy(hashes, config, origins);
    const headers = { 'Content-Type': CONTENT_TYPES['.html']!, 'Cache-Control': REVALIDATE, 'Content-Security-Policy': csp };
    return bytesResult(req, html, { ...headers, ...baseVary });
  }

  /** The published file at `name` within the build, or undefined when there is none (or it is a directory). */
  async function fileResult(req: http.IncomingMessage, site: SiteAtBase, dist: string, name: string): Promise<ProxyResult | undefined> {
    const file = path.join(dist, name);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return undefined;
    // A symbolic link inside the build must not lead out of it.
    const real = await realpath(file);
    if (!real.startsWith(dist + path.sep)) return undefined;
    const headers = {
      'Content-Type': CONTENT_TYPES[path.extname(name).toLowerCase()] ?? 'application/octet-stream',
      'Cache-Control': HASHED_NAME.test(name) ? IMMUTABLE : REVALIDATE,
    };
    const compressible = COMPRESSIBLE.test(name) && info.size >= MIN_COMPRESSED_BYTES;
    const rebasedBytes = mayNeedRebase(name) ? await remember(site.rebased, name, () => rebasedFile(file, name, site.basePath)) : undefined;
    const vary = [...(compressible ? ['Accept-Encoding'] : []), ...(rebasedBytes && baseVary.Vary ? [baseVary.Vary] : [])];
    if (vary.length) Object.assign(headers, { Vary: vary.join(', ') });
    if (compressible && acceptsGzip(req)) {
      const packed = await remember(rebasedBytes ? site.gzipped : gzipped, name, async () =>
        inMemory(await gzip(rebasedBytes?.bytes ?? (await readFile(file)))),
      );
      return bytesResult(req, packed, { ...headers, 'Content-Encoding': 'gzip' });
    }
    if (rebasedBytes) return bytesResult(req, rebasedBytes, headers);
    const etag = `"${info.size.toString(36)}-${Math.trunc(info.mtimeMs).toString(36)}"`;
    const common = { ...securityHeaders(), ...headers, ETag: etag };
    if (matchesEtag(req, etag)) return { statusCode: 304, headers: common, body: '', isBase64Encoded: false };
    const body = req.method === 'HEAD' ? Readable.from([]) : createReadStream(file);
    return { statusCode: 200, headers: { ...common, 'Content-Length': String(info.size) }, body, isBase64Encoded: false };
  }

  /** The published file rebased to the viewer's path; undefined when it needs no change. */
  async function rebasedFile(file: string, name: string, basePath: string): Promise<InMemory | undefined> {
    const out = rebaseViewerText(name, await readFile(file, 'utf8'), basePath);
    return out === undefined ? undefined : inMemory(Buffer.from(out));
  }

  async function answer(pathname: string, req: http.IncomingMessage): Promise<ProxyResult> {
    const method = (req.method ?? 'GET').toUpperCase();
    const site = siteAt(publicPrefixOf(pathname, req, config));
    if (pathname === '/' || pathname === VIEWER_PATH) {
      // A browser at the archive's root (or at /viewer) goes to the viewer.
      const headers = { ...securityHeaders(), ...baseVary, Location: `${site.basePath}/` };
      return { statusCode: 302, headers, body: '', isBase64Encoded: false };
    }
    if (method !== 'GET' && method !== 'HEAD') {
      return errorResult(new MethodNotAllowedError(`${method} is not allowed on the viewer's files`, ['GET', 'HEAD']));
    }
    if (!distRoot) {
      const why = opts.unavailableReason ? ` (${opts.unavailableReason})` : '';
      return errorResult(
        new ServiceUnavailableError(
          `the OHIF Viewer's build is not here${why}: run \`${VIEWER_FETCH_COMMAND}\` (it fetches @ohif/app from the npm registry), then restart the archive`,
          60,
        ),
      );
    }
    const dist = await distRoot;
    let name: string;
    try {
      name = decodeURIComponent(pathname.slice(VIEWER_PATH.length + 1));
    } catch {
      return errorResult(new BadRequestError(`the path ${pathname} is not valid percent-encoding`));
    }
    const segments = name.split('/');
    // No way out of the build: no dot segments, no backslash, no NUL (path.join keeps a leading / inside).
    if (name.includes('\\') || name.includes('\0') || segments.some((s) => s === '..' || s === '.')) {
      return errorResult(new BadRequestError(`the path ${pathname} is not a file of the viewer`));
    }
    if (name === 'app-config.js') {
      return bytesResult(req, site.appConfig, { 'Content-Type': CONTENT_TYPES['.js']!, 'Cache-Control': REVALIDATE, ...baseVary });
    }
    if (name === '' || name === 'index.html') return indexResult(req, site, dist);
    const file = await fileResult(req, site, dist, path.normalize(name));
    if (file) return file;
    if (ASSET_EXTENSION.test(name)) return errorResult(new NotFoundError(`the viewer has no file ${name}`));
    // A route of the single-page application (/viewer/viewer?StudyInstanceUIDs=..., /viewer/callback).
    return indexResult(req, site, dist);
  }

  return {
    handles: (pathname, req) =>
      pathname === VIEWER_PATH ||
      pathname.startsWith(`${VIEWER_PATH}/`) ||
      // A browser opening the archive's root; a DICOMweb client asking for Retrieve Capabilities does not send Accept: text/html.
      (pathname === '/' && req.method === 'GET' && (req.headers.accept ?? '').includes('text/html')),
    answer,
  };
}
