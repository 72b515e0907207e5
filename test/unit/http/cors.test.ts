/**
 * Unit: CORS (lambdas/http/cors.ts and the middleware): the allowed origins setting, the preflight
 * answered before the credential check, the headers of every answer to an allowed origin, errors
 * included, and nothing for an origin not allowed.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../lambdas/config';
import { NotFoundError } from '../../../lambdas/dicomweb/errors';
import { CorsOriginError, parseAllowedOrigins, preflightHeaders } from '../../../lambdas/http/cors';
import { operations as capabilities } from '../../../lambdas/handlers/capabilities';
import { dicomwebHandler } from '../../../lambdas/http/middleware';
import type { ProxyResult } from '../../../lambdas/http/proxy';
import { proxyEvent } from '../../support/proxy-event';

const VIEWER = 'https://viewer.example.org';
const config = loadConfig({
  BUCKET_NAME: 'b',
  TABLE_NAME: 't',
  CORS_ALLOWED_ORIGINS: `${VIEWER},http://localhost:3000`,
  AUTH_TOKEN: 'secret',
});

function event(method: string, resource: string, headers: Record<string, string>): APIGatewayProxyEvent {
  return proxyEvent({ method, resource, headers: { Host: 'archive.example.org', 'X-Forwarded-Proto': 'https', ...headers } });
}

const handler = dicomwebHandler('capabilities', capabilities, () => ({ config }));
const invoke = (e: APIGatewayProxyEvent) => (handler as unknown as (e: APIGatewayProxyEvent, c: object) => Promise<ProxyResult>)(e, {});

describe('CORS allowed origins (CORS_ALLOWED_ORIGINS, context corsAllowedOrigins)', () => {
  it('reads a comma-separated list or a JSON array; none by default', () => {
    expect(parseAllowedOrigins(undefined)).toEqual([]);
    expect(parseAllowedOrigins('')).toEqual([]);
    expect(parseAllowedOrigins(' https://a.example.org , http://127.0.0.1:8080 ')).toEqual([
      'https://a.example.org',
      'http://127.0.0.1:8080',
    ]);
    expect(parseAllowedOrigins('["https://a.example.org:8443"]')).toEqual(['https://a.example.org:8443']);
    expect(parseAllowedOrigins(['https://a.example.org', 'https://a.example.org'])).toEqual(['https://a.example.org']);
    expect(loadConfig({ BUCKET_NAME: 'b', TABLE_NAME: 't' }).corsAllowedOrigins).toEqual([]);
  });

  it.each([
    '*',
    'http://viewer.example.org',
    'https://viewer.example.org/',
    'https://viewer.example.org/app',
    'ftp://x',
    'null',
    '{"a":1}',
  ])('refuses %s (https origins, or http on localhost / 127.0.0.1 only)', (raw) => {
    expect(() => parseAllowedOrigins(raw)).toThrow(CorsOriginError);
  });

  it('a bad CORS_ALLOWED_ORIGINS is a configuration error', () => {
    expect(() => loadConfig({ BUCKET_NAME: 'b', TABLE_NAME: 't', CORS_ALLOWED_ORIGINS: 'http://evil.example.org' })).toThrow(ConfigError);
  });
});

describe('CORS in the middleware', () => {
  it('[cors.preflight.204] answers a preflight from an allowed origin with 204, without credentials', async () => {
    const r = await invoke(
      event('OPTIONS', '/studies', {
        Origin: VIEWER,
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'authorization, accept, range, x-evil',
      }),
    );
    expect(r.statusCode).toBe(204);
    expect(r.body).toBe('');
    expect(r.headers).toMatchObject({
      'Access-Control-Allow-Origin': VIEWER,
      'Access-Control-Allow-Methods': 'POST, GET, OPTIONS',
      'Access-Control-Allow-Headers': 'Authorization, Content-Type, Accept, range',
      'Access-Control-Max-Age': '7200',
      Vary: 'Origin',
    });
  });

  it('[cors.preflight.not-allowed] a preflight from an origin not allowed is a plain OPTIONS: authenticated, no CORS headers', async () => {
    const refused = await invoke(
      event('OPTIONS', '/studies', { Origin: 'https://evil.example.org', 'Access-Control-Request-Method': 'GET' }),
    );
    expect(refused.statusCode).toBe(401);
    expect(Object.keys(refused.headers).filter((h) => h.startsWith('Access-Control-'))).toEqual([]);
    const answered = await invoke(
      event('OPTIONS', '/studies', {
        Origin: 'https://evil.example.org',
        'Access-Control-Request-Method': 'GET',
        Authorization: 'Bearer secret',
      }),
    );
    expect(answered.statusCode).toBe(200);
    expect(Object.keys(answered.headers).filter((h) => h.startsWith('Access-Control-'))).toEqual([]);
  });

  it('a plain OPTIONS from an allowed origin stays Retrieve Capabilities, authenticated', async () => {
    expect((await invoke(event('OPTIONS', '/studies', { Origin: VIEWER }))).statusCode).toBe(401);
    const r = await invoke(event('OPTIONS', '/studies', { Origin: VIEWER, Authorization: 'Bearer secret' }));
    expect(r.statusCode).toBe(200);
    expect(r.headers['Content-Type']).toMatch(/json|wadl/);
    expect(r.headers['Access-Control-Allow-Origin']).toBe(VIEWER);
  });

  it('[cors.headers] every answer to an allowed origin, errors included, carries Allow-Origin and Expose-Headers', async () => {
    const error = await invoke(event('OPTIONS', '/studies', { Origin: VIEWER }));
    expect(error.statusCode).toBe(401);
    expect(error.headers).toMatchObject({
      'Access-Control-Allow-Origin': VIEWER,
      'Access-Control-Expose-Headers': 'Warning, Retry-After, Content-Location, Location, Content-Type, ETag',
      Vary: 'Origin',
    });
    const none = await invoke(event('OPTIONS', '/studies', { Authorization: 'Bearer secret' }));
    expect(Object.keys(none.headers).filter((h) => h.startsWith('Access-Control-'))).toEqual([]);
    // The answer depends on the Origin whenever origins are allowed: a cache must not reuse it across origins.
    expect(none.headers.Vary).toBe('Origin');
  });

  it('errors a function maps keep their own headers beside the CORS ones', async () => {
    const failing = dicomwebHandler(
      'capabilities',
      {
        RetrieveCapabilities: () => Promise.reject(new NotFoundError('nothing')),
      },
      () => ({ config }),
    ) as unknown as (e: APIGatewayProxyEvent, c: object) => Promise<ProxyResult>;
    const r = await failing(event('OPTIONS', '/studies', { Origin: 'http://localhost:3000', Authorization: 'Bearer secret' }), {});
    expect(r.statusCode).toBe(404);
    expect(r.headers.Allow).toBe('POST, GET, OPTIONS');
    expect(r.headers['Access-Control-Allow-Origin']).toBe('http://localhost:3000');
  });

  it('preflight headers list only the allowed extra request headers, once each', () => {
    const h = preflightHeaders(VIEWER, ['GET'], { 'access-control-request-headers': 'Range, range, Cookie' });
    expect(h['Access-Control-Allow-Headers']).toBe('Authorization, Content-Type, Accept, range');
  });
});
