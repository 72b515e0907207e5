/**
 * Unit: share tokens (dws_<id>_<secret>, apart from API keys) and the lifetime grammar of share links
 * (<N>h, <N>d, <N>w), with SHARE_MAX_EXPIRY read by the configuration.
 */
import { describe, expect, it } from 'vitest';
import { looksLikeApiKey, newApiKey, parseApiKey } from '../../../lambdas/auth/api-keys';
import { formatLifetime, looksLikeShareToken, newShareToken, parseLifetime, parseShareToken } from '../../../lambdas/auth/share-tokens';
import { ConfigError, loadConfig } from '../../../lambdas/config';

describe('share tokens', () => {
  it('are dws_<12 letters or digits>_<64 hex digits>, read back as their id and secret', () => {
    const token = newShareToken();
    expect(token.key).toMatch(/^dws_[a-z0-9]{12}_[0-9a-f]{64}$/);
    expect(parseShareToken(token.key)).toEqual({ id: token.id, secret: token.secret });
    expect(looksLikeShareToken(token.key)).toBe(true);
  });

  it('are never taken for an API key, nor an API key for one', () => {
    const token = newShareToken();
    const key = newApiKey();
    expect(looksLikeApiKey(token.key)).toBe(false);
    expect(parseApiKey(token.key)).toBeUndefined();
    expect(looksLikeShareToken(key.key)).toBe(false);
    expect(parseShareToken(key.key)).toBeUndefined();
  });

  it.each([
    'dws_',
    'dws_ABCDEFGHIJKL_' + '0'.repeat(64),
    `dws_abc_${'0'.repeat(64)}`,
    `dws_abcdefghijkl_${'0'.repeat(63)}`,
    `x${newShareToken().key}`,
  ])('refuses the malformed %s', (value) => expect(parseShareToken(value)).toBeUndefined());
});

describe('share link lifetimes', () => {
  it.each([
    ['1h', 3600],
    ['36h', 36 * 3600],
    ['7d', 7 * 86400],
    ['2w', 14 * 86400],
  ])('reads %s as %i seconds', (text, seconds) => {
    expect(parseLifetime(text)).toBe(seconds);
    expect(parseLifetime(formatLifetime(seconds))).toBe(seconds);
  });

  it.each(['', '7', 'd', '0d', '-1d', '1.5d', '7 days', '7D', '30m', '10s', '1y', '1234567d'])('refuses "%s"', (text) => {
    expect(parseLifetime(text)).toBeUndefined();
  });

  it('bounds links by SHARE_MAX_EXPIRY, 30 days unless set, a ConfigError when malformed', () => {
    const env = { BUCKET_NAME: 'b', TABLE_NAME: 't' };
    expect(loadConfig(env).shareMaxExpirySeconds).toBe(30 * 86400);
    expect(loadConfig({ ...env, SHARE_MAX_EXPIRY: '2w' }).shareMaxExpirySeconds).toBe(14 * 86400);
    expect(() => loadConfig({ ...env, SHARE_MAX_EXPIRY: '1 month' })).toThrow(ConfigError);
  });
});
