/** CDK: context trustedProxies becomes TRUSTED_PROXIES on every API function (lambdas/http/public-uri.ts). */
import { describe, expect, it } from 'vitest';
import { ArchiveContextError } from '../../lib/archive-stack';
import { logicalId, synth, type Resources } from './helpers';

function apiVariables(context: Record<string, unknown>): Record<string, string>[] {
  const { stack, template } = synth(context);
  const resources = template.toJSON().Resources as Resources;
  return Object.values(stack.dicomweb.functions).map(
    (fn) => resources[logicalId(stack, fn)]!.Properties.Environment.Variables as Record<string, string>,
  );
}

describe('trusted proxies in the CDK stack (context trustedProxies)', { timeout: 120_000 }, () => {
  it('sets no TRUSTED_PROXIES by default, and the validated list when given', () => {
    for (const v of apiVariables({})) expect(v.TRUSTED_PROXIES).toBeUndefined();
    const variables = apiVariables({ trustedProxies: '*' });
    expect(variables.length).toBeGreaterThan(5);
    for (const v of variables) expect(v.TRUSTED_PROXIES).toBe('*');
  });

  it('refuses a malformed value before a deploy', () => {
    expect(() => synth({ trustedProxies: '10.0.0.0/33' })).toThrow(ArchiveContextError);
    expect(() => synth({ trustedProxies: 'proxy.example.org' })).toThrow(/context trustedProxies must be/);
  });
});
