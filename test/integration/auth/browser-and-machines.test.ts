/**
 * Integration: an embedded archive in AUTH=oidc with a real OpenID Connect provider in process
 * (test/support/oidc-provider.ts), both on 127.0.0.1, spoken to over HTTP the way clients do:
 * - a browser page on an allowed origin gets a token by the code flow with PKCE, preflights as a
 *   browser would (OPTIONS with Origin and Access-Control-Request-*), then searches and retrieves;
 * - a machine with a client credentials token stores; one holding only `read` gets 403 on STOW;
 * - every bad credential is a 401 or 403 with a Status Report, never a 5xx;
 * - nothing the archive logs holds a token.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeInstance } from '../../support/dicom-factory';
import { DICOM_JSON, stowBody, tempArchive } from '../../support/http';
import { startOidcProvider, type TestOidcProvider } from '../../support/oidc-provider';

const VIEWER = 'https://viewer.example.org';
const STUDY = '1.2.826.0.1.3680043.8.498.2101';
const SERIES = `${STUDY}.1`;
const SOP = `${STUDY}.1.1`;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request as a browser sends it (node:http: Origin is a header like any other). */
function request(url: string, method: string, headers: Record<string, string>, body?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: body ? { ...headers, 'Content-Length': String(body.length) } : headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Everything written to the console and the standard streams while the archive runs. */
const written: string[] = [];
const restore: (() => void)[] = [];
function captureOutput(): void {
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[method];
    console[method] = (...args: unknown[]) => void written.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
    restore.push(() => (console[method] = original));
  }
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      written.push(String(chunk));
      return original(chunk, ...rest);
    }) as typeof stream.write;
    restore.push(() => (stream.write = original));
  }
}

/** Every token the tests send, to look for in the output. */
const tokensSent = new Set<string>();
const bearer = (token: string) => {
  tokensSent.add(token);
  return `Bearer ${token}`;
};

let idp: TestOidcProvider;
let archive: Awaited<ReturnType<typeof tempArchive>>;
beforeAll(async () => {
  captureOutput();
  console.info('capturing the output of the archive');
  idp = await startOidcProvider({ readOnlyScopes: 'read' });
  archive = await tempArchive({
    env: { AUTH: 'oidc', OIDC_ISSUER: idp.issuer, OIDC_AUDIENCE: idp.audience, CORS_ALLOWED_ORIGINS: VIEWER },
  });
}, 60_000);
afterAll(async () => {
  await archive?.close();
  await idp?.close();
  for (const r of restore.reverse()) r();
});

const stowRequest = () => stowBody([makeInstance({ studyInstanceUID: STUDY, seriesInstanceUID: SERIES, sopInstanceUID: SOP })]);
const report = (a: Answer) => JSON.parse(a.body.toString()) as { status: number; title: string; detail: string };

describe('a machine with a client credentials token', () => {
  it('[security.oidc.client-credentials] stores with the write scope', async () => {
    const { access_token } = await idp.clientCredentialsToken({ ...idp.machineClient, scope: 'read write' });
    const { body, contentType } = stowRequest();
    const stored = await request(
      `${archive.url}/studies`,
      'POST',
      { Authorization: bearer(access_token), 'Content-Type': contentType, Accept: DICOM_JSON },
      body,
    );
    expect(stored.status).toBe(200);
  });

  it('[security.403] gets 403 with a Status Report naming the scope when it holds only read', async () => {
    const { access_token, scope } = await idp.clientCredentialsToken({ ...idp.readOnlyClient, scope: 'read write' });
    expect(scope).toBe('read');
    const { body, contentType } = stowRequest();
    const refused = await request(
      `${archive.url}/studies`,
      'POST',
      { Authorization: bearer(access_token), 'Content-Type': contentType, Accept: DICOM_JSON },
      body,
    );
    expect(refused.status).toBe(403);
    expect(report(refused)).toMatchObject({ status: 403, detail: expect.stringMatching(/needs the "write" scope/) });
    expect(refused.headers['www-authenticate']).toMatch(/error="insufficient_scope", scope="write"/);
    // It may still search.
    const search = await request(`${archive.url}/studies?StudyInstanceUID=${STUDY}`, 'GET', {
      Authorization: bearer(access_token),
      Accept: DICOM_JSON,
    });
    expect(search.status).toBe(200);
  });
});

describe('a browser page on an allowed origin', () => {
  it('[security.oidc.code-pkce] gets a token by code + PKCE, preflights, then searches and retrieves', async () => {
    const { access_token } = await idp.authorizationCodeWithPkce({ ...idp.browserClient, scope: 'read', accountId: 'radiologist-1' });
    const asBrowser = (extra: Record<string, string>) => ({ Origin: VIEWER, ...extra });

    const preflight = await request(`${archive.url}/studies`, 'OPTIONS', {
      Origin: VIEWER,
      'Access-Control-Request-Method': 'GET',
      'Access-Control-Request-Headers': 'authorization',
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(VIEWER);
    expect(preflight.headers['access-control-allow-headers']).toMatch(/Authorization/i);
    expect(preflight.headers['access-control-allow-methods']).toMatch(/GET/);

    const search = await request(
      `${archive.url}/studies?StudyInstanceUID=${STUDY}`,
      'GET',
      asBrowser({ Authorization: bearer(access_token), Accept: DICOM_JSON }),
    );
    expect(search.status).toBe(200);
    expect(search.headers['access-control-allow-origin']).toBe(VIEWER);
    expect(JSON.parse(search.body.toString())).toHaveLength(1);

    const instanceUrl = `${archive.url}/studies/${STUDY}/series/${SERIES}/instances/${SOP}`;
    const retrievePreflight = await request(instanceUrl, 'OPTIONS', {
      Origin: VIEWER,
      'Access-Control-Request-Method': 'GET',
      'Access-Control-Request-Headers': 'authorization,accept',
    });
    expect(retrievePreflight.status).toBe(204);
    const retrieved = await request(
      instanceUrl,
      'GET',
      asBrowser({ Authorization: bearer(access_token), Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' }),
    );
    expect(retrieved.status).toBe(200);
    expect(retrieved.headers['access-control-allow-origin']).toBe(VIEWER);
    expect(retrieved.body.includes(Buffer.from('DICM'))).toBe(true);

    const metadata = await request(
      `${instanceUrl}/metadata`,
      'GET',
      asBrowser({ Authorization: bearer(access_token), Accept: DICOM_JSON }),
    );
    expect(metadata.status).toBe(200);
  });
});

describe('bad credentials: 401 or 403 with a Status Report, never 5xx', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const cases: [string, () => Promise<string | undefined>, number, RegExp][] = [
    ['missing', async () => undefined, 401, /requires a credential/],
    ['malformed (not a token)', async () => 'Bearer not a token', 401, /characters a token cannot hold/],
    ['malformed (another scheme)', async () => 'Digest username="x"', 401, /scheme must be Bearer/],
    [
      'malformed (Basic without an API key)',
      async () => `Basic ${Buffer.from('user:password').toString('base64')}`,
      401,
      /Basic is accepted only/,
    ],
    ['malformed (not a JWT)', async () => bearer('abc.def.ghi'), 401, /not a well-formed/],
    ['expired', async () => bearer(await idp.mint({ exp: now() - 300, iat: now() - 900 })), 401, /expired/],
    ['wrong issuer', async () => bearer(await idp.mint({ iss: 'https://idp.elsewhere.example.org' })), 401, /another issuer/],
    [
      'wrong audience',
      async () => bearer(await idp.mint({ aud: 'https://another-archive.example.org' })),
      401,
      /not meant for this archive/,
    ],
    ['wrong signature', async () => bearer(await idp.mint({}, { key: 'stranger', forgeKid: true })), 401, /signature/],
    [
      'an ID token',
      async () => bearer((await idp.authorizationCodeWithPkce({ ...idp.browserClient, scope: 'read', accountId: 'u' })).id_token!),
      401,
      /not meant for this archive/,
    ],
    ['an API key (not enabled)', async () => bearer(`dwk_abcdefghijkl_${'0'.repeat(64)}`), 401, /does not accept API keys/],
    ['wrong scope', async () => bearer(await idp.mint({ scope: 'write send' })), 403, /needs the "read" scope/],
  ];

  it.each(cases)('[security.401] %s', async (_, authorization, status, detail) => {
    const header = await authorization();
    const answer = await request(`${archive.url}/studies`, 'GET', {
      Origin: VIEWER,
      Accept: DICOM_JSON,
      ...(header ? { Authorization: header } : {}),
    });
    expect(answer.status).toBe(status);
    expect(answer.headers['content-type']).toMatch(/json/);
    expect(report(answer)).toMatchObject({ status, detail: expect.stringMatching(detail) });
    expect(answer.headers['www-authenticate']).toMatch(/^Bearer realm="dicomweb"/);
    expect(answer.headers['access-control-allow-origin']).toBe(VIEWER);
    if (header) expect(answer.body.toString()).not.toContain(header.replace(/^\w+ /, ''));
  });

  it('a plain OPTIONS (Retrieve Capabilities) still needs a token', async () => {
    expect((await request(`${archive.url}/studies`, 'OPTIONS', { Origin: VIEWER })).status).toBe(401);
  });
});

describe('the logs', () => {
  it('hold none of the tokens sent', () => {
    expect(written.join('\n')).toContain('capturing the output of the archive');
    expect(tokensSent.size).toBeGreaterThan(5);
    const output = written.join('\n');
    for (const token of tokensSent) expect(output).not.toContain(token);
  });
});
