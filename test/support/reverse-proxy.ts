/**
 * A reverse proxy on 127.0.0.1, port 0, serving `upstream` under a path prefix the way nginx's
 * `location /pacs/ { proxy_pass http://upstream/; }` does: Host rewritten to the upstream's, the prefix
 * stripped, and what the client used sent as X-Forwarded-Host / -Proto / -Prefix (docs/configuration.md,
 * "Public URIs behind a proxy"). Bodies stream both ways.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReverseProxy {
  /** The proxy's address with the prefix: the archive's public service root behind it. */
  readonly url: string;
  close(): Promise<void>;
}

export async function reverseProxy(upstream: string, prefix: string): Promise<ReverseProxy> {
  const target = new URL(upstream);
  const server = http.createServer((req, res) => {
    if (!req.url?.startsWith(`${prefix}/`)) {
      res.writeHead(404).end();
      return;
    }
    const headers = { ...req.headers, host: target.host };
    Object.assign(headers, { 'x-forwarded-host': req.headers.host, 'x-forwarded-proto': 'http', 'x-forwarded-prefix': prefix });
    const forward = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url.slice(prefix.length), headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
