/**
 * CDK: the upload path in the stack (docs/uploads.md): the lifecycle rule of uploads/ (incomplete
 * multipart uploads aborted after a day, joined objects expired after two), the bucket's CORS for
 * browsers on the allowed origins (PUT of parts with the ETag exposed; none without origins), and the
 * upload function streamed with the function timeout.
 */
import { describe, expect, it } from 'vitest';
import { functionGroups } from '../../lambdas/http/routes';
import { logicalId, synth, type Resources } from './helpers';

const VIEWER = 'https://viewer.example.org';

function objectBucket(context: Record<string, unknown> = {}) {
  const { stack, template } = synth(context);
  const resources = template.toJSON().Resources as Resources;
  return { stack, resources, bucket: resources[logicalId(stack, stack.storage.bucket)]!.Properties };
}

describe('the upload path in the CDK stack', { timeout: 120_000 }, () => {
  it('aborts incomplete uploads after 1 day and expires uploads/ objects after 2', () => {
    const { bucket } = objectBucket();
    const rules = bucket.LifecycleConfiguration.Rules as Record<string, unknown>[];
    expect(rules).toContainEqual({
      Id: 'Uploads',
      Prefix: 'uploads/',
      Status: 'Enabled',
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      ExpirationInDays: 2,
      NoncurrentVersionExpiration: { NoncurrentDays: 1 },
    });
    // Nothing under studies/ or npi/ expires: only uploads and send requests' objects do.
    expect(rules.filter((r) => r.ExpirationInDays !== undefined).map((r) => r.Prefix)).toEqual(['uploads/', 'send-requests/']);
  });

  it('lets the allowed origins PUT parts and read the ETag; no bucket CORS without origins', () => {
    expect(objectBucket().bucket.CorsConfiguration).toBeUndefined();
    const { bucket } = objectBucket({ corsAllowedOrigins: VIEWER });
    expect(bucket.CorsConfiguration).toEqual({
      CorsRules: [
        {
          AllowedOrigins: [VIEWER],
          AllowedMethods: ['PUT', 'GET', 'HEAD'],
          AllowedHeaders: ['Content-Type', 'Content-Length', 'Range'],
          ExposedHeaders: ['ETag', 'Content-Length', 'Content-Range'],
          MaxAge: 7200,
        },
      ],
    });
  });

  it('runs complete in a streamed function with the 15-minute timeout', () => {
    const { stack, resources } = objectBucket();
    const fn = resources[logicalId(stack, stack.dicomweb.functions.upload)]!.Properties;
    expect(fn.Timeout).toBe(functionGroups.upload.timeoutSeconds);
    expect(fn.Timeout).toBe(900);
    expect(fn.MemorySize).toBe(1024);
  });
});
