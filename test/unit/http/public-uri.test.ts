/** Unit: the public base URL of every URI the archive writes (lambdas/http/public-uri.ts). */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { toDicomwebRequest } from '../../../lambdas/http/proxy';
import { forwardedElements, publicBaseUrlOf, validHost, validPrefix } from '../../../lambdas/http/public-uri';
import { parseTrustedProxies } from '../../../lambdas/http/trusted-proxies';
import { proxyEvent } from '../../support/proxy-event';

const PROXY = '10.0.0.5';
const CLIENT = '203.0.113.7';

/** A QIDO request as the edge hands it over: Host of the archive, the edge's scheme last in X-Forwarded-Proto. */
function event(headers: Record<string, string>, sourceIp = PROXY, stage?: string): APIGatewayProxyEvent {
  return proxyEvent({
    method: 'GET',
    resource: '/studies',
    headers: { Host: '127.0.0.1:8080', 'X-Forwarded-Proto': 'http', ...headers },
    requestContext: { identity: { sourceIp } as APIGatewayProxyEvent['requestContext']['identity'], path: `${stage ?? ''}/studies` },
  });
}

const base = (e: APIGatewayProxyEvent, trusted = '10.0.0.0/8', publicBaseUrl?: string) =>
  toDicomwebRequest(e, { trustedProxies: parseTrustedProxies(trusted), publicBaseUrl }).baseUrl;

const X_FORWARDED = {
  'X-Forwarded-Host': 'pacs.example.org',
  'X-Forwarded-Proto': 'https, http',
  'X-Forwarded-Prefix': '/pacs',
};

describe('publicBaseUrlOf', () => {
  it('is the request itself without forwarded headers: the edge scheme, Host and the stage prefix', () => {
    expect(base(event({}))).toBe('http://127.0.0.1:8080');
    expect(base(event({ Host: 'abc.execute-api.eu-west-1.amazonaws.com', 'X-Forwarded-Proto': 'https' }, CLIENT, '/prod'))).toBe(
      'https://abc.execute-api.eu-west-1.amazonaws.com/prod',
    );
    // Neither a scheme nor a Host (a direct invocation): https://localhost.
    expect(publicBaseUrlOf(event({}), {})).toBe('https://localhost');
  });

  it('PUBLIC_BASE_URL comes first, whatever the peer forwarded', () => {
    expect(base(event(X_FORWARDED), '*', 'https://archive.example.org/dicomweb')).toBe('https://archive.example.org/dicomweb');
  });

  it('takes X-Forwarded-Host, -Proto and -Prefix of a trusted peer, the prefix in place of the stage', () => {
    expect(base(event(X_FORWARDED))).toBe('https://pacs.example.org/pacs');
    expect(base(event(X_FORWARDED, PROXY, '/prod'))).toBe('https://pacs.example.org/pacs');
    expect(base(event({ ...X_FORWARDED, 'X-Forwarded-Prefix': '/' }, PROXY, '/prod'))).toBe('https://pacs.example.org');
    expect(base(event({ ...X_FORWARDED, 'X-Forwarded-Prefix': '/a/b%20c/' }))).toBe('https://pacs.example.org/a/b%20c');
    // Without a forwarded prefix, the stage prefix stays; without a forwarded host, Host stays.
    expect(base(event({ 'X-Forwarded-Host': 'pacs.example.org:8443' }, PROXY, '/prod'))).toBe('http://pacs.example.org:8443/prod');
    expect(base(event({ 'X-Forwarded-Prefix': '/pacs' }))).toBe('http://127.0.0.1:8080/pacs');
    // Lists: the leftmost element, the address the client used.
    expect(base(event({ 'X-Forwarded-Host': 'a.example.org, b.internal', 'X-Forwarded-Proto': 'https, http, http' }))).toBe(
      'https://a.example.org',
    );
  });

  it('behind CloudFront in front of an API Gateway stage (TRUSTED_PROXIES=*, origin custom headers)', () => {
    const cloudfront = event(
      {
        Host: 'abc123.execute-api.eu-west-1.amazonaws.com',
        'X-Forwarded-Proto': 'https',
        'X-Forwarded-Host': 'd111111abcdef8.cloudfront.net',
        'X-Forwarded-Prefix': '/api',
      },
      '130.176.0.1',
      '/prod',
    );
    expect(base(cloudfront, '*')).toBe('https://d111111abcdef8.cloudfront.net/api');
    // Reached directly (not through CloudFront) with TRUSTED_PROXIES unset: the stage's own address.
    expect(base(cloudfront, '')).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com/prod');
  });

  it("X-Forwarded-Proto's last element is the edge's own: alone, it is not a forwarded scheme", () => {
    expect(base(event({ 'X-Forwarded-Proto': 'https' }))).toBe('https://127.0.0.1:8080');
    expect(base(event({ 'X-Forwarded-Host': 'pacs.example.org', 'X-Forwarded-Proto': 'http' }))).toBe('http://pacs.example.org');
  });

  it('ignores every forwarded header of a peer that is not trusted, and of any peer by default', () => {
    const headers = { ...X_FORWARDED, Forwarded: 'for=198.51.100.1;host=evil.example;proto=https' };
    expect(base(event(headers, CLIENT))).toBe('http://127.0.0.1:8080');
    expect(base(event(headers), '')).toBe('http://127.0.0.1:8080');
    expect(toDicomwebRequest(event(headers)).baseUrl).toBe('http://127.0.0.1:8080');
    expect(base(event(headers, CLIENT), '*')).toBe('https://evil.example/pacs');
  });

  it('takes RFC 7239 Forwarded host and proto, before X-Forwarded-*', () => {
    expect(base(event({ Forwarded: `for=${CLIENT};host=pacs.example.org;proto=https` }))).toBe('https://pacs.example.org');
    expect(base(event({ Forwarded: 'For="[2001:db8:cafe::17]:4711";Host="pacs.example.org:8443";Proto=https', ...X_FORWARDED }))).toBe(
      'https://pacs.example.org:8443/pacs',
    );
    expect(base(event({ Forwarded: `for=${CLIENT};host="[2001:db8::1]:443";proto=https` }))).toBe('https://[2001:db8::1]:443');
    // An element without host: X-Forwarded-Host, then Host.
    expect(base(event({ Forwarded: `for=${CLIENT};proto=https`, 'X-Forwarded-Host': 'x.example.org' }))).toBe('https://x.example.org');
    expect(base(event({ Forwarded: `for=${CLIENT};proto=https` }))).toBe('https://127.0.0.1:8080');
  });

  it('walks Forwarded from the right while the element comes from a trusted proxy (the rule of the chain)', () => {
    // The client reached proxy 10.0.0.9, which reached proxy 10.0.0.5 (the peer): the leftmost element counts.
    const chain = `for=${CLIENT};host=public.example.org;proto=https, for=10.0.0.9;host=inner.internal;proto=http`;
    expect(base(event({ Forwarded: chain }))).toBe('https://public.example.org');
    // The peer trusts nobody before it: only its own element, naming the untrusted 192.0.2.1.
    const spoofed = `for=${CLIENT};host=evil.example;proto=https, for=192.0.2.1;host=inner.example.org;proto=http`;
    expect(base(event({ Forwarded: spoofed }))).toBe('http://inner.example.org');
    // An unknown or obfuscated node is not a trusted proxy: the walk stops there.
    expect(base(event({ Forwarded: `host=evil.example, for=unknown;host=ok.example.org, for=_hidden;host=ok2.example.org` }))).toBe(
      'http://ok2.example.org',
    );
    // With '*', the leftmost element.
    expect(base(event({ Forwarded: spoofed }), '*')).toBe('https://evil.example');
    // Several Forwarded fields are one list, in order (RFC 7239 4).
    const multi = { ...event({}), multiValueHeaders: { Forwarded: [`for=${CLIENT};host=a.example.org`, 'for=10.0.0.9;host=b.internal'] } };
    expect(base(multi)).toBe('http://a.example.org');
  });

  it.each([
    ['X-Forwarded-Host', 'evil.example/path'],
    ['X-Forwarded-Host', 'evil.example"><x'],
    ['X-Forwarded-Host', 'user@evil.example'],
    ['X-Forwarded-Host', 'evil.example:99999'],
    ['X-Forwarded-Host', '[not-v6]'],
    ['X-Forwarded-Host', ''],
    ['X-Forwarded-Proto', 'javascript, http'],
    ['X-Forwarded-Proto', 'ftp, http'],
    ['X-Forwarded-Prefix', 'pacs'],
    ['X-Forwarded-Prefix', '//evil.example'],
    ['X-Forwarded-Prefix', '/pacs/../admin'],
    ['X-Forwarded-Prefix', '/pa cs'],
    ['X-Forwarded-Prefix', '/pacs?x=1'],
    ['X-Forwarded-Prefix', '/pacs#x'],
    ['X-Forwarded-Prefix', '/%zz'],
    ['Forwarded', 'host=evil.example/x;proto=gopher'],
    ['Forwarded', 'host="a b";proto="http s"'],
  ])('ignores %s: %j, for the request own value', (name, value) => {
    expect(base(event({ [name]: value }))).toBe('http://127.0.0.1:8080');
  });

  it('a Host header that is not host[:port] is not written into URIs', () => {
    expect(base(event({ Host: 'evil.example/x?' }), '')).toBe('http://localhost');
  });
});

describe('forwardedElements', () => {
  it('parses tokens and quoted strings holding , and ;', () => {
    expect(forwardedElements('for="_a,b;c";host=x.example, proto=https;for=1.2.3.4')).toEqual([
      { for: '_a,b;c', host: 'x.example' },
      { proto: 'https', for: '1.2.3.4' },
    ]);
    expect(forwardedElements('for="\\"q\\""')).toEqual([{ for: '"q"' }]);
    expect(forwardedElements(undefined)).toEqual([]);
    expect(forwardedElements('  ')).toEqual([]);
  });
});

describe('validHost / validPrefix', () => {
  it('keep what RFC 3986 allows', () => {
    expect(['a.example.org', 'a-b.example:8080', '10.0.0.1:1', '[::1]:8080', '[2001:db8::1]'].map(validHost)).toEqual([
      'a.example.org',
      'a-b.example:8080',
      '10.0.0.1:1',
      '[::1]:8080',
      '[2001:db8::1]',
    ]);
    expect(['/', '/pacs', '/pacs/', '/a/b', "/a:b@c!$&'()*+,;=~"].map(validPrefix)).toEqual([
      '',
      '/pacs',
      '/pacs',
      '/a/b',
      "/a:b@c!$&'()*+,;=~",
    ]);
  });
});
