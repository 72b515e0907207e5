import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ArchiveContextError } from '../../lib/archive-stack';
import { API_5XX_RATE_THRESHOLD } from '../../lib/constructs/alarms';
import { functionGroups } from '../../lambdas/http/routes';
import { sendTaskFunctions } from '../../lib/send-workflow';
import { synth } from './helpers';

describe('CloudWatch alarms (lib/constructs/alarms.ts)', () => {
  const { stack, template } = synth();
  const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((r) => r.Properties as Record<string, any>);
  const topicId = stack.getLogicalId(stack.alarms.topic.node.defaultChild as never);

  it("alarm on the API's 5xx rate", () => {
    expect(alarms).toContainEqual(
      expect.objectContaining({
        Namespace: 'AWS/ApiGateway',
        MetricName: '5XXError',
        Statistic: 'Average',
        Threshold: API_5XX_RATE_THRESHOLD,
      }),
    );
  });

  it('alarm on errors and throttles of every function, API and Send tasks', () => {
    const functions = Object.keys(template.findResources('AWS::Lambda::Function')).filter(
      (id) => !/LogRetention|AwsCustomResource|CustomResource/.test(id),
    );
    // One per function group (lambdas/http/routes.ts) and per Send task, and the authorizer (auth=oidc by default).
    expect(functions).toHaveLength(Object.keys(functionGroups).length + Object.keys(sendTaskFunctions).length + 1);
    for (const metric of ['Errors', 'Throttles']) {
      const watched = alarms.filter((a) => a.Namespace === 'AWS/Lambda' && a.MetricName === metric).map((a) => a.Dimensions[0].Value.Ref);
      expect(new Set(watched), metric).toEqual(new Set(functions));
    }
  });

  it('alarm on failed, timed out or aborted Send executions', () => {
    const send = alarms.find((a) => a.Metrics?.some((m: any) => m.MetricStat?.Metric.MetricName === 'ExecutionsFailed'));
    expect(send?.Metrics.map((m: any) => m.MetricStat?.Metric.MetricName ?? m.Expression).sort()).toEqual(
      ['ExecutionsAborted', 'ExecutionsFailed', 'ExecutionsTimedOut', 'failed + timedOut + aborted'].sort(),
    );
  });

  it('alarm when the DIMSE gateway has no healthy task behind its NLB', () => {
    expect(alarms.filter((a) => a.MetricName === 'HealthyHostCount')).toEqual([]);
    const dimse = synth({ dimse: 'true', dimseAllowedCidrs: '10.20.0.0/16' }).template;
    dimse.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/NetworkELB',
      MetricName: 'HealthyHostCount',
      Statistic: 'Minimum',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
    });
    // Its one task is replaced only once the new one is healthy.
    dimse.hasResourceProperties('AWS::ECS::Service', { DeploymentConfiguration: Match.objectLike({ MinimumHealthyPercent: 100 }) });
  });

  it('notify one KMS-encrypted topic that CloudWatch may publish to; e-mail only by context', () => {
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }),
        ]),
      },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    synth({ alarmEmail: 'pacs-admin@example.org' }).template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'pacs-admin@example.org',
    });
    expect(() => synth({ alarmEmail: 'not an address' })).toThrow(ArchiveContextError);
  });
});
