/**
 * Verifies OAuth 2.0 access tokens of one OpenID Connect issuer (JWT, RFC 9068; RFC 7519 7.2) with
 * jose: the signature with the issuer's JWKS (found by OpenID Connect Discovery 1.0 4 unless
 * OIDC_JWKS_URI says where), then iss, exp/nbf, the audience and the scopes. A wrong token is a 401
 * saying what is wrong; an issuer or JWKS that cannot be reached is a 503 with Retry-After, since the
 * archive cannot check the token and the client may retry.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ServiceUnavailableError, type UnauthorizedError } from '../dicomweb/errors';
import { unauthorized } from './credentials';
import { SCOPES, type Scope } from './scopes';

export interface OidcVerifierOptions {
  readonly issuer: string;
  /** Accepted values of `aud`, or of `client_id` for tokens without `aud` (Cognito access tokens). */
  readonly audiences: readonly string[];
  /** Prefix of the archive's scope names in tokens (e.g. "dicomweb/"). */
  readonly scopePrefix: string;
  readonly jwksUri?: string;
  /** Clock skew allowed on exp / nbf / iat; 30 s by default. */
  readonly clockToleranceSeconds?: number;
  /** Time limit of the discovery and JWKS requests; 5 s by default. */
  readonly timeoutMillis?: number;
}

export interface VerifiedToken {
  /** `sub`, else `client_id`: who the token speaks for. */
  readonly subject: string;
  readonly scopes: Scope[];
  /** `exp`, epoch seconds. */
  readonly expiresAt: number;
}

/** Asymmetric algorithms only: a shared-secret (HS*) or unsigned (none) token is refused. */
export const ALLOWED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

const RETRY_AFTER_SECONDS = 10;

/** The key set of each (issuer, JWKS URI), per process, so keys are fetched once and then cached by jose. */
const keySets = new Map<string, Promise<JWTVerifyGetKey>>();

export function oidcVerifier(opts: OidcVerifierOptions): { verify(token: string): Promise<VerifiedToken> } {
  const timeoutMillis = opts.timeoutMillis ?? 5000;
  return {
    async verify(token) {
      // Keys are looked up only once the token parsed, so a malformed token is a 401 even when the issuer is down.
      const getKey: JWTVerifyGetKey = async (header, jws) => (await keySet(opts.issuer, opts.jwksUri, timeoutMillis))(header, jws);
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          issuer: opts.issuer,
          algorithms: ALLOWED_ALGORITHMS,
          clockTolerance: opts.clockToleranceSeconds ?? 30,
          requiredClaims: ['exp'],
        }));
      } catch (error) {
        throw tokenError(error);
      }
      if (payload.token_use === 'id') throw unauthorized('an ID token is not an access token; send the access token', 'invalid_token');
      if (!audienceMatches(payload, opts.audiences)) {
        throw unauthorized(`the access token is not meant for this archive (audience ${opts.audiences.join(' or ')})`, 'invalid_token');
      }
      const subject = stringClaim(payload.sub) ?? stringClaim(payload.client_id);
      if (!subject) throw unauthorized('the access token names no subject (sub or client_id)', 'invalid_token');
      return { subject, scopes: tokenScopes(payload, opts.scopePrefix), expiresAt: payload.exp! };
    },
  };
}

/** RFC 9068 4 / RFC 7519 4.1.3: `aud` holds one of ours; Cognito access tokens carry `client_id` instead. */
export function audienceMatches(payload: JWTPayload, audiences: readonly string[]): boolean {
  const aud = typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : [];
  const clientId = stringClaim(payload.client_id);
  return aud.some((a) => audiences.includes(a)) || (clientId !== undefined && audiences.includes(clientId));
}

/**
 * The archive's scopes a token holds: `scope` (space-separated, RFC 8693 4.2), `scp` (string or array,
 * Entra ID / Okta) and `roles` (Entra ID app permissions), each counted when it is prefix + a scope name.
 */
export function tokenScopes(payload: JWTPayload, prefix: string): Scope[] {
  const names: string[] = [];
  const add = (claim: unknown, split: boolean) => {
    if (typeof claim === 'string') names.push(...(split ? claim.split(/\s+/) : [claim]));
    else if (Array.isArray(claim)) for (const c of claim) if (typeof c === 'string') names.push(c);
  };
  add(payload.scope, true);
  add(payload.scp, true);
  add(payload.roles, false);
  const granted = new Set<Scope>();
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const bare = name.slice(prefix.length);
    if ((SCOPES as readonly string[]).includes(bare)) granted.add(bare as Scope);
  }
  return SCOPES.filter((s) => granted.has(s));
}

function stringClaim(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}

/** A jose verification error as a 401 that says what is wrong. */
function tokenError(error: unknown): UnauthorizedError | ServiceUnavailableError {
  if (error instanceof IssuerUnreachable) return unavailable();
  if (error instanceof errors.JWTExpired) return unauthorized('the access token has expired', 'invalid_token');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return unauthorized('the access token was issued by another issuer', 'invalid_token');
    if (error.claim === 'nbf') return unauthorized('the access token is not valid yet (nbf)', 'invalid_token');
    return unauthorized(`the access token's "${error.claim}" claim is wrong or missing`, 'invalid_token');
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return unauthorized('the access token is not signed with an accepted asymmetric algorithm', 'invalid_token');
  }
  if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey) {
    return unauthorized("the access token's signature does not verify with the issuer's keys", 'invalid_token');
  }
  if (error instanceof errors.JWKSMultipleMatchingKeys) {
    return unauthorized("the access token's key id is ambiguous in the issuer's keys", 'invalid_token');
  }
  return unauthorized('the access token is not a well-formed signed JWT', 'invalid_token');
}

function unavailable(): ServiceUnavailableError {
  return new ServiceUnavailableError('the token issuer cannot be reached to check the access token; retry later', RETRY_AFTER_SECONDS);
}

/** A failure to fetch discovery or keys, as opposed to a wrong token. */
class IssuerUnreachable extends Error {}

async function keySet(issuer: string, jwksUri: string | undefined, timeoutMillis: number): Promise<JWTVerifyGetKey> {
  const cacheKey = `${issuer} ${jwksUri ?? ''}`;
  let pending = keySets.get(cacheKey);
  if (!pending) {
    pending = (async () => remoteKeys(new URL(jwksUri ?? (await discoverJwksUri(issuer, timeoutMillis))), timeoutMillis))();
    keySets.set(cacheKey, pending);
    // A failed discovery is not cached: the next request tries again.
    pending.catch(() => keySets.delete(cacheKey));
  }
  try {
    return await pending;
  } catch (error) {
    throw new IssuerUnreachable('discovery failed', { cause: error });
  }
}

/** The JWKS, fetched on first use and when a new kid appears (jose's cooldown bounds refetching). */
function remoteKeys(url: URL, timeoutMillis: number): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(url, { timeoutDuration: timeoutMillis, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      throw new IssuerUnreachable('JWKS unavailable', { cause: error });
    }
  };
}

/** OpenID Connect Discovery 1.0 4: jwks_uri of {issuer}/.well-known/openid-configuration, whose issuer must be ours (4.3). */
async function discoverJwksUri(issuer: string, timeoutMillis: number): Promise<string> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMillis), redirect: 'error' });
  if (!response.ok) throw new IssuerUnreachable(`discovery answered ${response.status}`);
  const metadata = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
  if (metadata.issuer !== issuer) throw new IssuerUnreachable('discovery names another issuer');
  if (typeof metadata.jwks_uri !== 'string') throw new IssuerUnreachable('discovery has no jwks_uri');
  return metadata.jwks_uri;
}
