/**
 * Unit: the authentication middleware (lambdas/http/middleware.ts) over real handlers: nothing checked
 * with AUTH none or iam, our authorizer's context trusted until it expires, the Authorization header
 * checked otherwise, then the route's scope; every refusal a Status Report with the CORS headers.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../lambdas/config';
import { operations as capabilities } from '../../../lambdas/handlers/capabilities';
import { operations as store } from '../../../lambdas/handlers/store';
import { dicomwebHandler } from '../../../lambdas/http/middleware';
import type { ProxyResult } from '../../../lambdas/http/proxy';
import { proxyEvent } from '../../support/proxy-event';

const VIEWER = 'https://viewer.example.org';
const TOKEN = 'unit-static-token';
const config = (env: Record<string, string>) => loadConfig({ BUCKET_NAME: 'b', TABLE_NAME: 't', CORS_ALLOWED_ORIGINS: VIEWER, ...env });

function event(
  method: string,
  resource: string,
  headers: Record<string, string>,
  authorizer?: Record<string, unknown>,
): APIGatewayProxyEvent {
  return proxyEvent({
    method,
    resource,
    headers: { Host: 'archive.example.org', 'X-Forwarded-Proto': 'https', ...headers },
    requestContext: { authorizer },
  });
}

type Invoke = (e: APIGatewayProxyEvent) => Promise<ProxyResult>;
function handlers(env: Record<string, string>): { capabilities: Invoke; store: Invoke } {
  const services = { config: config(env) };
  const call = (h: unknown) => (e: APIGatewayProxyEvent) => (h as (e: APIGatewayProxyEvent, c: object) => Promise<ProxyResult>)(e, {});
  return {
    capabilities: call(dicomwebHandler('capabilities', capabilities, () => services)),
    // The store operations never run here: every case is refused before them.
    store: call(dicomwebHandler('store', store, () => services as never)),
  };
}

const inAMinute = () => Math.floor(Date.now() / 1000) + 60;
const report = (r: ProxyResult) => JSON.parse(r.body as string) as { status: number; detail: string };

describe('AUTH none and iam', () => {
  it.each(['none', 'iam'])('AUTH=%s checks nothing (loopback only, or API Gateway checked SigV4)', async (auth) => {
    const r = await handlers({ AUTH: auth }).capabilities(event('OPTIONS', '/studies', {}));
    expect(r.statusCode).toBe(200);
  });
});

describe('the Authorization header, without an authorizer (embedded runtime)', () => {
  const h = handlers({ AUTH_TOKEN: TOKEN });

  it('answers a plain OPTIONS (Retrieve Capabilities) with the token', async () => {
    expect((await h.capabilities(event('OPTIONS', '/studies', { Authorization: `Bearer ${TOKEN}` }))).statusCode).toBe(200);
  });

  it('answers 401 with a Status Report, the Bearer challenge and the CORS headers without a credential', async () => {
    const r = await h.capabilities(event('OPTIONS', '/studies', { Origin: VIEWER }));
    expect(r.statusCode).toBe(401);
    expect(report(r)).toMatchObject({ status: 401, detail: expect.stringMatching(/requires a credential/) });
    expect(r.headers['WWW-Authenticate']).toBe('Bearer realm="dicomweb"');
    expect(r.headers['Access-Control-Allow-Origin']).toBe(VIEWER);
  });

  it('still answers a preflight from an allowed origin without a credential', async () => {
    const r = await h.store(event('OPTIONS', '/studies', { Origin: VIEWER, 'Access-Control-Request-Method': 'POST' }));
    expect(r.statusCode).toBe(204);
  });
});

describe("our authorizer's context (API Gateway)", () => {
  const h = handlers({ AUTH: 'oidc', OIDC_ISSUER: 'https://idp.invalid', OIDC_AUDIENCE: 'archive' });
  const context = (scopes: string, expiresAt: number | string = inAMinute()) => ({
    mechanism: 'oidc',
    principal: 'alice',
    scopes,
    expiresAt,
    principalId: 'alice',
  });

  it('is trusted without checking the header again, expiresAt as a number or a string', async () => {
    expect((await h.capabilities(event('OPTIONS', '/studies', {}, context('read')))).statusCode).toBe(200);
    expect((await h.capabilities(event('OPTIONS', '/studies', {}, context('read', String(inAMinute()))))).statusCode).toBe(200);
  });

  it("answers 403 naming the scope when the route's scope is missing", async () => {
    const r = await h.store(event('POST', '/studies', { Origin: VIEWER }, context('read send')));
    expect(r.statusCode).toBe(403);
    expect(report(r).detail).toMatch(/needs the "write" scope/);
    expect(r.headers['WWW-Authenticate']).toMatch(/error="insufficient_scope", scope="write"/);
    expect(r.headers['Access-Control-Allow-Origin']).toBe(VIEWER);
    expect((await h.capabilities(event('OPTIONS', '/studies', {}, context('write')))).statusCode).toBe(403);
  });

  it('answers 401 once the context has expired (API Gateway caches authorizer results)', async () => {
    const r = await h.capabilities(event('OPTIONS', '/studies', {}, context('read', Math.floor(Date.now() / 1000) - 1)));
    expect(r.statusCode).toBe(401);
    expect(report(r).detail).toMatch(/expired/);
  });

  it("checks an API key's or static token's expired context again from the header (a revoked key stops)", async () => {
    const t = handlers({ AUTH: 'token', AUTH_TOKEN: TOKEN });
    const expired = { mechanism: 'token', principal: 'static-token', scopes: 'read', expiresAt: Math.floor(Date.now() / 1000) - 1 };
    expect((await t.capabilities(event('OPTIONS', '/studies', { Authorization: `Bearer ${TOKEN}` }, expired))).statusCode).toBe(200);
    const r = await t.capabilities(event('OPTIONS', '/studies', { Authorization: 'Bearer another-token' }, expired));
    expect(r.statusCode).toBe(401);
    expect((await t.capabilities(event('OPTIONS', '/studies', {}, { ...expired, expiresAt: inAMinute() }))).statusCode).toBe(200);
  });

  it("falls back to the header when the context is not ours (another authorizer's claims)", async () => {
    const r = await h.capabilities(event('OPTIONS', '/studies', {}, { claims: { sub: 'x', scope: 'read' } }));
    expect(r.statusCode).toBe(401);
    expect(report(r).detail).toMatch(/requires a credential/);
    const forged = await h.capabilities(
      event('OPTIONS', '/studies', {}, { mechanism: 'root', principal: 'x', scopes: 'read', expiresAt: inAMinute() }),
    );
    expect(forged.statusCode).toBe(401);
  });
});

describe("a share link's principal (the authorizer's context)", () => {
  const STUDY = '1.2.826.0.1.3680043.8.498.5';
  const h = handlers({ AUTH: 'oidc', OIDC_ISSUER: 'https://idp.invalid', OIDC_AUDIENCE: 'archive' });
  const share = (extra: Record<string, unknown> = {}) => ({
    mechanism: 'share',
    principal: 'abcdefghijkl',
    scopes: 'read',
    expiresAt: inAMinute(),
    study: STUDY,
    ...extra,
  });

  it('answers Retrieve Capabilities and logs one line naming the link, never a token or a UID', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const e = event('OPTIONS', '/studies', { Authorization: 'Bearer dws_secret-never-logged' }, share());
      e.requestContext.requestId = 'req-1';
      expect((await h.capabilities(e)).statusCode).toBe(200);
      expect(log).toHaveBeenCalledTimes(1);
      const line = JSON.parse(String(log.mock.calls[0]![0]));
      expect(line).toEqual({
        level: 'info',
        event: 'share-link-use',
        share: 'abcdefghijkl',
        transaction: 'RetrieveCapabilities',
        method: 'OPTIONS',
        resource: '/studies',
        requestId: 'req-1',
      });
      expect(String(log.mock.calls[0]![0])).not.toMatch(/dws_|secret|1\.2\.826/);
    } finally {
      log.mockRestore();
    }
  });

  it('is refused Store with 403 naming its study, before the scope check, and logged too', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const r = await h.store(event('POST', '/studies', {}, share({ scopes: 'read write' })));
      expect(r.statusCode).toBe(403);
      expect(report(r).detail).toMatch(/share link/);
      expect(log).toHaveBeenCalledTimes(1);
    } finally {
      log.mockRestore();
    }
  });

  it('without its study is not ours: the header is checked again', async () => {
    const r = await h.capabilities(event('OPTIONS', '/studies', {}, share({ study: undefined })));
    expect(r.statusCode).toBe(401);
  });
});
