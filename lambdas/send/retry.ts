/**
 * Retry policy of Send sub-operations: which faults are transient, how long to wait (exponential
 * backoff with bounded jitter, at least what Retry-After asks), and how many times. Warnings are a
 * partial success and are never retried (PS3.4 C.4.2.3.1.1.7); only the caller decides what is
 * transient, using the predicates below.
 */

import { setTimeout as delay } from 'node:timers/promises';

export interface RetryPolicy {
  /** Attempts in all, the first one included. */
  readonly maxAttempts: number;
  /** Backoff before the first retry; doubles with each retry. */
  readonly baseDelayMs: number;
  /** No single wait is longer; a Retry-After asking for more ends the retries. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 20_000 };

/**
 * HTTP statuses that may succeed when repeated: 408 and 429 (RFC 9110 15.5.9, RFC 6585 4) and the
 * server errors except 501 and 505, which will not change (RFC 9110 15.6).
 */
export function isTransientHttpStatus(status: number): boolean {
  if (status === 408 || status === 429) return true;
  return status >= 500 && status <= 599 && status !== 501 && status !== 505;
}

/** Network error codes (Node and undici) after which a new connection may well succeed. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * A short, log-safe name of a transport fault (an error code such as ECONNREFUSED, or "timeout"),
 * looking through `cause` chains and AggregateError members as fetch reports them.
 */
export function faultName(err: unknown): string {
  return faultCodes(err)[0] ?? (err instanceof Error ? err.name : 'unknown');
}

/** True when a thrown transport fault is worth another attempt. */
export function isTransientFault(err: unknown): boolean {
  return faultCodes(err).some((c) => c === 'timeout' || TRANSIENT_CODES.has(c));
}

function faultCodes(err: unknown, depth = 0): string[] {
  if (typeof err !== 'object' || err === null || depth > 5) return [];
  const e = err as { name?: unknown; code?: unknown; cause?: unknown; errors?: unknown };
  const own: string[] = [];
  // AbortSignal.timeout() aborts with a DOMException named TimeoutError.
  if (e.name === 'TimeoutError') own.push('timeout');
  if (typeof e.code === 'string') own.push(e.code);
  const nested = [e.cause, ...(Array.isArray(e.errors) ? e.errors : [])].flatMap((c) => faultCodes(c, depth + 1));
  return [...own, ...nested];
}

/**
 * Retry-After (RFC 9110 10.2.3): delay-seconds or an HTTP-date, in milliseconds from `nowMs`;
 * undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * Backoff before retry number `retry` (1 for the first retry): base * 2^(retry-1), capped at
 * maxDelayMs, of which the upper half is random ("equal jitter"), so concurrent batches spread out
 * but never retry immediately.
 */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Wait before retry number `retry`: the backoff, and at least what the server asked with Retry-After.
 * Undefined (do not retry) when the server asks for longer than the policy's longest wait.
 */
export function retryDelay(
  policy: RetryPolicy,
  retry: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number | undefined {
  if (retryAfterMs !== undefined && retryAfterMs > policy.maxDelayMs) return undefined;
  return Math.max(retryAfterMs ?? 0, backoffDelay(policy, retry, random));
}

/** One attempt's result; `transient` when repeating the attempt may give another result. */
export interface Attempt<T> {
  readonly result: T;
  readonly transient?: { readonly retryAfterMs?: number };
}

export interface RetryDeps {
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/**
 * Runs `attempt` until it gives a result that is not transient, the attempts are used up, or a
 * Retry-After exceeds the policy; returns the last result and the number of attempts made.
 */
export async function retrying<T>(
  attempt: (n: number) => Promise<Attempt<T>>,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  deps: RetryDeps = {},
): Promise<{ result: T; attempts: number }> {
  const sleep = deps.sleep ?? ((ms: number) => delay(ms));
  for (let n = 1; ; n++) {
    const { result, transient } = await attempt(n);
    if (!transient || n >= policy.maxAttempts) return { result, attempts: n };
    const wait = retryDelay(policy, n, transient.retryAfterMs, deps.random);
    if (wait === undefined) return { result, attempts: n };
    await sleep(wait);
  }
}
