/**
 * The storage ports are built from the configuration here and nowhere else: every Lambda entry, the
 * embedded runtime, the DIMSE gateway and the bench call these functions, so a new storage backend is
 * a branch in them (docs/architecture.md, "adding a storage backend"). One module per port, each
 * reaching only its own adapter, so a Lambda bundle holds the SDK clients of the ports it uses and no
 * other (test/cdk/bundles.test.ts).
 *
 * Clients may be passed in so the ports of one process share them (one DynamoDB client for the
 * table's adapters); a port built without one creates its own.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../../config';

/** SDK clients a caller already holds, shared by the ports built from them. */
export interface StorageClients {
  readonly s3?: S3Client;
  readonly dynamodb?: DynamoDBClient;
}

/** What a port in the archive's table needs. */
export type TableConfig = Pick<Config, 'region' | 'dynamodbEndpoint' | 'tableName'>;
/** What a port in the archive's bucket needs. */
export type BucketConfig = Pick<Config, 'region' | 's3Endpoint' | 'bucketName'>;
