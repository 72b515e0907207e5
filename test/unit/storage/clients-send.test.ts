import { SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import { SFNServiceException } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { isThrottlingException } from '../../../lambdas/storage/aws-calls';
import { createAwsClients } from '../../../lambdas/storage/clients';

describe('createAwsClients: optional SEND-RS clients', () => {
  it('builds no Step Functions or Secrets Manager client unless asked', () => {
    const clients = createAwsClients({ region: 'us-east-1' });
    expect(clients.sfn).toBeUndefined();
    expect(clients.secretsManager).toBeUndefined();
    clients.s3.destroy();
    clients.dynamodb.destroy();
  });

  it('points Step Functions at sfnEndpoint with the emulator credentials when set', async () => {
    const clients = createAwsClients({ region: 'us-east-1', sfnEndpoint: 'http://127.0.0.1:3' }, { sfn: true, secretsManager: true });
    expect((await clients.sfn?.config.endpoint?.())?.port).toBe(3);
    expect((await clients.sfn!.config.credentials()).accessKeyId).toBe('S3RVER');
    await expect(clients.secretsManager!.config.region()).resolves.toBe('us-east-1');
    for (const c of [clients.s3, clients.dynamodb, clients.sfn!, clients.secretsManager!]) c.destroy();
  });

  it('sets no Step Functions endpoint for AWS', () => {
    const clients = createAwsClients({ region: 'eu-west-1' }, { sfn: true });
    expect(clients.sfn?.config.endpoint).toBeUndefined();
    for (const c of [clients.s3, clients.dynamodb, clients.sfn!]) c.destroy();
  });
});

describe('isThrottlingException', () => {
  it('recognises the unmodelled ThrottlingException of JSON services, nothing else', () => {
    const throttled = (name: string) => new SFNServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
    expect(isThrottlingException(throttled('ThrottlingException'))).toBe(true);
    expect(
      isThrottlingException(new SecretsManagerServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: {} })),
    ).toBe(true);
    expect(isThrottlingException(throttled('InvalidArn'))).toBe(false);
    expect(isThrottlingException(Object.assign(new Error('x'), { name: 'ThrottlingException' }))).toBe(false);
    expect(isThrottlingException(undefined)).toBe(false);
  });
});
