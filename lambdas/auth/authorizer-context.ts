/**
 * The context our API Gateway REQUEST authorizer returns with Allow (lambdas/handlers/authorizer.ts)
 * and every function then finds in event.requestContext.authorizer: who, by which mechanism, which
 * scopes, until when, and for a share link its one study. API Gateway passes context values as strings, numbers or booleans (Lambda
 * authorizer output, "context"); only API Gateway can fill requestContext, so a function trusts it.
 */
import { SCOPES, type Scope } from './scopes';
import type { CredentialMechanism, Principal } from './authenticate';
import { unauthorized } from './credentials';

export interface AuthorizerContext {
  readonly mechanism: CredentialMechanism;
  readonly principal: string;
  /** Space-separated scope names. */
  readonly scopes: string;
  /** Epoch seconds. */
  readonly expiresAt: number;
  /** A share link's study (Principal.study); absent for every other mechanism. */
  readonly study?: string;
}

const MECHANISMS: readonly CredentialMechanism[] = ['token', 'api-keys', 'oidc', 'share'];

export function toAuthorizerContext(principal: Principal): AuthorizerContext {
  return {
    mechanism: principal.mechanism,
    principal: principal.principal,
    scopes: principal.scopes.join(' '),
    expiresAt: principal.expiresAt,
    ...(principal.study !== undefined && { study: principal.study }),
  };
}

/**
 * The principal of our authorizer's context; undefined when the event carries none (no authorizer,
 * or another kind such as IAM), or when an API key's or static token's context has passed its
 * expiresAt: API Gateway caches authorizer results, so the function checks that credential again
 * itself (a revoked key stops within a minute, whatever the cache time). A token's context past its
 * expiresAt is a 401: the token itself has expired, the client gets a fresh one and retries.
 */
export function fromAuthorizerContext(context: unknown, nowMillis = Date.now()): Principal | undefined {
  if (!context || typeof context !== 'object') return undefined;
  const c = context as Record<string, unknown>;
  const mechanism = MECHANISMS.find((m) => m === c.mechanism);
  const expiresAt = typeof c.expiresAt === 'number' ? c.expiresAt : typeof c.expiresAt === 'string' ? Number(c.expiresAt) : NaN;
  if (!mechanism || typeof c.scopes !== 'string' || typeof c.principal !== 'string' || !Number.isFinite(expiresAt)) return undefined;
  // A share link's principal without its study is no principal: the credential is checked again.
  const study = typeof c.study === 'string' && c.study ? c.study : undefined;
  if (mechanism === 'share' && !study) return undefined;
  if (expiresAt * 1000 <= nowMillis) {
    if (mechanism === 'oidc') throw unauthorized('the credential has expired', 'invalid_token');
    return undefined;
  }
  const names = c.scopes.split(' ');
  const scopes: Scope[] = SCOPES.filter((s) => names.includes(s));
  return { mechanism, principal: c.principal, scopes, expiresAt, ...(mechanism === 'share' && { study }) };
}
