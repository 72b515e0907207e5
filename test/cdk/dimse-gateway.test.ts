import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { VALIDATION_REPORT_FILE } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app';

function synthWith(context: Record<string, unknown>) {
  const { app, stack } = buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } }));
  const assembly = app.synth();
  return { app, stack, assembly, template: Template.fromStack(stack) };
}

describe('DIMSE gateway construct (Fargate behind an NLB)', { timeout: 120_000 }, () => {
  const { app, stack, assembly, template } = synthWith({
    dimse: 'true',
    dimseAet: 'PACS_GW',
    dimsePort: '104',
    dimseAllowedCidrs: '10.20.0.0/16',
    dimseMaxAssociations: '8',
    dimseMaxObjectBytes: '104857600',
    dimseMaxBufferedBytes: '209715200',
  });

  it('runs the gateway image on Fargate with the archive configuration, behind an internal TCP NLB', () => {
    template.resourceCountIs('AWS::ECS::Service', 1);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Type: 'network', Scheme: 'internal' });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 104, Protocol: 'TCP' });
    const [taskDefinition] = Object.values(template.findResources('AWS::ECS::TaskDefinition')) as { Properties: { ContainerDefinitions: any[] } }[];
    const [container] = taskDefinition!.Properties.ContainerDefinitions;
    expect(container.PortMappings).toEqual([{ ContainerPort: 104, Protocol: 'tcp' }]);
    const environment = Object.fromEntries(container.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
    expect(environment).toMatchObject({ DIMSE_AET: 'PACS_GW', DIMSE_PORT: '104', DIMSE_MAX_ASSOCIATIONS: '8', DIMSE_MAX_OBJECT_BYTES: '104857600', DIMSE_MAX_BUFFERED_BYTES: '209715200' });
    expect(Object.keys(environment)).toEqual(expect.arrayContaining(['BUCKET_NAME', 'TABLE_NAME', 'DESTINATIONS_SECRET_ARN']));
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: Match.arrayWith([Match.objectLike({ CidrIp: '10.20.0.0/16', FromPort: 104, ToPort: 104 })]),
    });
    // The image is only staged at synth (Dockerfile of lib/dimse), built by cdk deploy.
    const manifest = JSON.parse(readFileSync(path.join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8')) as {
      dockerImages: Record<string, { source: { directory: string; dockerFile?: string } }>;
    };
    expect(Object.values(manifest.dockerImages).map((i) => i.source.dockerFile)).toEqual(['lib/dimse/Dockerfile']);
  });

  it('has no unacknowledged cdk-nag finding', () => {
    const report = JSON.parse(readFileSync(path.join(assembly.directory, VALIDATION_REPORT_FILE), 'utf8')) as {
      pluginReports: { pluginName: string; violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[];
    };
    const reported = report.pluginReports.flatMap((p) => p.violations.map((v) => `${v.ruleName} at ${v.violatingConstructs.map((c) => c.constructPath).join(', ')}`));
    const direct = [new AwsSolutionsChecks(), new HIPAASecurityChecks()].flatMap((pack) =>
      pack.validateScope(app).violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`),
    );
    expect([...reported, ...direct]).toEqual([]);
  });

  it('is left out by default and refuses a malformed setting', () => {
    expect(synthWith({}).template.findResources('AWS::ECS::Service')).toEqual({});
    expect(() => buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [], dimse: 'true', dimsePort: '70000' } }))).toThrow(/dimsePort/);
    expect(() => buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [], dimse: 'true', dimseMaxObjectBytes: 'lots' } }))).toThrow(/dimseMaxObjectBytes/);
    expect(() => buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [], dimse: 'true', dimseMaxBufferedBytes: '1000' } }))).toThrow(/at least dimseMaxObjectBytes/);
    // The gateway's own rules (lambdas/dimse/config.ts), applied at synth: PS3.5 AE, no backslash.
    expect(() => buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [], dimse: 'true', dimseAet: 'A\\B' } }))).toThrow(/context dimseAet must be 1 to 16/);
    expect(() => buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [], dimse: 'true', dimsePort: '0' } }))).toThrow(/dimsePort must be a TCP port/);
  });
});
