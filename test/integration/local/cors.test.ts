/**
 * CORS on the embedded archive, over HTTP on 127.0.0.1 with a client that sends what a browser sends:
 * the preflight (OPTIONS with Origin and Access-Control-Request-*), then the request itself with
 * Origin and a bearer token; an origin not allowed; and the gateway's own 413 carrying the headers.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionGroups, type FunctionGroup } from '../../../lambdas/http/routes';
import { startGateway, type ProxyHandler } from '../../../lib/local/gateway';
import { makeInstance } from '../../support/dicom-factory';
import { DICOM_JSON, stowBody, tempArchive } from '../../support/http';

const VIEWER = 'https://viewer.example.org';
const TOKEN = 'cors-test-token';
const STUDY = '1.2.826.0.1.3680043.8.498.7001';
const MAX_REQUEST_BYTES = 64 * 1024;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request as a browser sends it (node:http: Origin is a header like any other). */
function request(url: string, method: string, headers: Record<string, string>, body?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: body ? { ...headers, 'Content-Length': String(body.length) } : headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? undefined : reject(error)));
    req.end(body);
  });
}

const corsHeaderNames = (a: Answer) => Object.keys(a.headers).filter((h) => h.startsWith('access-control-'));

let archive: Awaited<ReturnType<typeof tempArchive>>;
beforeAll(async () => {
  archive = await tempArchive({
    env: { CORS_ALLOWED_ORIGINS: `${VIEWER},http://localhost:5173`, AUTH_TOKEN: TOKEN, MAX_REQUEST_BYTES: String(MAX_REQUEST_BYTES) },
  });
  const { body, contentType } = stowBody([makeInstance({ studyInstanceUID: STUDY })]);
  const stored = await request(
    `${archive.url}/studies`,
    'POST',
    { Authorization: `Bearer ${TOKEN}`, 'Content-Type': contentType, Accept: DICOM_JSON },
    body,
  );
  expect(stored.status).toBe(200);
}, 60_000);
afterAll(() => archive?.close());

describe('a browser on an allowed origin', () => {
  it('[cors.preflight.204] preflights a search without credentials, then searches and retrieves with its token', async () => {
    const preflight = await request(`${archive.url}/studies`, 'OPTIONS', {
      Origin: VIEWER,
      'Access-Control-Request-Method': 'GET',
      'Access-Control-Request-Headers': 'authorization,accept',
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(VIEWER);
    expect(preflight.headers['access-control-allow-methods']).toBe('POST, GET, OPTIONS');
    expect(preflight.headers['access-control-allow-headers']).toBe('Authorization, Content-Type, Accept');
    expect(preflight.headers['access-control-max-age']).toBe('7200');
    expect(preflight.headers.vary).toMatch(/Origin/);

    const search = await request(`${archive.url}/studies?StudyInstanceUID=${STUDY}`, 'GET', {
      Origin: VIEWER,
      Authorization: `Bearer ${TOKEN}`,
      Accept: DICOM_JSON,
    });
    expect(search.status).toBe(200);
    expect(search.headers['access-control-allow-origin']).toBe(VIEWER);
    expect(search.headers['access-control-expose-headers']).toBe('Warning, Retry-After, Content-Location, Location, Content-Type, ETag');
    expect(JSON.parse(search.body.toString())).toHaveLength(1);

    const metadataPreflight = await request(`${archive.url}/studies/${STUDY}/metadata`, 'OPTIONS', {
      Origin: VIEWER,
      'Access-Control-Request-Method': 'GET',
    });
    expect(metadataPreflight.status).toBe(204);
    expect(metadataPreflight.headers['access-control-allow-methods']).toBe('GET, OPTIONS');
    const metadata = await request(`${archive.url}/studies/${STUDY}/metadata`, 'GET', {
      Origin: VIEWER,
      Authorization: `Bearer ${TOKEN}`,
      Accept: DICOM_JSON,
    });
    expect(metadata.status).toBe(200);
    expect(metadata.headers['access-control-allow-origin']).toBe(VIEWER);
  });

  it('[cors.headers] gets the CORS headers on an error answer too (401 without its token, 404)', async () => {
    const unauthorized = await request(`${archive.url}/studies`, 'GET', { Origin: VIEWER });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers['access-control-allow-origin']).toBe(VIEWER);
    const missing = await request(`${archive.url}/studies/1.2.3.999/metadata`, 'GET', { Origin: VIEWER, Authorization: `Bearer ${TOKEN}` });
    expect(missing.status).toBe(404);
    expect(missing.headers['access-control-allow-origin']).toBe(VIEWER);
  });

  it('[cors.gateway] gets them on the gateway own answers: 413 for a body beyond MAX_REQUEST_BYTES, 404 outside the route table', async () => {
    const tooLarge = await request(
      `${archive.url}/studies`,
      'POST',
      { Origin: VIEWER, Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'multipart/related; type="application/dicom"; boundary=x' },
      Buffer.alloc(MAX_REQUEST_BYTES + 1),
    );
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers['access-control-allow-origin']).toBe(VIEWER);
    expect(tooLarge.headers['access-control-expose-headers']).toMatch(/Retry-After/);
    const outside = await request(`${archive.url}/nowhere`, 'GET', { Origin: 'http://localhost:5173' });
    expect(outside.status).toBe(404);
    expect(outside.headers['access-control-allow-origin']).toBe('http://localhost:5173');
  });

  it('a plain OPTIONS stays Retrieve Capabilities, behind the token', async () => {
    expect((await request(`${archive.url}/studies`, 'OPTIONS', { Origin: VIEWER })).status).toBe(401);
    const capabilities = await request(`${archive.url}/studies`, 'OPTIONS', { Origin: VIEWER, Authorization: `Bearer ${TOKEN}` });
    expect(capabilities.status).toBe(200);
    expect(capabilities.headers['access-control-allow-origin']).toBe(VIEWER);
  });
});

describe('a browser on an origin not allowed', () => {
  it('[cors.preflight.not-allowed] gets no CORS headers on its preflight (401, as a plain OPTIONS) nor on the request', async () => {
    const preflight = await request(`${archive.url}/studies`, 'OPTIONS', {
      Origin: 'https://elsewhere.example.org',
      'Access-Control-Request-Method': 'GET',
    });
    expect(preflight.status).toBe(401);
    expect(corsHeaderNames(preflight)).toEqual([]);
    const search = await request(`${archive.url}/studies`, 'GET', {
      Origin: 'https://elsewhere.example.org',
      Authorization: `Bearer ${TOKEN}`,
      Accept: DICOM_JSON,
    });
    expect(search.status).toBe(200);
    expect(corsHeaderNames(search)).toEqual([]);
    const tooLarge = await request(
      `${archive.url}/studies`,
      'POST',
      { Origin: 'https://elsewhere.example.org' },
      Buffer.alloc(MAX_REQUEST_BYTES + 1),
    );
    expect(tooLarge.status).toBe(413);
    expect(corsHeaderNames(tooLarge)).toEqual([]);
  });
});

describe("the embedded gateway's own failures", () => {
  it('[cors.gateway] 503 beyond MAX_IN_FLIGHT_REQUESTS and 504 for a function that outlasts its integration carry the headers', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow: ProxyHandler = async () => {
      await held;
      return { statusCode: 200, headers: {}, body: '', isBase64Encoded: false };
    };
    const handlers = Object.fromEntries(Object.keys(functionGroups).map((g) => [g, slow])) as Record<FunctionGroup, ProxyHandler>;
    const gateway = await startGateway({
      handlers,
      maxRequestBytes: 1024,
      maxInFlightRequests: 1,
      corsAllowedOrigins: [VIEWER],
      timeouts: { bufferedIntegrationMs: 300 },
      host: '127.0.0.1',
      port: 0,
    });
    try {
      const first = request(`${gateway.url}/studies`, 'GET', { Origin: VIEWER });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const overload = await request(`${gateway.url}/studies`, 'GET', { Origin: VIEWER });
      expect(overload.status).toBe(503);
      expect(overload.headers['retry-after']).toBe('1');
      expect(overload.headers['access-control-allow-origin']).toBe(VIEWER);
      expect(overload.headers['access-control-expose-headers']).toMatch(/Retry-After/);
      const timedOut = await first;
      expect(timedOut.status).toBe(504);
      expect(timedOut.headers['access-control-allow-origin']).toBe(VIEWER);
    } finally {
      release();
      await gateway.close();
    }
  });
});
