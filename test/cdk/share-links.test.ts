/** CDK: context shareMaxExpiry becomes SHARE_MAX_EXPIRY on every API function (docs/security.md, "Share links"). */
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

describe('share links in the CDK stack (context shareMaxExpiry)', { timeout: 120_000 }, () => {
  it('sets no SHARE_MAX_EXPIRY by default (30 days), and the lifetime when given', () => {
    for (const v of apiVariables({})) expect(v.SHARE_MAX_EXPIRY).toBeUndefined();
    const variables = apiVariables({ shareMaxExpiry: '2w' });
    expect(variables.length).toBeGreaterThan(5);
    for (const v of variables) expect(v.SHARE_MAX_EXPIRY).toBe('2w');
  });

  it('refuses a malformed lifetime before a deploy', () => {
    expect(() => synth({ shareMaxExpiry: '1 month' })).toThrow(ArchiveContextError);
    expect(() => synth({ shareMaxExpiry: 30 })).toThrow(/context shareMaxExpiry must be <N>h, <N>d or <N>w/);
  });
});
