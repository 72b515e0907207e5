/**
 * The bench's HTTP client (common.ts): what it sends is every prepared body whole, what it counts is
 * every byte answered, and an answer other than success fails the run, so a figure is never the speed
 * of an error. Against a node:http server on 127.0.0.1.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sendStow, stowRequests, withGet } from './common';

let server: http.Server;
let url: string;
/** The POST bodies received, in order of arrival, and the connections opened. */
let received: Buffer[];
let connections: number;
let open: Set<Socket>;
/** The status the server answers a POST with. */
let stowStatus: number;

beforeEach(async () => {
  received = [];
  connections = 0;
  open = new Set();
  stowStatus = 200;
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method === 'POST') {
        received.push(Buffer.concat(chunks));
        res.writeHead(stowStatus, { 'Content-Type': 'application/dicom+json' }).end('{}');
        return;
      }
      // GET /bytes/{n}: n bytes in chunks of 1,000; anything else 404.
      const n = /^\/bytes\/(\d+)$/.exec(req.url ?? '')?.[1];
      if (!n) return void res.writeHead(404).end('no');
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      for (let left = Number(n); left > 0; left -= 1000) res.write(Buffer.alloc(Math.min(1000, left), 7));
      res.end();
    });
  });
  server.on('connection', (socket) => {
    connections++;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const files = Array.from({ length: 7 }, (_, i) => new Uint8Array(10_000 + i).fill(i + 1));

describe('sendStow', () => {
  it('sends each prepared body whole, over at most `concurrency` kept-alive connections', async () => {
    const requests = stowRequests(files, 3);
    expect(requests.map((r) => r.contentType)).toEqual(
      Array(3).fill(expect.stringMatching(/^multipart\/related; type="application\/dicom"; boundary=/)),
    );
    await sendStow(url, requests, 2);
    // 7 files, 3 per request: 3 bodies, each the multipart body built beforehand, byte for byte.
    expect(received.map((b) => b.toString('hex')).sort()).toEqual(requests.map((r) => r.body.toString('hex')).sort());
    expect(connections).toBeLessThanOrEqual(2);
    // Its connections are closed once it is done.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(open.size).toBe(0);
  });

  it('throws when a request is answered other than 200', async () => {
    stowStatus = 409;
    await expect(sendStow(url, stowRequests(files, 7), 1)).rejects.toThrow('STOW answered 409');
  });
});

describe('withGet', () => {
  it('counts the bytes of each answer and gives its status', async () => {
    const answers = await withGet(2, (get) =>
      Promise.all([get(`${url}/bytes/2500`, '*/*'), get(`${url}/bytes/0`, '*/*'), get(`${url}/nothing`, '*/*')]),
    );
    expect(answers).toEqual([
      { status: 200, bytes: 2500 },
      { status: 200, bytes: 0 },
      { status: 404, bytes: 2 },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(open.size).toBe(0);
  });
});
