/**
 * Who a request speaks for, from its Authorization header, by the mechanisms of AUTH
 * (docs/security.md): the static AUTH_TOKEN ('token', every scope), per-client API keys ('api-keys',
 * the ClientStore), OAuth 2.0 access tokens of an OIDC issuer ('oidc'); and, whatever AUTH names, the
 * tokens of share links ('share', the ShareLinkStore: read of one study). The same code runs in the
 * API Gateway authorizer and, where there is none (embedded runtime, preflight-free OPTIONS), in every
 * function. Then `authorize` checks the scope a route needs.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthMechanism, Config } from '../config';
import { ForbiddenError } from '../dicomweb/errors';
import type { ClientStore, ShareLinkStore } from '../storage/ports';
import { looksLikeApiKey, parseApiKey, secretMatches } from './api-keys';
import { parseAuthorization, REALM, unauthorized, type Credential } from './credentials';
import { oidcVerifier } from './oidc-verifier';
import { SCOPES, SCOPE_DESCRIPTIONS, type Scope } from './scopes';
import { ShareUseRecorder } from './share-uses';
import { looksLikeShareToken, parseShareToken } from './share-tokens';

/** A mechanism AUTH names, or a share link's token (accepted whatever AUTH names, but none or iam). */
export type CredentialMechanism = Exclude<AuthMechanism, 'none' | 'iam'> | 'share';

export interface Principal {
  readonly mechanism: CredentialMechanism;
  /** The token's `sub` (or `client_id`), the API key's or share link's id, or "static-token"; never the credential itself. */
  readonly principal: string;
  readonly scopes: readonly Scope[];
  /** Epoch seconds after which the result must not be trusted. */
  readonly expiresAt: number;
  /** A share link's principal: the one study it may read (lambdas/http/share-scope.ts). */
  readonly study?: string;
}

export interface Authenticator {
  /** The principal of an Authorization header; UnauthorizedError (401) or ServiceUnavailableError (503). */
  authenticate(authorization: string | undefined): Promise<Principal>;
}

export interface AuthenticatorOptions {
  readonly clientStore?: ClientStore;
  /** Share links; without them a share token is refused (401). */
  readonly shareLinkStore?: ShareLinkStore;
  /** Epoch milliseconds; Date.now by default. */
  readonly now?: () => number;
  /** Most cached results kept (oldest dropped first); 1000 by default. */
  readonly cacheSize?: number;
}

/** A result is reused for at most this long: revoking a key takes effect within it. */
const CACHE_SECONDS = 60;
/**
 * How long the result of a credential without expiry (static token, API key) may be trusted
 * downstream (the authorizer's context): after it a function checks the key again, so a revoked key
 * stops within this time in AWS too, however long API Gateway caches the authorizer's answer.
 */
const NON_EXPIRING_SECONDS = CACHE_SECONDS;

/** True when requests carry a credential this module checks (not 'none', not 'iam'). */
export function checksCredentials(config: Pick<Config, 'auth'>): boolean {
  return !config.auth.includes('none') && !config.auth.includes('iam');
}

/** The verification caches of this process, so a revocation made here reaches them all at once. */
const liveCaches = new Set<WeakRef<{ forget(match: (p: Principal) => boolean): void }>>();

/**
 * Drops every cached verification of this API key client in this process: a key revoked through the
 * admin routes of the same process (the embedded runtime) stops at once; another process (a Lambda
 * function's) stops within CACHE_SECONDS.
 */
export function forgetApiKeyClient(clientId: string): void {
  forgetPrincipal('api-keys', clientId);
}

/** Drops every cached verification of this share link in this process, as forgetApiKeyClient. */
export function forgetShareLink(shareId: string): void {
  forgetPrincipal('share', shareId);
}

function forgetPrincipal(mechanism: CredentialMechanism, principal: string): void {
  for (const ref of liveCaches) {
    const cache = ref.deref();
    if (cache) cache.forget((p) => p.mechanism === mechanism && p.principal === principal);
    else liveCaches.delete(ref);
  }
}

export function createAuthenticator(config: Config, opts: AuthenticatorOptions = {}): Authenticator {
  // Read at each call (not Date.now kept), so a clock set by a test reaches an archive already running.
  const now = opts.now ?? (() => Date.now());
  const nowSeconds = () => Math.floor(now() / 1000);
  const enabled = (m: AuthMechanism) => config.auth.includes(m);
  const oidc = enabled('oidc')
    ? oidcVerifier({
        issuer: config.oidcIssuer!,
        audiences: config.oidcAudience,
        scopePrefix: config.oidcScopePrefix,
        jwksUri: config.oidcJwksUri,
      })
    : undefined;
  const cache = boundedCache<Principal>(opts.cacheSize ?? 1000);
  liveCaches.add(new WeakRef(cache));
  const shareUses = opts.shareLinkStore && new ShareUseRecorder(opts.shareLinkStore, now);

  async function shareLink(token: string): Promise<Principal> {
    const parsed = parseShareToken(token);
    if (!parsed) throw unauthorized('the share token is malformed (dws_<id>_<secret>)', 'invalid_token');
    if (!opts.shareLinkStore) throw unauthorized('this archive does not accept share links', 'invalid_token');
    const link = await opts.shareLinkStore.get(parsed.id);
    if (!link || !secretMatches(parsed.secret, link.secretHash)) throw unauthorized('the share link is not valid', 'invalid_token');
    if (link.revokedAt) throw unauthorized('the share link has been revoked', 'invalid_token');
    const expiresAt = Math.floor(Date.parse(link.expiresAt) / 1000);
    if (!(expiresAt > nowSeconds())) throw unauthorized('the share link has expired', 'invalid_token');
    // Read of one study (lambdas/http/share-scope.ts); trusted downstream no longer than a key.
    return {
      mechanism: 'share',
      principal: link.id,
      scopes: ['read'],
      study: link.studyInstanceUID,
      expiresAt: Math.min(expiresAt, nowSeconds() + NON_EXPIRING_SECONDS),
    };
  }

  async function apiKey(key: string, user: string | undefined): Promise<Principal> {
    if (!enabled('api-keys')) throw unauthorized('this archive does not accept API keys', 'invalid_token');
    const parsed = parseApiKey(key);
    if (!parsed) throw unauthorized('the API key is malformed (dwk_<id>_<secret>)', 'invalid_token');
    if (!opts.clientStore) throw new Error('AUTH=api-keys without a client store');
    const client = await opts.clientStore.get(parsed.id);
    if (!client || !secretMatches(parsed.secret, client.secretHash)) throw unauthorized('the API key is not valid', 'invalid_token');
    if (client.revokedAt) throw unauthorized('the API key has been revoked', 'invalid_token');
    // HTTP Basic: a user name, when given, must be the client's (RFC 7617 2 allows an empty one).
    if (user && user !== client.name) throw unauthorized("the Basic user name is not the API key's client name", 'invalid_token');
    const scopes = SCOPES.filter((s) => client.scopes.includes(s));
    return { mechanism: 'api-keys', principal: client.id, scopes, expiresAt: nowSeconds() + NON_EXPIRING_SECONDS };
  }

  async function check(credential: Credential): Promise<Principal> {
    if (credential.scheme === 'basic') {
      if (looksLikeApiKey(credential.password)) return apiKey(credential.password, credential.user);
      throw unauthorized('HTTP Basic is accepted only with an API key as the password', 'invalid_token');
    }
    const { token } = credential;
    // A key or share token never reaches the JWT verifier (nor the static token compare).
    if (looksLikeShareToken(token)) return shareLink(token);
    if (looksLikeApiKey(token)) return apiKey(token, undefined);
    if (enabled('token') && config.authToken && constantTimeEqual(token, config.authToken)) {
      return { mechanism: 'token', principal: 'static-token', scopes: [...SCOPES], expiresAt: nowSeconds() + NON_EXPIRING_SECONDS };
    }
    if (oidc) {
      const verified = await oidc.verify(token);
      return { mechanism: 'oidc', principal: verified.subject, scopes: verified.scopes, expiresAt: verified.expiresAt };
    }
    throw unauthorized('the bearer token is not valid', 'invalid_token');
  }

  return {
    async authenticate(authorization) {
      const credential = parseAuthorization(authorization);
      const key = createHash('sha256').update(authorization!).digest('hex');
      const t = nowSeconds();
      const cached = cache.get(key);
      let principal: Principal;
      if (cached && cached.until > t) principal = cached.value;
      else {
        principal = await check(credential);
        if (principal.expiresAt <= t) throw unauthorized('the credential has expired', 'invalid_token');
        cache.set(key, principal, Math.min(principal.expiresAt, t + CACHE_SECONDS));
      }
      if (principal.mechanism === 'share') await shareUses?.note(principal.principal);
      return principal;
    },
  };
}

/**
 * 403 unless the principal holds `scope`, naming the scope required (RFC 6750 3.1 insufficient_scope,
 * with the scope as the token spells it, prefix included).
 */
export function authorize(principal: Pick<Principal, 'scopes'>, scope: Scope, scopePrefix = ''): void {
  if (principal.scopes.includes(scope)) return;
  const held = principal.scopes.length ? principal.scopes.join(' ') : 'none';
  const error = new ForbiddenError(`this request needs the "${scope}" scope (${SCOPE_DESCRIPTIONS[scope]}); the credential holds: ${held}`);
  error.headers['WWW-Authenticate'] = `Bearer realm="${REALM}", error="insufficient_scope", scope="${scopePrefix}${scope}"`;
  throw error;
}

function constantTimeEqual(a: string, b: string): boolean {
  // Compare digests so neither the length nor the content of the expected token leaks through timing.
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

/** A map of at most `size` entries, each valid until an epoch second; the oldest entry goes first. */
function boundedCache<T>(size: number) {
  const entries = new Map<string, { value: T; until: number }>();
  return {
    get: (key: string) => entries.get(key),
    set(key: string, value: T, until: number) {
      entries.delete(key);
      entries.set(key, { value, until });
      while (entries.size > size) entries.delete(entries.keys().next().value!);
    },
    forget(match: (value: T) => boolean) {
      for (const [key, entry] of entries) if (match(entry.value)) entries.delete(key);
    },
  };
}
