/** Unit: TRUSTED_PROXIES (lambdas/http/trusted-proxies.ts, lambdas/config.ts): parsing and CIDR matching. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../lambdas/config';
import { parseTrustedProxies, proxyTrust } from '../../../lambdas/http/trusted-proxies';

const base = { BUCKET_NAME: 'b', TABLE_NAME: 't' };

describe('TRUSTED_PROXIES', () => {
  it('trusts no peer by default', () => {
    expect(loadConfig(base).trustedProxies).toEqual([]);
    const trusts = proxyTrust(loadConfig(base).trustedProxies);
    expect(['127.0.0.1', '::1', '10.0.0.1'].map(trusts)).toEqual([false, false, false]);
  });

  it('takes addresses and CIDR blocks of both families, trimmed, without duplicates', () => {
    const entries = loadConfig({ ...base, TRUSTED_PROXIES: ' 127.0.0.1, ::1,10.0.0.0/8 ,fd00::/8,10.0.0.0/8' }).trustedProxies;
    expect(entries).toEqual(['127.0.0.1', '::1', '10.0.0.0/8', 'fd00::/8']);
    const trusts = proxyTrust(entries);
    expect(trusts('127.0.0.1')).toBe(true);
    expect(trusts('127.0.0.2')).toBe(false);
    expect(trusts('::1')).toBe(true);
    expect(trusts('10.255.3.4')).toBe(true);
    expect(trusts('11.0.0.1')).toBe(false);
    expect(trusts('fd12:3456::1')).toBe(true);
    expect(trusts('fe80::1')).toBe(false);
    // A dual-stack socket's IPv4-mapped address matches the IPv4 entries; a zone is not part of the address.
    expect(trusts('::ffff:10.1.2.3')).toBe(true);
    expect(trusts('::ffff:192.168.0.1')).toBe(false);
    expect(trusts('::1%lo')).toBe(true);
    // No peer, or something that is not an address, is never trusted.
    expect([undefined, '', 'unknown', '_hidden', 'localhost'].map(trusts)).toEqual([false, false, false, false, false]);
  });

  it('matches CIDR boundaries exactly', () => {
    const trusts = proxyTrust(parseTrustedProxies('192.168.1.128/25,2001:db8::/32'));
    expect(trusts('192.168.1.127')).toBe(false);
    expect(trusts('192.168.1.128')).toBe(true);
    expect(trusts('192.168.1.255')).toBe(true);
    expect(trusts('192.168.2.0')).toBe(false);
    expect(trusts('2001:db8:ffff:ffff::1')).toBe(true);
    expect(trusts('2001:db9::1')).toBe(false);
    expect(proxyTrust(parseTrustedProxies('0.0.0.0/0'))('203.0.113.9')).toBe(true);
    expect(proxyTrust(parseTrustedProxies('0.0.0.0/0'))('2001:db8::1')).toBe(false);
  });

  it("'*' trusts every peer, even one without an address", () => {
    const trusts = proxyTrust(loadConfig({ ...base, TRUSTED_PROXIES: '*' }).trustedProxies);
    expect(['203.0.113.9', '2001:db8::1', undefined].map(trusts)).toEqual([true, true, true]);
  });

  it.each([
    ['localhost', /"localhost" is not an IPv4 or IPv6 address or CIDR block/],
    ['10.0.0.0/33', /"10.0.0.0\/33": the prefix length must be 0 to 32/],
    ['::1/129', /must be 0 to 128/],
    ['10.0.0.0/8/8', /not an IPv4 or IPv6 address/],
    ['10.0.0.0/', /prefix length/],
    ['10.0.0.0/-1', /prefix length/],
    ['256.0.0.1', /not an IPv4 or IPv6 address/],
    ['*,10.0.0.1', /'\*' \(every peer\) cannot be combined/],
  ])('refuses %s: the archive does not start', (value, message) => {
    expect(() => loadConfig({ ...base, TRUSTED_PROXIES: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, TRUSTED_PROXIES: value })).toThrow(/^TRUSTED_PROXIES: /);
    expect(() => loadConfig({ ...base, TRUSTED_PROXIES: value })).toThrow(message);
  });
});
