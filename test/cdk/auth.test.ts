/**
 * CDK: authentication (context auth, lib/auth-context.ts, lib/constructs/auth.ts): with auth=oidc the
 * stack's own user pool (hosted domain, resource server, code + PKCE and client credentials clients)
 * or an external issuer, the Lambda REQUEST authorizer on every method, the settings every function
 * gets, the 401/403 gateway responses and the outputs; auth=iam and auth=none; bad context refused.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { SCOPES } from '../../lambdas/auth/scopes';
import { ArchiveContextError } from '../../lib/archive-stack';
import { logicalId, methodsOf, policyActions, policyStatements, synth, type Resources } from './helpers';

const VIEWER = 'https://viewer.example.org';
const OKTA = 'https://example.okta.com/oauth2/default';

const ofType = (template: Template, type: string) =>
  Object.entries(template.toJSON().Resources as Resources).filter(([, r]) => r.Type === type);

/** The environment of every DICOMweb function and of the authorizer, by construct id. */
function environments(stack: ReturnType<typeof synth>['stack'], template: Template) {
  const resources = template.toJSON().Resources as Resources;
  const variables = (fn: Parameters<typeof logicalId>[1]) =>
    resources[logicalId(stack, fn)]!.Properties.Environment.Variables as Record<string, unknown>;
  const functions = Object.fromEntries(Object.entries(stack.dicomweb.functions).map(([group, fn]) => [group, variables(fn)]));
  const fn = stack.dicomweb.auth.authorizerFunction;
  return { functions, authorizer: fn ? variables(fn) : undefined };
}

describe("auth=oidc with the stack's own user pool (the default)", { timeout: 120_000 }, () => {
  const { stack, template } = synth({
    oauthCallbackUrls: `${VIEWER}/callback,http://localhost:3000/callback`,
    oauthLogoutUrls: `${VIEWER}/`,
  });
  const pool = stack.dicomweb.auth.userPool!;
  const poolId = logicalId(stack, pool.userPool);
  const clients = Object.fromEntries(ofType(template, 'AWS::Cognito::UserPoolClient'));
  const browser = clients[logicalId(stack, pool.browserClient)]!.Properties;
  const machine = clients[logicalId(stack, pool.machineClient)]!.Properties;
  const [[serverId, server]] = ofType(template, 'AWS::Cognito::UserPoolResourceServer') as [[string, Resources[string]]];
  const archiveScopes = SCOPES.map((s) => ({ 'Fn::Join': ['', [{ Ref: serverId }, `/${s}`]] }));

  it('creates one pool without self sign-up, with a hosted domain named after stack and account', () => {
    template.resourceCountIs('AWS::Cognito::UserPool', 1);
    template.hasResourceProperties('AWS::Cognito::UserPool', { AdminCreateUserConfig: { AllowAdminCreateUserOnly: true } });
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      Domain: { 'Fn::Join': ['-', ['test', { Ref: 'AWS::AccountId' }]] },
      UserPoolId: { Ref: poolId },
    });
    expect(Object.keys(clients)).toHaveLength(2);
  });

  it('has the resource server dicomweb with the five scopes', () => {
    expect(server.Properties.Identifier).toBe('dicomweb');
    expect(server.Properties.Scopes.map((s: { ScopeName: string }) => s.ScopeName)).toEqual([...SCOPES]);
    for (const s of server.Properties.Scopes) expect(s.ScopeDescription).toMatch(/\w/);
  });

  it('gives browsers a public client: code flow only, no secret, the callback and logout URLs, openid + profile + read, write, send', () => {
    expect(browser.GenerateSecret).toBe(false);
    expect(browser.AllowedOAuthFlows).toEqual(['code']);
    expect(browser.AllowedOAuthFlowsUserPoolClient).toBe(true);
    expect(browser.CallbackURLs).toEqual([`${VIEWER}/callback`, 'http://localhost:3000/callback']);
    expect(browser.LogoutURLs).toEqual([`${VIEWER}/`]);
    // Every user of the pool may ask for every scope the client allows: delete and admin stay with machines.
    const [read, write, , send] = archiveScopes;
    expect(browser.AllowedOAuthScopes).toEqual(['openid', 'profile', read, write, send]);
    // No password sent to a client's own form: the hosted UI only.
    expect(browser.ExplicitAuthFlows).toEqual(['ALLOW_REFRESH_TOKEN_AUTH']);
  });

  it('gives machines a confidential client: client credentials only, a generated secret, the five scopes', () => {
    expect(machine.GenerateSecret).toBe(true);
    expect(machine.AllowedOAuthFlows).toEqual(['client_credentials']);
    expect(machine.AllowedOAuthScopes).toEqual(archiveScopes);
    expect(machine.CallbackURLs).toBeUndefined();
    expect(machine.ExplicitAuthFlows).toEqual(['ALLOW_REFRESH_TOKEN_AUTH']);
  });

  it('puts the REQUEST authorizer, cached 300 s per Authorization header, on every method', () => {
    const authorizers = ofType(template, 'AWS::ApiGateway::Authorizer');
    expect(authorizers).toHaveLength(1);
    const [[authorizerId, authorizer]] = authorizers as [[string, Resources[string]]];
    expect(authorizer.Properties).toMatchObject({
      Type: 'REQUEST',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 300,
    });
    expect(JSON.stringify(authorizer.Properties.AuthorizerUri)).toContain(logicalId(stack, stack.dicomweb.auth.authorizerFunction!));
    const methods = methodsOf(template);
    expect(methods.size).toBeGreaterThan(20);
    for (const [key, method] of methods) {
      expect(method.AuthorizationType, key).toBe('CUSTOM');
      expect(method.AuthorizerId, key).toEqual({ Ref: authorizerId });
    }
    template.resourceCountIs('AWS::Cognito::UserPoolClient', 2);
    expect(ofType(template, 'AWS::ApiGateway::Authorizer').map(([, r]) => r.Properties.Type)).not.toContain('COGNITO_USER_POOLS');
  });

  it('tells every function and the authorizer the issuer, both clients as audiences and the scope prefix', () => {
    const { functions, authorizer } = environments(stack, template);
    const expected = {
      AUTH: 'oidc,api-keys',
      OIDC_ISSUER: {
        'Fn::Join': ['', ['https://cognito-idp.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/', { Ref: poolId }]],
      },
      OIDC_AUDIENCE: {
        'Fn::Join': ['', [{ Ref: logicalId(stack, pool.browserClient) }, ',', { Ref: logicalId(stack, pool.machineClient) }]],
      },
      OIDC_SCOPE_PREFIX: 'dicomweb/',
    };
    expect(Object.keys(functions).length).toBeGreaterThan(5);
    for (const [group, variables] of Object.entries(functions)) expect(variables, group).toMatchObject(expected);
    expect(authorizer).toMatchObject(expected);
    // The authorizer reads no bucket and no archive table (it has their names: lambdas/config.ts requires them);
    // it counts share links' uses (UpdateItem of share#... items only, ../cdk/clients-table.test.ts).
    expect(policyActions(template, logicalId(stack, stack.dicomweb.auth.authorizerFunction!.policy)).sort()).toEqual(
      [
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
        'kms:Decrypt',
        'kms:DescribeKey',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
  });

  it('[security.gateway] answers the authorizer 401, 403 and 503 with Status Reports, the 401 with the Bearer challenge', () => {
    const responses = Object.fromEntries(
      ofType(template, 'AWS::ApiGateway::GatewayResponse').map(([, r]) => [r.Properties.ResponseType, r.Properties]),
    );
    const unauthorized = responses.UNAUTHORIZED;
    expect(unauthorized.StatusCode).toBe('401');
    expect(unauthorized.ResponseParameters['gatewayresponse.header.WWW-Authenticate']).toBe(`'Bearer realm="dicomweb"'`);
    expect(JSON.parse(unauthorized.ResponseTemplates['application/json'])).toMatchObject({ status: 401, title: 'Unauthorized' });
    const denied = responses.ACCESS_DENIED;
    expect(denied.StatusCode).toBe('403');
    expect(JSON.parse(denied.ResponseTemplates['application/json'])).toMatchObject({ status: 403, title: 'Forbidden' });
    // An issuer or clients table that does not answer: retry, not a 500.
    const failure = responses.AUTHORIZER_FAILURE;
    expect(failure.StatusCode).toBe('503');
    expect(failure.ResponseParameters['gatewayresponse.header.Retry-After']).toBe("'10'");
    expect(JSON.parse(failure.ResponseTemplates['application/json'])).toMatchObject({ status: 503, title: 'Service Unavailable' });
  });

  it('outputs the issuer, the endpoints and both client IDs, and no secret', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown; Description?: string }>;
    const domainId = logicalId(stack, pool.domain);
    const domainUrl = (path: string) => ({
      'Fn::Join': ['', ['https://', { Ref: domainId }, '.auth.', { Ref: 'AWS::Region' }, `.amazoncognito.com${path}`]],
    });
    expect(outputs.OAuthDomainUrl!.Value).toEqual(domainUrl(''));
    expect(outputs.OAuthTokenEndpoint!.Value).toEqual(domainUrl('/oauth2/token'));
    expect(outputs.OAuthAuthorizeEndpoint!.Value).toEqual(domainUrl('/oauth2/authorize'));
    expect(outputs.OidcIssuer!.Value).toEqual(environments(stack, template).authorizer!.OIDC_ISSUER);
    expect(outputs.UserPoolId!.Value).toEqual({ Ref: poolId });
    expect(outputs.BrowserClientId!.Value).toEqual({ Ref: logicalId(stack, pool.browserClient) });
    expect(outputs.MachineClientId!.Value).toEqual({ Ref: logicalId(stack, pool.machineClient) });
    expect(outputs.MachineClientId!.Description).toContain('aws cognito-idp describe-user-pool-client');
    expect(JSON.stringify(Object.values(outputs).map((o) => o.Value))).not.toMatch(/ClientSecret|Custom::/);
    // Reading the secret in the stack would take a custom resource calling DescribeUserPoolClient.
    expect(JSON.stringify(template.toJSON())).not.toContain('DescribeUserPoolClient');
  });

  it('keeps the pool (its users) with retained data, never the domain, so a redeploy takes the same prefix', () => {
    const deletion = (t: Template, type: string) => Object.values(t.findResources(type)).map((r) => r.DeletionPolicy ?? 'Delete');
    expect(deletion(template, 'AWS::Cognito::UserPool')).toEqual(['Retain']);
    expect(deletion(template, 'AWS::Cognito::UserPoolDomain')).toEqual(['Delete']);
    expect(deletion(synth({ retainData: 'false' }).template, 'AWS::Cognito::UserPool')).toEqual(['Delete']);
  });

  it('names the domain and the authorizer cache from context', () => {
    const { template: named } = synth({ cognitoDomainPrefix: 'radiology-archive', authorizerCacheSeconds: '0' });
    named.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'radiology-archive' });
    named.hasResourceProperties('AWS::ApiGateway::Authorizer', { AuthorizerResultTtlInSeconds: 0 });
  });
});

describe('auth=oidc with an external issuer', { timeout: 120_000 }, () => {
  const { stack, template } = synth({
    oidcIssuer: OKTA,
    oidcAudience: 'api://dicomweb, 0oa1example',
    oidcScopePrefix: 'dicomweb.',
    oidcJwksUri: 'https://example.okta.com/oauth2/default/v1/keys',
    corsAllowedOrigins: VIEWER,
  });

  it('creates no user pool and keeps the authorizer on every method but the CORS preflight', () => {
    for (const type of ['AWS::Cognito::UserPool', 'AWS::Cognito::UserPoolClient', 'AWS::Cognito::UserPoolDomain']) {
      template.resourceCountIs(type, 0);
    }
    for (const [key, method] of methodsOf(template)) {
      expect(method.AuthorizationType, key).toBe(key.startsWith('OPTIONS ') ? 'NONE' : 'CUSTOM');
    }
  });

  it('gives every function and the authorizer the issuer settings from context', () => {
    const { functions, authorizer } = environments(stack, template);
    const expected = {
      AUTH: 'oidc,api-keys',
      OIDC_ISSUER: OKTA,
      OIDC_AUDIENCE: 'api://dicomweb,0oa1example',
      OIDC_SCOPE_PREFIX: 'dicomweb.',
      OIDC_JWKS_URI: 'https://example.okta.com/oauth2/default/v1/keys',
    };
    for (const [group, variables] of Object.entries(functions)) expect(variables, group).toMatchObject(expected);
    expect(authorizer).toMatchObject(expected);
  });

  it('outputs the issuer and audiences only', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.OidcIssuer!.Value).toBe(OKTA);
    for (const name of ['UserPoolId', 'BrowserClientId', 'MachineClientId', 'OAuthTokenEndpoint']) expect(outputs[name]).toBeUndefined();
  });
});

describe('auth=iam and auth=none', { timeout: 120_000 }, () => {
  it.each([
    ['iam', { auth: 'iam' }],
    ['none', { auth: 'none', allowUnauthenticated: 'true' }],
  ])('auth=%s: AUTH on every function, no issuer, no authorizer, no user pool', (auth, context) => {
    const { stack, template } = synth(context);
    const { functions, authorizer } = environments(stack, template);
    for (const [group, variables] of Object.entries(functions)) {
      expect(variables.AUTH, group).toBe(auth);
      expect(
        Object.keys(variables).filter((k) => k.startsWith('OIDC_')),
        group,
      ).toEqual([]);
    }
    expect(authorizer).toBeUndefined();
    template.resourceCountIs('AWS::ApiGateway::Authorizer', 0);
    template.resourceCountIs('AWS::Cognito::UserPool', 0);
    expect(Object.keys(template.toJSON().Outputs).filter((k) => /Oidc|OAuth|ClientId|UserPool/.test(k))).toEqual([]);
  });
});

describe('with the API key clients table (the stack has one)', { timeout: 120_000 }, () => {
  it("accepts API keys: AUTH oidc,api-keys and CLIENTS_TABLE_NAME everywhere; the authorizer reads one item at a time, updates share links' only", () => {
    const { stack, template } = synth();
    const table = logicalId(stack, stack.clients.table);
    const { functions, authorizer } = environments(stack, template);
    for (const [name, variables] of Object.entries({ ...functions, authorizer })) {
      expect(variables, name).toMatchObject({ AUTH: 'oidc,api-keys', CLIENTS_TABLE_NAME: { Ref: table } });
    }
    const statements = policyStatements(template, logicalId(stack, stack.dicomweb.auth.authorizerFunction!.policy));
    expect(statements).toEqual(
      expect.arrayContaining([
        { Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: { 'Fn::GetAtt': [table, 'Arn'] } },
        {
          Effect: 'Allow',
          Action: ['kms:Decrypt', 'kms:DescribeKey'],
          Resource: { 'Fn::GetAtt': [logicalId(stack, stack.clients.key), 'Arn'] },
        },
      ]),
    );
    expect(statements.flatMap((st) => [st.Action].flat()).filter((a) => /^(s3|dynamodb|states|secretsmanager):/.test(a))).toEqual([
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
    ]);
    expect(statements.find((st) => st.Action === 'dynamodb:UpdateItem')?.Condition).toMatchObject({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['share#*'] },
    });
  });
});

describe('bad authentication context', { timeout: 120_000 }, () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['an unknown mode', { auth: 'apikey' }, /context auth must be 'oidc', 'iam', 'none'/],
    ['cognito with an external issuer', { auth: 'cognito', oidcIssuer: OKTA, oidcAudience: 'x' }, /context auth/],
    ['an http issuer', { oidcIssuer: 'http://idp.example.org', oidcAudience: 'x' }, /context oidcIssuer must be an https URL/],
    ['an issuer that is no URL', { oidcIssuer: 'idp.example.org', oidcAudience: 'x' }, /context oidcIssuer/],
    ['an issuer without audience', { oidcIssuer: OKTA }, /context oidcAudience must be/],
    ['an empty audience', { oidcIssuer: OKTA, oidcAudience: ' , ' }, /context oidcAudience/],
    ['an audience without issuer', { oidcAudience: 'api://dicomweb' }, /context oidcAudience must be given only with oidcIssuer/],
    ['a scope prefix with a space', { oidcIssuer: OKTA, oidcAudience: 'x', oidcScopePrefix: 'a b' }, /context oidcScopePrefix/],
    ['an http JWKS URL', { oidcIssuer: OKTA, oidcAudience: 'x', oidcJwksUri: 'http://idp.example.org/keys' }, /context oidcJwksUri/],
    [
      'a domain prefix with an external issuer',
      { oidcIssuer: OKTA, oidcAudience: 'x', cognitoDomainPrefix: 'pacs' },
      /cognitoDomainPrefix/,
    ],
    ['an upper-case domain prefix', { cognitoDomainPrefix: 'Radiology' }, /context cognitoDomainPrefix/],
    ['a reserved word in the domain prefix', { cognitoDomainPrefix: 'my-cognito-pool' }, /context cognitoDomainPrefix/],
    ['a domain prefix ending with a hyphen', { cognitoDomainPrefix: 'radiology-' }, /context cognitoDomainPrefix/],
    ['an http callback URL', { oauthCallbackUrls: 'http://viewer.example.org/callback' }, /context oauthCallbackUrls/],
    ['a callback URL with a fragment', { oauthCallbackUrls: `${VIEWER}/cb#x` }, /context oauthCallbackUrls/],
    ['a logout URL that is no URL', { oauthLogoutUrls: 'viewer' }, /context oauthLogoutUrls/],
    ['a negative cache', { authorizerCacheSeconds: '-1' }, /context authorizerCacheSeconds must be an integer from 0 to 3600/],
    ['a cache over an hour', { authorizerCacheSeconds: '3601' }, /context authorizerCacheSeconds/],
    ['an unknown browser scope', { oauthBrowserScopes: 'read,everything' }, /context oauthBrowserScopes/],
  ])('refuses %s', (_name, context, message) => {
    let error: unknown;
    try {
      synth(context);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ArchiveContextError);
    expect((error as Error).message).toMatch(message);
  });

  it('gives the browser client the scopes of oauthBrowserScopes', () => {
    const { template } = synth({ oauthBrowserScopes: 'read,delete' });
    const clients = Object.values(template.findResources('AWS::Cognito::UserPoolClient', { Properties: { AllowedOAuthFlows: ['code'] } }));
    const scopes = JSON.stringify(clients[0]?.Properties.AllowedOAuthScopes);
    expect(scopes).toMatch(/^\["openid","profile",.*"\/read"\]\]\},.*"\/delete"\]\]\}\]$/);
    expect(scopes).not.toMatch(/\/(write|send|admin)"/);
  });

  it('takes redirect URLs as a JSON array too', () => {
    const { template } = synth({ oauthCallbackUrls: [`${VIEWER}/callback`], oauthLogoutUrls: `["${VIEWER}/"]` });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', { CallbackURLs: [`${VIEWER}/callback`], LogoutURLs: [`${VIEWER}/`] });
  });
});
