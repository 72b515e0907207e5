/**
 * AWS SDK clients: build them once per process and pass them to the adapters, so the same
 * adapter code talks to AWS or to the embedded emulators (docs/architecture.md). Each client's factory sits with
 * its adapter, so a Lambda function that wires one adapter loads one SDK package; this builds them all
 * (embedded runtime, DIMSE gateway, tests).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { Config } from '../config';
import { createSecretsManagerClient } from './destinations';
import { createDynamoDbClient } from './dynamodb-table';
import { createS3Client } from './s3';
import { createSfnClient } from './sfn';

export interface AwsClients {
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBClient;
  /** Step Functions (SEND-RS workflow); only when asked for. */
  readonly sfn?: SFNClient;
  /** Secrets Manager (destination registry in AWS); only when asked for. */
  readonly secretsManager?: SecretsManagerClient;
}

/** The optional clients a caller needs besides S3 and DynamoDB. */
export interface OptionalAwsClients {
  readonly sfn?: boolean;
  readonly secretsManager?: boolean;
}

export function createAwsClients(
  config: Pick<Config, 'region' | 's3Endpoint' | 'dynamodbEndpoint' | 'sfnEndpoint'>,
  optional: OptionalAwsClients = {},
): AwsClients {
  const s3 = createS3Client(config);
  const dynamodb = createDynamoDbClient(config);
  const sfn = optional.sfn ? createSfnClient(config) : undefined;
  const secretsManager = optional.secretsManager ? createSecretsManagerClient(config) : undefined;
  return { s3, dynamodb, ...(sfn && { sfn }), ...(secretsManager && { secretsManager }) };
}
