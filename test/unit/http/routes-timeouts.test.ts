/**
 * The function groups' timeouts against what API Gateway and Lambda allow, derived from the route
 * table: a streamed response of MAX_RESPONSE_BYTES ends before its function times out, and a buffered
 * function (a cold start included) answers before API Gateway's 29 s.
 */
import { describe, expect, it } from 'vitest';
import { LAMBDA_MAX_STREAMED_RESPONSE_BYTES, loadConfig, SEND_WAIT_MS_MAX } from '../../../lambdas/config';
import {
  API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS,
  functionGroups,
  integrationTimeoutSeconds,
  LAMBDA_MAX_INIT_SECONDS,
  type FunctionGroup,
} from '../../../lambdas/http/routes';

/**
 * Lambda, "Bandwidth limits for response streaming": the first 6 MB uncapped, then at most 2 MBps
 * (API Gateway's own cap, "Stream the integration response", begins later, at 10 MB). Read as decimal
 * megabytes, the lower of the two readings.
 */
const UNCAPPED_STREAM_BYTES = 6_000_000;
const CAPPED_STREAM_BYTES_PER_SECOND = 2_000_000;
/** API Gateway, "Stream the integration response": a stream lasts at most 15 minutes. */
const MAX_STREAM_SECONDS = 15 * 60;
/** Before the first byte: a cold start's init and the handler's index and object reads. */
const FIRST_BYTE_MARGIN_SECONDS = LAMBDA_MAX_INIT_SECONDS + 20;
/** The invoke itself (API Gateway to Lambda and back) within the gateway's wait. */
const INVOKE_MARGIN_SECONDS = 1;

const groups = Object.keys(functionGroups) as FunctionGroup[];
const streaming = groups.filter((g) => functionGroups[g].streaming);
const buffered = groups.filter((g) => !functionGroups[g].streaming);

describe('function group timeouts', () => {
  it('has streaming and buffered groups to check', () => {
    expect(streaming).toEqual(expect.arrayContaining(['retrieve', 'npi']));
    expect(buffered).toEqual(expect.arrayContaining(['store', 'search', 'send', 'delete']));
  });

  it.each(streaming)('streams MAX_RESPONSE_BYTES within the %s function and integration timeout', (group) => {
    const spec = functionGroups[group];
    const streamable = UNCAPPED_STREAM_BYTES + (spec.timeoutSeconds - FIRST_BYTE_MARGIN_SECONDS) * CAPPED_STREAM_BYTES_PER_SECOND;
    expect(streamable).toBeGreaterThanOrEqual(LAMBDA_MAX_STREAMED_RESPONSE_BYTES);
    expect(streamable).toBeGreaterThanOrEqual(loadConfig({ BUCKET_NAME: 'b', TABLE_NAME: 't' }).maxResponseBytes);
    expect(integrationTimeoutSeconds(spec)).toBe(spec.timeoutSeconds);
    expect(spec.timeoutSeconds).toBeLessThanOrEqual(MAX_STREAM_SECONDS);
  });

  it.each(buffered)('answers within API Gateway 29 s from the %s function, a cold start included', (group) => {
    const spec = functionGroups[group];
    expect(integrationTimeoutSeconds(spec)).toBe(API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS);
    expect(spec.timeoutSeconds + LAMBDA_MAX_INIT_SECONDS + INVOKE_MARGIN_SECONDS).toBeLessThanOrEqual(
      API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS,
    );
  });

  it("fits Send's bounded wait (SEND_WAIT_MS) in the send function's timeout, with time to write and answer", () => {
    const rest = 5_000;
    expect(SEND_WAIT_MS_MAX + rest).toBeLessThanOrEqual(functionGroups.send.timeoutSeconds * 1000);
    expect(loadConfig({ BUCKET_NAME: 'b', TABLE_NAME: 't' }).sendWaitMs).toBeLessThanOrEqual(SEND_WAIT_MS_MAX);
    expect(() => loadConfig({ BUCKET_NAME: 'b', TABLE_NAME: 't', SEND_WAIT_MS: String(SEND_WAIT_MS_MAX + 1) })).toThrow(
      /SEND_WAIT_MS must be at most/,
    );
  });
});
