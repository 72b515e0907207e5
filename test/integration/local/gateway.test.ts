/**
 * The embedded gateway's connection handling, over HTTP on 127.0.0.1 (its routing and proxy events
 * are covered by test/unit/lib/local/gateway.test.ts and the e2e suites).
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Gateway, type ProxyHandler } from '../../../lib/local/gateway';
import { functionGroups, type FunctionGroup } from '../../../lib/routes';

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
