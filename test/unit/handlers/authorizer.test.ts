/**
 * Unit: the API Gateway REQUEST authorizer (lambdas/handlers/authorizer.ts): Allow on the whole stage
 * with our context, "Unauthorized" (401) for a bad credential, another error (fail closed) when the
 * credential cannot be checked, and nothing of the credential in the answer or the logs.
 */
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { hashSecret, newApiKey } from '../../../lambdas/auth/api-keys';
import { fromAuthorizerContext } from '../../../lambdas/auth/authorizer-context';
import { loadConfig } from '../../../lambdas/config';
import { authorizerHandler, wholeApiArn } from '../../../lambdas/handlers/authorizer';
import type { ApiClient } from '../../../lambdas/storage/ports';
import { StorageUnavailableError } from '../../../lambdas/storage/errors';
import { MemoryClientStore } from '../../support/memory-clients';
import { MemoryShareLinkStore } from '../../support/memory-share-links';
import { newShareToken } from '../../../lambdas/auth/share-tokens';

const TOKEN = 'authorizer-static-token';
const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/GET/studies/1.2.3/series';

function event(headers: Record<string, string>): APIGatewayRequestAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn: METHOD_ARN,
    resource: '/studies/{study}/series',
    path: '/studies/1.2.3/series',
    httpMethod: 'GET',
    headers,
    multiValueHeaders: null,
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: {} as APIGatewayRequestAuthorizerEvent['requestContext'],
  };
}

const logs: string[] = [];
beforeEach(() => {
  logs.length = 0;
  for (const method of ['log', 'info', 'warn', 'error'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void logs.push(args.map(String).join(' ')));
  }
});
afterEach(() => vi.restoreAllMocks());

describe('wholeApiArn', () => {
  it('allows every method and path of the stage', () => {
    expect(wholeApiArn(METHOD_ARN)).toBe('arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/*/*');
    expect(wholeApiArn('arn:aws-cn:execute-api:cn-north-1:1:api/stage/OPTIONS/')).toBe('arn:aws-cn:execute-api:cn-north-1:1:api/stage/*/*');
    expect(() => wholeApiArn('arn:aws:lambda:eu-west-1:1:function:x')).toThrow(/unexpected methodArn/);
  });
});

describe('the authorizer', () => {
  const key = newApiKey();
  const client: ApiClient = {
    id: key.id,
    name: 'pacs',
    scopes: ['write'],
    secretHash: hashSecret(key.secret),
    createdAt: '2026-01-01T00:00:00Z',
  };
  const clientStore = new MemoryClientStore();
  beforeAll(() => clientStore.create(client));
  const config = loadConfig({ BUCKET_NAME: 'b', TABLE_NAME: 't', AUTH: 'token,api-keys', AUTH_TOKEN: TOKEN, CLIENTS_TABLE_NAME: 'c' });
  const handler = authorizerHandler(() => ({ config, clientStore }));

  it('allows the whole stage with the context every function trusts', async () => {
    const result = await handler(event({ authorization: `Bearer ${TOKEN}` }));
    expect(result.principalId).toBe('static-token');
    expect(result.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: 'arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/*/*' },
    ]);
    expect(result.context).toMatchObject({ mechanism: 'token', principal: 'static-token', scopes: 'read write delete send share admin' });
    expect(fromAuthorizerContext(result.context)?.scopes).toEqual(['read', 'write', 'delete', 'send', 'share', 'admin']);
    expect(JSON.stringify(result)).not.toContain(TOKEN);
  });

  it('reads the header whatever the case of its name, and API keys by Basic', async () => {
    const basic = `Basic ${Buffer.from(`pacs:${key.key}`).toString('base64')}`;
    const result = await handler(event({ AUTHORIZATION: basic }));
    expect(result.context).toMatchObject({ mechanism: 'api-keys', principal: key.id, scopes: 'write' });
    expect(JSON.stringify(result)).not.toContain(key.secret);
  });

  it.each([
    ['no header', {}],
    ['another token', { Authorization: 'Bearer not-the-token' }],
    ['a malformed header', { Authorization: 'Bearer' }],
    ['a wrong Basic user', { Authorization: `Basic ${Buffer.from(`other:${key.key}`).toString('base64')}` }],
  ])('throws "Unauthorized" (API Gateway answers 401) for %s', async (_, headers: Record<string, string>) => {
    await expect(handler(event(headers))).rejects.toThrow(/^Unauthorized$/);
    expect(logs.join('\n')).not.toContain(key.secret);
    expect(logs.join('\n')).not.toContain('not-the-token');
  });

  it('fails closed with another error when the credential cannot be checked now', async () => {
    vi.spyOn(clientStore, 'get').mockRejectedValue(new StorageUnavailableError('DynamoDB is unavailable, retry later'));
    const other = newApiKey().key;
    const error = await handler(event({ Authorization: `Bearer ${other}` })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).not.toBe('Unauthorized');
    expect(logs.join('\n')).toMatch(/cannot check the credential/);
    expect(logs.join('\n')).not.toContain(other);
  });
});

describe('the authorizer with a share token', () => {
  const token = newShareToken();
  const STUDY = '1.2.826.0.1.3680043.8.498.9';
  const shareLinkStore = new MemoryShareLinkStore();
  beforeAll(() =>
    shareLinkStore.create({
      id: token.id,
      secretHash: hashSecret(token.secret),
      studyInstanceUID: STUDY,
      createdAt: '2026-01-01T00:00:00.000Z',
      createdBy: 'oidc:alice',
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      useCount: 0,
    }),
  );
  const config = loadConfig({ BUCKET_NAME: 'b', TABLE_NAME: 't', AUTH: 'oidc', OIDC_ISSUER: 'https://idp.invalid', OIDC_AUDIENCE: 'a' });
  const handler = authorizerHandler(() => ({ config, shareLinkStore }));

  it('passes the link, read and its study in the context, which the functions read back', async () => {
    const result = await handler(event({ authorization: `Bearer ${token.key}` }));
    expect(result.context).toMatchObject({ mechanism: 'share', principal: token.id, scopes: 'read', study: STUDY });
    expect(fromAuthorizerContext(result.context)).toMatchObject({ mechanism: 'share', scopes: ['read'], study: STUDY });
    expect(JSON.stringify(result)).not.toContain(token.secret);
    expect((await shareLinkStore.get(token.id))?.useCount).toBe(1);
  });
});
