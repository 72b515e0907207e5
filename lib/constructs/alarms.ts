import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface ArchiveAlarmsProps {
  readonly stage: apigateway.Stage;
  /** Every function of the archive, by a name for the alarm. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly sendStateMachine: sfn.IStateMachine;
  /** Context `alarmEmail`: subscribed to the alarm topic (the address confirms by e-mail). */
  readonly email?: string;
  /** Keep the topic's key when the stack is deleted (default). */
  readonly retainData?: boolean;
}

/** The period every alarm evaluates, once. */
const period = Duration.minutes(5);

/** 5xx answers of the API, as a share of its requests, that raise the alarm. */
export const API_5XX_RATE_THRESHOLD = 0.05;

/**
 * CloudWatch alarms of what a deployment cannot shrug off, all notifying one SNS topic (encrypted
 * with a key of its own that CloudWatch may use; AwsSolutions-SNS2/SNS3):
 * - the API's 5xx rate over 5 minutes (a 5xx on user input is a bug, and 502/504 are limits hit);
 * - per function, Errors and Throttles (Lambda Throttles: reserved or account concurrency exhausted;
 *   the stage's own 429s only show in 4XXError, with every client error, so they are not alarmed);
 * - Send executions that failed, timed out or were aborted (the Send Request ends Failed);
 * - with the DIMSE gateway, no healthy task behind its NLB (watchDimseGateway).
 * The functions are invoked synchronously (API Gateway, Step Functions Tasks): there is no DLQ to watch.
 */
export class ArchiveAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly action: actions.SnsAction;

  constructor(scope: Construct, id: string, props: ArchiveAlarmsProps) {
    super(scope, id);
    const key = new kms.Key(this, 'TopicKey', {
      description: 'DICOMweb archive: alarm notifications',
      enableKeyRotation: true,
      removalPolicy: (props.retainData ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    // CloudWatch publishes to the encrypted topic with this key (SNS developer guide, "Enable
    // compatibility between event sources from AWS services and encrypted topics").
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'DICOMweb archive alarms', masterKey: key, enforceSSL: true });
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    this.action = new actions.SnsAction(this.topic);

    this.alarm(
      'Api5xxRate',
      props.stage.metricServerError({ statistic: cloudwatch.Stats.AVERAGE, period }),
      API_5XX_RATE_THRESHOLD,
      `At least ${API_5XX_RATE_THRESHOLD * 100}% of the API's answers in 5 minutes were 5xx`,
    );
    for (const [name, fn] of Object.entries(props.functions)) {
      this.alarm(
        `${name}Errors`,
        fn.metricErrors({ period, statistic: cloudwatch.Stats.SUM }),
        1,
        `Function ${name} failed (unhandled error or timeout)`,
      );
      this.alarm(`${name}Throttles`, fn.metricThrottles({ period, statistic: cloudwatch.Stats.SUM }), 1, `Function ${name} was throttled`);
    }
    const sm = props.sendStateMachine;
    this.alarm(
      'SendFailed',
      new cloudwatch.MathExpression({
        expression: 'failed + timedOut + aborted',
        usingMetrics: {
          failed: sm.metricFailed({ period }),
          timedOut: sm.metricTimedOut({ period }),
          aborted: sm.metricAborted({ period }),
        },
        period,
      }),
      1,
      'A Send execution failed, timed out or was aborted: its Send Request ended Failed',
    );
  }

  /** No healthy gateway task behind the NLB for 5 minutes: associations are refused. */
  watchDimseGateway(targetGroup: elbv2.NetworkTargetGroup): void {
    const healthy = targetGroup.metrics.healthyHostCount({ period, statistic: cloudwatch.Stats.MINIMUM });
    this.alarm(
      'DimseNoHealthyTask',
      healthy,
      1,
      'No healthy DIMSE gateway task behind the NLB',
      cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    );
  }

  private alarm(
    id: string,
    metric: cloudwatch.IMetric,
    threshold: number,
    description: string,
    comparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  ): void {
    const created = new cloudwatch.Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    created.addAlarmAction(this.action);
    this.alarms.push(created);
  }
}
