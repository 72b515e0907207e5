/**
 * The archive's OAuth 2.0 client against an in-process token endpoint (RFC 6749 4.4 client
 * credentials, client_secret_basic or client_secret_post) and a resource server that accepts only
 * tokens the endpoint issued and has not revoked.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  authorizingFetch,
  clientCredentialsAuthorization,
  OAuth2TokenCache,
  TokenRequestError,
  type ClientCredentials,
} from '../../../lambdas/auth/oauth2-client';

const CLIENT_ID = 'archive client';
const SECRET = 's3cret&:x';

let server: Server;
let base: string;
/** Tokens issued and still valid at the resource server. */
let valid: Set<string>;
let issued: number;
let tokenRequests: { authorization?: string; form: URLSearchParams }[];
let resourceAuthorizations: (string | undefined)[];

/** RFC 6749 2.3.1 / 4.4.2: the client authenticates with Basic (parts form-urlencoded) or in the body. */
function clientOf(authorization: string | undefined, form: URLSearchParams): { id: string; secret: string } | undefined {
  if (authorization?.startsWith('Basic ')) {
    const [id = '', secret = ''] = Buffer.from(authorization.slice(6), 'base64').toString('utf8').split(':');
    return { id: decodeURIComponent(id.replace(/\+/g, ' ')), secret: decodeURIComponent(secret.replace(/\+/g, ' ')) };
  }
  const id = form.get('client_id');
  const secret = form.get('client_secret');
  return id !== null && secret !== null ? { id, secret } : undefined;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/token' && req.method === 'POST') {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        tokenRequests.push({ ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}), form });
        const error = (status: number, code: string) =>
          void res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: code }));
        if (form.get('grant_type') !== 'client_credentials') return error(400, 'unsupported_grant_type');
        const client = clientOf(req.headers.authorization, form);
        if (!client || client.id !== CLIENT_ID || client.secret !== SECRET) return error(401, 'invalid_client');
        if (form.has('scope') && form.get('scope') !== 'read send') return error(400, 'invalid_scope');
        const token = `tok-${++issued}`;
        valid.add(token);
        return void res
          .writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' })
          .end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 120 }));
      }
      if (req.url === '/resource') {
        resourceAuthorizations.push(req.headers.authorization);
        const token = req.headers.authorization?.replace(/^Bearer /, '');
        if (!token || !valid.has(token)) return void res.writeHead(401, { 'WWW-Authenticate': 'Bearer error="invalid_token"' }).end();
        return void res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`hello ${token}`);
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  valid = new Set();
  issued = 0;
  tokenRequests = [];
  resourceAuthorizations = [];
});

const credentials = (extra: Partial<ClientCredentials> = {}): ClientCredentials => ({
  tokenUrl: `${base}/token`,
  clientId: CLIENT_ID,
  clientSecret: SECRET,
  ...extra,
});

describe('client credentials (RFC 6749 4.4)', () => {
  it('authenticates with client_secret_basic, asks for the scope, and reuses the token', async () => {
    const get = authorizingFetch(clientCredentialsAuthorization(credentials({ scope: 'read send' })));
    expect(await (await get(`${base}/resource`)).text()).toBe('hello tok-1');
    expect(await (await get(`${base}/resource`)).text()).toBe('hello tok-1');
    expect(tokenRequests).toHaveLength(1);
    const [request] = tokenRequests;
    expect(request!.form.get('grant_type')).toBe('client_credentials');
    expect(request!.form.get('scope')).toBe('read send');
    expect(request!.form.has('client_secret')).toBe(false);
    expect(request!.authorization).toBe(`Basic ${Buffer.from('archive%20client:s3cret%26%3Ax').toString('base64')}`);
  });

  it('sends the credentials in the body with client_secret_post', async () => {
    const get = authorizingFetch(clientCredentialsAuthorization(credentials({ tokenEndpointAuthMethod: 'client_secret_post' })));
    expect((await get(`${base}/resource`)).status).toBe(200);
    expect(tokenRequests[0]!.authorization).toBeUndefined();
    expect(tokenRequests[0]!.form.get('client_id')).toBe(CLIENT_ID);
    expect(tokenRequests[0]!.form.get('client_secret')).toBe(SECRET);
  });

  it('fetches a new token shortly before the old one expires', async () => {
    let now = 1_000_000;
    const get = authorizingFetch(clientCredentialsAuthorization(credentials(), { now: () => now }));
    await get(`${base}/resource`);
    now += 80_000; // 120 s lifetime, 30 s margin: still fresh
    await get(`${base}/resource`);
    now += 15_000;
    await get(`${base}/resource`);
    expect(resourceAuthorizations).toEqual(['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-2']);
    expect(tokenRequests).toHaveLength(2);
  });

  it('fetches a new token once when the resource server answers 401', async () => {
    const cache = new OAuth2TokenCache();
    const get = authorizingFetch(clientCredentialsAuthorization(credentials(), { cache }));
    await get(`${base}/resource`);
    valid.delete('tok-1'); // revoked
    const res = await get(`${base}/resource`);
    expect(res.status).toBe(200);
    expect(resourceAuthorizations).toEqual(['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-2']);
  });

  it('tries again only once when the resource server refuses every token', async () => {
    const get = authorizingFetch(clientCredentialsAuthorization(credentials()));
    valid = { has: () => false, add: () => undefined } as unknown as Set<string>;
    const res = await get(`${base}/resource`);
    expect(res.status).toBe(401);
    expect(resourceAuthorizations).toEqual(['Bearer tok-1', 'Bearer tok-2']);
  });

  it('does not send a stream body twice: the 401 is the answer', async () => {
    const get = authorizingFetch(clientCredentialsAuthorization(credentials()));
    valid = { has: () => false, add: () => undefined } as unknown as Set<string>;
    const body = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('x')), c.close()) });
    const res = await get(`${base}/resource`, { method: 'POST', body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(401);
    expect(resourceAuthorizations).toEqual(['Bearer tok-1']);
  });

  it('shares one token request among concurrent callers', async () => {
    const source = clientCredentialsAuthorization(credentials());
    const headers = await Promise.all([source.authorization(), source.authorization(), source.authorization()]);
    expect(new Set(headers)).toEqual(new Set(['Bearer tok-1']));
    expect(tokenRequests).toHaveLength(1);
  });
});

describe('token request errors', () => {
  async function failure(creds: ClientCredentials): Promise<TokenRequestError> {
    const err = await clientCredentialsAuthorization(creds)
      .authorization()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenRequestError);
    return err as TokenRequestError;
  }

  it('a wrong secret: names the endpoint and invalid_client, never the secret', async () => {
    const err = await failure(credentials({ clientSecret: 'wrong-secret-value' }));
    expect(err.message).toBe(
      `OAuth 2.0 token request failed: token endpoint HTTP 401 (${base}/token answered invalid_client: the client id or secret is not accepted)`,
    );
    expect(err.transient).toBe(false);
    expect(err.message).not.toContain('wrong-secret-value');
  });

  it('a scope the client may not have: invalid_scope', async () => {
    const err = await failure(credentials({ scope: 'admin' }));
    expect(err.message).toContain('invalid_scope: the scope asked for is not allowed for this client');
  });

  it('the token endpoint down: a transient fault that says where', async () => {
    const down = createServer();
    await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
    const port = (down.address() as AddressInfo).port;
    await new Promise((resolve) => down.close(resolve));
    const err = await failure(credentials({ tokenUrl: `http://127.0.0.1:${port}/oauth2/token?x=1` }));
    expect(err.fault).toBe('token endpoint ECONNREFUSED');
    expect(err.transient).toBe(true);
    expect(err.message).toBe(
      `OAuth 2.0 token request failed: token endpoint ECONNREFUSED (http://127.0.0.1:${port}/oauth2/token could not be reached; check the token URL)`,
    );
  });

  it('a 200 without a bearer access_token', async () => {
    const err = await failure(credentials({ tokenUrl: `${base}/resource` }));
    expect(err.fault).toBe('token endpoint HTTP 401');
    const notJson = await clientCredentialsAuthorization(credentials(), {
      fetch: (async () => new Response('<html>', { status: 200 })) as typeof fetch,
    })
      .authorization()
      .catch((e: unknown) => e);
    expect((notJson as TokenRequestError).fault).toBe('token endpoint answered with no JSON');
    const mac = await clientCredentialsAuthorization(credentials(), {
      fetch: (async () => Response.json({ access_token: 'a', token_type: 'mac' })) as typeof fetch,
    })
      .authorization()
      .catch((e: unknown) => e);
    expect((mac as TokenRequestError).fault).toBe('token endpoint answered with no bearer access_token');
  });
});
