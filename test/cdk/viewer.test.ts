/**
 * CDK: the viewer (context viewer=true, lib/constructs/viewer.ts): one CloudFront distribution serving
 * the OHIF Viewer from a private bucket through OAC and the API under /dicomweb, the security headers,
 * (the scripts' CSP, which binds their workers, with 'unsafe-eval'), the viewer's sign-in client and its audience, PUBLIC_BASE_URL on the distribution, the files
 * deployed with their caching and the generated app-config.js, the outputs; the CloudFront Functions
 * run against sample events; nothing of it without viewer=true; bad context refused.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { describe, expect, it } from 'vitest';
import { API_STAGE_NAME } from '../../lib/constructs/api';
import { DICOMWEB_PREFIX_SOURCE, SPA_FALLBACK_SOURCE } from '../../lib/constructs/viewer-edge-functions';
import { IMMUTABLE_CACHE, REVALIDATED_CACHE } from '../../lib/constructs/viewer';
import { ArchiveContextError, ViewerDistMissingError } from '../../lib/archive-stack';
import { viewerDistFor } from '../../lib/app';
import { logicalId, synth, type Resources } from './helpers';

const DIST = fileURLToPath(new URL('../fixtures/viewer-dist', import.meta.url));
const OKTA = 'https://example.okta.com/oauth2/default';

/** Synthesizes with viewer=true and the fixture build; the assembly too, for the deployed files. */
function synthViewer(context: Record<string, unknown> = {}) {
  const out = synth({ viewer: 'true', viewerDist: DIST, ...context });
  const resources = out.template.toJSON().Resources as Resources;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const site = out.stack.viewer!;
  const distributionId = logicalId(out.stack, site.distribution);
  const bucketId = logicalId(out.stack, site.bucket);
  const config = ofType('AWS::CloudFront::Distribution')[0]![1].Properties.DistributionConfig;
  return { ...out, resources, ofType, site, distributionId, bucketId, config };
}

/** app-config.js as deployed: the Source.data asset of the deployment that carries it, markers resolved to their values. */
function deployedAppConfig(v: ReturnType<typeof synthViewer>): { text: string; markers: Record<string, unknown> } {
  const assembly = (v.stack.node.root as App).synth();
  const [, deployment] = v.ofType('Custom::CDKBucketDeployment').find(([, r]) => r.Properties.DistributionId)!;
  const keys: string[] = deployment.Properties.SourceObjectKeys;
  for (const [i, key] of keys.entries()) {
    const file = path.join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`, 'app-config.js');
    if (existsSync(file)) return { text: readFileSync(file, 'utf8'), markers: deployment.Properties.SourceMarkers?.[i] ?? {} };
  }
  throw new Error('no app-config.js among the deployed sources');
}

/** Runs a CloudFront Function's source (cloudfront-js-2.0: a top-level handler) on an event. */
function run(source: string, event: unknown): any {
  const handler = new Function(`${source}; return handler;`)() as (e: unknown) => unknown;
  return handler(structuredClone(event));
}

const request = (uri: string, headers: Record<string, { value: string }> = {}) => ({
  version: '1.0',
  context: { eventType: 'viewer-request' },
  viewer: { ip: '198.51.100.7' },
  request: { method: 'GET', uri, querystring: {}, headers, cookies: {} },
});

describe('viewer=true: the distribution', { timeout: 120_000 }, () => {
  const v = synthViewer();

  it('serves the viewer from the bucket through OAC, HTTPS, with the SPA fallback function, price class 100, no query strings logged', () => {
    const origins = Object.fromEntries(v.config.Origins.map((o: any) => [o.Id, o]));
    const s3 = origins[v.config.DefaultCacheBehavior.TargetOriginId];
    expect(s3.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    expect(s3.OriginAccessControlId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/OriginAccessControl/), 'Id'] });
    expect(s3.DomainName).toEqual({ 'Fn::GetAtt': [v.bucketId, 'RegionalDomainName'] });
    expect(v.config.DefaultCacheBehavior).toMatchObject({
      ViewerProtocolPolicy: 'redirect-to-https',
      AllowedMethods: ['GET', 'HEAD'],
      CachePolicyId: cloudfront.CachePolicy.CACHING_OPTIMIZED.cachePolicyId,
      FunctionAssociations: [
        { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [expect.stringMatching(/SpaFallback/), 'FunctionARN'] } },
      ],
    });
    expect(v.config.DefaultRootObject).toBe('index.html');
    expect(v.config.CustomErrorResponses).toBeUndefined();
    // Scripts from the bucket too, as the default behavior but for their headers and without the fallback.
    const scripts = v.config.CacheBehaviors.find((b: any) => b.PathPattern === '*.js');
    expect(scripts).toMatchObject({
      TargetOriginId: v.config.DefaultCacheBehavior.TargetOriginId,
      ViewerProtocolPolicy: 'redirect-to-https',
    });
    expect(scripts.FunctionAssociations).toBeUndefined();
    expect(v.config.PriceClass).toBe('PriceClass_100');
    // No standard logs, which would keep QIDO query strings (patient attributes).
    expect(v.config.Logging).toBeUndefined();
  });

  it('sends /dicomweb and /dicomweb/* to the API stage: no cache, every method, every header but Host, the prefix function', () => {
    expect(v.config.CacheBehaviors.map((b: any) => b.PathPattern)).toEqual(['/dicomweb', '/dicomweb/*', '*.js']);
    const apiId = logicalId(v.stack, v.stack.dicomweb.api);
    for (const behavior of v.config.CacheBehaviors.slice(0, 2)) {
      expect(behavior).toMatchObject({
        ViewerProtocolPolicy: 'https-only',
        AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
        CachePolicyId: cloudfront.CachePolicy.CACHING_DISABLED.cachePolicyId,
        OriginRequestPolicyId: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER.originRequestPolicyId,
        FunctionAssociations: [
          { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [expect.stringMatching(/DicomwebPrefix/), 'FunctionARN'] } },
        ],
      });
      const origin = v.config.Origins.find((o: any) => o.Id === behavior.TargetOriginId);
      expect(origin.OriginPath).toBe(`/${API_STAGE_NAME}`);
      expect(origin.CustomOriginConfig).toMatchObject({ OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] });
      // From the RestApi's id, not from its URL (which waits for the deployment): no dependency cycle.
      expect(origin.DomainName).toEqual({
        'Fn::Join': ['', [{ Ref: apiId }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }]],
      });
    }
  });

  it('keeps the bucket private: public access blocked, TLS only, encrypted, no website, access logs; only this distribution reads', () => {
    const bucket = v.resources[v.bucketId]!.Properties;
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    expect(bucket.WebsiteConfiguration).toBeUndefined();
    expect(bucket.LoggingConfiguration.DestinationBucketName).toEqual({ Ref: logicalId(v.stack, v.stack.storage.accessLogsBucket) });
    expect(v.resources[v.bucketId]!.DeletionPolicy).toBe('Retain');

    const [[, policy]] = v.ofType('AWS::S3::BucketPolicy').filter(([, p]) => p.Properties.Bucket.Ref === v.bucketId) as [[string, any]];
    const statements: any[] = policy.Properties.PolicyDocument.Statement;
    const allows = statements.filter((s) => s.Effect === 'Allow');
    expect(allows).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [v.bucketId, 'Arn'] }, '/*']] },
        Condition: {
          StringEquals: {
            'AWS:SourceArn': {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':cloudfront::',
                  { Ref: 'AWS::AccountId' },
                  ':distribution/',
                  { Ref: v.distributionId },
                ],
              ],
            },
          },
        },
      },
    ]);
    expect(statements.find((s) => s.Effect === 'Deny')?.Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
  });

  it('answers every behavior with HSTS, nosniff, DENY, no-referrer and a CSP for OHIF; scripts with unsafe-eval for their workers', () => {
    const policies = Object.fromEntries(v.ofType('AWS::CloudFront::ResponseHeadersPolicy'));
    const pageId = logicalId(v.stack, v.site.responseHeadersPolicy);
    const scriptId = logicalId(v.stack, v.site.scriptHeadersPolicy);
    expect(Object.keys(policies).sort()).toEqual([pageId, scriptId].sort());
    const [api, apiAll, scripts] = v.config.CacheBehaviors;
    for (const behavior of [v.config.DefaultCacheBehavior, api, apiAll]) expect(behavior.ResponseHeadersPolicyId).toEqual({ Ref: pageId });
    expect(scripts.ResponseHeadersPolicyId).toEqual({ Ref: scriptId });
    const csp: Record<string, string> = {};
    for (const [id, policy] of Object.entries(policies)) {
      const headers = policy.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
      expect(headers.StrictTransportSecurity).toMatchObject({ AccessControlMaxAgeSec: 63072000, IncludeSubdomains: true, Override: true });
      expect(headers.ContentTypeOptions).toEqual({ Override: true });
      expect(headers.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
      expect(headers.ReferrerPolicy).toEqual({ ReferrerPolicy: 'no-referrer', Override: true });
      csp[id] = JSON.stringify(headers.ContentSecurityPolicy.ContentSecurityPolicy);
      for (const directive of ["default-src 'self'", "worker-src 'self' blob:", "object-src 'self' blob:", "frame-ancestors 'none'"]) {
        expect(csp[id]).toContain(directive);
      }
      // The user pool's issuer and hosted domain: discovery, token and a silent sign-in.
      expect(csp[id]).toContain("connect-src 'self' blob: data: https://cognito-idp.");
      expect(csp[id]).toContain(`{"Ref":"${logicalId(v.stack, v.stack.dicomweb.auth.userPool!.domain)}"},".auth."`);
    }
    const inline = readFileSync(path.join(DIST, 'index.html'), 'utf8').match(/<script>([^<]*)<\/script>/)![1]!;
    const hash = createHash('sha256').update(inline).digest('base64');
    expect(csp[pageId]).toContain(`script-src 'self' 'wasm-unsafe-eval' blob: 'sha256-${hash}';`);
    expect(csp[scriptId]).toContain("script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval' blob:;");
  });

  it('gives the viewer its own public client: code + PKCE, no secret, the distribution URLs, the browser scopes', () => {
    const clients = v.ofType('AWS::Cognito::UserPoolClient').filter(([id]) => /ViewerClient/.test(id));
    expect(clients).toHaveLength(1);
    const [[clientId, client]] = clients as [[string, any]];
    const domain = { 'Fn::GetAtt': [v.distributionId, 'DomainName'] };
    expect(client.Properties).toMatchObject({
      AllowedOAuthFlows: ['code'],
      GenerateSecret: false,
      ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
      CallbackURLs: [{ 'Fn::Join': ['', ['https://', domain, '/callback']] }],
      LogoutURLs: [{ 'Fn::Join': ['', ['https://', domain, '/']] }],
    });
    expect(JSON.stringify(client.Properties.AllowedOAuthScopes)).toContain('/read"');
    expect(v.stack.node.tryFindChild('ViewerClientId')).toBeDefined();

    // Its tokens are accepted by the authorizer and every function; the URIs they write are the distribution's.
    for (const fn of [...Object.values(v.stack.dicomweb.functions), v.stack.dicomweb.auth.authorizerFunction!]) {
      const variables = v.resources[logicalId(v.stack, fn)]!.Properties.Environment.Variables;
      expect(JSON.stringify(variables.OIDC_AUDIENCE)).toContain(`{"Ref":"${clientId}"}`);
    }
    for (const fn of Object.values(v.stack.dicomweb.functions)) {
      const variables = v.resources[logicalId(v.stack, fn)]!.Properties.Environment.Variables;
      expect(variables.PUBLIC_BASE_URL).toEqual({ 'Fn::Join': ['', ['https://', domain, '/dicomweb']] });
      // Share links open the viewer at the distribution's root.
      expect(variables.VIEWER_URL).toEqual({ 'Fn::Join': ['', ['https://', domain, '/']] });
    }
  });

  it('deploys the files: hashed bundles immutable, WebAssembly as application/wasm, the rest revalidated with app-config.js generated', () => {
    const deployments = v.ofType('Custom::CDKBucketDeployment').map(([, d]) => d.Properties);
    expect(deployments).toHaveLength(3);
    const [immutable, wasm, rest] = deployments;
    expect(immutable).toMatchObject({
      Include: ['*.bundle.*.js'],
      Exclude: ['*'],
      Prune: false,
      SystemMetadata: { 'cache-control': IMMUTABLE_CACHE },
    });
    expect(wasm).toMatchObject({
      Include: ['*.wasm'],
      Exclude: ['*'],
      SystemMetadata: { 'cache-control': REVALIDATED_CACHE, 'content-type': 'application/wasm' },
    });
    expect(rest).toMatchObject({
      Exclude: ['*.bundle.*.js', '*.wasm'],
      SystemMetadata: { 'cache-control': REVALIDATED_CACHE },
      DistributionId: { Ref: v.distributionId },
      DistributionPaths: ['/*'],
      OutputObjectKeys: false,
    });

    const { text, markers } = deployedAppConfig(v);
    expect(text).not.toContain('the package default');
    expect(text).toContain('"routerBasename": "/"');
    expect(text).toContain('var SERVICE_ROOT = window.location.origin + "/dicomweb";');
    const resolve = (s: string) => s.replace(/<<marker:0xbaba:\d+>>/g, (m) => JSON.stringify(markers[m]));
    const login = resolve(text.match(/var oidc = (.*);/)![1]!);
    expect(login).toContain('"response_type":"code"');
    expect(login).toContain('"redirect_uri":"/callback"');
    const clientId = v.ofType('AWS::Cognito::UserPoolClient').find(([id]) => /ViewerClient/.test(id))![0];
    expect(login).toContain(`"client_id":"{"Ref":"${clientId}"}"`);
    expect(login).toMatch(/"scope":"openid profile .*\/read/);
  });

  it('outputs the viewer URL and the service root on the distribution', () => {
    const outputs = v.template.toJSON().Outputs;
    const domain = { 'Fn::GetAtt': [v.distributionId, 'DomainName'] };
    expect(outputs.ViewerUrl.Value).toEqual({ 'Fn::Join': ['', ['https://', domain, '/']] });
    expect(outputs.ViewerDicomwebRoot.Value).toEqual({ 'Fn::Join': ['', ['https://', domain, '/dicomweb']] });
  });
});

describe('viewer=true with other settings', { timeout: 120_000 }, () => {
  it('with an external issuer: its client id and scope in app-config.js, its origin in the CSP, no Cognito client', () => {
    const v = synthViewer({ oidcIssuer: OKTA, oidcAudience: 'api://dicomweb', viewerClientId: '0oa1viewer', viewerPriceClass: 'All' });
    expect(v.ofType('AWS::Cognito::UserPoolClient')).toEqual([]);
    const { text } = deployedAppConfig(v);
    expect(text).toContain(`"authority":"${OKTA}","client_id":"0oa1viewer"`);
    expect(text).toContain('"scope":"openid read"');
    for (const [, policy] of v.ofType('AWS::CloudFront::ResponseHeadersPolicy')) {
      expect(JSON.stringify(policy.Properties)).toContain("connect-src 'self' blob: data: https://example.okta.com;");
    }
    expect(v.config.PriceClass).toBe('PriceClass_All');
  });

  it('with auth=none and retainData=false: no login, the bucket destroyed with the stack', () => {
    const v = synthViewer({ auth: 'none', allowUnauthenticated: 'true', retainData: 'false' });
    expect(deployedAppConfig(v).text).toContain('var oidc = null;');
    expect(v.resources[v.bucketId]!.DeletionPolicy).toBe('Delete');
  });

  it('refuses auth=iam, a missing client id at an external issuer, a bad price class, and viewer options without viewer', () => {
    expect(() => synthViewer({ auth: 'iam' })).toThrow(ArchiveContextError);
    expect(() => synthViewer({ oidcIssuer: OKTA, oidcAudience: 'x' })).toThrow(/viewerClientId/);
    expect(() => synthViewer({ viewerClientId: 'abc' })).toThrow(/viewerClientId must be given only with oidcIssuer/);
    expect(() => synthViewer({ viewerPriceClass: '300' })).toThrow(/viewerPriceClass/);
    expect(() => synth({ viewerPriceClass: '200' })).toThrow(/viewerPriceClass must be given only with viewer=true/);
    expect(() => synth({ viewer: 'yes' })).toThrow(/context viewer must be 'true' or 'false'/);
  });

  it('without the build: a message naming the command; the app fetches it only for viewer=true', async () => {
    expect(() => synth({ viewer: 'true' })).toThrow(ViewerDistMissingError);
    expect(() => synth({ viewer: 'true' })).toThrow(/npm run viewer:fetch/);
    const fail = async (): Promise<string> => {
      throw new Error('npm pack failed');
    };
    await expect(viewerDistFor(new App({ context: { viewer: 'true' } }), fail)).rejects.toThrow(/npm pack failed.*npm run viewer:fetch/);
    await expect(viewerDistFor(new App({ context: { viewer: 'true' } }), async () => DIST)).resolves.toBe(DIST);
    await expect(viewerDistFor(new App({ context: { viewer: 'true', viewerDist: DIST } }), fail)).resolves.toBeUndefined();
    await expect(viewerDistFor(new App(), fail)).resolves.toBeUndefined();
  });
});

describe('without viewer=true', { timeout: 120_000 }, () => {
  it('has no distribution, bucket deployment, viewer client, PUBLIC_BASE_URL or viewer output', () => {
    const { stack, template } = synth();
    const resources = Object.values(template.toJSON().Resources as Resources);
    expect(resources.filter((r) => r.Type.startsWith('AWS::CloudFront::') || r.Type === 'Custom::CDKBucketDeployment')).toEqual([]);
    expect(resources.filter((r) => r.Type === 'AWS::Cognito::UserPoolClient')).toHaveLength(2);
    for (const r of resources.filter((x) => x.Type === 'AWS::Lambda::Function')) {
      expect(r.Properties.Environment?.Variables?.PUBLIC_BASE_URL).toBeUndefined();
    }
    expect(Object.keys(template.toJSON().Outputs).filter((k) => k.startsWith('Viewer'))).toEqual([]);
    expect(stack.viewer).toBeUndefined();
  });
});

describe('the CloudFront Functions', () => {
  it('SPA fallback: a route without a file extension gets index.html, files keep their path', () => {
    const uri = (u: string) => run(SPA_FALLBACK_SOURCE, request(u)).uri;
    expect(uri('/')).toBe('/index.html');
    expect(uri('/viewer')).toBe('/index.html');
    expect(uri('/callback')).toBe('/index.html');
    expect(uri('/viewer/dicomweb')).toBe('/index.html');
    expect(uri('/app.bundle.0f6159c501addfe9.js')).toBe('/app.bundle.0f6159c501addfe9.js');
    expect(uri('/assets/favicon.ico')).toBe('/assets/favicon.ico');
    expect(uri('/app-config.js')).toBe('/app-config.js');
  });

  it('DICOMweb prefix: strips /dicomweb, sets X-Forwarded-Host and -Prefix, drops a Forwarded header, keeps the rest', () => {
    const out = run(
      DICOMWEB_PREFIX_SOURCE,
      request('/dicomweb/studies/1.2.3/series', {
        host: { value: 'd111111abcdef8.cloudfront.net' },
        authorization: { value: 'Bearer token' },
        accept: { value: 'application/dicom+json' },
        forwarded: { value: 'host=evil.example.org;proto=http' },
        'x-forwarded-prefix': { value: '/elsewhere' },
      }),
    );
    expect(out.uri).toBe('/studies/1.2.3/series');
    expect(out.headers).toEqual({
      host: { value: 'd111111abcdef8.cloudfront.net' },
      authorization: { value: 'Bearer token' },
      accept: { value: 'application/dicom+json' },
      'x-forwarded-host': { value: 'd111111abcdef8.cloudfront.net' },
      'x-forwarded-prefix': { value: '/dicomweb' },
    });
    expect(run(DICOMWEB_PREFIX_SOURCE, request('/dicomweb', { host: { value: 'h' } })).uri).toBe('/');
    expect(run(DICOMWEB_PREFIX_SOURCE, request('/dicomweb/', { host: { value: 'h' } })).uri).toBe('/');
    expect(run(DICOMWEB_PREFIX_SOURCE, request('/dicomweb/studies', { 'x-forwarded-host': { value: 'spoofed' } })).headers).toEqual({
      'x-forwarded-prefix': { value: '/dicomweb' },
    });
  });
});
