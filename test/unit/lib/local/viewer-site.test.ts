/**
 * Unit: the viewer's files as the embedded gateway serves them (lib/local/viewer-site.ts), over a
 * small stand-in for the published build in a temporary directory: rebased to /viewer/, the content
 * types, caching and security headers, the single-page fallback, GET and HEAD only, nothing outside
 * the build, and 503 naming the command when the build is absent.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../lambdas/config';
import type { ProxyResult } from '../../../../lambdas/http/proxy';
import { startGateway, type ProxyHandler } from '../../../../lib/local/gateway';
import { viewerSite, type ViewerSite } from '../../../../lib/local/viewer-site';

const BUNDLE = 'app.bundle.0f6159c501addfe9.js';
const INDEX_HTML =
  '<!doctype html><html><head><script>window.PUBLIC_URL="/"</script><link rel="manifest" href="/manifest.json">' +
  `<script src="/app-config.js"></script><script defer src="/${BUNDLE}"></script></head><body><div id="root"></div></body></html>`;

let root: string;
let dist: string;
let site: ViewerSite;

const config = (env: Record<string, string> = {}) => loadConfig({ BUCKET_NAME: 'b', TABLE_NAME: 't', ...env });

function request(method: string, headers: Record<string, string> = {}): http.IncomingMessage {
  return { method, headers } as unknown as http.IncomingMessage;
}

async function bodyOf(result: ProxyResult): Promise<string> {
  if (result.body instanceof Readable) {
    const chunks: Buffer[] = [];
    for await (const chunk of result.body) chunks.push(Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks).toString('utf8');
  }
  return result.isBase64Encoded ? Buffer.from(result.body, 'base64').toString('utf8') : result.body;
}

async function get(pathname: string, headers: Record<string, string> = {}, on = site) {
  const result = await on.answer(pathname, request('GET', headers));
  return { ...result, text: await bodyOf(result) };
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'viewer-site-'));
  dist = path.join(root, 'dist');
  await mkdir(path.join(dist, 'assets'), { recursive: true });
  await writeFile(path.join(dist, 'index.html'), INDEX_HTML);
  await writeFile(path.join(dist, 'app-config.js'), 'window.config = { published: true };');
  // Over a kilobyte: sent gzipped to a client that takes it.
  await writeFile(path.join(dist, BUNDLE), `(() => {\n__webpack_require__.p = "/";\n})();\n// ${'x'.repeat(2048)}\n`);
  await writeFile(path.join(dist, 'app.bundle.css'), '@font-face{src:url(/a34f9d1faa5f3315.woff2)}');
  await writeFile(path.join(dist, '0ddf166f7a343eda.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d]));
  await writeFile(path.join(dist, 'assets', 'favicon.ico'), Buffer.from([0, 0, 1, 0]));
  await writeFile(path.join(dist, 'manifest.json'), '{"icons": [{"src": "/assets/android-chrome-36x36.png"}]}');
  await writeFile(path.join(root, 'secret.txt'), 'outside the build');
  await symlink(path.join(root, 'secret.txt'), path.join(dist, 'link.txt'));
  site = viewerSite({ dist, config: config() });
});
afterAll(async () => rm(root, { recursive: true, force: true }));

describe('the viewer site', () => {
  it('serves index.html rebased to /viewer/, not cached, with a CSP allowing its inline script', async () => {
    const page = await get('/viewer/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['Content-Type']).toBe('text/html; charset=utf-8');
    expect(page.headers['Cache-Control']).toBe('no-cache');
    expect(page.text).toContain('window.PUBLIC_URL="/viewer/"');
    expect(page.text).toContain(`src="/viewer/${BUNDLE}"`);
    expect(page.text).toContain('href="/viewer/manifest.json"');
    expect(page.text).not.toMatch(/(src|href)="\/(?!viewer\/)/);
    const csp = page.headers['Content-Security-Policy']!;
    expect(csp).toMatch(/script-src 'self' 'wasm-unsafe-eval' 'sha256-[A-Za-z0-9+/=]{44}'/);
    expect(csp).toContain("frame-ancestors 'self'");
    expect(page.headers['X-Content-Type-Options']).toBe('nosniff');
    expect(page.headers['Referrer-Policy']).toBe('no-referrer');
  });

  it('answers a route of the single-page application with index.html', async () => {
    for (const route of ['/viewer/viewer', '/viewer/callback', '/viewer/viewer/dicomweb', '/viewer/viewer/1.2.840.113619']) {
      const page = await get(route);
      expect(page.statusCode, route).toBe(200);
      expect(page.text, route).toContain('window.PUBLIC_URL="/viewer/"');
    }
  });

  it('answers a missing asset 404 with a Status Report, not index.html', async () => {
    const missing = await get('/viewer/9999.bundle.0123456789abcdef.js');
    expect(missing.statusCode).toBe(404);
    expect(JSON.parse(missing.text)).toMatchObject({ status: 404 });
  });

  it('serves the bundles with the public path /viewer/, cached for a year', async () => {
    const bundle = await get(`/viewer/${BUNDLE}`);
    expect(bundle.statusCode).toBe(200);
    expect(bundle.headers['Content-Type']).toBe('text/javascript; charset=utf-8');
    expect(bundle.headers['Cache-Control']).toBe('public, max-age=31536000, immutable');
    expect(bundle.text).toContain('__webpack_require__.p = "/viewer/";');
    expect(Number(bundle.headers['Content-Length'])).toBe(Buffer.byteLength(bundle.text));
    expect((await get('/viewer/app.bundle.css')).text).toBe('@font-face{src:url(/viewer/a34f9d1faa5f3315.woff2)}');
    expect((await get('/viewer/manifest.json')).text).toContain('"src": "/viewer/assets/android-chrome-36x36.png"');
  });

  it('sends a compressible file gzipped to a client that takes gzip, as published otherwise', async () => {
    const plain = await get(`/viewer/${BUNDLE}`);
    const packed = await site.answer(`/viewer/${BUNDLE}`, request('GET', { 'accept-encoding': 'gzip, deflate, br' }));
    expect(packed.headers['Content-Encoding']).toBe('gzip');
    expect(packed.headers.Vary).toBe('Accept-Encoding');
    expect(plain.headers.Vary).toBe('Accept-Encoding');
    expect(packed.headers.ETag).not.toBe(plain.headers.ETag);
    const chunks: Buffer[] = [];
    for await (const chunk of packed.body as Readable) chunks.push(Buffer.from(chunk as Uint8Array));
    const bytes = Buffer.concat(chunks);
    expect(Number(packed.headers['Content-Length'])).toBe(bytes.length);
    expect(bytes.length).toBeLessThan(Buffer.byteLength(plain.text) / 4);
    expect(gunzipSync(bytes).toString('utf8')).toBe(plain.text);
    const again = await site.answer(
      `/viewer/${BUNDLE}`,
      request('GET', { 'accept-encoding': 'gzip', 'if-none-match': packed.headers.ETag! }),
    );
    expect(again.statusCode).toBe(304);
    const refused = await site.answer(`/viewer/${BUNDLE}`, request('GET', { 'accept-encoding': 'gzip;q=0, identity' }));
    expect(refused.headers['Content-Encoding']).toBeUndefined();
    // Small files are not worth it.
    const small = await site.answer('/viewer/app.bundle.css', request('GET', { 'accept-encoding': 'gzip' }));
    expect(small.headers['Content-Encoding']).toBeUndefined();
  });

  it('gives each file its content type: application/wasm for WebAssembly', async () => {
    const wasm = await get('/viewer/0ddf166f7a343eda.wasm');
    expect(wasm.headers['Content-Type']).toBe('application/wasm');
    expect(wasm.headers['Cache-Control']).toBe('public, max-age=31536000, immutable');
    const icon = await get('/viewer/assets/favicon.ico');
    expect(icon.headers['Content-Type']).toBe('image/x-icon');
    // Not hashed: revalidated, so a new build shows at once.
    expect(icon.headers['Cache-Control']).toBe('no-cache');
  });

  it('answers 304 to a client holding the same version (ETag)', async () => {
    for (const name of ['/viewer/assets/favicon.ico', `/viewer/${BUNDLE}`, '/viewer/', '/viewer/app-config.js']) {
      const first = await get(name);
      const again = await get(name, { 'if-none-match': first.headers.ETag! });
      expect(again.statusCode, name).toBe(304);
      expect(again.text, name).toBe('');
    }
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const head = await site.answer(`/viewer/${BUNDLE}`, request('HEAD'));
    expect(head.statusCode).toBe(200);
    expect(await bodyOf(head)).toBe('');
    expect(Number(head.headers['Content-Length'])).toBeGreaterThan(0);
  });

  it('refuses other methods with 405 and Allow: GET, HEAD', async () => {
    const post = await site.answer('/viewer/', request('POST'));
    expect(post.statusCode).toBe(405);
    expect(post.headers.Allow).toBe('GET, HEAD');
  });

  it('serves nothing outside the build: dot segments, encoded or not, and links leading out', async () => {
    for (const attempt of [
      '/viewer/../secret.txt',
      '/viewer/%2e%2e/secret.txt',
      '/viewer/assets/%2E%2E/%2E%2E/secret.txt',
      '/viewer/..%5csecret.txt',
    ]) {
      const answer = await get(attempt);
      expect(answer.statusCode, attempt).toBe(400);
      expect(answer.text, attempt).not.toContain('outside the build');
    }
    const link = await get('/viewer/link.txt');
    expect(link.statusCode).toBe(404);
    expect(link.text).not.toContain('outside the build');
    expect((await get('/viewer/%E0%A4%A')).statusCode).toBe(400);
  });

  it('serves its own app-config.js rather than the published one', async () => {
    const script = await get('/viewer/app-config.js');
    expect(script.headers['Content-Type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['Cache-Control']).toBe('no-cache');
    expect(script.text).not.toContain('published');
    expect(script.text).toContain('"routerBasename": "/viewer"');
  });

  it('sends a browser at / or /viewer to /viewer/; DICOMweb clients at / are not its', async () => {
    expect(site.handles('/', request('GET', { accept: 'text/html,application/xhtml+xml' }))).toBe(true);
    expect(site.handles('/', request('OPTIONS', { accept: 'application/json' }))).toBe(false);
    expect(site.handles('/', request('GET', { accept: 'application/dicom+json' }))).toBe(false);
    expect(site.handles('/studies', request('GET', { accept: 'text/html' }))).toBe(false);
    expect(site.handles('/viewerx', request('GET'))).toBe(false);
    for (const from of ['/', '/viewer']) {
      const moved = await get(from);
      expect(moved.statusCode, from).toBe(302);
      expect(moved.headers.Location, from).toBe('/viewer/');
    }
  });

  it('is served under the path of PUBLIC_BASE_URL behind a proxy', async () => {
    const behind = viewerSite({ dist, config: config({ PUBLIC_BASE_URL: 'https://pacs.example.org/archive/' }) });
    const page = await get('/viewer/', {}, behind);
    expect(page.text).toContain('window.PUBLIC_URL="/archive/viewer/"');
    expect((await get(`/viewer/${BUNDLE}`, {}, behind)).text).toContain('__webpack_require__.p = "/archive/viewer/";');
    expect(page.headers['Content-Security-Policy']).toContain("connect-src 'self' https://pacs.example.org");
    expect((await get('/viewer/app-config.js', {}, behind)).text).toContain('var SERVICE_ROOT = "https://pacs.example.org/archive";');
    expect((await get('/', {}, behind)).headers.Location).toBe('/archive/viewer/');
  });

  describe('behind a trusted proxy adding a prefix, without PUBLIC_BASE_URL', () => {
    const behind = () => viewerSite({ dist, config: config({ TRUSTED_PROXIES: '127.0.0.1,::1' }) });
    /** A request from `peer` that forwarded the prefix `/pacs` (and the client's Host), as nginx does. */
    const proxied = (peer: string, headers: Record<string, string> = {}) =>
      ({
        method: 'GET',
        headers: {
          host: '127.0.0.1:8080',
          'x-forwarded-host': 'pacs.example.org',
          'x-forwarded-proto': 'https',
          'x-forwarded-prefix': '/pacs',
          ...headers,
        },
        socket: { remoteAddress: peer },
      }) as unknown as http.IncomingMessage;
    const at = async (on: ViewerSite, pathname: string, req: http.IncomingMessage) => {
      const result = await on.answer(pathname, req);
      return { ...result, text: await bodyOf(result) };
    };
    const varies = 'Forwarded, X-Forwarded-Host, X-Forwarded-Proto, X-Forwarded-Prefix';

    it("serves the viewer under the forwarded prefix, its DICOMweb roots on the page's origin and the prefix", async () => {
      const on = behind();
      const page = await at(on, '/viewer/', proxied('::ffff:127.0.0.1'));
      expect(page.text).toContain('window.PUBLIC_URL="/pacs/viewer/"');
      expect(page.text).toContain(`src="/pacs/viewer/${BUNDLE}"`);
      expect(page.headers.Vary).toBe(varies);
      const bundle = await at(on, `/viewer/${BUNDLE}`, proxied('127.0.0.1'));
      expect(bundle.text).toContain('__webpack_require__.p = "/pacs/viewer/";');
      expect(bundle.headers.Vary).toBe(`Accept-Encoding, ${varies}`);
      const script = await at(on, '/viewer/app-config.js', proxied('127.0.0.1'));
      expect(script.text).toContain('"routerBasename": "/pacs/viewer"');
      expect(script.text).toContain('var SERVICE_ROOT = window.location.origin + "/pacs";');
      expect(script.headers.Vary).toBe(varies);
      expect((await at(on, '/', proxied('127.0.0.1', { accept: 'text/html' }))).headers.Location).toBe('/pacs/viewer/');
      // Files the prefix does not change are the same for every base.
      expect((await at(on, '/viewer/0ddf166f7a343eda.wasm', proxied('127.0.0.1'))).headers.Vary).toBeUndefined();
    });

    it('keeps each base apart: another prefix, or none, gets its own page and ETag', async () => {
      const on = behind();
      const pacs = await at(on, '/viewer/', proxied('127.0.0.1'));
      const other = await at(on, '/viewer/', proxied('127.0.0.1', { 'x-forwarded-prefix': '/other/' }));
      const direct = await at(on, '/viewer/', {
        method: 'GET',
        headers: {},
        socket: { remoteAddress: '127.0.0.1' },
      } as unknown as http.IncomingMessage);
      expect(other.text).toContain('window.PUBLIC_URL="/other/viewer/"');
      expect(direct.text).toContain('window.PUBLIC_URL="/viewer/"');
      expect(new Set([pacs.headers.ETag, other.headers.ETag, direct.headers.ETag]).size).toBe(3);
      // Past the bases kept at once, a base is made again, the same.
      for (const prefix of ['/a', '/b', '/c', '/d', '/e']) await at(on, '/viewer/', proxied('127.0.0.1', { 'x-forwarded-prefix': prefix }));
      expect((await at(on, '/viewer/', proxied('127.0.0.1'))).headers.ETag).toBe(pacs.headers.ETag);
      const held = await at(on, '/viewer/', proxied('127.0.0.1', { 'if-none-match': pacs.headers.ETag! }));
      expect(held.statusCode).toBe(304);
      expect(
        (await at(on, '/viewer/', proxied('127.0.0.1', { 'x-forwarded-prefix': '/other', 'if-none-match': pacs.headers.ETag! })))
          .statusCode,
      ).toBe(200);
    });

    it("ignores an untrusted peer's forwarded headers, and a prefix that is not a path", async () => {
      const on = behind();
      expect((await at(on, '/viewer/', proxied('10.0.0.9'))).text).toContain('window.PUBLIC_URL="/viewer/"');
      const script = await at(on, '/viewer/app-config.js', proxied('10.0.0.9'));
      expect(script.text).toContain('var SERVICE_ROOT = window.location.origin + "";');
      const injected = await at(on, '/viewer/', proxied('127.0.0.1', { 'x-forwarded-prefix': '/"><script>x</script>' }));
      expect(injected.text).toContain('window.PUBLIC_URL="/viewer/"');
    });

    it('varies on nothing forwarded when PUBLIC_BASE_URL decides, or no proxy is trusted', async () => {
      const fixed = viewerSite({
        dist,
        config: config({ TRUSTED_PROXIES: '127.0.0.1', PUBLIC_BASE_URL: 'https://pacs.example.org/archive' }),
      });
      const page = await at(fixed, '/viewer/', proxied('127.0.0.1'));
      expect(page.text).toContain('window.PUBLIC_URL="/archive/viewer/"');
      expect(page.headers.Vary).toBeUndefined();
      expect((await at(site, '/viewer/', proxied('127.0.0.1'))).headers.Vary).toBeUndefined();
    });
  });

  it("lets the page reach the login's issuer and the endpoints its discovery document names", async () => {
    let available = false;
    const server = http.createServer((req, res) => {
      if (!available || req.url !== '/realm/.well-known/openid-configuration') return void res.writeHead(503).end();
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          authorization_endpoint: 'https://login.example.org/authorize',
          token_endpoint: 'https://login.example.org/token',
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const withLogin = viewerSite({
        dist,
        config: config({ AUTH: 'oidc', OIDC_ISSUER: `${issuer}/realm`, OIDC_AUDIENCE: 'dicomweb', VIEWER_OIDC_CLIENT_ID: 'ohif' }),
      });
      // The document cannot be read: the issuer's own origin, and another try on the next page.
      const first = (await get('/viewer/', {}, withLogin)).headers['Content-Security-Policy']!;
      expect(first).toContain(`connect-src 'self' ${issuer};`);
      available = true;
      const csp = (await get('/viewer/', {}, withLogin)).headers['Content-Security-Policy']!;
      expect(csp).toContain(`connect-src 'self' ${issuer} https://login.example.org;`);
      expect(csp).toContain(`form-action 'self' ${issuer} https://login.example.org`);
      expect((await get('/viewer/app-config.js', {}, withLogin)).text).toContain('"client_id":"ohif"');
    } finally {
      server.close();
    }
  });

  it('answers 503 naming npm run viewer:fetch when the build is absent', async () => {
    const absent = viewerSite({ config: config(), unavailableReason: 'the fetch failed at start' });
    for (const name of ['/viewer/', '/viewer/app-config.js', `/viewer/${BUNDLE}`]) {
      const answer = await get(name, {}, absent);
      expect(answer.statusCode, name).toBe(503);
      expect(answer.headers['Retry-After']).toBeDefined();
      const report = JSON.parse(answer.text) as { detail: string };
      expect(report.detail).toContain('npm run viewer:fetch');
      expect(report.detail).toContain('the fetch failed at start');
    }
  });
});

describe('the embedded gateway with the viewer', () => {
  it('hands /viewer/ to the site and every other path to the route table', async () => {
    const calls: string[] = [];
    const handler: ProxyHandler = async (event) => {
      calls.push(event.path);
      return { statusCode: 200, headers: {}, body: '[]', isBase64Encoded: false };
    };
    const handlers = new Proxy({}, { get: () => handler }) as Parameters<typeof startGateway>[0]['handlers'];
    const gateway = await startGateway({ handlers, maxRequestBytes: 1024, site });
    try {
      const page = await fetch(`${gateway.url}/viewer/viewer?StudyInstanceUIDs=1.2.3`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('window.PUBLIC_URL="/viewer/"');
      expect((await fetch(`${gateway.url}/viewer/${BUNDLE}`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect((await fetch(`${gateway.url}/studies`)).status).toBe(200);
      expect(calls).toEqual(['/studies']);
      const root = await fetch(`${gateway.url}/`, { headers: { Accept: 'text/html' }, redirect: 'manual' });
      expect(root.status).toBe(302);
    } finally {
      await gateway.close();
    }
  });
});
