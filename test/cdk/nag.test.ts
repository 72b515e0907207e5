import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { VALIDATION_REPORT_FILE } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app';

interface ValidationReport {
  pluginReports: {
    pluginName: string;
    violations: { ruleName: string; severity: string; violatingConstructs: { constructPath: string }[] }[];
  }[];
}

/**
 * Synthesizes the app as `cdk synth` does, with the packs registered by buildApp as CDK validation
 * plugins: an unacknowledged error makes synth throw, warnings only reach the validation report
 * (which lists only plugins that found something). Then runs both packs directly over the
 * synthesized tree, so a clean result is a pack's own verdict rather than an absent report.
 */
function nagFindings(context: Record<string, unknown>): string[] {
  const { app } = buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } }));
  const assembly = app.synth();
  const report = JSON.parse(readFileSync(path.join(assembly.directory, VALIDATION_REPORT_FILE), 'utf8')) as ValidationReport;
  const reported = report.pluginReports.flatMap((p) =>
    p.violations.map(
      (v) => `${p.pluginName}: ${v.severity} ${v.ruleName} at ${v.violatingConstructs.map((c) => c.constructPath).join(', ')}`,
    ),
  );
  const direct = [new AwsSolutionsChecks(), new HIPAASecurityChecks()].flatMap((pack) =>
    pack
      .validateScope(app)
      .violations.map((v) => `${pack.name}: ${v.severity} ${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`),
  );
  return [...reported, ...direct];
}

// The first synth loads CloudFormation resource schemas for CDK's built-in template validation.
describe('cdk-nag (AwsSolutions, HIPAA.Security)', { timeout: 120_000 }, () => {
  // Every context option docs/configuration.md documents, each in at least one variant,
  // the switches (auth, waf, retainData, dimse, apiExecutionLogs) in each position.
  const dimse = {
    dimse: 'true',
    dimseAet: 'PACS_GW',
    dimsePort: '104',
    dimseAllowedCidrs: '10.20.0.0/16,192.168.10.0/24',
    dimseIdleTimeoutSeconds: '6000',
    dimseVpcCidr: '172.31.0.0/20',
    dimseMoveProxyOrigin: 'https://origin.example.org/dicom-web',
    dimseMoveProxyTokenUrl: 'https://idp.example.org/oauth2/token',
    dimseMoveProxyClientId: 'dimse-gateway',
    dimseMoveProxyScope: 'dicomweb/send',
    dimseMoveProxyClientSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:dimse-proxy-client-AbC123',
    dimseMaxAssociations: '8',
    dimseMaxObjectBytes: '104857600',
    dimseMaxBufferedBytes: '209715200',
  };
  const viewer = { viewer: 'true', viewerDist: fileURLToPath(new URL('../fixtures/viewer-dist', import.meta.url)) };
  const variants: Record<string, Record<string, unknown>> = {
    "default (oidc with the stack's user pool, waf, retained data)": {},
    "auth=oidc with the stack's user pool and every option of it": {
      cognitoDomainPrefix: 'radiology-archive',
      oauthCallbackUrls: 'https://viewer.example.org/callback,http://localhost:3000/callback',
      oauthLogoutUrls: 'https://viewer.example.org/',
      authorizerCacheSeconds: '600',
    },
    'auth=oidc with an external issuer, one CORS origin, no authorizer cache': {
      oidcIssuer: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0',
      oidcAudience: '11111111-1111-1111-1111-111111111111',
      oidcJwksUri: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/discovery/v2.0/keys',
      authorizerCacheSeconds: '0',
      corsAllowedOrigins: 'https://viewer.example.org',
    },
    'auth=iam': { auth: 'iam' },
    'auth=cognito (the alias), alarmEmail, apiExecutionLogs, one CORS origin': {
      auth: 'cognito',
      alarmEmail: 'pacs-admin@example.org',
      apiExecutionLogs: 'true',
      corsAllowedOrigins: 'https://viewer.example.org',
    },
    'auth=none, allowUnauthenticated': { auth: 'none', allowUnauthenticated: 'true' },
    'waf=false, retainData=false, reserved concurrency, CORS origins (iam)': {
      auth: 'iam',
      waf: 'false',
      retainData: 'false',
      reservedConcurrency: '5',
      corsAllowedOrigins: 'https://viewer.example.org,http://localhost:3000',
    },
    'send settings, destinations, throttling, index shards': {
      sendBatchSize: '50',
      sendMaxConcurrency: '16',
      sendMaxBatchBytes: '4000000',
      sendWaitMs: '1000',
      sendRetryAfterSeconds: '5',
      sendResultTtlSeconds: '86400',
      sendTombstoneTtlSeconds: '864000',
      destinations: [{ url: 'https://peer.example.org/dicom-web', auth: { type: 'none' } }],
      throttlingRateLimit: '2500',
      throttlingBurstLimit: '5000',
      indexShards: '16',
    },
    'Deliver in a VPC': { deliverVpcId: 'vpc-0123456789abcdef0', deliverSubnetIds: 'subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2' },
    'dimse with every option, retained data': dimse,
    'dimse, retainData=false, auth=cognito, waf=false, Deliver in a VPC': {
      ...dimse,
      retainData: 'false',
      auth: 'cognito',
      waf: 'false',
      deliverVpcId: 'vpc-0123456789abcdef0',
      deliverSubnetIds: 'subnet-0aaaaaaaaaaaaaaa1',
    },
    "viewer with the stack's user pool": viewer,
    'viewer with an external issuer, price class All, retainData=false, waf=false': {
      ...viewer,
      oidcIssuer: 'https://idp.example.org/realms/hospital',
      oidcAudience: 'dicomweb',
      viewerClientId: 'ohif-viewer',
      viewerScope: 'openid dicomweb.read',
      viewerPriceClass: 'All',
      retainData: 'false',
      waf: 'false',
    },
    'viewer with auth=none, allowUnauthenticated': { ...viewer, auth: 'none', allowUnauthenticated: 'true' },
  };

  for (const [name, context] of Object.entries(variants)) {
    it(`has no unacknowledged error or warning: ${name}`, () => {
      expect(nagFindings(context)).toEqual([]);
    });
  }

  it('fails synth on what is not acknowledged (the packs are registered and can fail)', () => {
    const { app, stack } = buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [] } }));
    new s3.Bucket(stack, 'Unprotected');
    expect(new AwsSolutionsChecks().validateScope(app).violations.map((v) => v.ruleName)).toContain('AwsSolutions-S1');
    expect(() => app.synth()).toThrow(
      /AwsSolutions-S1[\s\S]*HIPAA\.Security-S3BucketLoggingEnabled|HIPAA\.Security-S3BucketLoggingEnabled[\s\S]*AwsSolutions-S1/,
    );
  });

  it("leaves the packs out with context nag='false'", () => {
    const { app, stack } = buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [], nag: 'false' } }));
    new s3.Bucket(stack, 'Unprotected');
    expect(() => app.synth()).not.toThrow();
  });
});
