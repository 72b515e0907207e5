/**
 * Unit: the claims rules of lambdas/auth/oidc-verifier.ts that need no keys: which scopes a token
 * holds, and whether it is meant for this archive. Signature, issuer and expiry are tested against a
 * real provider in test/integration/auth/oidc-verifier.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { audienceMatches, tokenScopes } from '../../../lambdas/auth/oidc-verifier';

describe('tokenScopes', () => {
  it('reads scope (space-separated), scp (string or array) and roles (array)', () => {
    expect(tokenScopes({ scope: 'openid read  write profile' }, '')).toEqual(['read', 'write']);
    expect(tokenScopes({ scp: 'send delete' }, '')).toEqual(['delete', 'send']);
    expect(tokenScopes({ scp: ['admin', 'read'] }, '')).toEqual(['read', 'admin']);
    expect(tokenScopes({ roles: ['write', 'Archive.Admin'] }, '')).toEqual(['write']);
    expect(tokenScopes({ scope: 'read', scp: ['write'], roles: ['send'] }, '')).toEqual(['read', 'write', 'send']);
  });

  it('counts a scope only with the configured prefix (a Cognito resource server)', () => {
    expect(tokenScopes({ scope: 'dicomweb/read dicomweb/write read admin' }, 'dicomweb/')).toEqual(['read', 'write']);
    expect(tokenScopes({ scope: 'other/read' }, 'dicomweb/')).toEqual([]);
    expect(tokenScopes({ roles: ['api://archive/send'] }, 'api://archive/')).toEqual(['send']);
  });

  it('ignores what is not a scope of the archive and claims of the wrong type', () => {
    expect(tokenScopes({ scope: 'READ Read reader openid' }, '')).toEqual([]);
    expect(tokenScopes({ scope: 42, scp: { read: true }, roles: 'read' } as never, '')).toEqual(['read']);
    expect(tokenScopes({ roles: [1, null, 'read'] } as never, '')).toEqual(['read']);
    expect(tokenScopes({}, '')).toEqual([]);
  });

  it('does not let one roles entry with spaces grant several scopes', () => {
    expect(tokenScopes({ roles: ['read write'] }, '')).toEqual([]);
  });
});

describe('audienceMatches', () => {
  const ours = ['https://archive.example.org', 'cognito-app-client'];

  it('accepts aud as a string or an array holding one of ours', () => {
    expect(audienceMatches({ aud: 'https://archive.example.org' }, ours)).toBe(true);
    expect(audienceMatches({ aud: ['https://other.example.org', 'cognito-app-client'] }, ours)).toBe(true);
  });

  it('accepts a Cognito access token, which carries client_id and no aud', () => {
    expect(audienceMatches({ client_id: 'cognito-app-client' }, ours)).toBe(true);
  });

  it('refuses another audience, none, and near misses', () => {
    expect(audienceMatches({ aud: 'https://other.example.org' }, ours)).toBe(false);
    expect(audienceMatches({ aud: 'https://archive.example.org/' }, ours)).toBe(false);
    expect(audienceMatches({ client_id: 'another-client' }, ours)).toBe(false);
    expect(audienceMatches({}, ours)).toBe(false);
    expect(audienceMatches({ aud: [] }, ours)).toBe(false);
  });
});
