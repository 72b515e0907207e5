/**
 * CDK: CORS (context corsAllowedOrigins): the variable on every function, the OPTIONS methods without
 * an authorizer so a browser's preflight reaches the capabilities function, every other method still
 * authorized, and the gateway responses carrying the origin when exactly one is allowed.
 */
import { describe, expect, it } from 'vitest';
import { ArchiveContextError } from '../../lib/archive-stack';
import { logicalId, methodsOf, synth, type Resources } from './helpers';

const VIEWER = 'https://viewer.example.org';

function functionVariables(context: Record<string, unknown>): {
  variables: Record<string, string>[];
  resources: Resources;
  methods: ReturnType<typeof methodsOf>;
} {
  const { stack, template } = synth(context);
  const resources = template.toJSON().Resources as Resources;
  const variables = Object.values(stack.dicomweb.functions).map(
    (fn) => resources[logicalId(stack, fn)]!.Properties.Environment.Variables as Record<string, string>,
  );
  return { variables, resources, methods: methodsOf(template) };
}

const gatewayResponses = (resources: Resources) => Object.values(resources).filter((r) => r.Type === 'AWS::ApiGateway::GatewayResponse');

describe('CORS in the CDK API (context corsAllowedOrigins)', { timeout: 120_000 }, () => {
  it('sets nothing by default: no variable, OPTIONS behind the authorizer, no CORS gateway responses', () => {
    const { variables, resources, methods } = functionVariables({});
    for (const v of variables) expect(v.CORS_ALLOWED_ORIGINS).toBeUndefined();
    for (const [key, method] of methods) expect(method.AuthorizationType, key).toBe('CUSTOM');
    // The authorizer's 401 and 403 Status Reports (test/cdk/auth.test.ts), without CORS headers.
    const responses = gatewayResponses(resources).map((r) => r.Properties);
    expect(responses.map((r) => r.ResponseType).sort()).toEqual(['ACCESS_DENIED', 'AUTHORIZER_FAILURE', 'UNAUTHORIZED']);
    for (const r of responses) expect(Object.keys(r.ResponseParameters).filter((h) => h.includes('Access-Control'))).toEqual([]);
    expect(gatewayResponses(functionVariables({ auth: 'iam' }).resources)).toEqual([]);
  });

  it('[cors.gateway] one origin: the variable on every function, OPTIONS without authorizer, DEFAULT_4XX/5XX with the origin', () => {
    const { variables, resources, methods } = functionVariables({ corsAllowedOrigins: VIEWER });
    expect(variables.length).toBeGreaterThan(5);
    for (const v of variables) expect(v.CORS_ALLOWED_ORIGINS).toBe(VIEWER);
    for (const [key, method] of methods) {
      if (key.startsWith('OPTIONS ')) {
        expect(method.AuthorizationType, key).toBe('NONE');
        expect(method.AuthorizerId, key).toBeUndefined();
      } else {
        expect(method.AuthorizationType, key).toBe('CUSTOM');
        expect(method.AuthorizerId, key).toBeDefined();
      }
    }
    const responses = gatewayResponses(resources).map((r) => r.Properties);
    expect(responses.map((r) => r.ResponseType).sort()).toEqual([
      'ACCESS_DENIED',
      'AUTHORIZER_FAILURE',
      'DEFAULT_4XX',
      'DEFAULT_5XX',
      'UNAUTHORIZED',
    ]);
    for (const r of responses) {
      expect(r.ResponseParameters).toMatchObject({
        'gatewayresponse.header.Access-Control-Allow-Origin': `'${VIEWER}'`,
        'gatewayresponse.header.Access-Control-Expose-Headers': "'Warning, Retry-After, Content-Location, Location, Content-Type, ETag'",
        'gatewayresponse.header.Vary': "'Origin'",
      });
    }
  });

  it('several origins (a JSON array): the variable lists them; gateway responses cannot echo the Origin, so none', () => {
    const { variables, resources, methods } = functionVariables({ auth: 'iam', corsAllowedOrigins: [VIEWER, 'http://localhost:3000'] });
    for (const v of variables) expect(v.CORS_ALLOWED_ORIGINS).toBe(`${VIEWER},http://localhost:3000`);
    for (const [key, method] of methods) expect(method.AuthorizationType, key).toBe(key.startsWith('OPTIONS ') ? 'NONE' : 'AWS_IAM');
    expect(gatewayResponses(resources)).toEqual([]);
    expect(functionVariables({ corsAllowedOrigins: `["${VIEWER}"]` }).variables[0]!.CORS_ALLOWED_ORIGINS).toBe(VIEWER);
  });

  it.each(['*', 'http://viewer.example.org', 'https://viewer.example.org/app', '["https://a.example.org", 3]'])(
    'refuses corsAllowedOrigins %s',
    (value) => {
      expect(() => synth({ corsAllowedOrigins: value })).toThrow(ArchiveContextError);
    },
  );
});
