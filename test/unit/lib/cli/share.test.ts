/**
 * Unit: `npm run share` (lib/cli/share.ts) over a fake archive: create POSTs the study, lifetime and
 * note and prints the link alone on stdout, saying when the archive checks no credential; list and
 * revoke; bad usage (no study, a bad lifetime, options of another command) exits 2 before any request.
 */
import { describe, expect, it } from 'vitest';
import { main, parseShareArgs } from '../../../../lib/cli/share';

interface Sent {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body?: unknown;
}

function fakeArchive(answer: (req: Sent) => Response) {
  const sent: Sent[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    const req: Sent = {
      method: init?.method ?? 'GET',
      url: String(input),
      headers,
      ...(init?.body ? { body: JSON.parse(String(init.body)) } : {}),
    };
    sent.push(req);
    return answer(req);
  }) as typeof globalThis.fetch;
  return { fetch, sent };
}

function terminal() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: { write: (t: string) => (out.stdout += t) }, stderr: { write: (t: string) => (out.stderr += t) } } };
}

const created = {
  id: 'abcdefghijkl',
  studyInstanceUID: '1.2.3',
  createdAt: '2026-01-01T00:00:00.000Z',
  createdBy: 'token:static-token',
  expiresAt: '2026-01-03T00:00:00.000Z',
  useCount: 0,
  state: 'active',
  token: `dws_abcdefghijkl_${'a'.repeat(64)}`,
  link: `http://127.0.0.1:8080/viewer/viewer?StudyInstanceUIDs=1.2.3&token=dws_abcdefghijkl_${'a'.repeat(64)}`,
};

describe('npm run share', () => {
  it('creates a link: POSTs study, expires and note with the token, prints the link alone on stdout', async () => {
    const archive = fakeArchive(() => Response.json(created, { status: 201 }));
    const { out, io } = terminal();
    const code = await main(['--study', '1.2.3', '--expires', '2d', '--note', 'Dr. B'], io, {
      fetch: archive.fetch,
      env: { DICOMWEB_TOKEN: 't' },
    });
    expect(code).toBe(0);
    expect(archive.sent).toEqual([
      {
        method: 'POST',
        url: 'http://127.0.0.1:8080/admin/shares',
        headers: expect.objectContaining({ authorization: 'Bearer t', 'content-type': 'application/json' }),
        body: { study: '1.2.3', expires: '2d', note: 'Dr. B' },
      },
    ]);
    expect(out.stdout).toBe(`${created.link}\n`);
    expect(out.stderr).toMatch(/shown once/);
    expect(out.stderr).not.toMatch(/AUTH=none/);
  });

  it('says so when the archive checks no credential (AUTH=none)', async () => {
    const archive = fakeArchive(() => Response.json({ ...created, unrestricted: true }, { status: 201 }));
    const { out, io } = terminal();
    expect(await main(['--study', '1.2.3'], io, { fetch: archive.fetch, env: {} })).toBe(0);
    expect(archive.sent[0]!.body).toEqual({ study: '1.2.3' });
    expect(out.stderr).toMatch(/checks no credential \(AUTH=none\)/);
  });

  it('lists the links as a table and revokes one by id, at PUBLIC_BASE_URL when no --url is given', async () => {
    const archive = fakeArchive((req) =>
      req.method === 'GET'
        ? Response.json({ shares: [{ ...created, useCount: 4, lastUsedAt: '2026-01-02T00:00:00.000Z', note: 'x' }] })
        : new Response(null, { status: 204 }),
    );
    const { out, io } = terminal();
    const env = { PUBLIC_BASE_URL: 'https://archive.example.org/' };
    expect(await main(['list'], io, { fetch: archive.fetch, env })).toBe(0);
    expect(out.stdout.split('\n')[1]).toMatch(
      /^abcdefghijkl\s+active\s+1\.2\.3\s+2026-01-03T00:00:00\.000Z\s+4\s+2026-01-02T00:00:00\.000Z\s+token:static-token\s+x$/,
    );
    expect(await main(['revoke', 'abcdefghijkl'], io, { fetch: archive.fetch, env })).toBe(0);
    expect(archive.sent.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET https://archive.example.org/admin/shares',
      'DELETE https://archive.example.org/admin/shares/abcdefghijkl',
    ]);
  });

  it('exits 1 with the Status Report of a refusal', async () => {
    const archive = fakeArchive(() =>
      Response.json({ status: 404, detail: 'the archive holds no study with this StudyInstanceUID' }, { status: 404 }),
    );
    const { out, io } = terminal();
    expect(await main(['--study', '9.9'], io, { fetch: archive.fetch, env: {} })).toBe(1);
    expect(out.stderr).toMatch(/POST \/admin\/shares: 404.*no study/);
  });

  it.each([
    [[], /--study is required/],
    [['--study', '1.2.3', '--expires', '7 days'], /not a lifetime/],
    [['list', '--study', '1.2.3'], /list takes no --study/],
    [['revoke'], /one link id/],
    [['purge'], /unknown command/],
    [['--study', '1.2.3', '--url', 'ftp://x'], /--url/],
  ])('exits 2 on %j before any request', async (argv, message) => {
    const archive = fakeArchive(() => new Response(null, { status: 500 }));
    const { out, io } = terminal();
    expect(await main(argv, io, { fetch: archive.fetch, env: {} })).toBe(2);
    expect(out.stderr).toMatch(message);
    expect(archive.sent).toEqual([]);
  });

  it('parses the service root without a trailing slash', () => {
    expect(parseShareArgs(['list', '--url', 'http://h:1/dicomweb/'], {}).url).toBe('http://h:1/dicomweb');
  });
});
