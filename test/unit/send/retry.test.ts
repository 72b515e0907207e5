import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  faultName,
  isTransientFault,
  isTransientHttpStatus,
  parseRetryAfter,
  retryDelay,
  retrying,
  type RetryPolicy,
} from '../../../lambdas/send/retry';

const policy: RetryPolicy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000 };
const fetchFailed = (code: string) => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('x'), { code }) });

describe('transient faults', () => {
  it.each([500, 502, 503, 504, 429, 408])('HTTP %i is transient', (s) => expect(isTransientHttpStatus(s)).toBe(true));
  it.each([200, 202, 301, 400, 401, 404, 409, 415, 501, 505])('HTTP %i is not', (s) => expect(isTransientHttpStatus(s)).toBe(false));

  it('recognises connection faults through fetch cause chains and AggregateError', () => {
    expect(isTransientFault(fetchFailed('ECONNREFUSED'))).toBe(true);
    expect(isTransientFault(fetchFailed('UND_ERR_SOCKET'))).toBe(true);
    const aggregate = Object.assign(new TypeError('fetch failed'), {
      cause: new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })]),
    });
    expect(isTransientFault(aggregate)).toBe(true);
    expect(faultName(aggregate)).toBe('ECONNREFUSED');
    expect(isTransientFault(new DOMException('timed out', 'TimeoutError'))).toBe(true);
    expect(faultName(new DOMException('timed out', 'TimeoutError'))).toBe('timeout');
  });

  it('does not retry faults that will not go away', () => {
    expect(isTransientFault(fetchFailed('ENOTFOUND'))).toBe(false);
    expect(isTransientFault(fetchFailed('CERT_HAS_EXPIRED'))).toBe(false);
    expect(isTransientFault(new Error('plain'))).toBe(false);
    expect(faultName(fetchFailed('CERT_HAS_EXPIRED'))).toBe('CERT_HAS_EXPIRED');
  });
});

describe('Retry-After (RFC 9110 10.2.3)', () => {
  it('reads delay-seconds and HTTP-dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('backoff', () => {
  it('doubles per retry, stays within [ceiling/2, ceiling] and never exceeds the maximum', () => {
    expect(backoffDelay(policy, 1, () => 0)).toBe(50);
    expect(backoffDelay(policy, 1, () => 1)).toBe(100);
    expect(backoffDelay(policy, 3, () => 0)).toBe(200);
    expect(backoffDelay(policy, 3, () => 1)).toBe(400);
    expect(backoffDelay(policy, 20, () => 1)).toBe(1000);
  });

  it('waits at least what Retry-After asks, and gives up when it asks for more than the maximum', () => {
    expect(retryDelay(policy, 1, 700, () => 0)).toBe(700);
    expect(retryDelay(policy, 1, 0, () => 1)).toBe(100);
    expect(retryDelay(policy, 1, 5000)).toBeUndefined();
  });
});

describe('retrying', () => {
  const noSleep = { sleep: async () => {}, random: () => 0 };

  it('stops at the first result that is not transient', async () => {
    const seen: number[] = [];
    const r = await retrying(
      async (n) => (seen.push(n), n < 3 ? { result: `try ${n}`, transient: {} } : { result: 'done' }),
      policy,
      noSleep,
    );
    expect(r).toEqual({ result: 'done', attempts: 3 });
    expect(seen).toEqual([1, 2, 3]);
  });

  it('gives up after maxAttempts with the last result, sleeping the backoff between attempts', async () => {
    const waits: number[] = [];
    const r = await retrying(async (n) => ({ result: n, transient: {} }), policy, {
      sleep: async (ms) => void waits.push(ms),
      random: () => 0,
    });
    expect(r).toEqual({ result: 4, attempts: 4 });
    expect(waits).toEqual([50, 100, 200]);
  });

  it('gives up at once when Retry-After exceeds the policy', async () => {
    const r = await retrying(async (n) => ({ result: n, transient: { retryAfterMs: 60_000 } }), policy, noSleep);
    expect(r.attempts).toBe(1);
  });
});
