/**
 * AWS SDK clients: build them once per process and pass them to the adapters (STYLE.md 7), so the same
 * adapter code talks to AWS or to the embedded emulators (DESIGN.md).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Config } from '../config';
import { ServiceUnavailableError } from '../dicomweb/errors';

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

/** The emulators accept any signature; real AWS never sees these (they are set only with an endpoint). */
const EMULATOR_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export function createAwsClients(
  config: Pick<Config, 'region' | 's3Endpoint' | 'dynamodbEndpoint' | 'sfnEndpoint'>,
  optional: OptionalAwsClients = {},
): AwsClients {
  const s3 = new S3Client({
    region: config.region,
    ...(config.s3Endpoint && {
      endpoint: config.s3Endpoint,
      // s3rver serves buckets by path and corrupts streamed uploads that carry flexible checksums.
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      credentials: EMULATOR_CREDENTIALS,
    }),
  });
  const dynamodb = new DynamoDBClient({
    region: config.region,
    ...(config.dynamodbEndpoint && { endpoint: config.dynamodbEndpoint, credentials: EMULATOR_CREDENTIALS }),
  });
  const sfn = optional.sfn
    ? new SFNClient({
        region: config.region,
        ...(config.sfnEndpoint && { endpoint: config.sfnEndpoint, credentials: EMULATOR_CREDENTIALS }),
      })
    : undefined;
  // No emulator: the embedded runtime reads its destination registry from a file.
  const secretsManager = optional.secretsManager ? new SecretsManagerClient({ region: config.region }) : undefined;
  return { s3, dynamodb, ...(sfn && { sfn }), ...(secretsManager && { secretsManager }) };
}

/** HTTP statuses of AWS answers that mean "the service cannot answer now", not "your request is wrong". */
const UNAVAILABLE_STATUSES = new Set([429, 500, 502, 503, 504]);

/** Socket-level failures: the service could not be reached at all (after the SDK's retries). */
const NETWORK_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** Throttling, a transient service fault or an unreachable service that outlived the SDK's own retries. */
export function isServiceUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as {
    name?: string;
    code?: string;
    $retryable?: { throttling?: boolean };
    $metadata?: { httpStatusCode?: number };
  };
  if (e.$retryable?.throttling) return true;
  if ((e.code && NETWORK_ERROR_CODES.has(e.code)) || e.name === 'TimeoutError') return true;
  const status = e.$metadata?.httpStatusCode;
  return status !== undefined && UNAVAILABLE_STATUSES.has(status);
}

/**
 * The generic throttling error of AWS JSON services (Step Functions, Secrets Manager): HTTP 400, not
 * modelled as a class and without the $retryable trait, so only its wire name identifies it.
 */
export function isThrottlingException(error: unknown): boolean {
  return error instanceof Error && '$metadata' in error && error.name === 'ThrottlingException';
}

/**
 * Runs one SDK call, turning throttling / unavailability into ServiceUnavailableError (503 with
 * Retry-After, STYLE.md 4); every other error passes through unchanged. `alsoUnavailable` adds
 * service-specific error classes the status code alone does not reveal (e.g. DynamoDB's 400
 * ProvisionedThroughputExceededException).
 */
export async function callAws<T>(
  service: string,
  call: () => Promise<T>,
  alsoUnavailable: (error: unknown) => boolean = () => false,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isServiceUnavailable(error) || alsoUnavailable(error)) {
      throw new ServiceUnavailableError(`${service} is unavailable, retry later`);
    }
    throw error;
  }
}
