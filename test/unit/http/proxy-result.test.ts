/** Unit: the proxy result a handler gives (lambdas/http/proxy.ts toProxyResult). */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { toProxyResult } from '../../../lambdas/http/proxy';

describe('toProxyResult', () => {
  const bytes = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 1]);

  it('streams a binary body of a streaming function as its bytes, never as base64 text', async () => {
    const result = await toProxyResult({ status: 200, headers: { 'Content-Type': 'image/jpeg' }, body: bytes }, true);
    expect(result.isBase64Encoded).toBe(false);
    expect(result.body).toBeInstanceOf(Readable);
    const chunks: Buffer[] = [];
    for await (const chunk of result.body as Readable) chunks.push(chunk as Buffer);
    expect([...Buffer.concat(chunks)]).toEqual([...bytes]);
  });

  it('base64-encodes a binary body of a buffered function, as API Gateway expects', async () => {
    const result = await toProxyResult({ status: 200, body: bytes }, false);
    expect(result).toMatchObject({ isBase64Encoded: true, body: Buffer.from(bytes).toString('base64') });
  });
});
