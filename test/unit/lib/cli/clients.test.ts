/**
 * Unit: `npm run clients` (lib/cli/clients.ts) against an answering fetch: what it sends, what it
 * prints, its exit codes; the credential from --token or DICOMWEB_TOKEN.
 */
import { describe, expect, it } from 'vitest';
import { main, parseClientsArgs } from '../../../../lib/cli/clients';

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

function terminal() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: { write: (t: string) => (out.stdout += t) }, stderr: { write: (t: string) => (out.stderr += t) } } };
}

/** A fetch that records each request and answers `status` with `body` as JSON. */
function answering(status: number, body?: unknown, statusText = '') {
  const sent: Sent[] = [];
  const fetchFn = (async (url: string, init: RequestInit) => {
    sent.push({
      url: String(url),
      method: String(init.method),
      headers: Object.fromEntries(new Headers(init.headers).entries()),
      body: init.body as string | undefined,
    });
    return new Response(body === undefined ? null : JSON.stringify(body), { status, statusText });
  }) as unknown as typeof fetch;
  return { sent, fetchFn };
}

const KEY = `dwk_abcdefabcdef_${'0'.repeat(64)}`;

describe('npm run clients', () => {
  it('add POSTs the name and scopes as JSON with the bearer token, prints the key alone on stdout and warns once', async () => {
    const { sent, fetchFn } = answering(201, {
      id: 'abcdefabcdef',
      name: 'pacs',
      scopes: ['read', 'write'],
      createdAt: '2026-01-01T00:00:00.000Z',
      key: KEY,
    });
    const { out, io } = terminal();
    const code = await main(['add', '--name', 'pacs', '--scopes', 'read,write', '--url', 'https://archive.example.org/dicomweb/'], io, {
      fetch: fetchFn,
      env: { DICOMWEB_TOKEN: 'admin-token' },
    });
    expect(code).toBe(0);
    expect(sent).toEqual([
      {
        url: 'https://archive.example.org/dicomweb/admin/clients',
        method: 'POST',
        headers: { accept: 'application/json', authorization: 'Bearer admin-token', 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'pacs', scopes: 'read,write' }),
      },
    ]);
    expect(out.stdout).toBe(`${KEY}\n`);
    expect(out.stderr).toContain('cannot be shown again');
    expect(out.stderr).not.toContain(KEY);
  });

  it('list prints one row per client, revoked ones with their time', async () => {
    const { fetchFn } = answering(200, {
      clients: [
        { id: 'aaaaaaaaaaaa', name: 'pacs', scopes: ['write'], createdAt: '2026-01-01T00:00:00.000Z' },
        {
          id: 'bbbbbbbbbbbb',
          name: 'old-router',
          scopes: ['read', 'write'],
          createdAt: '2026-01-02T00:00:00.000Z',
          revokedAt: '2026-02-01T00:00:00.000Z',
        },
      ],
    });
    const { out, io } = terminal();
    expect(await main(['list', '--token', 't'], io, { fetch: fetchFn, env: {} })).toBe(0);
    expect(out.stdout.split('\n')).toEqual([
      'ID            NAME        SCOPES      CREATED                   REVOKED',
      'aaaaaaaaaaaa  pacs        write       2026-01-01T00:00:00.000Z  -',
      'bbbbbbbbbbbb  old-router  read,write  2026-01-02T00:00:00.000Z  2026-02-01T00:00:00.000Z',
      '',
    ]);
  });

  it('revoke DELETEs the client, its id escaped', async () => {
    const { sent, fetchFn } = answering(204);
    const { io } = terminal();
    expect(await main(['revoke', 'a/b', '--token', 't'], io, { fetch: fetchFn, env: {} })).toBe(0);
    expect(sent[0]).toMatchObject({ url: 'http://127.0.0.1:8080/admin/clients/a%2Fb', method: 'DELETE' });
  });

  it('exits 1 with the status and the Status Report of a refusal', async () => {
    const { fetchFn } = answering(
      403,
      { status: 403, title: 'Forbidden', detail: 'this request needs the "admin" scope', errors: [{ target: 'scope', message: 'admin' }] },
      'Forbidden',
    );
    const { out, io } = terminal();
    expect(await main(['list'], io, { fetch: fetchFn, env: { DICOMWEB_TOKEN: 't' } })).toBe(1);
    expect(out.stderr).toBe('GET /admin/clients: 403 Forbidden: this request needs the "admin" scope\n  scope: admin\n');
  });

  it('exits 1 naming the URL when the archive cannot be reached', async () => {
    const fetchFn = (async () => {
      throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:8080') });
    }) as unknown as typeof fetch;
    const { out, io } = terminal();
    expect(await main(['list'], io, { fetch: fetchFn, env: {} })).toBe(1);
    expect(out.stderr).toBe('could not reach http://127.0.0.1:8080: connect ECONNREFUSED 127.0.0.1:8080\n');
  });

  it.each([
    [[], 'a command is required'],
    [['remove', 'x'], 'unknown command "remove"'],
    [['add', '--scopes', 'read'], 'add needs --name'],
    [['list', '--name', 'x'], 'list takes no --name'],
    [['revoke'], 'revoke takes one client id'],
    [['list', '--url', 'ftp://x'], '--url must be an http(s) URL'],
    [['list', '--bogus'], "Unknown option '--bogus'"],
  ])('exits 2 on bad usage %j', async (argv, message) => {
    const { out, io } = terminal();
    expect(await main(argv, io, { fetch: answering(200).fetchFn, env: {} })).toBe(2);
    expect(out.stderr).toContain(message);
    expect(out.stderr).toContain('Usage: npm run clients');
  });

  it('takes the credential from --token, else DICOMWEB_TOKEN, else sends none', async () => {
    const authorization = async (argv: string[], env: NodeJS.ProcessEnv) => {
      const { sent, fetchFn } = answering(200, { clients: [] });
      expect(await main(['list', ...argv], terminal().io, { fetch: fetchFn, env })).toBe(0);
      return sent[0]!.headers.authorization;
    };
    expect(await authorization(['--token', 'flag'], { DICOMWEB_TOKEN: 'env' })).toBe('Bearer flag');
    expect(await authorization([], { DICOMWEB_TOKEN: 'env' })).toBe('Bearer env');
    expect(await authorization([], {})).toBeUndefined();
    expect(parseClientsArgs(['list'], {}).url).toBe('http://127.0.0.1:8080');
  });

  it('gets its token with --client-credentials from the token endpoint, and says so when the endpoint refuses', async () => {
    const sent: string[] = [];
    const fetchFn = (async (url: string, init: RequestInit) => {
      sent.push(`${init.method ?? 'GET'} ${String(url)} ${new Headers(init.headers).get('authorization') ?? ''}`);
      if (String(url).endsWith('/token')) return Response.json({ access_token: 'cc-token', token_type: 'Bearer', expires_in: 300 });
      return Response.json({ clients: [] });
    }) as unknown as typeof fetch;
    const argv = ['list', '--client-credentials', '--token-url', 'http://idp/token', '--scope', 'admin'];
    const env = { DICOMWEB_CLIENT_ID: 'machine', DICOMWEB_CLIENT_SECRET: 's3cret' };
    expect(await main(argv, terminal().io, { fetch: fetchFn, env })).toBe(0);
    expect(sent[0]).toMatch(/^POST http:\/\/idp\/token Basic /);
    expect(sent[1]).toBe('GET http://127.0.0.1:8080/admin/clients Bearer cc-token');

    const refusing = (async () => Response.json({ error: 'invalid_client' }, { status: 401 })) as unknown as typeof fetch;
    const { out, io } = terminal();
    expect(await main(argv, io, { fetch: refusing, env })).toBe(1);
    expect(out.stderr).toContain('invalid_client');
    expect(out.stderr).not.toContain('s3cret');
    expect(await main(['list', '--client-credentials'], terminal().io, { fetch: refusing, env })).toBe(2);
  });
});
