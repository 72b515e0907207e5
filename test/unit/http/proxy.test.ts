/** Unit: the proxy event's body as the handlers read it (lambdas/http/proxy.ts). */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bodyOf } from '../../../lambdas/dicomweb/messages';
import { eventBody, toDicomwebRequest, withStreamedBody } from '../../../lambdas/http/proxy';
import { proxyEvent } from '../../support/proxy-event';

async function all(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}
const concat = async (chunks: AsyncIterable<Uint8Array>) => Buffer.concat(await all(chunks));

describe('eventBody', () => {
  it('decodes a base64 body in chunks that add up to the body, its size known before decoding', async () => {
    // Sizes around a decoding chunk (48 KiB) and with each padding length ('', '=', '==').
    for (const size of [0, 1, 2, 3, 49_151, 49_152, 49_153, 200_001, 200_002]) {
      const bytes = randomBytes(size);
      const body = eventBody({ body: bytes.toString('base64'), isBase64Encoded: true });
      expect(body.byteLength).toBe(size);
      const chunks = await all(body.chunks());
      expect(chunks.length).toBe(Math.ceil(size / 49_152));
      expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
      // Each call reads the body again from its start.
      expect((await concat(body.chunks())).equals(bytes)).toBe(true);
    }
  });

  it('takes a body that is not base64-encoded as UTF-8 text, and no body as empty', async () => {
    const text = eventBody({ body: '{"é":1}', isBase64Encoded: false });
    expect(text.byteLength).toBe(Buffer.byteLength('{"é":1}'));
    expect((await concat(text.chunks())).toString('utf8')).toBe('{"é":1}');
    const none = eventBody({ body: null, isBase64Encoded: false });
    expect([none.byteLength, (await all(none.chunks())).length]).toEqual([0, 0]);
  });

  it("reads the embedded gateway's streamed body when the event carries one, also in a copy of the event", async () => {
    const streamed = bodyOf(Buffer.from('streamed'));
    const event = withStreamedBody(
      { ...proxyEvent({ method: 'POST', resource: '/studies' }), body: 'aWdub3JlZA==', isBase64Encoded: true },
      streamed,
    );
    expect([event.body, event.isBase64Encoded]).toEqual([null, false]);
    expect(eventBody(event)).toBe(streamed);
    expect(toDicomwebRequest({ ...event }).body).toBe(streamed);
    // An event as API Gateway sends it (JSON) never carries it.
    expect((await concat(eventBody(JSON.parse(JSON.stringify(event))).chunks())).length).toBe(0);
  });
});
