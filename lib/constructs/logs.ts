import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface ArchiveLogsProps {
  /** How long function and access logs are kept. */
  readonly retention?: logs.RetentionDays;
  /** Keep log groups and their key when the stack is deleted (default). */
  readonly retainData?: boolean;
}

/**
 * Log groups of the archive share one retention and one customer managed key. Logs carry no patient
 * data by design, but they do carry request ids and resource paths, so they are encrypted anyway.
 */
export class ArchiveLogs extends Construct {
  readonly key: kms.Key;
  readonly retention: logs.RetentionDays;
  private readonly removalPolicy: RemovalPolicy;

  constructor(scope: Construct, id: string, props: ArchiveLogsProps = {}) {
    super(scope, id);
    this.retention = props.retention ?? logs.RetentionDays.ONE_YEAR;
    this.removalPolicy = (props.retainData ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    this.key = new kms.Key(this, 'Key', {
      description: 'DICOMweb archive: CloudWatch Logs',
      enableKeyRotation: true,
      removalPolicy: this.removalPolicy,
    });
    // CloudWatch Logs encrypts with the key on behalf of the log groups of this account and region.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*`,
          },
        },
      }),
    );
  }

  /** A log group with the archive's retention and key; a name only where a service demands one. */
  logGroup(scope: Construct, id: string, logGroupName?: string): logs.LogGroup {
    return new logs.LogGroup(scope, id, {
      logGroupName,
      retention: this.retention,
      encryptionKey: this.key,
      removalPolicy: this.removalPolicy,
    });
  }
}
