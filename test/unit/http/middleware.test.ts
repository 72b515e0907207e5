/** Unit: the one error mapping (docs/architecture.md, habits): typed errors keep their status, anything else is a bare 500. */
import { describe, expect, it } from 'vitest';
import { BadRequestError, ServiceUnavailableError } from '../../../lambdas/dicomweb/errors';
import { errorResponse } from '../../../lambdas/http/middleware';
import { InvalidKeySegmentError, StorageUnavailableError } from '../../../lambdas/storage/errors';

describe('errorResponse', () => {
  it('maps a typed error to its status with a Status Report and its headers', () => {
    const r = errorResponse(new BadRequestError('bad key', [{ target: 'PatientAge', message: 'unknown' }]));
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body as string)).toEqual({
      status: 400,
      title: 'Bad Request',
      detail: 'bad key',
      errors: [{ target: 'PatientAge', message: 'unknown' }],
    });
    expect(errorResponse(new ServiceUnavailableError('later', 7)).headers?.['Retry-After']).toBe('7');
  });

  it('maps the storage errors: unavailable to 503 with Retry-After, an unusable key segment to 400', () => {
    const unavailable = errorResponse(new StorageUnavailableError('DynamoDB is unavailable, retry later'));
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers?.['Retry-After']).toBe('5');
    expect(JSON.parse(unavailable.body as string).detail).toBe('DynamoDB is unavailable, retry later');
    expect(errorResponse(new StorageUnavailableError('later', 7)).headers?.['Retry-After']).toBe('7');
    const key = errorResponse(new InvalidKeySegmentError('Study Instance UID is not usable in an object key'));
    expect(key.status).toBe(400);
    expect(JSON.parse(key.body as string).detail).toBe('Study Instance UID is not usable in an object key');
  });

  it('[common.500] answers an internal fault with 500 and no internal detail', () => {
    const original = console.error;
    console.error = () => undefined;
    try {
      const r = errorResponse(new TypeError('Cannot read properties of undefined (reading secretTableName)'));
      expect(r.status).toBe(500);
      expect(r.body as string).not.toContain('secretTableName');
      expect(JSON.parse(r.body as string).detail).toMatch(/could not complete/);
    } finally {
      console.error = original;
    }
  });
});
