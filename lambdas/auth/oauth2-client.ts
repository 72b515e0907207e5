/**
 * The archive's own OAuth 2.0 client: the client credentials grant (RFC 6749 4.4) for the programs
 * of this project that call a DICOMweb server (Deliver to an `oauth2` destination, the DIMSE Move
 * proxy, the CLIs). The client authenticates to the token endpoint with client_secret_basic (RFC 6749
 * 2.3.1, the method every server must support) or client_secret_post; tokens are cached until shortly
 * before they expire, and a 401 from the resource server fetches a new one once. Errors name the token
 * endpoint and the OAuth error code, never the secret or a token.
 */
import { faultName, isTransientFault, isTransientHttpStatus } from '../send/retry';

/** RFC 6749 2.3.1 (names of RFC 7591 2): how the client proves its secret to the token endpoint. */
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post';
export const TOKEN_ENDPOINT_AUTH_METHODS: readonly TokenEndpointAuthMethod[] = ['client_secret_basic', 'client_secret_post'];

export interface ClientCredentials {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** RFC 6749 3.3: space-separated scopes to ask for; the server's default when absent. */
  readonly scope?: string;
  /** Default client_secret_basic. */
  readonly tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
}

export interface TokenRequestOptions {
  readonly fetch?: typeof fetch;
  /** Time limit of the token request, ms. */
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

/** The token endpoint refused or could not be reached; `fault` is short and log-safe, `message` says more. */
export class TokenRequestError extends Error {
  constructor(
    readonly fault: string,
    readonly transient: boolean,
    detail?: string,
  ) {
    super(`OAuth 2.0 token request failed: ${fault}${detail ? ` (${detail})` : ''}`);
    this.name = 'TokenRequestError';
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** Seconds before expiry at which a cached token is no longer used. */
const TOKEN_EXPIRY_MARGIN_S = 30;
/** Lifetime assumed when the token response has no expires_in (RFC 6749 5.1 makes it optional). */
const DEFAULT_TOKEN_LIFETIME_S = 300;
/** An error response larger than this is not read. */
const MAX_ERROR_BODY_CHARS = 4096;

/** RFC 7617 2: `Basic base64(user-id ":" password)`, UTF-8. */
export function basicAuthorization(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/**
 * Tokens cached per token endpoint, client and scope until shortly before they expire; concurrent
 * requests for the same token share one fetch.
 */
export class OAuth2TokenCache {
  private readonly cached = new Map<string, { token: string; expiresAt: number }>();
  private readonly inFlight = new Map<string, Promise<string>>();

  async token(credentials: ClientCredentials, opts: TokenRequestOptions = {}): Promise<string> {
    const now = opts.now ?? Date.now;
    const key = cacheKey(credentials);
    const hit = this.cached.get(key);
    if (hit && hit.expiresAt > now()) return hit.token;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = requestToken(credentials, opts.fetch ?? fetch, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS)
        .then(({ token, lifetimeS }) => {
          this.cached.set(key, { token, expiresAt: now() + Math.max(0, lifetimeS - TOKEN_EXPIRY_MARGIN_S) * 1000 });
          return token;
        })
        .finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  /** Forgets the cached token (the resource server refused it), so the next call fetches one. */
  invalidate(credentials: ClientCredentials): void {
    this.cached.delete(cacheKey(credentials));
  }
}

function cacheKey(c: ClientCredentials): string {
  return JSON.stringify([c.tokenUrl, c.clientId, c.scope ?? '']);
}

/** Where a request's Authorization header comes from; `refresh` after a 401, false when it cannot help. */
export interface AuthorizationSource {
  authorization(): Promise<string | undefined>;
  refresh(): boolean;
}

/** A fixed header (a static bearer token, HTTP Basic), or none. */
export function staticAuthorization(header: string | undefined): AuthorizationSource {
  return { authorization: async () => header, refresh: () => false };
}

/** Bearer tokens of the client credentials grant, from `cache` (a new one per source by default). */
export function clientCredentialsAuthorization(
  credentials: ClientCredentials,
  opts: TokenRequestOptions & { readonly cache?: OAuth2TokenCache } = {},
): AuthorizationSource {
  const cache = opts.cache ?? new OAuth2TokenCache();
  return {
    authorization: async () => `Bearer ${await cache.token(credentials, opts)}`,
    refresh: () => {
      cache.invalidate(credentials);
      return true;
    },
  };
}

/**
 * A fetch that sets the Authorization header of `source` on every request and, when the server
 * answers 401 (RFC 6750 3.1 invalid_token: expired or revoked), refreshes the credential and sends
 * the request once more, when its body can be sent twice (none, a string, bytes, a form). A header
 * given by the caller is kept.
 */
export function authorizingFetch(source: AuthorizationSource, doFetch: typeof fetch = fetch): typeof fetch {
  return async (input, init = {}) => {
    if (input instanceof Request) throw new TypeError('authorizingFetch fetches URLs, not Request objects');
    const send = async () => {
      const headers = new Headers(init.headers);
      const authorization = headers.has('authorization') ? undefined : await source.authorization();
      if (authorization) headers.set('authorization', authorization);
      return doFetch(input, { ...init, headers });
    };
    const first = await send();
    if (first.status !== 401 || new Headers(init.headers).has('authorization') || !resendable(init.body) || !source.refresh()) return first;
    await discard(first);
    return send();
  };
}

function resendable(body: RequestInit['body']): boolean {
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array || body instanceof URLSearchParams;
}

/** RFC 6749 4.4.2 / 4.4.3: one token request; its failures are TokenRequestErrors. */
async function requestToken(
  c: ClientCredentials,
  fetchImpl: typeof fetch,
  timeoutMs: number,
): Promise<{ token: string; lifetimeS: number }> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (c.scope) form.set('scope', c.scope);
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' };
  if (c.tokenEndpointAuthMethod === 'client_secret_post') {
    // RFC 6749 2.3.1: the credentials in the request body (allowed, not recommended).
    form.set('client_id', c.clientId);
    form.set('client_secret', c.clientSecret);
  } else {
    // RFC 6749 2.3.1: client_secret_basic, each part form-urlencoded first.
    headers.Authorization = basicAuthorization(encodeURIComponent(c.clientId), encodeURIComponent(c.clientSecret));
  }
  const endpoint = describeEndpoint(c.tokenUrl);
  let response: Response;
  try {
    response = await fetchImpl(c.tokenUrl, {
      method: 'POST',
      headers,
      body: form.toString(),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const fault = faultName(err);
    throw new TokenRequestError(`token endpoint ${fault}`, isTransientFault(err), `${endpoint} could not be reached; check the token URL`);
  }
  if (!response.ok) {
    const code = await oauthErrorCode(response);
    throw new TokenRequestError(`token endpoint HTTP ${response.status}`, isTransientHttpStatus(response.status), refusal(endpoint, code));
  }
  let payload: { access_token?: unknown; token_type?: unknown; expires_in?: unknown };
  try {
    payload = (await response.json()) as typeof payload;
  } catch {
    throw new TokenRequestError('token endpoint answered with no JSON', false, endpoint);
  }
  const tokenType = typeof payload.token_type === 'string' ? payload.token_type.toLowerCase() : 'bearer';
  if (typeof payload.access_token !== 'string' || payload.access_token === '' || tokenType !== 'bearer') {
    throw new TokenRequestError('token endpoint answered with no bearer access_token', false, endpoint);
  }
  const expiresIn = Number(payload.expires_in);
  return { token: payload.access_token, lifetimeS: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : DEFAULT_TOKEN_LIFETIME_S };
}

/** The token endpoint without query or user info, for messages. */
function describeEndpoint(tokenUrl: string): string {
  if (!URL.canParse(tokenUrl)) return 'the token endpoint';
  const url = new URL(tokenUrl);
  return `${url.origin}${url.pathname}`;
}

/** RFC 6749 5.2: the `error` code of an error response, when it is one (its charset is checked). */
async function oauthErrorCode(response: Response): Promise<string | undefined> {
  try {
    const text = await response.text();
    if (text.length > MAX_ERROR_BODY_CHARS) return undefined;
    const error = (JSON.parse(text) as { error?: unknown }).error;
    return typeof error === 'string' && /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(error) ? error : undefined;
  } catch {
    return undefined;
  }
}

const ERROR_HINTS: Readonly<Record<string, string>> = {
  invalid_client: 'the client id or secret is not accepted',
  unauthorized_client: 'the client may not use the client credentials grant',
  invalid_scope: 'the scope asked for is not allowed for this client',
  unsupported_grant_type: 'the server does not offer the client credentials grant',
};

function refusal(endpoint: string, code: string | undefined): string {
  if (!code) return `${endpoint} refused the request`;
  return `${endpoint} answered ${code}${ERROR_HINTS[code] ? `: ${ERROR_HINTS[code]}` : ''}`;
}

async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // the connection is gone already; nothing to release
  }
}
