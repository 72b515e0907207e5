import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { NoSuchKey, S3ServiceException } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { errorResponse } from '../../../lambdas/http/middleware';
import { StorageUnavailableError } from '../../../lambdas/storage/errors';
import { callAws, isServiceUnavailable, SILENT_SDK_LOGGER } from '../../../lambdas/storage/aws-calls';
import { createAwsClients } from '../../../lambdas/storage/clients';
import { isDynamoUnavailable } from '../../../lambdas/storage/dynamodb-table';

function s3Error(name: string, httpStatusCode: number, throttling?: boolean): S3ServiceException {
  const e = new S3ServiceException({ name, $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: { httpStatusCode } });
  if (throttling !== undefined) e.$retryable = { throttling };
  return e;
}

describe('createAwsClients', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('points at the emulators with path-style S3, checksums only when required and dummy credentials', async () => {
    const { s3, dynamodb } = createAwsClients({
      region: 'us-east-1',
      s3Endpoint: 'http://127.0.0.1:1',
      dynamodbEndpoint: 'http://127.0.0.1:2',
    });
    expect(s3.config.forcePathStyle).toBe(true);
    expect(await s3.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await s3.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    expect((await s3.config.endpoint?.())?.hostname).toBe('127.0.0.1');
    expect((await dynamodb.config.endpoint?.())?.port).toBe(2);
    expect((await dynamodb.config.credentials()).accessKeyId).toBe('S3RVER');
    s3.destroy();
    dynamodb.destroy();
  });

  it("skips the SDK's redacted log of every call: no info logger, so the log filter never walks an answer", async () => {
    /** How often one Query's answer is passed through the SDK's log filter (answered before the network). */
    const filtered = async (client: DynamoDBClient) => {
      let calls = 0;
      client.middlewareStack.add(
        (_next, context) => async () => {
          const filter = context.outputFilterSensitiveLog as (o: unknown) => unknown;
          context.outputFilterSensitiveLog = (o: unknown) => (calls++, filter(o));
          return { output: { $metadata: {}, Items: [{ PK: { S: 'PATIENT#ID-1' } }] }, response: {} };
        },
        { step: 'build', name: 'answerHere' },
      );
      await client.send(
        new QueryCommand({
          TableName: 't',
          KeyConditionExpression: 'PK = :pk',
          ExpressionAttributeValues: { ':pk': { S: 'PATIENT#ID-1' } },
        }),
      );
      client.destroy();
      return calls;
    };
    const { dynamodb } = createAwsClients({
      region: 'us-east-1',
      s3Endpoint: 'http://127.0.0.1:1',
      dynamodbEndpoint: 'http://127.0.0.1:2',
    });
    expect(await filtered(dynamodb)).toBe(0);
    // With an `info` logger the SDK filters every answer for its log: the probe above counts it.
    const logged = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:2',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      logger: { ...SILENT_SDK_LOGGER, info() {} },
    });
    expect(await filtered(logged)).toBe(1);
  });

  it('sets no endpoint and no static credentials for AWS', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDFROMENV');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret-from-env');
    const { s3, dynamodb } = createAwsClients({ region: 'eu-west-1' });
    expect(s3.config.forcePathStyle).toBe(false);
    expect(s3.config.endpoint).toBeUndefined();
    expect(dynamodb.config.endpoint).toBeUndefined();
    // The default provider chain answers (here from the environment), not the emulators' dummy pair.
    expect((await s3.config.credentials()).accessKeyId).toBe('AKIDFROMENV');
    await expect(dynamodb.config.region()).resolves.toBe('eu-west-1');
    s3.destroy();
    dynamodb.destroy();
  });
});

describe('callAws', () => {
  it.each([
    ['S3 SlowDown (503)', s3Error('SlowDown', 503)],
    ['a throttling error', s3Error('Throttled', 400, true)],
    ['an internal error (500)', s3Error('InternalError', 500)],
  ])('turns %s into StorageUnavailableError, a 503 with Retry-After', async (_name, error) => {
    expect(isServiceUnavailable(error)).toBe(true);
    const call = callAws('S3', () => Promise.reject(error));
    await expect(call).rejects.toBeInstanceOf(StorageUnavailableError);
    await call.catch((e: StorageUnavailableError) => expect(errorResponse(e).headers?.['Retry-After']).toBeDefined());
  });

  it('turns DynamoDB throughput errors (status 400) into StorageUnavailableError', async () => {
    const error = new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: { httpStatusCode: 400 } });
    expect(isDynamoUnavailable(error)).toBe(true);
    await expect(callAws('DynamoDB', () => Promise.reject(error), isDynamoUnavailable)).rejects.toBeInstanceOf(StorageUnavailableError);
  });

  it('passes every other error through unchanged', async () => {
    const conditional = new ConditionalCheckFailedException({ message: 'exists', $metadata: { httpStatusCode: 400 } });
    await expect(callAws('DynamoDB', () => Promise.reject(conditional), isDynamoUnavailable)).rejects.toBe(conditional);
    const missing = new NoSuchKey({ message: 'missing', $metadata: { httpStatusCode: 404 } });
    await expect(callAws('S3', () => Promise.reject(missing))).rejects.toBe(missing);
    await expect(callAws('S3', () => Promise.resolve(42))).resolves.toBe(42);
  });
});
