/**
 * What the first `cdk deploy`, a `cdk destroy` and the next deploy run into outside the template's
 * own validity: account-wide settings the stack must not take over, names that outlive a stack,
 * deletion protection, throttling that starves a viewer, partition-bound ARNs.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ArchiveContextError } from '../../lib/archive-stack';
import { DEFAULT_THROTTLING } from '../../lib/constructs/api';
import { buildSendStateMachineDefinition } from '../../lib/send-workflow';
import { synth, type Resources } from './helpers';

const stageOf = (template: ReturnType<typeof synth>['template']) =>
  Object.values(template.findResources('AWS::ApiGateway::Stage'))[0]!.Properties as Record<string, any>;

describe('API stage', () => {
  const { template } = synth();

  it('throttles at 1,000 requests per second with bursts of 2,000 by default, and from context', () => {
    expect(DEFAULT_THROTTLING).toEqual({ rateLimit: 1000, burstLimit: 2000 });
    expect(stageOf(template).MethodSettings[0]).toMatchObject({ ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 });
    const custom = synth({ throttlingRateLimit: '2500', throttlingBurstLimit: '5000' }).template;
    expect(stageOf(custom).MethodSettings[0]).toMatchObject({ ThrottlingRateLimit: 2500, ThrottlingBurstLimit: 5000 });
    expect(() => synth({ throttlingRateLimit: 'fast' })).toThrow(ArchiveContextError);
  });

  it("leaves the account's API Gateway CloudWatch role alone", () => {
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
    expect(Object.values(template.findResources('AWS::IAM::Role')).map((r) => JSON.stringify(r))).not.toContainEqual(
      expect.stringContaining('AmazonAPIGatewayPushToCloudWatchLogs'),
    );
  });

  it('logs errors in the access log; execution logs only by context, into a group with retention', () => {
    expect(stageOf(template).MethodSettings[0].LoggingLevel).toBe('OFF');
    const format = JSON.parse(stageOf(template).AccessLogSetting.Format);
    expect(format).toMatchObject({
      status: '$context.status',
      errorMessage: '$context.error.message',
      integrationError: '$context.integrationErrorMessage',
    });
    // No concrete path or query: UIDs and patient attributes stay out of the log.
    expect(Object.values(format)).not.toContain('$context.path');

    const withLogs = synth({ apiExecutionLogs: 'true' }).template;
    expect(stageOf(withLogs).MethodSettings[0].LoggingLevel).toBe('ERROR');
    withLogs.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: { 'Fn::Join': ['', ['API-Gateway-Execution-Logs_', { Ref: Match.anyValue() }, '/prod']] },
      RetentionInDays: Match.anyValue(),
      KmsKeyId: Match.anyValue(),
    });
  });
});

describe('names and protection across destroy and redeploy', () => {
  it('names the WAF log group after the web ACL id, new at each creation', () => {
    const { template } = synth();
    const resources = template.toJSON().Resources as Resources;
    const wafGroups = Object.values(resources).filter(
      (r) => r.Type === 'AWS::Logs::LogGroup' && JSON.stringify(r.Properties.LogGroupName ?? '').includes('aws-waf-logs-'),
    );
    expect(wafGroups).toHaveLength(1);
    const [webAclId] = Object.entries(resources).find(([, r]) => r.Type === 'AWS::WAFv2::WebACL')!;
    expect(wafGroups[0]!.Properties.LogGroupName).toEqual({ 'Fn::Join': ['', ['aws-waf-logs-Test-', { 'Fn::GetAtt': [webAclId, 'Id'] }]] });
  });

  it('protects the DIMSE NLB from deletion with retained data only, and outputs its ARN for the CLI', () => {
    const dimse = { dimse: 'true', dimseAllowedCidrs: '10.20.0.0/16' };
    const attribute = (context: Record<string, unknown>) => {
      const { template } = synth({ ...dimse, ...context });
      template.hasOutput('DimseLoadBalancerArn', { Value: { Ref: Match.stringLikeRegexp('Nlb') } });
      const [nlb] = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'));
      return nlb!.Properties.LoadBalancerAttributes.find((a: { Key: string }) => a.Key === 'deletion_protection.enabled')?.Value;
    };
    expect(attribute({})).toBe('true');
    expect(attribute({ retainData: 'false' })).toBe('false');
  });

  it("reads the Send manifest through the deployment's partition", () => {
    const definition = (partition?: string) =>
      buildSendStateMachineDefinition({
        mode: 'distributed',
        resolveArn: 'r',
        deliverArn: 'd',
        finalizeArn: 'f',
        failArn: 'x',
        manifestBucket: 'b',
        batchSize: 1,
        maxConcurrency: 1,
        partition,
      });
    expect(JSON.stringify(definition('aws-cn'))).toContain('"arn:aws-cn:states:::s3:getObject"');
    const { template } = synth();
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    const body = JSON.stringify(machine!.Properties.DefinitionString);
    expect(body).not.toContain('arn:aws:states:::s3:getObject');
    expect(body).toContain('arn:",{"Ref":"AWS::Partition"},":states:::s3:getObject');
  });
});
