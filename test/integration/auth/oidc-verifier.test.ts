/**
 * Integration: OAuth 2.0 access tokens of a real OpenID Connect provider (test/support/oidc-provider.ts,
 * in process on 127.0.0.1) through the verifier and the Authenticator: tokens from the client
 * credentials and code + PKCE flows pass; expired, wrong-issuer, wrong-audience, forged, unsigned and
 * ID tokens are 401s saying what is wrong; an unreachable issuer is a 503 with Retry-After.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../../lambdas/auth/authenticate';
import { oidcVerifier } from '../../../lambdas/auth/oidc-verifier';
import { loadConfig } from '../../../lambdas/config';
import { ServiceUnavailableError, UnauthorizedError } from '../../../lambdas/dicomweb/errors';
import { startOidcProvider, type TestOidcProvider } from '../../support/oidc-provider';

let idp: TestOidcProvider;
beforeAll(async () => {
  idp = await startOidcProvider({ readOnlyScopes: 'read' });
}, 30_000);
afterAll(() => idp?.close());

const verifier = (opts: { audiences?: string[]; scopePrefix?: string; issuer?: string; jwksUri?: string } = {}) =>
  oidcVerifier({
    issuer: opts.issuer ?? idp.issuer,
    audiences: opts.audiences ?? [idp.audience],
    scopePrefix: opts.scopePrefix ?? '',
    jwksUri: opts.jwksUri,
  });

async function refusal(p: Promise<unknown>): Promise<Error> {
  const error = await p.then(
    () => new Error('accepted'),
    (e: unknown) => e as Error,
  );
  return error;
}

const now = () => Math.floor(Date.now() / 1000);

describe('tokens the provider issues', () => {
  it('accepts a client credentials token with the scopes it asked for', async () => {
    const { access_token } = await idp.clientCredentialsToken({ ...idp.machineClient, scope: 'read write send' });
    const verified = await verifier().verify(access_token);
    expect(verified).toMatchObject({ subject: 'machine', scopes: ['read', 'write', 'send'] });
    expect(verified.expiresAt).toBeGreaterThan(now());
  });

  it('gives a client only the scopes the provider grants it', async () => {
    const { access_token } = await idp.clientCredentialsToken({ ...idp.readOnlyClient, scope: 'read write' });
    expect((await verifier().verify(access_token)).scopes).toEqual(['read']);
  });

  it("accepts the browser's code + PKCE token for its user, and refuses its ID token", async () => {
    const tokens = await idp.authorizationCodeWithPkce({ ...idp.browserClient, scope: 'read', accountId: 'alice' });
    expect(await verifier().verify(tokens.access_token)).toMatchObject({ subject: 'alice', scopes: ['read'] });
    // The ID token's audience is the browser client: not meant for the archive.
    expect((await refusal(verifier().verify(tokens.id_token!))).message).toMatch(/not meant for this archive/);
  });

  it('fetches the JWKS once for many tokens', async () => {
    const before = idp.jwksRequests();
    const v = verifier();
    for (let i = 0; i < 5; i++) await v.verify(await idp.mint({ sub: `user-${i}` }));
    expect(idp.jwksRequests() - before).toBeLessThanOrEqual(1);
  });
});

describe('bad tokens: 401 saying what is wrong', () => {
  const cases: [string, () => Promise<string>, RegExp][] = [
    ['expired', () => idp.mint({ exp: now() - 120, iat: now() - 720 }), /expired/],
    ['not valid yet', () => idp.mint({ nbf: now() + 600 }), /not valid yet/],
    ['another issuer', () => idp.mint({ iss: 'https://elsewhere.example.org' }), /another issuer/],
    ['another audience', () => idp.mint({ aud: 'https://other-archive.example.org' }), /not meant for this archive/],
    ['no audience', () => idp.mint({ aud: undefined }), /not meant for this archive/],
    ['signed by a stranger key', () => idp.mint({}, { key: 'stranger' }), /signature does not verify/],
    ['a forged signature under the provider kid', () => idp.mint({}, { key: 'stranger', forgeKid: true }), /signature does not verify/],
    ['an ID token (token_use id)', () => idp.mint({ token_use: 'id' }), /ID token is not an access token/],
    ['no exp', () => idp.mint({ exp: undefined }), /"exp" claim/],
    ['no subject', () => idp.mint({ sub: undefined }), /names no subject/],
    ['alg none', async () => unsigned({ iss: idp.issuer, aud: idp.audience, sub: 'x', exp: now() + 60 }), /accepted asymmetric algorithm/],
    [
      'HS256 with a guessable secret',
      async () => hs256({ iss: idp.issuer, aud: idp.audience, sub: 'x', exp: now() + 60 }),
      /accepted asymmetric algorithm/,
    ],
    ['not a JWT', async () => 'abc.def', /not a well-formed signed JWT/],
    ['a JWT whose header is not JSON', async () => `${Buffer.from('{oops').toString('base64url')}.${b64({})}.sig`, /not a well-formed/],
  ];
  it.each(cases)('%s', async (_, token, message) => {
    const t = await token();
    const error = await refusal(verifier().verify(t));
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain(t);
    expect((error as UnauthorizedError).headers['WWW-Authenticate']).toMatch(/error="invalid_token"/);
  });
});

describe('Cognito-style tokens', () => {
  it('accepts client_id as audience and counts only prefixed scopes', async () => {
    const token = await idp.mint({
      aud: undefined,
      client_id: 'app-client',
      token_use: 'access',
      scope: 'dicomweb/read dicomweb/send write',
    });
    const v = verifier({ audiences: ['app-client'], scopePrefix: 'dicomweb/' });
    expect(await v.verify(token)).toMatchObject({ subject: 'minted', scopes: ['read', 'send'] });
  });
});

describe('an issuer that cannot be reached: 503 with Retry-After', () => {
  it('when discovery fails', async () => {
    const port = await closedPort();
    const error = await refusal(
      verifier({ issuer: `http://127.0.0.1:${port}` }).verify(await idp.mint({ iss: `http://127.0.0.1:${port}` })),
    );
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((error as ServiceUnavailableError).headers['Retry-After']).toMatch(/^\d+$/);
  });

  it('when the JWKS (OIDC_JWKS_URI) answers 500, and again once it works', async () => {
    let healthy = false;
    const jwks = http.createServer((req, res) => {
      if (!healthy) return void res.writeHead(500).end();
      void fetch(`${idp.issuer}/jwks`).then(async (r) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(await r.text()));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    try {
      const jwksUri = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/keys`;
      const v = verifier({ jwksUri });
      const token = await idp.mint({});
      expect(await refusal(v.verify(token))).toBeInstanceOf(ServiceUnavailableError);
      healthy = true;
      expect((await v.verify(token)).subject).toBe('minted');
    } finally {
      jwks.close();
    }
  });

  it('a malformed token is still a 401 when the issuer is down', async () => {
    const port = await closedPort();
    expect(await refusal(verifier({ issuer: `http://127.0.0.1:${port}` }).verify('abc'))).toBeInstanceOf(UnauthorizedError);
  });
});

describe('the Authenticator with AUTH=oidc', () => {
  const config = () =>
    loadConfig({ BUCKET_NAME: 'b', TABLE_NAME: 't', AUTH: 'oidc', OIDC_ISSUER: idp.issuer, OIDC_AUDIENCE: idp.audience });

  it('caches a token until its exp at most, then refuses it as expired', async () => {
    let clock = Date.now();
    const auth = createAuthenticator(config(), { now: () => clock });
    const token = await idp.mint({ exp: now() + 30 });
    const principal = await auth.authenticate(`Bearer ${token}`);
    expect(principal).toMatchObject({ mechanism: 'oidc', principal: 'minted' });
    clock += 31_000;
    expect((await refusal(auth.authenticate(`Bearer ${token}`))).message).toMatch(/expired/);
  });

  it('never sends an API key to the verifier', async () => {
    const auth = createAuthenticator(config());
    const before = idp.jwksRequests();
    const error = await refusal(auth.authenticate('Bearer dwk_abcdefghijkl_' + '0'.repeat(64)));
    expect(error.message).toMatch(/does not accept API keys/);
    expect(idp.jwksRequests()).toBe(before);
  });
});

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const unsigned = (claims: object) => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
function hs256(claims: object): string {
  const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: 'test-provider-key' })}.${b64(claims)}`;
  return `${input}.${createHmac('sha256', 'secret').update(input).digest('base64url')}`;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
