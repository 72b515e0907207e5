/**
 * The embedded gateway's proxy event: client-chosen header and query names that are also names of
 * Object.prototype members (found by test/reliability/bad-input: `?valueOf` answered 500) become own
 * properties, as in the JSON event API Gateway sends.
 */
import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { LAMBDA_MAX_PAYLOAD_BYTES, LAMBDA_MAX_REQUEST_BYTES } from '../../../../lambdas/config';
import { proxyEvent, requestTarget } from '../../../../lib/local/gateway';
import { routes } from '../../../../lambdas/http/routes';

const route = routes.find((r) => r.method === 'GET' && r.path === '/studies')!;

function request(rawHeaders: string[]): http.IncomingMessage {
  return { rawHeaders, httpVersion: '1.1', socket: { remoteAddress: '127.0.0.1' } } as unknown as http.IncomingMessage;
}

describe('proxyEvent', () => {
  it('keeps query parameters named after Object.prototype members as own values', () => {
    const url = new URL('http://localhost/studies?valueOf&toString=a&toString=b&__proto__=x&constructor=y');
    const event = proxyEvent(request([]), url, route, {}, Buffer.alloc(0));
    expect(event.multiValueQueryStringParameters).toEqual({
      valueOf: [''],
      toString: ['a', 'b'],
      ['__proto__']: ['x'],
      constructor: ['y'],
    });
    expect(Object.hasOwn(event.queryStringParameters!, '__proto__')).toBe(true);
    expect(event.queryStringParameters!.toString).toBe('b');
    expect(Object.getPrototypeOf(event.multiValueQueryStringParameters)).toBe(Object.prototype);
  });

  it('keeps such header names as own values too', () => {
    const url = new URL('http://localhost/studies');
    const event = proxyEvent(
      request(['hasOwnProperty', '1', '__proto__', '2', 'Accept', 'a', 'Accept', 'b']),
      url,
      route,
      {},
      Buffer.alloc(0),
    );
    expect(event.multiValueHeaders.hasOwnProperty).toEqual(['1']);
    expect(Object.hasOwn(event.headers, '__proto__')).toBe(true);
    expect(event.multiValueHeaders.Accept).toEqual(['a', 'b']);
    expect(event.headers.Accept).toBe('b');
  });
});

describe('proxyEvent: the peer and the scheme, for public URIs (lambdas/http/public-uri.ts)', () => {
  const url = new URL('http://localhost/studies');
  it("puts the socket's remote address in requestContext.identity.sourceIp, as API Gateway does", () => {
    const req = { rawHeaders: [], httpVersion: '1.1', socket: { remoteAddress: '::ffff:10.1.2.3' } } as unknown as http.IncomingMessage;
    expect(proxyEvent(req, url, route, {}, Buffer.alloc(0)).requestContext.identity.sourceIp).toBe('::ffff:10.1.2.3');
  });

  it('appends its own scheme to X-Forwarded-Proto, after what a proxy in front sent', () => {
    expect(proxyEvent(request([]), url, route, {}, Buffer.alloc(0)).headers['X-Forwarded-Proto']).toBe('http');
    const forwarded = proxyEvent(request(['x-forwarded-proto', 'https', 'X-Forwarded-Proto', 'http']), url, route, {}, Buffer.alloc(0));
    expect(forwarded.headers['X-Forwarded-Proto']).toBe('https, http, http');
    expect(forwarded.multiValueHeaders['X-Forwarded-Proto']).toEqual(['https, http, http']);
    expect(Object.keys(forwarded.headers).filter((n) => n.toLowerCase() === 'x-forwarded-proto')).toEqual(['X-Forwarded-Proto']);
  });
});

describe('requestTarget', () => {
  it('keeps dot segments as sent (API Gateway does not resolve them), and reads the query', () => {
    const t = requestTarget('/studies/%2e%2e/series?PatientID=1&PatientID=2');
    expect(t.pathname).toBe('/studies/%2e%2e/series');
    expect(t.searchParams.getAll('PatientID')).toEqual(['1', '2']);
    expect(requestTarget('/studies/../series').pathname).toBe('/studies/../series');
  });
});

describe('the request limit against the 6 MB invocation payload', () => {
  const store = routes.find((r) => r.method === 'POST' && r.path === '/studies')!;
  // API Gateway takes at most 10,240 bytes of request headers (API Gateway quotas); the event holds
  // them twice (headers and multiValueHeaders).
  const headers = ['Content-Type', 'multipart/related; type="application/dicom"; boundary=x', 'Cookie', 'c'.repeat(10_000)];
  const eventBytes = (bodyBytes: number) =>
    Buffer.byteLength(
      JSON.stringify(proxyEvent(request(headers), new URL('http://localhost/studies'), store, {}, Buffer.alloc(bodyBytes, 1))),
    );

  it('admits a body of LAMBDA_MAX_REQUEST_BYTES, whose event with the largest headers fits the payload', () => {
    expect(eventBytes(LAMBDA_MAX_REQUEST_BYTES)).toBeLessThanOrEqual(LAMBDA_MAX_PAYLOAD_BYTES);
  });

  it('would not fit the payload with a body 64 KiB larger: the limit is the payload less the headroom', () => {
    expect(eventBytes(LAMBDA_MAX_REQUEST_BYTES + 64 * 1024)).toBeGreaterThan(LAMBDA_MAX_PAYLOAD_BYTES);
  });
});
