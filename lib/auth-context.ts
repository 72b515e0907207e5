/**
 * The authentication context options of the stack (docs/deploy.md "Authentication"): `auth` and, for
 * auth 'oidc', either the stack's own Cognito user pool (hosted domain, OAuth 2.0 redirect URLs) or
 * an external issuer (Entra ID, Okta, Keycloak...). Read and validated at synth, before a deploy.
 */
import type { Node } from 'constructs';
import { parseScopes, type Scope } from '../lambdas/auth/scopes';
import { ArchiveContextError } from './context-error';

/** How callers authenticate to the API: OAuth 2.0 access tokens and API keys, AWS SigV4, or nothing. */
export type ApiAuthorization = 'oidc' | 'iam' | 'none';

/** An OpenID Connect issuer outside the stack (contexts `oidcIssuer`, `oidcAudience`, ...). */
export interface ExternalIssuer {
  /** The `iss` of its access tokens, an https URL exactly as the tokens carry it. */
  readonly issuer: string;
  /** Accepted audiences: a token's `aud` (or Cognito's `client_id`). */
  readonly audience: readonly string[];
  /** Prefix of the archive's scopes in its tokens (e.g. 'dicomweb.' for scopes named dicomweb.read); '' by default. */
  readonly scopePrefix: string;
  /** Its JWKS URL when discovery (`{issuer}/.well-known/openid-configuration`) does not give it. */
  readonly jwksUri?: string;
}

/** The settings of auth 'oidc'. */
export interface OidcSettings {
  /** An external issuer; absent: the stack's own Cognito user pool. */
  readonly external?: ExternalIssuer;
  /** Context `cognitoDomainPrefix`: the hosted domain's prefix; default derived from stack name and account. */
  readonly cognitoDomainPrefix?: string;
  /** Context `oauthCallbackUrls`: where the hosted UI may send a browser back with its code. */
  readonly oauthCallbackUrls: readonly string[];
  /** Context `oauthLogoutUrls`: where it may send a browser after sign-out. */
  readonly oauthLogoutUrls: readonly string[];
  /**
   * Context `oauthBrowserScopes`: the scopes a person may obtain through the browser client. Every
   * user of the pool may ask for all of them, so `delete` and `admin` are left to the machine client
   * and API keys unless named here.
   */
  readonly oauthBrowserScopes: readonly Scope[];
  /** Context `authorizerCacheSeconds`: how long API Gateway keeps an authorizer's answer per Authorization header. */
  readonly authorizerCacheSeconds: number;
}

/** A viewer under development on the operator's machine: the default redirect URLs. */
export const DEFAULT_CALLBACK_URLS = ['http://localhost:3000/callback'];
export const DEFAULT_LOGOUT_URLS = ['http://localhost:3000/'];
export const DEFAULT_AUTHORIZER_CACHE_SECONDS = 300;
/** What a viewer needs: read, store its own objects (annotations, reports), and share by Send. */
export const DEFAULT_BROWSER_SCOPES: readonly Scope[] = ['read', 'write', 'send'];
/** API Gateway's longest authorizer result cache (REST API authorizers, resultsCacheTtl). */
export const MAX_AUTHORIZER_CACHE_SECONDS = 3600;

/**
 * A Cognito domain prefix: lowercase letters, digits and hyphens, not at either end, at most 63
 * characters, without the reserved words Cognito refuses.
 */
const DOMAIN_PREFIX = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const RESERVED_DOMAIN_WORDS = /aws|amazon|cognito/;

/** Context `auth`: 'oidc' (default), 'iam', 'none'; 'cognito' is 'oidc' with the stack's own user pool. */
export function authorizationFromContext(node: Node): ApiAuthorization {
  const auth: unknown = node.tryGetContext('auth') ?? 'oidc';
  if (auth === 'cognito') {
    if (present(node.tryGetContext('oidcIssuer'))) {
      throw new ArchiveContextError('auth', auth, "'oidc' with context oidcIssuer ('cognito' means the stack's own user pool)");
    }
    return 'oidc';
  }
  if (auth === 'oidc' || auth === 'iam' || auth === 'none') return auth;
  throw new ArchiveContextError('auth', auth, "'oidc', 'iam', 'none' (or 'cognito', the stack's own user pool)");
}

export function oidcSettingsFromContext(node: Node): OidcSettings {
  const get = (key: string): unknown => node.tryGetContext(key);
  const issuer = get('oidcIssuer');
  let external: ExternalIssuer | undefined;
  if (present(issuer)) {
    if (!isUrl(issuer, false)) throw new ArchiveContextError('oidcIssuer', issuer, 'an https URL (the iss of the access tokens)');
    const audience = list(get('oidcAudience'));
    if (!audience?.length || !audience.every((a) => typeof a === 'string' && a.trim() !== '')) {
      throw new ArchiveContextError(
        'oidcAudience',
        get('oidcAudience'),
        'the accepted audiences (comma-separated, at least one) with oidcIssuer',
      );
    }
    const scopePrefix = get('oidcScopePrefix') ?? '';
    if (typeof scopePrefix !== 'string' || /\s/.test(scopePrefix)) {
      throw new ArchiveContextError('oidcScopePrefix', scopePrefix, 'a scope prefix without spaces (e.g. dicomweb.)');
    }
    const jwksUri = get('oidcJwksUri');
    if (present(jwksUri) && !isUrl(jwksUri, false)) throw new ArchiveContextError('oidcJwksUri', jwksUri, 'an https URL');
    if (present(get('cognitoDomainPrefix'))) {
      throw new ArchiveContextError('cognitoDomainPrefix', get('cognitoDomainPrefix'), 'absent with oidcIssuer (no user pool is created)');
    }
    external = {
      issuer,
      audience: (audience as string[]).map((a) => a.trim()),
      scopePrefix,
      ...(present(jwksUri) ? { jwksUri: jwksUri as string } : {}),
    };
  } else {
    for (const key of ['oidcAudience', 'oidcScopePrefix', 'oidcJwksUri']) {
      if (present(get(key))) throw new ArchiveContextError(key, get(key), 'given only with oidcIssuer');
    }
  }
  const prefix = get('cognitoDomainPrefix');
  if (present(prefix) && (typeof prefix !== 'string' || !DOMAIN_PREFIX.test(prefix) || RESERVED_DOMAIN_WORDS.test(prefix))) {
    throw new ArchiveContextError(
      'cognitoDomainPrefix',
      prefix,
      "lowercase letters, digits and hyphens (at most 63, no hyphen at either end, without 'aws', 'amazon' or 'cognito')",
    );
  }
  return {
    ...(external ? { external } : {}),
    ...(present(prefix) ? { cognitoDomainPrefix: prefix as string } : {}),
    oauthCallbackUrls: redirectUrls('oauthCallbackUrls', get('oauthCallbackUrls')) ?? DEFAULT_CALLBACK_URLS,
    oauthLogoutUrls: redirectUrls('oauthLogoutUrls', get('oauthLogoutUrls')) ?? DEFAULT_LOGOUT_URLS,
    oauthBrowserScopes: browserScopes(get('oauthBrowserScopes')),
    authorizerCacheSeconds: cacheSeconds(get('authorizerCacheSeconds')),
  };
}

function browserScopes(value: unknown): readonly Scope[] {
  if (!present(value)) return DEFAULT_BROWSER_SCOPES;
  const names = list(value) ?? [];
  try {
    const scopes = parseScopes(names.map(String).join(','));
    if (scopes.length) return scopes;
  } catch {
    // answered below
  }
  throw new ArchiveContextError('oauthBrowserScopes', value, 'archive scopes, comma-separated: read, write, delete, send, share, admin');
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

/** A comma-separated string or a JSON array (cdk.json, or its text with -c); undefined when absent. */
function list(value: unknown): unknown[] | undefined {
  if (!present(value)) return undefined;
  if (Array.isArray(value)) return value;
  if (typeof value !== 'string') return [value];
  if (value.trim().startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(value);
      return Array.isArray(parsed) ? parsed : [parsed];
    } catch {
      return [value];
    }
  }
  return value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

/** An absolute https URL without fragment or credentials; with `localhost`, also http://localhost[:port]. */
function isUrl(value: unknown, localhost: boolean): value is string {
  if (typeof value !== 'string') return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.hash || url.username || url.password || !url.hostname) return false;
  return url.protocol === 'https:' || (localhost && url.protocol === 'http:' && url.hostname === 'localhost');
}

/**
 * OAuth 2.0 redirect URIs (RFC 6749 3.1.2; Cognito requires https except http://localhost): a list,
 * or undefined for the default.
 */
function redirectUrls(key: string, value: unknown): readonly string[] | undefined {
  const urls = list(value);
  if (!urls) return undefined;
  if (!urls.length || !urls.every((u) => isUrl(u, true))) {
    throw new ArchiveContextError(key, value, 'comma-separated https URLs (or http://localhost[:port]/...) without a fragment');
  }
  return [...new Set(urls as string[])];
}

function cacheSeconds(value: unknown): number {
  if (!present(value)) return DEFAULT_AUTHORIZER_CACHE_SECONDS;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > MAX_AUTHORIZER_CACHE_SECONDS) {
    throw new ArchiveContextError('authorizerCacheSeconds', value, `an integer from 0 to ${MAX_AUTHORIZER_CACHE_SECONDS}`);
  }
  return n;
}
