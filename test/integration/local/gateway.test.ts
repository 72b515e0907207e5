/**
 * The embedded gateway's connection handling and the cloud's limits it enforces (buffered response
 * payload, timeouts), over HTTP on 127.0.0.1 (its routing and proxy events are covered by
 * test/unit/lib/local/gateway.test.ts and the e2e suites).
 */
import http from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyResult } from '../../../lambdas/http/proxy';
import { startGateway, type Gateway, type ProxyHandler } from '../../../lib/local/gateway';
import type { InvocationTimeouts } from '../../../lib/local/lambda-limits';
import { functionGroups, type FunctionGroup } from '../../../lambdas/http/routes';

let gateway: Gateway;
beforeAll(async () => {
  const ok: ProxyHandler = async () => ({ statusCode: 204, headers: {}, body: '', isBase64Encoded: false });
  const handlers = Object.fromEntries(Object.keys(functionGroups).map((g) => [g, ok])) as Record<FunctionGroup, ProxyHandler>;
  gateway = await startGateway({ handlers, maxRequestBytes: 1024, host: '127.0.0.1', port: 0 });
});
afterAll(() => gateway.close());

describe('keep-alive', () => {
  it('tells clients it keeps an idle connection 65 s, so a pooled connection is not reused just as the gateway drops it', async () => {
    const agent = new http.Agent({ keepAlive: true });
    try {
      const headers = await new Promise<http.IncomingHttpHeaders>((resolve, reject) => {
        http.get(`${gateway.url}/studies`, { agent }, (res) => (res.resume(), resolve(res.headers))).on('error', reject);
      });
      expect(headers.connection).toBe('keep-alive');
      expect(headers['keep-alive']).toBe('timeout=65');
    } finally {
      agent.destroy();
    }
  });
});

/** A gateway whose every group answers with `handler`, with the given timeouts. */
async function gatewayOf(handler: ProxyHandler, timeouts?: InvocationTimeouts): Promise<Gateway> {
  const handlers = Object.fromEntries(Object.keys(functionGroups).map((g) => [g, handler])) as Record<FunctionGroup, ProxyHandler>;
  return startGateway({ handlers, maxRequestBytes: 1024, host: '127.0.0.1', port: 0, timeouts });
}

async function using<T>(g: Gateway, run: (g: Gateway) => Promise<T>): Promise<T> {
  try {
    return await run(g);
  } finally {
    await g.close();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (body: string): ProxyResult => ({
  statusCode: 200,
  headers: { 'Content-Type': 'application/dicom+json' },
  body,
  isBase64Encoded: false,
});

describe("Lambda's 6 MB buffered response payload (the serialized proxy result)", () => {
  // Quotes are escaped in the result's JSON: 3.2 M of them serialize to 6.4 MB.
  it('answers 502 as API Gateway does when a buffered function returns more, and passes what fits', async () => {
    const sizes = { over: 3_200_000, under: 3_000_000 };
    const handler: ProxyHandler = async (event) =>
      text('"'.repeat(event.queryStringParameters?.size === 'over' ? sizes.over : sizes.under));
    await using(await gatewayOf(handler), async (g) => {
      const over = await fetch(`${g.url}/studies?size=over`);
      expect(over.status).toBe(502);
      expect(await over.json()).toEqual({ message: 'Internal server error' });
      const under = await fetch(`${g.url}/studies?size=under`);
      expect(under.status).toBe(200);
      expect((await under.text()).length).toBe(sizes.under);
    });
  });

  it('lets a streaming function answer beyond 6 MB (its limit is the streamed 200 MB)', async () => {
    const body = 'x'.repeat(7 * 1024 * 1024);
    await using(await gatewayOf(async () => text(body)), async (g) => {
      const res = await fetch(`${g.url}/studies/1.2.3`);
      expect(res.status).toBe(200);
      expect((await res.text()).length).toBe(body.length);
    });
  });
});

describe('timeouts of the route table', () => {
  it("gives the handler the group's real remaining time, not a fixed 15 minutes", async () => {
    const seen: number[] = [];
    const handler: ProxyHandler = async (_event, context) => (seen.push(context.getRemainingTimeInMillis()), text('[]'));
    await using(await gatewayOf(handler), async (g) => {
      await fetch(`${g.url}/studies`);
      await fetch(`${g.url}/studies/1.2.3`);
    });
    const [search, retrieve] = seen;
    expect(search).toBeLessThanOrEqual(functionGroups.search.timeoutSeconds * 1000);
    expect(search).toBeGreaterThan(functionGroups.search.timeoutSeconds * 1000 - 5_000);
    expect(retrieve).toBeLessThanOrEqual(functionGroups.retrieve.timeoutSeconds * 1000);
    expect(retrieve).toBeGreaterThan(functionGroups.retrieve.timeoutSeconds * 1000 - 5_000);
  });

  it('answers 504 when a buffered integration outlasts API Gateway, 502 when the function times out first', async () => {
    const slow: ProxyHandler = async () => (await sleep(1_000), text('[]'));
    await using(await gatewayOf(slow, { bufferedIntegrationMs: 150, functionMs: { search: 300 } }), async (g) => {
      const res = await fetch(`${g.url}/studies`);
      expect(res.status).toBe(504);
      expect(await res.json()).toEqual({ message: 'Endpoint request timed out' });
    });
    await using(await gatewayOf(slow, { bufferedIntegrationMs: 300, functionMs: { search: 150 } }), async (g) => {
      expect((await fetch(`${g.url}/studies`)).status).toBe(502);
    });
    await using(await gatewayOf(slow, { bufferedIntegrationMs: 3_000, functionMs: { search: 2_000 } }), async (g) => {
      expect((await fetch(`${g.url}/studies`)).status).toBe(200);
    });
  });

  it('ends a streamed response at its function timeout', async () => {
    const streamed: ProxyHandler = async () => ({
      statusCode: 200,
      headers: { 'Content-Type': 'application/octet-stream' },
      body: Readable.from(
        (async function* () {
          for (let i = 0; i < 20; i++) {
            yield Buffer.alloc(1024, i);
            await sleep(50);
          }
        })(),
      ),
      isBase64Encoded: false,
    });
    await using(await gatewayOf(streamed, { functionMs: { retrieve: 300 } }), async (g) => {
      const res = await fetch(`${g.url}/studies/1.2.3`);
      expect(res.status).toBe(200);
      await expect(res.arrayBuffer()).rejects.toThrow();
    });
    await using(await gatewayOf(streamed, { functionMs: { retrieve: 5_000 } }), async (g) => {
      expect((await (await fetch(`${g.url}/studies/1.2.3`)).arrayBuffer()).byteLength).toBe(20 * 1024);
    });
  });

  it('answers 504 when a streamed function sends nothing before its timeout', async () => {
    const slow: ProxyHandler = async () => (await sleep(1_000), text('[]'));
    await using(await gatewayOf(slow, { functionMs: { retrieve: 150 } }), async (g) => {
      expect((await fetch(`${g.url}/studies/1.2.3`)).status).toBe(504);
    });
  });
});

describe("a streamed answer's release (DicomwebResponse.release: the memory its body was read into)", () => {
  // 12 MB: more than a socket on 127.0.0.1 takes from a client that reads nothing (about 4 MB).
  const BODY = 12 * 1024 * 1024;
  const streamedWithRelease =
    (released: string[]): ProxyHandler =>
    async () => ({
      statusCode: 200,
      headers: { 'Content-Type': 'application/octet-stream' },
      body: Readable.from([Buffer.alloc(BODY / 2, 1), Buffer.alloc(BODY / 2, 2)]),
      isBase64Encoded: false,
      release: () => released.push('released'),
    });

  it('is called once every byte is handed to the socket, not while a slow client still holds the rest', async () => {
    const events: string[] = [];
    await using(await gatewayOf(streamedWithRelease(events)), async (g) => {
      await new Promise<void>((resolve, reject) => {
        http
          .get(`${g.url}/studies/1.2/series/1.2.3/instances/1.2.3.4`, (res) => {
            res.pause();
            setTimeout(() => {
              events.push(`paused ${events.length}`);
              let received = 0;
              res.on('data', (c: Buffer) => (received += c.length));
              res.on('end', () => (events.push(`received ${received}`), resolve()));
              res.resume();
            }, 300);
          })
          .on('error', reject);
      });
      for (let i = 0; i < 50 && events.length < 3; i++) await sleep(10);
    });
    // Nothing released while the client paused (the rest of the body waited in the server's memory);
    // released once written, which may be just before the client has read the last bytes.
    expect(events[0]).toBe('paused 0');
    expect(events.slice(1).sort()).toEqual([`received ${BODY}`, 'released']);
  });

  it('is called when the client goes away before the body is written', async () => {
    const events: string[] = [];
    await using(await gatewayOf(streamedWithRelease(events)), async (g) => {
      await new Promise<void>((resolve) => {
        const req = http.get(`${g.url}/studies/1.2/series/1.2.3/instances/1.2.3.4`, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => resolve());
      });
      for (let i = 0; i < 100 && events.length === 0; i++) await sleep(10);
    });
    expect(events).toEqual(['released']);
  });
});
