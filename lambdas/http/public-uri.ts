/**
 * The public base URL of the service root, which every URI the archive writes starts with (RetrieveURL,
 * BulkDataURI, Location, Content-Location, the WADL base, the Warning agent): the one place that
 * decides it (docs/configuration.md, "Public URIs").
 *  1. PUBLIC_BASE_URL when set;
 *  2. else, when the request's immediate peer (requestContext.identity.sourceIp) is a trusted proxy
 *     (TRUSTED_PROXIES), what the proxies forwarded: RFC 7239 Forwarded (host, proto) or
 *     X-Forwarded-Host / X-Forwarded-Proto, and X-Forwarded-Prefix for the path;
 *  3. else the request itself: the scheme the edge received, Host, and the API Gateway stage prefix.
 * A forwarded value that is not a valid host, scheme or path is ignored for the request's own, so no
 * header can inject anything into a URI.
 */
import { isIP } from 'node:net';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { proxyTrust } from './trusted-proxies';

export interface PublicUriOptions {
  /** PUBLIC_BASE_URL, without a trailing slash. */
  readonly publicBaseUrl?: string;
  /** TRUSTED_PROXIES, as parsed by parseTrustedProxies. */
  readonly trustedProxies?: readonly string[];
}

/** What the client addressed: scheme, host[:port] and the path of the service root. */
interface Origin {
  proto: string;
  host: string;
  prefix: string;
}

/**
 * The request headers the public base is read from when the peer is a trusted proxy: what an answer
 * built from it varies on (RFC 9110 12.5.5, Vary).
 */
export const FORWARDED_HEADERS: readonly string[] = ['Forwarded', 'X-Forwarded-Host', 'X-Forwarded-Proto', 'X-Forwarded-Prefix'];

const MAX_HOST_LENGTH = 255;
const MAX_PREFIX_LENGTH = 1024;

/** RFC 3986 3.2.2-3.2.3: host[:port], the reg-name kept to unreserved characters (no percent-encoding). */
export function validHost(value: string | undefined): string | undefined {
  if (!value || value.length > MAX_HOST_LENGTH) return undefined;
  const m = /^(\[([0-9A-Fa-f:.]+)\]|[A-Za-z0-9\-._~]+)(?::(\d{1,5}))?$/.exec(value);
  if (!m) return undefined;
  if (m[2] !== undefined && isIP(m[2]) !== 6) return undefined;
  if (m[3] !== undefined && Number(m[3]) > 65535) return undefined;
  return value;
}

function validProto(value: string | undefined): string | undefined {
  const proto = value?.trim().toLowerCase();
  return proto === 'http' || proto === 'https' ? proto : undefined;
}

/**
 * An absolute path (RFC 3986 3.3, path-absolute of pchar segments) without a trailing slash: '/' is
 * the root (''). No empty, '.' or '..' segment, which a client would resolve away.
 */
export function validPrefix(value: string | undefined): string | undefined {
  if (value === undefined || !value.startsWith('/') || value.length > MAX_PREFIX_LENGTH) return undefined;
  const path = value.replace(/\/+$/, '');
  const segments = path.split('/').slice(1);
  const pchars = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})+$/;
  return segments.every((s) => pchars.test(s) && s !== '.' && s !== '..') ? path : undefined;
}

/** The elements of a comma-separated header, trimmed. */
function listOf(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

type ForwardedElement = Partial<Record<'for' | 'host' | 'proto', string>>;

/**
 * RFC 7239 4: elements separated by ',', pairs by ';', each token=value where the value is a token or
 * a quoted-string (which may hold ',' and ';'). Parameter names are case-insensitive.
 */
export function forwardedElements(header: string | undefined): ForwardedElement[] {
  const elements: ForwardedElement[] = [];
  let element: ForwardedElement = {};
  let pair = '';
  let quoted = false;
  const endPair = () => {
    const at = pair.indexOf('=');
    if (at > 0) {
      const name = pair.slice(0, at).trim().toLowerCase();
      let value = pair.slice(at + 1).trim();
      if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
      if (name === 'for' || name === 'host' || name === 'proto') element[name] ??= value;
    }
    pair = '';
  };
  for (let i = 0; i < (header ?? '').length; i++) {
    const c = header![i]!;
    if (quoted) {
      if (c === '\\' && i + 1 < header!.length) pair += c + header![++i];
      else pair += c;
      if (c === '"') quoted = false;
    } else if (c === '"') {
      quoted = true;
      pair += c;
    } else if (c === ';') endPair();
    else if (c === ',') {
      endPair();
      elements.push(element);
      element = {};
    } else pair += c;
  }
  endPair();
  if (header?.trim()) elements.push(element);
  return elements;
}

/** The address of an RFC 7239 6 node (`192.0.2.43:4711`, `[2001:db8::17]:4711`), or undefined for `unknown` / an obfuscated one. */
function nodeAddress(node: string | undefined): string | undefined {
  if (!node) return undefined;
  const v6 = /^\[([^\]]+)\](?::.*)?$/.exec(node);
  if (v6) return v6[1];
  const v4 = /^(\d+\.\d+\.\d+\.\d+)(?::.*)?$/.exec(node);
  return v4 ? v4[1] : undefined;
}

/**
 * The Forwarded element that the trusted chain vouches for. Each proxy appends the element of the hop
 * it received, `for` naming its own peer: the rightmost comes from the immediate peer (trusted); while
 * an element's `for` is itself a trusted proxy, the element before it was written by that proxy, so the
 * walk moves left. It stops at the element whose `for` is not a trusted proxy (the client, as the
 * first trusted proxy saw it): that element holds the host and scheme the client used.
 */
function vouchedElement(elements: ForwardedElement[], trusts: (peer: string | undefined) => boolean): ForwardedElement | undefined {
  let i = elements.length - 1;
  while (i > 0 && trusts(nodeAddress(elements[i]!.for))) i--;
  return elements[i];
}

/** The request's own origin: the scheme its edge received, its Host and the API Gateway stage prefix. */
function requestOrigin(event: APIGatewayProxyEvent, headers: Record<string, string>): Origin {
  // API Gateway (and the embedded gateway) sets X-Forwarded-Proto last, for the hop it terminated.
  const proto = validProto(listOf(headers['x-forwarded-proto']).at(-1)) ?? 'https';
  const host = validHost(headers.host) ?? 'localhost';
  // requestContext.path includes the stage (/prod/studies); event.path does not (/studies).
  const fullPath = event.requestContext?.path ?? event.path;
  const prefix = fullPath.endsWith(event.path) ? fullPath.slice(0, fullPath.length - event.path.length) : '';
  return { proto, host, prefix };
}

/**
 * What trusted proxies forwarded, each value in place of the request's own when valid. Forwarded wins
 * over X-Forwarded-Host / -Proto; of those, the leftmost element (the first proxy's, the address the
 * client used). X-Forwarded-Proto's last element is the edge's own, so only elements before it were
 * forwarded. X-Forwarded-Prefix replaces the stage prefix: the proxy decides the public path.
 */
function forwardedOrigin(own: Origin, headers: Record<string, string>, trusts: (peer: string | undefined) => boolean): Origin {
  const vouched = vouchedElement(forwardedElements(headers.forwarded), trusts);
  const protos = listOf(headers['x-forwarded-proto']);
  const host = validHost(vouched?.host) ?? validHost(listOf(headers['x-forwarded-host'])[0]) ?? own.host;
  const proto = validProto(vouched?.proto) ?? (protos.length > 1 ? validProto(protos[0]) : undefined) ?? own.proto;
  const prefix = validPrefix(listOf(headers['x-forwarded-prefix'])[0]) ?? own.prefix;
  return { proto, host, prefix };
}

/** Base URL of the service root, without a trailing slash (see the module comment). */
export function publicBaseUrlOf(event: APIGatewayProxyEvent, headers: Record<string, string>, opts: PublicUriOptions = {}): string {
  if (opts.publicBaseUrl) return opts.publicBaseUrl;
  const own = requestOrigin(event, headers);
  const trusts = proxyTrust(opts.trustedProxies ?? []);
  const origin = trusts(event.requestContext?.identity?.sourceIp) ? forwardedOrigin(own, headers, trusts) : own;
  return `${origin.proto}://${origin.host}${origin.prefix}`;
}
