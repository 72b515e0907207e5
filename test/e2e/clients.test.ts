/**
 * e2e: API key clients over HTTP, the way an operator and a machine use them. An embedded archive
 * takes the static AUTH_TOKEN (every scope) and API keys; `npm run clients -- add|list|revoke` run
 * as child processes against it; then a machine (a PACS) stores with its key as a Bearer token and
 * as the password of HTTP Basic, and a revoked key, a wrong Basic user or a key without the scope
 * is refused.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStudy } from '../support/dicom-factory';
import { DICOM_JSON, stowBody, tempArchive } from '../support/http';

type Archive = Awaited<ReturnType<typeof tempArchive>>;

const TOKEN = 'e2e-admin-token';
/** Bound on one CLI run (npm + tsx start, one request), within vitest's 30 s testTimeout. */
const RUN_TIMEOUT_MS = 25_000;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `npm run clients -- ...args`, with DICOMWEB_TOKEN from `env` (the CLI's default credential). */
function clientsCli(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const { DICOMWEB_TOKEN: _inherited, ...base } = process.env;
    execFile(
      'npm',
      ['run', '--silent', 'clients', '--', ...args],
      { timeout: RUN_TIMEOUT_MS, env: { ...base, ...env } },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      },
    );
  });
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** STOW-RS of a fresh one-instance study with the given Authorization header. */
async function storeWith(archive: Archive, authorization: string | undefined): Promise<Response> {
  const { body, contentType } = stowBody(
    makeStudy({ series: 1, instancesPerSeries: 1, patientID: 'E2E-KEY' }).instances.map((i) => i.bytes),
  );
  return fetch(`${archive.url}/studies`, {
    method: 'POST',
    headers: { 'Content-Type': contentType, Accept: DICOM_JSON, ...(authorization && { Authorization: authorization }) },
    body,
  });
}

let archive: Archive;
beforeAll(async () => {
  archive = await tempArchive({ env: { AUTH: 'token,api-keys', AUTH_TOKEN: TOKEN } });
});
afterAll(async () => archive?.close());

/** Adds a client with the CLI and answers its key. */
async function addClient(name: string, scopes: string): Promise<string> {
  const run = await clientsCli(['add', '--name', name, '--scopes', scopes, '--url', archive.url], { DICOMWEB_TOKEN: TOKEN });
  expect(run.stderr).toContain('cannot be shown again');
  expect(run.code).toBe(0);
  const key = run.stdout.trim();
  expect(key).toMatch(/^dwk_[a-z0-9]{12}_[0-9a-f]{64}$/);
  return key;
}

const idOf = (key: string) => key.split('_')[1]!;

describe('npm run clients', () => {
  it('add prints the key once, list shows the client without its secret, revoke marks it', async () => {
    const key = await addClient('cli-pacs', 'read,write');
    const list = await clientsCli(['list', '--url', archive.url, '--token', TOKEN]);
    expect(list.code).toBe(0);
    const row = list.stdout.split('\n').find((l) => l.startsWith(idOf(key)));
    expect(row).toMatch(/cli-pacs\s+read,write\s+\d{4}-\d\d-\d\dT\S+Z\s+-$/);
    expect(list.stdout).not.toContain(key.split('_')[2]!);

    const json = await clientsCli(['list', '--json', '--url', archive.url, '--token', TOKEN]);
    const listed = JSON.parse(json.stdout) as { clients: Record<string, unknown>[] };
    const client = listed.clients.find((c) => c.id === idOf(key))!;
    expect(Object.keys(client).sort()).toEqual(['createdAt', 'id', 'name', 'scopes']);

    const revoked = await clientsCli(['revoke', idOf(key), '--url', archive.url, '--token', TOKEN]);
    expect(revoked.code).toBe(0);
    const after = await clientsCli(['list', '--url', archive.url, '--token', TOKEN]);
    expect(after.stdout.split('\n').find((l) => l.startsWith(idOf(key)))).toMatch(/\d{4}-\d\d-\d\dT\S+Z$/);
    expect(after.stdout.split('\n').find((l) => l.startsWith(idOf(key)))).not.toMatch(/\s-$/);
  });

  it('exits 1 with the status and the Status Report when the archive refuses', async () => {
    const badScope = await clientsCli(['add', '--name', 'pacs', '--scopes', 'read,rwite', '--url', archive.url, '--token', TOKEN]);
    expect(badScope.code).toBe(1);
    expect(badScope.stderr).toContain('POST /admin/clients: 400 Bad Request: invalid scopes');
    expect(badScope.stderr).toContain('unknown scope "rwite"');
    expect(badScope.stdout).toBe('');

    const unknown = await clientsCli(['revoke', 'zzzzzzzzzzzz', '--url', archive.url, '--token', TOKEN]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('404 Not Found: there is no API key client with this id');

    const noToken = await clientsCli(['list', '--url', archive.url]);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('GET /admin/clients: 401 Unauthorized');
  });

  it('exits 1 when the archive cannot be reached, 2 on bad usage', async () => {
    const unreachable = await clientsCli(['list', '--url', 'http://127.0.0.1:9', '--token', TOKEN]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('could not reach http://127.0.0.1:9');
    const usage = await clientsCli(['add', '--name', 'pacs']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('add needs --scopes');
  });
});

// Verifying keys on requests is the middleware's (lambdas/auth/authenticate.ts).
describe('a machine with an API key', () => {
  it('[security.api-key] stores with the key as a Bearer token and as the password of HTTP Basic', async () => {
    const key = await addClient('radiology-pacs', 'write');
    expect((await storeWith(archive, `Bearer ${key}`)).status).toBe(200);
    expect((await storeWith(archive, basic('radiology-pacs', key))).status).toBe(200);
    // RFC 7617 allows an empty user name.
    expect((await storeWith(archive, basic('', key))).status).toBe(200);
  });

  it('[security.401.api-key] is refused with 401 and a Status Report at once after its key is revoked, used or not', async () => {
    const key = await addClient('retired-modality', 'write');
    // Used first, so its verification is cached: revoking through this process's admin routes drops it.
    expect((await storeWith(archive, `Bearer ${key}`)).status).toBe(200);
    expect((await clientsCli(['revoke', idOf(key), '--url', archive.url, '--token', TOKEN])).code).toBe(0);
    for (const authorization of [`Bearer ${key}`, basic('retired-modality', key)]) {
      const r = await storeWith(archive, authorization);
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await r.json()) as { title: string; detail: string }).toMatchObject({
        title: 'Unauthorized',
        detail: expect.stringMatching(/revoked/),
      });
    }
  });

  it('is refused with 401 for another Basic user name, a wrong secret, and none at all', async () => {
    const key = await addClient('ct-router', 'write');
    expect((await storeWith(archive, basic('someone-else', key))).status).toBe(401);
    expect((await storeWith(archive, `Bearer ${key.slice(0, -1)}${key.endsWith('0') ? '1' : '0'}`)).status).toBe(401);
    expect((await storeWith(archive, undefined)).status).toBe(401);
  });

  it('is refused with 403 naming the scope it lacks: Store with read only, the admin routes without admin', async () => {
    const key = await addClient('viewer-cache', 'read');
    const store = await storeWith(archive, `Bearer ${key}`);
    expect(store.status).toBe(403);
    expect((await store.json()) as { title: string; detail: string }).toMatchObject({
      title: 'Forbidden',
      detail: expect.stringContaining('"write"'),
    });
    const admin = await fetch(`${archive.url}/admin/clients`, { headers: { Authorization: `Bearer ${key}` } });
    expect(admin.status).toBe(403);
    expect(((await admin.json()) as { detail: string }).detail).toContain('"admin"');
    const search = await fetch(`${archive.url}/studies?PatientID=E2E-KEY`, {
      headers: { Authorization: `Bearer ${key}`, Accept: DICOM_JSON },
    });
    expect(search.status).toBe(200);
  });

  it('[security.admin] with the admin scope manages clients over HTTP', async () => {
    const key = await addClient('ops-bot', 'admin');
    const added = await fetch(`${archive.url}/admin/clients`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ name: 'made-by-bot', scopes: ['read'] }),
    });
    expect(added.status).toBe(201);
    expect(added.headers.get('cache-control')).toBe('no-store');
    const { id } = (await added.json()) as { id: string };
    const revoked = await fetch(`${archive.url}/admin/clients/${id}`, {
      method: 'DELETE',
      headers: { Authorization: basic('ops-bot', key) },
    });
    expect(revoked.status).toBe(204);
  });
});
