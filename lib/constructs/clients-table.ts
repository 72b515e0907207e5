import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { CLIENTS_PARTITION_KEY, SHARE_LINK_KEY_PREFIX } from '../../lambdas/storage/clients-table-schema';

export interface ApiClientsTableProps {
  /** Keep the table and its key when the stack is deleted (default), as the archive's storage. */
  readonly retainData?: boolean;
}

/**
 * The API key clients (docs/security.md; lambdas/storage/clients-table-schema.ts): one small table
 * apart from the archive's, encrypted with a key of its own, so what verifies keys (every API
 * function, the authorizer) reads credentials' hashes without any access to patient data.
 */
export class ApiClientsTable extends Construct {
  readonly key: kms.Key;
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: ApiClientsTableProps = {}) {
    super(scope, id);
    const removalPolicy = (props.retainData ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    this.key = new kms.Key(this, 'Key', {
      description: 'DICOMweb archive: API key clients',
      enableKeyRotation: true,
      removalPolicy,
    });
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: CLIENTS_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      removalPolicy,
    });
    Validations.of(this.table).acknowledge({
      id: 'HIPAA.Security-DynamoDBInBackupPlan',
      reason:
        'Point-in-time recovery keeps continuous backups for 35 days; the table holds hashes of API keys, ' +
        'which an operator replaces by adding clients again; an AWS Backup plan is an account-level choice.',
    });
  }

  // Explicit actions, as the archive's storage grants (lib/constructs/storage.ts), into the function's
  // customer managed policy: exactly the calls of lambdas/storage/dynamodb-clients.ts.

  /**
   * Verifying a key or a share token: GetItem of its client or link; and counting a share link's
   * uses (ShareLinkStore.recordUses): UpdateItem of the share links' items only (dynamodb:LeadingKeys),
   * so no function can touch a client's scopes or revocation.
   */
  grantVerify(policy: iam.ManagedPolicy): void {
    policy.addStatements(
      new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [this.table.tableArn] }),
      new iam.PolicyStatement({
        actions: ['dynamodb:UpdateItem'],
        resources: [this.table.tableArn],
        // ForAllValues holds for a request without the key at all: Null rules that out.
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${SHARE_LINK_KEY_PREFIX}*`] },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      }),
      new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:DescribeKey'], resources: [this.key.keyArn] }),
    );
  }

  /** Managing the clients and share links (the admin function): add, read, list, revoke. */
  grantManage(policy: iam.ManagedPolicy): void {
    policy.addStatements(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Scan'],
        resources: [this.table.tableArn],
      }),
      new iam.PolicyStatement({
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: [this.key.keyArn],
      }),
    );
  }
}
