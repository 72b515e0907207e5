import { S3Client, GetObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  asInvocationsOf,
  installAwsCallRecorder,
  isRecordingAwsCalls,
  recordCalls,
  runAsFunction,
  type RecordedAwsCall,
} from '../../../lambdas/storage/call-recorder';

/** An S3 client whose calls end before any request is built or sent (no network). */
function offlineClient(): S3Client {
  const client = recordCalls(new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }));
  client.middlewareStack.add(() => async () => ({ output: { $metadata: {} }, response: {} }), { step: 'build', name: 'offline' });
  return client;
}

let stop: (() => void) | undefined;
afterEach(() => {
  stop?.();
  stop = undefined;
});

describe('AWS call recorder', () => {
  it('adds nothing to a client while no recorder is installed', async () => {
    expect(isRecordingAwsCalls()).toBe(false);
    const client = offlineClient();
    expect(client.middlewareStack.identify().join('\n')).not.toContain('awsCallRecorder');
  });

  it('records service, operation, input, region and the calling function', async () => {
    const calls: RecordedAwsCall[] = [];
    stop = installAwsCallRecorder((c) => calls.push(c));
    const client = offlineClient();
    await client.send(new GetObjectCommand({ Bucket: 'b', Key: 'outside' }));
    await runAsFunction('retrieve', () => client.send(new GetObjectCommand({ Bucket: 'b', Key: 'k1' })));
    const deliver = asInvocationsOf('send-deliver', async (key: string) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return client.send(new GetObjectCommand({ Bucket: 'b', Key: key }));
    });
    await Promise.all([deliver('k2'), runAsFunction('store', () => client.send(new GetObjectCommand({ Bucket: 'b', Key: 'k3' })))]);
    expect(calls.map((c) => [c.caller, c.service, c.operation, c.input.Key, c.region])).toEqual([
      [undefined, 'S3', 'GetObject', 'outside', 'eu-west-1'],
      ['retrieve', 'S3', 'GetObject', 'k1', 'eu-west-1'],
      ['store', 'S3', 'GetObject', 'k3', 'eu-west-1'],
      ['send-deliver', 'S3', 'GetObject', 'k2', 'eu-west-1'],
    ]);
  });

  it('runs a function as it is while no recorder is installed: no caller is carried', async () => {
    const calls: RecordedAwsCall[] = [];
    const answer = await runAsFunction('retrieve', async () => {
      stop = installAwsCallRecorder((c) => calls.push(c));
      await offlineClient().send(new GetObjectCommand({ Bucket: 'b', Key: 'k' }));
      return 42;
    });
    expect(answer).toBe(42);
    expect(calls.map((c) => c.caller)).toEqual([undefined]);
  });

  it('stops recording when the recorder is removed', async () => {
    const calls: RecordedAwsCall[] = [];
    stop = installAwsCallRecorder((c) => calls.push(c));
    const client = offlineClient();
    stop();
    await client.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' }));
    expect(calls).toEqual([]);
    expect(asInvocationsOf('x', Math.max)).toBe(Math.max);
  });
});
