/**
 * A real OpenID Connect provider for tests (`oidc-provider` 8), in process on 127.0.0.1 and port 0:
 * - a confidential client for the client credentials grant (RFC 6749 4.4), and one holding only some
 *   scopes (`readOnlyClient`);
 * - a public browser client (token_endpoint_auth_method none) for the authorization code flow with
 *   PKCE S256 (RFC 7636), whose login and consent the helper finishes programmatically;
 * - the viewer's public client (`viewerClient`), redirected to `/viewer/callback` on any loopback
 *   port (RFC 8252 7.3: an archive on port 0) and allowed CORS, for a real browser's login: the
 *   provider finishes its login and consent at once, as for the other browser client;
 * - one resource server (RFC 8707 resource indicators) issuing RS256 JWT access tokens (RFC 9068) with
 *   `aud` = the configured audience and the archive's scopes.
 * `mint` signs tokens with the provider's own key or a stranger's, with any claims, for the
 * bad-credential tests (expired, wrong issuer, audience, signature, token_use).
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type CryptoKey } from 'jose';

export const ALL_SCOPES = 'read write delete send share admin';

export interface TestOidcProvider {
  /** The issuer URL (http://127.0.0.1:port), the `iss` of its tokens. */
  readonly issuer: string;
  /** The audience of its access tokens (the resource indicator). */
  readonly audience: string;
  readonly machineClient: { readonly clientId: string; readonly secret: string };
  /** A confidential client that may only get the scopes given to startOidcProvider (default `read`). */
  readonly readOnlyClient: { readonly clientId: string; readonly secret: string };
  readonly browserClient: { readonly clientId: string; readonly redirectUri: string };
  /** The OHIF Viewer's client: redirect URI http://127.0.0.1:<any port>/viewer/callback. */
  readonly viewerClient: { readonly clientId: string };
  /** How many requests the provider answered on its JWKS endpoint (to test caching). */
  jwksRequests(): number;
  clientCredentialsToken(opts: { clientId: string; secret: string; scope: string }): Promise<TokenResponse>;
  authorizationCodeWithPkce(opts: { clientId: string; redirectUri: string; scope: string; accountId: string }): Promise<TokenResponse>;
  /** A JWT with these claims (defaults: iss, aud, sub, iat, exp in 5 minutes, scope), signed as asked. */
  mint(claims: Record<string, unknown>, opts?: MintOptions): Promise<string>;
  close(): Promise<void>;
}

export interface MintOptions {
  /** 'provider' (default): the provider's own signing key; 'stranger': a key the JWKS does not hold. */
  key?: 'provider' | 'stranger';
  /** Sign with the stranger key but claim the provider key's kid (a forged signature). */
  forgeKid?: boolean;
  /** JOSE header typ; default at+jwt. */
  typ?: string;
}

export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: string;
  readonly expires_in: number;
  readonly scope?: string;
  /** The ID token of the code flow (audience: the client, never a credential for the archive). */
  readonly id_token?: string;
}

interface SigningKey {
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

async function signingKey(kid: string): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  return { privateKey, jwk };
}

/** Starts the provider; `audience` is the resource indicator and `aud` of access tokens. */
export async function startOidcProvider(
  opts: { audience?: string; readOnlyScopes?: string; accessTokenTtl?: number } = {},
): Promise<TestOidcProvider> {
  const audience = opts.audience ?? 'https://archive.test/dicomweb';
  const readOnlyScopes = opts.readOnlyScopes ?? 'read';
  const own = await signingKey('test-provider-key');
  const stranger = await signingKey('stranger-key');
  const machineClient = { clientId: 'machine', secret: randomBytes(24).toString('hex') };
  const readOnlyClient = { clientId: 'reader', secret: randomBytes(24).toString('hex') };
  const browserClient = { clientId: 'viewer', redirectUri: 'https://viewer.example.org/callback' };
  const viewerClient = { clientId: 'ohif-viewer' };
  const clientScopes = new Map([[readOnlyClient.clientId, readOnlyScopes]]);
  let jwksRequests = 0;

  let handler: http.RequestListener = (_req, res) => res.writeHead(503).end();
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: machineClient.clientId,
        client_secret: machineClient.secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        client_id: readOnlyClient.clientId,
        client_secret: readOnlyClient.secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_post',
      },
      {
        client_id: browserClient.clientId,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [browserClient.redirectUri],
        token_endpoint_auth_method: 'none',
      },
      {
        client_id: viewerClient.clientId,
        application_type: 'native',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/viewer/callback'],
        token_endpoint_auth_method: 'none',
      },
    ],
    // The viewer's page calls the token endpoint from the archive's origin.
    clientBasedCORS: (_ctx: unknown, _origin: string, client: { clientId: string }) => client.clientId === viewerClient.clientId,
    jwks: { keys: [own.jwk] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    pkce: { methods: ['S256'], required: () => true },
    findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
    ttl: {
      AccessToken: opts.accessTokenTtl ?? 600,
      ClientCredentials: opts.accessTokenTtl ?? 600,
      IdToken: 600,
      Grant: 600,
      Interaction: 600,
      Session: 600,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string, client: { clientId: string }) => {
          if (resource !== audience) throw new Provider.errors.InvalidTarget();
          return {
            scope: clientScopes.get(client.clientId) ?? ALL_SCOPES,
            audience,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  });
  // Finishes login, then consent, granting what the client asked: no HTML forms in tests.
  const interaction: http.RequestListener = async (req, res) => {
    try {
      const details = await provider.interactionDetails(req, res);
      const accountId = String(details.params.login_hint ?? 'test-user');
      if (details.prompt.name === 'login') {
        await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
        return;
      }
      const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
      grant.addOIDCScope('openid');
      const resource = String(details.params.resource ?? audience);
      grant.addResourceScope(resource, String(details.params.scope ?? ''));
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  };
  const callback = provider.callback();
  handler = (req, res) => {
    if (req.url?.startsWith('/interaction/')) return void interaction(req, res);
    if (req.url?.startsWith('/jwks')) jwksRequests++;
    callback(req, res);
  };

  async function tokenRequest(form: Record<string, string>, headers: Record<string, string> = {}): Promise<TokenResponse> {
    const response = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form),
    });
    const body = (await response.json()) as TokenResponse & { error?: string; error_description?: string };
    if (!response.ok) throw new Error(`token endpoint ${response.status}: ${body.error} ${body.error_description ?? ''}`);
    return body;
  }

  return {
    issuer,
    audience,
    machineClient,
    readOnlyClient,
    browserClient,
    viewerClient,
    jwksRequests: () => jwksRequests,
    clientCredentialsToken({ clientId, secret, scope }) {
      const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64');
      const form = { grant_type: 'client_credentials', scope, resource: audience };
      // The read-only client authenticates in the body (client_secret_post), the other with Basic.
      if (clientId === readOnlyClient.clientId) return tokenRequest({ ...form, client_id: clientId, client_secret: secret });
      return tokenRequest(form, { Authorization: `Basic ${basic}` });
    },
    async authorizationCodeWithPkce({ clientId, redirectUri, scope, accountId }) {
      const verifier = randomBytes(32).toString('base64url');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const state = randomBytes(8).toString('hex');
      const authorize = new URL(`${issuer}/auth`);
      for (const [k, v] of Object.entries({
        client_id: clientId,
        response_type: 'code',
        redirect_uri: redirectUri,
        scope: `openid ${scope}`,
        resource: audience,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        state,
        login_hint: accountId,
      }))
        authorize.searchParams.set(k, v);
      const code = await followToRedirectUri(authorize.href, redirectUri, state);
      return tokenRequest({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        client_id: clientId,
        code_verifier: verifier,
      });
    },
    async mint(claims, mintOpts = {}) {
      const key = mintOpts.key === 'stranger' ? stranger : own;
      const kid = mintOpts.forgeKid ? own.jwk.kid : key.jwk.kid;
      const now = Math.floor(Date.now() / 1000);
      const payload = { iss: issuer, aud: audience, sub: 'minted', iat: now, exp: now + 300, scope: ALL_SCOPES, ...claims };
      for (const [k, v] of Object.entries(payload)) if (v === undefined) delete (payload as Record<string, unknown>)[k];
      return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid, typ: mintOpts.typ ?? 'at+jwt' }).sign(key.privateKey);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Follows the provider's redirects as a browser would (with a small cookie jar) until it redirects to
 * the client's redirect URI, and returns the authorization code.
 */
async function followToRedirectUri(start: string, redirectUri: string, state: string): Promise<string> {
  const jar = new Map<string, string>();
  let url = start;
  for (let hop = 0; hop < 20; hop++) {
    if (url.startsWith(redirectUri)) {
      const params = new URL(url).searchParams;
      if (params.get('error')) throw new Error(`authorization failed: ${params.get('error')} ${params.get('error_description') ?? ''}`);
      if (params.get('state') !== state) throw new Error('authorization response with a wrong state');
      return params.get('code') ?? '';
    }
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(url, { redirect: 'manual', headers: cookie ? { Cookie: cookie } : {} });
    for (const set of response.headers.getSetCookie()) {
      const [pair] = set.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(set) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    const location = response.headers.get('location');
    if (!location) throw new Error(`authorization stopped at ${new URL(url).pathname} with ${response.status}: ${await response.text()}`);
    await response.body?.cancel();
    url = new URL(location, url).href;
  }
  throw new Error('too many redirects in the authorization flow');
}
