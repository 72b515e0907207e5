/**
 * CDK: a send request's objects (its manifest and its batches' outcomes, under send-requests/) expire
 * the day after its result does (SEND_RESULT_TTL_SECONDS, context sendResultTtlSeconds), so a Send
 * leaves nothing in the bucket for good.
 */
import { describe, expect, it } from 'vitest';
import { logicalId, synth, type Resources } from './helpers';

function sendRequestsRule(context: Record<string, unknown> = {}) {
  const { stack, template } = synth(context);
  const resources = template.toJSON().Resources as Resources;
  const rules = resources[logicalId(stack, stack.storage.bucket)]!.Properties.LifecycleConfiguration.Rules as Record<string, unknown>[];
  return rules.filter((r) => r.Id === 'SendRequests');
}

describe("send requests' objects in the CDK stack", { timeout: 120_000 }, () => {
  it('expire a day after the result by default (7 days), and follow sendResultTtlSeconds', () => {
    expect(sendRequestsRule()).toEqual([
      {
        Id: 'SendRequests',
        Prefix: 'send-requests/',
        Status: 'Enabled',
        ExpirationInDays: 8,
        NoncurrentVersionExpiration: { NoncurrentDays: 1 },
      },
    ]);
    // 36 hours of result: read into the second day, so gone on the third.
    expect(sendRequestsRule({ sendResultTtlSeconds: '129600' })[0]!.ExpirationInDays).toBe(3);
  });
});
