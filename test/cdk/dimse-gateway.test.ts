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
    const [taskDefinition] = Object.values(template.findResources('AWS::ECS::TaskDefinition')) as {
      Properties: { ContainerDefinitions: any[] };
    }[];
    const [container] = taskDefinition!.Properties.ContainerDefinitions;
    expect(container.PortMappings).toEqual([{ ContainerPort: 104, Protocol: 'tcp' }]);
    const environment = Object.fromEntries(container.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
    expect(environment).toMatchObject({
      DIMSE_AET: 'PACS_GW',
      DIMSE_PORT: '104',
      DIMSE_MAX_ASSOCIATIONS: '8',
      DIMSE_MAX_OBJECT_BYTES: '104857600',
      DIMSE_MAX_BUFFERED_BYTES: '209715200',
    });
    expect(Object.keys(environment)).toEqual(expect.arrayContaining(['BUCKET_NAME', 'TABLE_NAME', 'DESTINATIONS_SECRET_ARN']));
    // The image is only staged at synth (Dockerfile of lib/dimse), built by cdk deploy.
    const manifest = JSON.parse(readFileSync(path.join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8')) as {
      dockerImages: Record<string, { source: { directory: string; dockerFile?: string } }>;
    };
    expect(Object.values(manifest.dockerImages).map((i) => i.source.dockerFile)).toEqual(['lib/dimse/Dockerfile']);
  });

  it('builds the image for the CPU architecture the task runs on', () => {
    const manifest = JSON.parse(readFileSync(path.join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8')) as {
      dockerImages: Record<string, { source: { platform?: string } }>;
    };
    const [taskDefinition] = Object.values(template.findResources('AWS::ECS::TaskDefinition')) as {
      Properties: { RuntimePlatform: Record<string, string> };
    }[];
    const { CpuArchitecture, OperatingSystemFamily } = taskDefinition!.Properties.RuntimePlatform;
    expect(`${OperatingSystemFamily}/${CpuArchitecture}`.toLowerCase()).toBe('linux/arm64');
    expect(Object.values(manifest.dockerImages).map((i) => i.source.platform)).toEqual([
      `${OperatingSystemFamily}/${CpuArchitecture}`.toLowerCase(),
    ]);
  });

  it('admits associations from the allowed networks only, through the NLB security group, to the tasks', () => {
    const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
    const groupId = (construct: { node: { findChild(id: string): { node: { defaultChild?: unknown } } } }, id: string) =>
      stack.getLogicalId(construct.node.findChild(id).node.defaultChild as never);
    const gateway = stack.dimseGateway!;
    const nlbGroup = groupId(gateway, 'NlbSecurityGroup');
    const taskGroup = groupId(gateway, 'TaskSecurityGroup');
    const [nlb] = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'));
    expect(nlb!.Properties.SecurityGroups).toEqual([{ 'Fn::GetAtt': [nlbGroup, 'GroupId'] }]);
    expect(resources[nlbGroup]!.Properties.SecurityGroupIngress).toEqual([
      expect.objectContaining({ CidrIp: '10.20.0.0/16', FromPort: 104, ToPort: 104, IpProtocol: 'tcp' }),
    ]);
    // The tasks: no CIDR at all, only the NLB's group on the DICOM port (associations and health checks).
    expect(resources[taskGroup]!.Properties.SecurityGroupIngress).toBeUndefined();
    const taskIngress = Object.values(resources).filter(
      (r) => r.Type === 'AWS::EC2::SecurityGroupIngress' && r.Properties.GroupId['Fn::GetAtt']?.[0] === taskGroup,
    );
    expect(taskIngress.map((r) => r.Properties)).toEqual([
      expect.objectContaining({
        SourceSecurityGroupId: { 'Fn::GetAtt': [nlbGroup, 'GroupId'] },
        FromPort: 104,
        ToPort: 104,
        IpProtocol: 'tcp',
      }),
    ]);
    // Client IP preservation off: the tasks see the NLB's address, which their group admits.
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetGroupAttributes: Match.arrayWith([{ Key: 'preserve_client_ip.enabled', Value: 'false' }]),
    });
  });

  it('balances across zones, keeps idle associations an hour by default, and takes idle timeout and VPC CIDR from context', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'load_balancing.cross_zone.enabled', Value: 'true' }]),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      ListenerAttributes: [{ Key: 'tcp.idle_timeout.seconds', Value: '3600' }],
    });
    template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.0.0.0/16' });
    const custom = synthWith({ dimse: 'true', dimseIdleTimeoutSeconds: '6000', dimseVpcCidr: '172.31.8.0/22' }).template;
    custom.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      ListenerAttributes: [{ Key: 'tcp.idle_timeout.seconds', Value: '6000' }],
    });
    custom.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '172.31.8.0/22' });
    const refuse = (context: Record<string, string>) => () =>
      buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [], dimse: 'true', ...context } }));
    expect(refuse({ dimseIdleTimeoutSeconds: '59' })).toThrow(/dimseIdleTimeoutSeconds must be from 60 to 6000/);
    expect(refuse({ dimseIdleTimeoutSeconds: '6001' })).toThrow(/dimseIdleTimeoutSeconds/);
    expect(refuse({ dimseVpcCidr: '10.0.0.0/24' })).toThrow(/dimseVpcCidr/);
    expect(refuse({ dimseVpcCidr: '10.0.0.1/16' })).toThrow(/dimseVpcCidr/);
  });

  it('has no unacknowledged cdk-nag finding', () => {
    const report = JSON.parse(readFileSync(path.join(assembly.directory, VALIDATION_REPORT_FILE), 'utf8')) as {
      pluginReports: { pluginName: string; violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[];
    };
    const reported = report.pluginReports.flatMap((p) =>
      p.violations.map((v) => `${v.ruleName} at ${v.violatingConstructs.map((c) => c.constructPath).join(', ')}`),
    );
    const direct = [new AwsSolutionsChecks(), new HIPAASecurityChecks()].flatMap((pack) =>
      pack.validateScope(app).violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`),
    );
    expect([...reported, ...direct]).toEqual([]);
  });

  it('is left out by default and refuses a malformed setting', () => {
    expect(synthWith({}).template.findResources('AWS::ECS::Service')).toEqual({});
    expect(() => buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [], dimse: 'true', dimsePort: '70000' } }))).toThrow(/dimsePort/);
    expect(() => buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [], dimse: 'true', dimseMaxObjectBytes: 'lots' } }))).toThrow(
      /dimseMaxObjectBytes/,
    );
    expect(() => buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [], dimse: 'true', dimseMaxBufferedBytes: '1000' } }))).toThrow(
      /at least dimseMaxObjectBytes/,
    );
    // The gateway's own rules (lambdas/dimse/config.ts), applied at synth: PS3.5 AE, no backslash.
    expect(() => buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [], dimse: 'true', dimseAet: 'A\\B' } }))).toThrow(
      /context dimseAet must be 1 to 16/,
    );
    expect(() => buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [], dimse: 'true', dimsePort: '0' } }))).toThrow(
      /dimsePort must be a TCP port/,
    );
  });

  it('gives the Move proxy client credentials, the secret from Secrets Manager only', () => {
    const secretArn = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:dimse-proxy-client-AbC123';
    const proxied = synthWith({
      dimse: 'true',
      dimseMoveProxyOrigin: 'https://origin.example.org/dicomweb',
      dimseMoveProxyTokenUrl: 'https://idp.example.org/oauth2/token',
      dimseMoveProxyClientId: 'dimse-gateway',
      dimseMoveProxyScope: 'dicomweb/send',
      dimseMoveProxyClientSecretArn: secretArn,
    }).template;
    const [taskDefinition] = Object.values(proxied.findResources('AWS::ECS::TaskDefinition')) as {
      Properties: { ContainerDefinitions: any[] };
    }[];
    const [container] = taskDefinition!.Properties.ContainerDefinitions;
    const environment = Object.fromEntries(container.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
    expect(environment).toMatchObject({
      DIMSE_MOVE_PROXY_TOKEN_URL: 'https://idp.example.org/oauth2/token',
      DIMSE_MOVE_PROXY_CLIENT_ID: 'dimse-gateway',
      DIMSE_MOVE_PROXY_SCOPE: 'dicomweb/send',
    });
    expect(environment.DIMSE_MOVE_PROXY_CLIENT_SECRET).toBeUndefined();
    expect(container.Secrets).toEqual([{ Name: 'DIMSE_MOVE_PROXY_CLIENT_SECRET', ValueFrom: secretArn }]);
    // ECS reads the secret with the execution role at task start.
    proxied.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['secretsmanager:GetSecretValue']), Resource: secretArn })]),
      },
    });
    const refuse = (context: Record<string, string>) => () =>
      buildApp(
        new App({
          context: { 'aws:cdk:bundling-stacks': [], dimse: 'true', dimseMoveProxyOrigin: 'https://origin.example.org', ...context },
        }),
      );
    expect(refuse({ dimseMoveProxyClientSecretArn: secretArn })).toThrow(/dimseMoveProxyTokenUrl, dimseMoveProxyClientId must be set too/);
    expect(refuse({ dimseMoveProxyTokenUrl: 'https://idp.example.org/t', dimseMoveProxyClientId: 'c' })).toThrow(
      /dimseMoveProxyClientSecretArn must be set too/,
    );
    expect(refuse({ dimseMoveProxyClientSecretArn: 'my-secret' })).toThrow(/complete ARN/);
    expect(refuse({ dimseMoveProxyTokenUrl: 'http://idp.example.org/t' })).toThrow(/dimseMoveProxyTokenUrl must be an https URL/);
  });
});
