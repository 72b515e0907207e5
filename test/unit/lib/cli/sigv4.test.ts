/**
 * The SigV4 signer of the smoke test: @smithy/signature-v4 (the AWS SDK's signer) does the signing;
 * the adapter must hand it the request as sent and a correct SHA-256. The expected signature of the
 * first case is the "get-vanilla" case of the AWS Signature Version 4 test suite.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { regionOfExecuteApiHost, sigV4Signer } from '../../../../lib/cli/sigv4';

/** The example credentials of the AWS documentation and test suite. */
const EXAMPLE = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const AT = new Date('2015-08-30T12:36:00Z');

afterEach(() => {
  vi.restoreAllMocks();
});

describe('sigV4Signer', () => {
  it('signs the test suite request get-vanilla to its published signature, through @smithy/signature-v4', async () => {
    const sign = vi.spyOn(SignatureV4.prototype, 'sign');
    const signer = sigV4Signer({ region: 'us-east-1', service: 'service', credentials: EXAMPLE });
    const headers = await signer({ method: 'GET', url: new URL('https://example.amazonaws.com/'), headers: {} }, AT);
    expect(headers['x-amz-date']).toBe('20150830T123600Z');
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, ' +
        'Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
    expect(sign).toHaveBeenCalledTimes(1);
  });

  it('signs an execute-api request: scope, signed headers, session token; path, query and body are in the signature', async () => {
    const credentials = { ...EXAMPLE, sessionToken: 'session-token' };
    const signer = sigV4Signer({ region: 'eu-west-1', credentials: async () => credentials });
    const url = new URL('https://abc123.execute-api.eu-west-1.amazonaws.com/prod/studies?PatientID=SMOKE-1&limit=5');
    const request = {
      method: 'POST',
      url,
      headers: { 'content-type': 'multipart/related; type="application/dicom"; boundary=x' },
      body: new Uint8Array([1, 2, 3]),
    };
    const headers = await signer(request, AT);
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20150830\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    expect(headers['x-amz-security-token']).toBe('session-token');
    expect(headers.host).toBe('abc123.execute-api.eu-west-1.amazonaws.com');
    expect(headers['content-type']).toBe(request.headers['content-type']);
    const signature = (h: Record<string, string>) => h.authorization!.split('Signature=')[1];
    const again = await signer(request, AT);
    expect(signature(again)).toBe(signature(headers));
    const otherBody = await signer({ ...request, body: new Uint8Array([1, 2, 4]) }, AT);
    expect(signature(otherBody)).not.toBe(signature(headers));
    const otherQuery = await signer({ ...request, url: new URL(url.href.replace('limit=5', 'limit=6')) }, AT);
    expect(signature(otherQuery)).not.toBe(signature(headers));
    const otherPath = await signer({ ...request, url: new URL(url.href.replace('/studies', '/series')) }, AT);
    expect(signature(otherPath)).not.toBe(signature(headers));
  });
});

describe('regionOfExecuteApiHost', () => {
  it('reads the region of an execute-api host name, in every partition', () => {
    expect(regionOfExecuteApiHost('abc123.execute-api.eu-west-1.amazonaws.com')).toBe('eu-west-1');
    expect(regionOfExecuteApiHost('abc123.execute-api.cn-north-1.amazonaws.com.cn')).toBe('cn-north-1');
    expect(regionOfExecuteApiHost('dicom.example.org')).toBeUndefined();
    expect(regionOfExecuteApiHost('abc.execute-api.eu-west-1.amazonaws.com.evil.org')).toBeUndefined();
  });
});
