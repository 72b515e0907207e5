/**
 * The destination registry of SEND-RS: an allow-list of endpoints the archive may send to, with the
 * credentials it uses there and an optional DIMSE mapping (Sup 248 10.X.2 notes; PS3.4 C.4.2.3.1.1.9:
 * rules for mapping AE Titles to endpoints, credential sourcing, allow-lists). A destination URL is
 * accepted only when a registered URL is a prefix of it, on a path-segment boundary; the longest
 * such prefix wins. Credentials never appear in error messages or in describeDestination.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TOKEN_ENDPOINT_AUTH_METHODS, type TokenEndpointAuthMethod } from '../auth/oauth2-client';
import { BadRequestError } from '../dicomweb/errors';
import type { RegistryFormat, RegistrySource } from '../storage/ports';

export type DestinationAuth =
  | { readonly type: 'none' }
  | { readonly type: 'bearer'; readonly token: string }
  | { readonly type: 'basic'; readonly username: string; readonly password: string }
  /** OAuth 2.0 client credentials grant (RFC 6749 4.4). */
  | {
      readonly type: 'oauth2';
      readonly tokenUrl: string;
      readonly clientId: string;
      readonly clientSecret: string;
      readonly scope?: string;
      /** RFC 6749 2.3.1: client_secret_basic (default) or client_secret_post. */
      readonly tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
    };

export interface Destination {
  /** Registered URL prefix, e.g. https://pacs.example.org/dicomweb. */
  readonly url: string;
  readonly auth: DestinationAuth;
  /** DIMSE mapping of the endpoint (C-STORE sub-operations): all three or none. */
  readonly aeTitle?: string;
  readonly host?: string;
  readonly port?: number;
  /**
   * Sub-operation mechanisms in order of preference (PS3.4 C.4.2.3.1.1, lambdas/dimse/ae-registry.ts):
   * a failed sub-operation is retried with the next one (C.4.2.3.1.1.7). Absent: C-STORE when the
   * entry has a DIMSE mapping, else STOW-RS.
   */
  readonly subOperations?: readonly SubOperationMechanism[];
}

export type SubOperationMechanism = 'c-store' | 'stow';

export interface DestinationRegistry {
  readonly destinations: readonly Destination[];
}

/** The registry file or secret is invalid: a configuration fault, reported at load time. */
export class DestinationRegistryError extends Error {}

/** Where the registry comes from (lambdas/storage/destinations.ts: a file, or a Secrets Manager secret). */
export type DestinationRegistrySource = RegistrySource<DestinationRegistry>;

/** The registry format as the storage sources read it. */
export const DESTINATION_REGISTRY_FORMAT: RegistryFormat<DestinationRegistry> = {
  parse: (json) => parseDestinationRegistry(json),
  invalid: (message) => new DestinationRegistryError(message),
  empty: { destinations: [] },
};

const MAX_URL_LENGTH = 2048;

type Json = Record<string, unknown>;

/** new URL without the throw (URL.parse is missing from the Node 20 typings). */
function parseUrl(s: string): URL | null {
  try {
    return new URL(s);
  } catch {
    return null;
  }
}
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses and validates `{ "destinations": [ ... ] }`; messages name fields, never their values. */
export function parseDestinationRegistry(json: unknown): DestinationRegistry {
  if (!isObject(json) || !Array.isArray(json.destinations)) {
    throw new DestinationRegistryError('destination registry must be an object with a "destinations" array');
  }
  const destinations = json.destinations.map((entry, i) => parseDestination(entry, `destinations[${i}]`));
  const seen = new Set<string>();
  destinations.forEach((d, i) => {
    const key = prefixKey(new URL(d.url));
    if (seen.has(key)) throw new DestinationRegistryError(`destinations[${i}].url: registered twice`);
    seen.add(key);
  });
  return { destinations };
}

function parseDestination(entry: unknown, at: string): Destination {
  if (!isObject(entry)) throw new DestinationRegistryError(`${at}: must be an object`);
  const url = httpUrl(entry.url, `${at}.url`);
  if (url.search || url.hash) throw new DestinationRegistryError(`${at}.url: must not have a query or fragment`);
  const auth = parseAuth(entry.auth, `${at}.auth`);
  const subOperations = parseSubOperations(entry.subOperations, entry.host !== undefined, `${at}.subOperations`);
  const dimse = [entry.aeTitle, entry.host, entry.port];
  if (dimse.every((v) => v === undefined)) return { url: String(entry.url), auth, ...subOperations };
  if (dimse.some((v) => v === undefined)) {
    throw new DestinationRegistryError(`${at}: aeTitle, host and port go together (DIMSE mapping)`);
  }
  // PS3.5 6.2 (AE VR): at most 16 characters, no backslash or control characters, not only spaces.
  const aeTitle = entry.aeTitle;
  if (typeof aeTitle !== 'string' || !/^[\x20-\x5b\x5d-\x7e]{1,16}$/.test(aeTitle) || aeTitle.trim() === '') {
    throw new DestinationRegistryError(`${at}.aeTitle: must be 1 to 16 printable characters without backslash`);
  }
  const host = nonEmpty(entry.host, `${at}.host`);
  const port = entry.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new DestinationRegistryError(`${at}.port: must be an integer from 1 to 65535`);
  }
  return { url: String(entry.url), auth, aeTitle: aeTitle.trim(), host, port, ...subOperations };
}

function parseSubOperations(v: unknown, hasDimse: boolean, at: string): { subOperations?: SubOperationMechanism[] } {
  if (v === undefined) return {};
  const ok = Array.isArray(v) && v.length >= 1 && v.length <= 2 && new Set(v).size === v.length;
  if (!ok || !v.every((m) => m === 'stow' || (m === 'c-store' && hasDimse))) {
    throw new DestinationRegistryError(`${at}: must list "c-store" (needs aeTitle, host, port) and/or "stow", each once`);
  }
  return { subOperations: v as SubOperationMechanism[] };
}

function parseAuth(auth: unknown, at: string): DestinationAuth {
  if (auth === undefined) return { type: 'none' };
  if (!isObject(auth)) throw new DestinationRegistryError(`${at}: must be an object`);
  switch (auth.type) {
    case 'none':
      return { type: 'none' };
    case 'bearer':
      return { type: 'bearer', token: nonEmpty(auth.token, `${at}.token`) };
    case 'basic': {
      const username = nonEmpty(auth.username, `${at}.username`);
      // RFC 7617 2: the user-id cannot contain a colon.
      if (username.includes(':')) throw new DestinationRegistryError(`${at}.username: must not contain ':'`);
      return { type: 'basic', username, password: nonEmpty(auth.password, `${at}.password`) };
    }
    case 'oauth2': {
      httpUrl(auth.tokenUrl, `${at}.tokenUrl`);
      const scope = auth.scope === undefined ? undefined : nonEmpty(auth.scope, `${at}.scope`);
      const method = auth.tokenEndpointAuthMethod;
      if (method !== undefined && !TOKEN_ENDPOINT_AUTH_METHODS.includes(method as TokenEndpointAuthMethod))
        throw new DestinationRegistryError(`${at}.tokenEndpointAuthMethod: must be one of ${TOKEN_ENDPOINT_AUTH_METHODS.join(', ')}`);
      return {
        type: 'oauth2',
        tokenUrl: String(auth.tokenUrl),
        clientId: nonEmpty(auth.clientId, `${at}.clientId`),
        clientSecret: nonEmpty(auth.clientSecret, `${at}.clientSecret`),
        ...(scope !== undefined ? { scope } : {}),
        ...(method !== undefined ? { tokenEndpointAuthMethod: method as TokenEndpointAuthMethod } : {}),
      };
    }
    default:
      throw new DestinationRegistryError(`${at}.type: must be one of none, bearer, basic, oauth2`);
  }
}

function nonEmpty(v: unknown, at: string): string {
  if (typeof v !== 'string' || v === '') throw new DestinationRegistryError(`${at}: must be a non-empty string`);
  return v;
}

function httpUrl(v: unknown, at: string): URL {
  const url = typeof v === 'string' && v.length <= MAX_URL_LENGTH ? parseUrl(v) : null;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new DestinationRegistryError(`${at}: must be an absolute http or https URL`);
  }
  if (url.username || url.password) throw new DestinationRegistryError(`${at}: must not carry credentials`);
  return url;
}

/** Origin plus path without trailing slashes: what a prefix match compares. */
function prefixKey(url: URL): string {
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/**
 * The registered destination for a URL: the entry whose URL is the longest prefix of it ending at a
 * path-segment boundary (so https://a.org/pacs does not admit https://a.org/pacs2 or
 * https://a.org.evil.net). Scheme and host compare case-insensitively and dot segments are resolved
 * first (WHATWG URL parsing), so ".." cannot climb out of a registered path.
 */
export function matchDestination(registry: DestinationRegistry, url: string): Destination | undefined {
  const target = parseUrl(url);
  if (!target) return undefined;
  const path = target.pathname;
  let best: { d: Destination; length: number } | undefined;
  for (const d of registry.destinations) {
    const entry = new URL(d.url);
    if (entry.origin !== target.origin) continue;
    const prefix = entry.pathname.replace(/\/+$/, '');
    const matches = prefix === '' || path === prefix || path.startsWith(`${prefix}/`);
    if (matches && (!best || prefix.length > best.length)) best = { d, length: prefix.length };
  }
  return best?.d;
}

/**
 * The destination query parameter of a Send request (PS3.18 10.X.1: a percent-encoded absolute URL),
 * checked against the registry before anything is sent. The URL itself is not echoed: it could carry
 * a token in its query.
 */
export function resolveDestination(registry: DestinationRegistry, raw: string | undefined): Destination {
  const target = { target: 'destination' };
  if (raw === undefined || raw === '') {
    throw new BadRequestError('the destination query parameter is required (PS3.18 10.X.1)', [{ ...target, message: 'required' }]);
  }
  const url = raw.length <= MAX_URL_LENGTH ? parseUrl(raw) : null;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new BadRequestError('the destination must be an absolute http or https URL', [
      { ...target, message: 'not an absolute http(s) URL' },
    ]);
  }
  if (url.username || url.password) {
    throw new BadRequestError('the destination URL must not carry credentials', [{ ...target, message: 'credentials in URL' }]);
  }
  const destination = matchDestination(registry, raw);
  if (!destination) {
    throw new BadRequestError('the destination is not a registered destination of this archive', [
      { ...target, message: 'not registered' },
    ]);
  }
  return destination;
}

/**
 * The Store Instances URL of a destination (PS3.18 10.5.1: POST {base}/studies): as given when the URL
 * already targets /studies, else /studies appended to its path (query kept).
 */
export function resolveStudiesUrl(destinationUrl: string): string {
  const url = new URL(destinationUrl);
  const path = url.pathname.replace(/\/+$/, '');
  if (!/\/studies$/.test(path)) url.pathname = `${path}/studies`;
  else url.pathname = path;
  return url.href;
}

/**
 * The Store URL of a Non-Patient Instance category at a destination (PS3.18 12.5: POST /{npi-name}),
 * from the destination's service root; a destination registered by its /studies URL names the same root.
 */
export function resolveNpiStoreUrl(destinationUrl: string, npiName: string): string {
  const url = new URL(destinationUrl);
  const root = url.pathname.replace(/\/+$/, '').replace(/\/studies$/, '');
  url.pathname = `${root}/${encodeURIComponent(npiName)}`;
  return url.href;
}

/** A log-safe description: URL origin and path and the auth type, never a credential or query. */
export function describeDestination(d: Destination): string {
  const url = new URL(d.url);
  return `${url.origin}${url.pathname} (auth ${d.auth.type}${d.aeTitle ? `, AE ${d.aeTitle}` : ''})`;
}

/** Embedded runtime: DESTINATIONS_FILE, else ${DATA_DIR}/destinations.json (DATA_DIR defaulting to .data). */
export function destinationsFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.DESTINATIONS_FILE || join(env.DATA_DIR || '.data', 'destinations.json');
}

/** Reads the registry file; a missing file is an empty registry (every destination refused). */
export async function loadDestinationRegistryFile(path: string): Promise<DestinationRegistry> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { destinations: [] };
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DestinationRegistryError(`${path}: not valid JSON`);
  }
  return parseDestinationRegistry(json);
}
