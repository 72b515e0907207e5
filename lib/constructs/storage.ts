import { Duration, RemovalPolicy, Stack, Validations, type CfnResource } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  DEFAULT_STORAGE_TIERING,
  gsiProjectionOf,
  instanceTieringRule,
  tableClassOf,
  type GsiProjections,
  type StorageTiering,
} from './storage-tiering';
import { DEFAULT_SEND_RESULT_TTL_SECONDS } from '../../lambdas/config';
import { KEY_PREFIXES, sendRequestObjectExpiryDays } from '../../lambdas/storage/keys';
import { GLOBAL_SECONDARY_INDEXES, TABLE_PARTITION_KEY, TABLE_SORT_KEY, TTL_ATTRIBUTE } from '../../lambdas/storage/table-schema';

export interface ArchiveStorageProps {
  /**
   * Keep the bucket, table and key when the stack is deleted (default). When false they are
   * destroyed with the stack and the bucket is emptied first: for test and demo deployments only.
   */
  readonly retainData?: boolean;
  /** Storage classes and version retention (./storage-tiering.ts); DEFAULT_STORAGE_TIERING by default. */
  readonly tiering?: StorageTiering;
  /** What the GSIs copy (./storage-tiering.ts GSI_PROJECTIONS); 'lean' by default. */
  readonly gsiProjections?: GsiProjections;
  /**
   * Browser origins allowed by CORS (CORS_ALLOWED_ORIGINS): they may PUT upload parts to their
   * presigned URLs and read the ETag of the answer, and GET a presigned object (docs/uploads.md).
   * No bucket CORS without any.
   */
  readonly corsAllowedOrigins?: readonly string[];
  /** SEND_RESULT_TTL_SECONDS of the functions: how long a send request's objects are read. */
  readonly sendResultTtlSeconds?: number;
}

/**
 * A send request's objects (lambdas/storage/keys.ts: its manifest and its Deliver batches' outcomes)
 * are read until its result expires (SEND_RESULT_TTL_SECONDS after the request, then 410 Gone), so
 * they expire the day after: without this rule every Send left them in the bucket for good. S3 counts
 * days from an object's creation, which is after the request's.
 */
export function sendRequestsLifecycleRule(resultTtlSeconds: number): s3.LifecycleRule {
  return {
    id: 'SendRequests',
    prefix: KEY_PREFIXES.sendRequests,
    expiration: Duration.days(sendRequestObjectExpiryDays(resultTtlSeconds)),
    noncurrentVersionExpiration: Duration.days(1),
  };
}

/** The uploads of the upload path (lambdas/storage/keys.ts uploadObjectKey). */
export const UPLOADS_PREFIX = 'uploads/';

/**
 * An upload's parts expire a day after it was created (UPLOAD_EXPIRY's default: it is abandoned then),
 * its joined object two days after (a complete deletes it once stored; this catches a Store cut short
 * for good), and a deleted joined object's version after a day: uploads hold copies, never the archive's
 * only bytes, so they are not kept like instances.
 */
export const UPLOAD_LIFECYCLE_RULE: s3.LifecycleRule = {
  id: 'Uploads',
  prefix: UPLOADS_PREFIX,
  abortIncompleteMultipartUploadAfter: Duration.days(1),
  expiration: Duration.days(2),
  noncurrentVersionExpiration: Duration.days(1),
};

/**
 * Where the archive keeps its data (docs/architecture.md, storage model): one bucket for Part 10 objects,
 * metadata JSON and send manifests; one table for the index and send requests. Both are encrypted
 * with one customer managed key, so access to patient data needs the key as well as the resource.
 */
export class ArchiveStorage extends Construct {
  readonly key: kms.Key;
  readonly bucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: ArchiveStorageProps = {}) {
    super(scope, id);
    const retain = props.retainData ?? true;
    const tiering = props.tiering ?? DEFAULT_STORAGE_TIERING;
    const removalPolicy = retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.key = new kms.Key(this, 'DataKey', {
      description: 'DICOMweb archive: objects and index',
      enableKeyRotation: true,
      removalPolicy,
    });

    // Server access log delivery writes with SSE-S3 only; a KMS default key would make it fail.
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy,
      autoDeleteObjects: !retain,
    });
    Validations.of(this.accessLogsBucket).acknowledge(
      {
        id: 'AwsSolutions-S1',
        reason: 'This is the access log target itself; logging it into another bucket would recurse.',
      },
      {
        id: 'HIPAA.Security-S3BucketLoggingEnabled',
        reason: 'This is the access log target itself; logging it into another bucket would recurse.',
      },
      {
        id: 'HIPAA.Security-S3DefaultEncryptionKMS',
        reason: 'S3 server access log delivery supports SSE-S3 only; the bucket holds no DICOM objects.',
      },
      {
        id: 'HIPAA.Security-S3BucketReplicationEnabled',
        reason: 'Access logs are operational records; cross-region replication is a deployment choice.',
      },
    );

    this.bucket = new s3.Bucket(this, 'Objects', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'objects/',
      lifecycleRules: [
        {
          noncurrentVersionExpiration: Duration.days(tiering.noncurrentVersionDays),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
        UPLOAD_LIFECYCLE_RULE,
        sendRequestsLifecycleRule(props.sendResultTtlSeconds ?? DEFAULT_SEND_RESULT_TTL_SECONDS),
      ],
      ...(props.corsAllowedOrigins?.length && {
        cors: [
          {
            allowedOrigins: [...props.corsAllowedOrigins],
            allowedMethods: [s3.HttpMethods.PUT, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
            allowedHeaders: ['Content-Type', 'Content-Length', 'Range'],
            exposedHeaders: ['ETag', 'Content-Length', 'Content-Range'],
            maxAge: 7200,
          },
        ],
      }),
      removalPolicy,
      autoDeleteObjects: !retain,
    });
    // Instance objects tier down with age (./storage-tiering.ts); metadata and thumbnails stay in Standard.
    const tierDown = instanceTieringRule(tiering);
    if (tierDown) {
      this.bucket.addLifecycleRule(tierDown);
      Validations.of(this.bucket).acknowledge({
        id: 'CloudFormation-Validate::W9003',
        reason:
          'ObjectSizeGreaterThan is a number of bytes in the S3 API; the CDK writes a number where the ' +
          'CloudFormation schema declares a string, and CloudFormation coerces it.',
      });
    }
    Validations.of(this.bucket).acknowledge({
      id: 'HIPAA.Security-S3BucketReplicationEnabled',
      reason:
        'Versioning and retention protect against loss in one region; replicating patient data to a ' +
        'second region is a data-residency decision each deployment makes.',
    });

    this.table = new dynamodb.Table(this, 'Index', {
      partitionKey: { name: TABLE_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_SORT_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      tableClass: tableClassOf(tiering),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      removalPolicy,
    });
    Validations.of(this.table).acknowledge({
      id: 'HIPAA.Security-DynamoDBInBackupPlan',
      reason:
        'Point-in-time recovery keeps continuous backups for 35 days, and the index can be rebuilt ' +
        'from the Part 10 objects, which S3 versioning protects; an AWS Backup plan is an account-level choice.',
    });
    for (const gsi of GLOBAL_SECONDARY_INDEXES) {
      this.table.addGlobalSecondaryIndex({
        indexName: gsi.indexName,
        partitionKey: { name: gsi.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: gsi.sortKey, type: dynamodb.AttributeType.STRING },
        ...gsiProjectionOf(gsi, props.gsiProjections ?? 'lean'),
      });
    }
  }

  // Grants: explicit actions instead of the CDK grant* wildcards, so each function gets exactly the
  // calls its adapters make (lambdas/storage/s3.ts, dynamodb.ts) and no Scan. They go into the
  // function's customer managed policy (no inline policies, HIPAA.Security-IAMNoInlinePolicy).

  /**
   * GetObject; ListBucket so a missing key reads as NoSuchKey (404) rather than AccessDenied.
   * `keys` narrows the grant to key patterns (lambdas/storage/keys.ts), e.g. 'send-requests/*'.
   */
  grantObjectRead(policy: iam.ManagedPolicy, keys: string | readonly string[] = '*'): void {
    const patterns = typeof keys === 'string' ? [keys] : keys;
    policy.addStatements(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: patterns.map((k) => this.bucket.arnForObjects(k)) }),
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
      new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [this.key.keyArn] }),
    );
    for (const k of patterns) this.acknowledgeAnyObject(policy, k);
  }

  grantObjectWrite(policy: iam.ManagedPolicy, keys = '*'): void {
    policy.addStatements(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: [this.bucket.arnForObjects(keys)],
      }),
      new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [this.key.keyArn] }),
    );
    this.acknowledgeAnyObject(policy, keys);
  }

  /** ListMultipartUploadParts (ListParts) of the multipart uploads of the objects matching `keys`. */
  grantMultipartUploadList(policy: iam.ManagedPolicy, keys: string): void {
    policy.addStatements(
      new iam.PolicyStatement({ actions: ['s3:ListMultipartUploadParts'], resources: [this.bucket.arnForObjects(keys)] }),
    );
    this.acknowledgeAnyObject(policy, keys);
  }

  /** DeleteObject (DeleteObjects needs it per key). Versioning keeps the deleted bytes recoverable. */
  grantObjectDelete(policy: iam.ManagedPolicy, keys = '*'): void {
    policy.addStatements(new iam.PolicyStatement({ actions: ['s3:DeleteObject'], resources: [this.bucket.arnForObjects(keys)] }));
    this.acknowledgeAnyObject(policy, keys);
  }

  grantIndexRead(policy: iam.ManagedPolicy): void {
    policy.addStatements(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
        resources: [this.table.tableArn, `${this.table.tableArn}/index/*`],
      }),
      new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:DescribeKey'], resources: [this.key.keyArn] }),
    );
    this.acknowledgeAnyIndex(policy);
  }

  grantIndexWrite(policy: iam.ManagedPolicy): void {
    policy.addStatements(
      new iam.PolicyStatement({
        actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
        resources: [this.table.tableArn],
      }),
      new iam.PolicyStatement({
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: [this.key.keyArn],
      }),
    );
  }

  /** The finding id of AwsSolutions-IAM5 for a grant on the objects matching `keys`. */
  objectsFinding(keys: string): string {
    return `AwsSolutions-IAM5[Resource::<${this.logicalId(this.bucket.node.defaultChild)}.Arn>/${keys}]`;
  }

  private acknowledgeAnyObject(policy: iam.ManagedPolicy, keys = '*'): void {
    Validations.of(policy).acknowledge({
      id: this.objectsFinding(keys),
      reason:
        'Object keys are named by the UIDs of each request (studies/{study}/..., npi/{category}/..., ' +
        'send-requests/{transactionUID}/..., lambdas/storage/keys.ts), so the grant covers the objects ' +
        'under one key pattern of this one bucket.',
    });
  }

  private acknowledgeAnyIndex(policy: iam.ManagedPolicy): void {
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.logicalId(this.table.node.defaultChild)}.Arn>/index/*]`,
      reason: 'Searches query the global secondary indexes of this one table (table-schema.ts).',
    });
  }

  private logicalId(resource: unknown): string {
    return Stack.of(this).resolve((resource as CfnResource).logicalId) as string;
  }
}
