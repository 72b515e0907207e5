/** Unit: the proxy event's body as the handlers read it (lambdas/http/proxy.ts). */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { eventBody } from '../../../lambdas/http/proxy';

const concat = (chunks: Iterable<Uint8Array>) => Buffer.concat([...chunks]);

describe('eventBody', () => {
  it('decodes a base64 body in chunks that add up to the body, its size known before decoding', () => {
    // Sizes around a decoding chunk (48 KiB) and with each padding length ('', '=', '==').
    for (const size of [0, 1, 2, 3, 49_151, 49_152, 49_153, 200_001, 200_002]) {
      const bytes = randomBytes(size);
      const body = eventBody({ body: bytes.toString('base64'), isBase64Encoded: true });
      expect(body.byteLength).toBe(size);
      const chunks = [...body.chunks()];
      expect(chunks.length).toBe(Math.ceil(size / 49_152));
      expect(concat(chunks).equals(bytes)).toBe(true);
      // Each call reads the body again from its start.
      expect(concat(body.chunks()).equals(bytes)).toBe(true);
    }
  });

  it('takes a body that is not base64-encoded as UTF-8 text, and no body as empty', () => {
    const text = eventBody({ body: '{"é":1}', isBase64Encoded: false });
    expect(text.byteLength).toBe(Buffer.byteLength('{"é":1}'));
    expect(concat(text.chunks()).toString('utf8')).toBe('{"é":1}');
    const none = eventBody({ body: null, isBase64Encoded: false });
    expect([none.byteLength, [...none.chunks()].length]).toEqual([0, 0]);
  });
});
