import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamingFetch } from '../../../lambdas/send/streaming-fetch';

let server: Server;
let base: string;
let handle: (req: IncomingMessage, res: ServerResponse) => void;

beforeAll(async () => {
  server = createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** A body of `total` bytes in chunks of 64 KiB; `pulled` counts the bytes the sender took. */
function body(total: number) {
  const state = { pulled: 0 };
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= total) return controller.close();
      const chunk = new Uint8Array(Math.min(65_536, total - at)).fill(at & 0xff);
      at += chunk.length;
      state.pulled = at;
      controller.enqueue(chunk);
    },
  });
  return { stream, state };
}

describe('streamingFetch (a stream body over node:http, chunks kept by nobody)', () => {
  it('sends the body with the Content-Length given, not chunked, and answers a fetch Response', async () => {
    handle = (req, res) => {
      let n = 0;
      req.on('data', (c: Buffer) => void (n += c.length));
      req.on('end', () =>
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ n, te: req.headers['transfer-encoding'] ?? null })),
      );
    };
    const { stream } = body(1_000_000);
    const response = await streamingFetch(`${base}/in`, { method: 'POST', body: stream, headers: { 'Content-Length': '1000000' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ n: 1_000_000, te: null });
  });

  it('sends a buffered body as it is: the same bytes, its Content-Length, not chunked', async () => {
    let received = Buffer.alloc(0);
    handle = (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received = Buffer.concat(chunks);
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ te: req.headers['transfer-encoding'] ?? null }));
      });
    };
    const bytes = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 31) & 0xff);
    const response = await streamingFetch(`${base}/in`, {
      method: 'POST',
      body: bytes.subarray(7),
      headers: { 'Content-Length': String(bytes.length - 7) },
    });
    expect(await response.json()).toEqual({ te: null });
    expect(Buffer.compare(received, bytes.subarray(7))).toBe(0);
  });

  it('an answer before the body is read (an early 413) ends the sending', async () => {
    handle = (_req, res) => void res.writeHead(413, { 'Content-Type': 'text/plain' }).end('too large');
    const { stream, state } = body(200_000_000);
    const response = await streamingFetch(`${base}/in`, { method: 'POST', body: stream, headers: { 'Content-Length': '200000000' } });
    expect(response.status).toBe(413);
    expect(await response.text()).toBe('too large');
    expect(state.pulled).toBeLessThan(200_000_000);
  });

  it('answers a redirect as is, never following it', async () => {
    handle = (req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(307, { Location: '/elsewhere' }).end());
    };
    const response = await streamingFetch(`${base}/in`, { method: 'POST', body: body(10).stream, headers: { 'Content-Length': '10' } });
    expect([response.status, response.headers.get('location')]).toEqual([307, '/elsewhere']);
  });

  it('rejects with the signal reason when it aborts, and with the body error when the body fails', async () => {
    handle = (req) => void req.resume(); // never answers
    await expect(
      streamingFetch(`${base}/in`, {
        method: 'POST',
        body: body(10).stream,
        headers: { 'Content-Length': '100' },
        signal: AbortSignal.timeout(100),
      }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    const failing = new ReadableStream<Uint8Array>({ pull: (c) => c.error(new RangeError('storage failed')) });
    await expect(streamingFetch(`${base}/in`, { method: 'POST', body: failing, headers: { 'Content-Length': '100' } })).rejects.toThrow(
      'storage failed',
    );
  });
});
