/**
 * e2e: second-opinion share links over HTTP, the way an operator and a reader use them. An embedded
 * archive takes the static AUTH_TOKEN (every scope) and API keys; `npm run share` creates, lists and
 * revokes a link as a child process; then the reader's viewer, with nothing but the link's token:
 * searches see only the shared study, its metadata, frames and rendered images are served, another
 * study, Store, Delete and Send are refused (403), and a revoked or expired link is 401.
 */
import { execFile } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Tag } from '../../lambdas/dicom/tags';
import { makeStudy } from '../support/dicom-factory';
import { DICOM_JSON, stowBody, tempArchive, value } from '../support/http';

type Archive = Awaited<ReturnType<typeof tempArchive>>;

const TOKEN = 'e2e-share-admin-token';
/** Bound on one CLI run (npm + tsx start, one request), within vitest's 30 s testTimeout. */
const RUN_TIMEOUT_MS = 25_000;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `npm run share -- ...args` with the admin token (the CLI's DICOMWEB_TOKEN). */
function shareCli(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    const { DICOMWEB_TOKEN: _inherited, PUBLIC_BASE_URL: _base, ...env } = process.env;
    execFile(
      'npm',
      ['run', '--silent', 'share', '--', ...args],
      { timeout: RUN_TIMEOUT_MS, env: { ...env, DICOMWEB_TOKEN: TOKEN } },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

let archive: Archive;
const shared = makeStudy({ series: 1, instancesPerSeries: 2, patientID: 'E2E-SHARED' });
const other = makeStudy({ series: 1, instancesPerSeries: 1, patientID: 'E2E-OTHER' });
const instance = shared.instances[0]!;
const instancePath = `/studies/${shared.studyInstanceUID}/series/${instance.seriesInstanceUID}/instances/${instance.sopInstanceUID}`;

beforeAll(async () => {
  archive = await tempArchive({ env: { AUTH: 'token,api-keys', AUTH_TOKEN: TOKEN } });
  const admin = { Authorization: `Bearer ${TOKEN}` };
  for (const study of [shared, other]) {
    const { body, contentType } = stowBody(study.instances.map((i) => i.bytes));
    const r = await fetch(`${archive.url}/studies`, {
      method: 'POST',
      headers: { ...admin, 'Content-Type': contentType, Accept: DICOM_JSON },
      body,
    });
    expect(r.status).toBe(200);
  }
}, 60_000);
afterAll(async () => archive?.close());
afterEach(() => vi.useRealTimers());

/** A link made over the API with the admin token. */
async function createLink(body: Record<string, unknown>): Promise<{ id: string; token: string; link: string; expiresAt: string }> {
  const r = await fetch(`${archive.url}/admin/shares`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(r.status).toBe(201);
  return (await r.json()) as { id: string; token: string; link: string; expiresAt: string };
}

const reader =
  (token: string) =>
  (path: string, init: RequestInit = {}) =>
    fetch(`${archive.url}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), Authorization: `Bearer ${token}` } });

describe('npm run share', () => {
  it('[security.share.create] creates a link to the viewer on the study, lists it with its uses, and revokes it', async () => {
    const made = await shareCli([
      '--study',
      shared.studyInstanceUID,
      '--expires',
      '2d',
      '--note',
      'e2e second opinion',
      '--url',
      archive.url,
    ]);
    expect(made.stderr).toContain('shown once');
    expect(made.code).toBe(0);
    const link = new URL(made.stdout.trim());
    expect(`${link.origin}${link.pathname}`).toBe(`${archive.url}/viewer/viewer`);
    expect(link.searchParams.get('StudyInstanceUIDs')).toBe(shared.studyInstanceUID);
    const token = link.searchParams.get('token')!;
    expect(token).toMatch(/^dws_[a-z0-9]{12}_[0-9a-f]{64}$/);
    const id = token.split('_')[1]!;
    expect((await reader(token)(`/studies/${shared.studyInstanceUID}/metadata`)).status).toBe(200);

    const list = await shareCli(['list', '--url', archive.url]);
    expect(list.code).toBe(0);
    const row = list.stdout.split('\n').find((l) => l.startsWith(id));
    expect(row).toMatch(
      new RegExp(
        `^${id}\\s+active\\s+${shared.studyInstanceUID.replace(/\./g, '\\.')}\\s+\\S+Z\\s+1\\s+\\S+Z\\s+token:static-token\\s+e2e second opinion$`,
      ),
    );
    expect(list.stdout).not.toContain(token.split('_')[2]!);

    const revoked = await shareCli(['revoke', id, '--url', archive.url]);
    expect(revoked.code).toBe(0);
    expect((await reader(token)(`/studies/${shared.studyInstanceUID}/metadata`)).status).toBe(401);
    expect((await shareCli(['list', '--url', archive.url])).stdout).toMatch(new RegExp(`^${id}\\s+revoked`, 'm'));
  }, 90_000);

  it('refuses a bad lifetime before asking the archive, and a study the archive does not hold with its 404', async () => {
    const bad = await shareCli(['--study', shared.studyInstanceUID, '--expires', '7 days', '--url', archive.url]);
    expect(bad.code).toBe(2);
    const unknown = await shareCli(['--study', '1.2.3.4.5', '--url', archive.url]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/POST \/admin\/shares: 404/);
  }, 60_000);
});

describe('a share token', () => {
  let get: ReturnType<typeof reader>;
  beforeAll(async () => {
    get = reader((await createLink({ study: shared.studyInstanceUID })).token);
  });

  it('[security.share] searches see the shared study only, whatever the query', async () => {
    const studies = (await (await get('/studies')).json()) as Record<string, { Value?: unknown[] }>[];
    expect(studies.map((s) => value(s, Tag.StudyInstanceUID))).toEqual([shared.studyInstanceUID]);
    const series = (await (await get('/series')).json()) as unknown[];
    expect(series).toHaveLength(1);
    const instances = (await (await get(`/instances?limit=10`)).json()) as unknown[];
    expect(instances).toHaveLength(2);
    expect((await get(`/studies?StudyInstanceUID=${other.studyInstanceUID}`)).status).toBe(403);
    expect((await get(`/studies/${shared.studyInstanceUID}/series`)).status).toBe(200);
  });

  it("reads the study's metadata, frames, rendered image and thumbnail, and Retrieve Capabilities", async () => {
    const meta = await get(`/studies/${shared.studyInstanceUID}/metadata`, { headers: { Accept: DICOM_JSON } });
    expect(meta.status).toBe(200);
    expect(await meta.json()).toHaveLength(2);
    const frames = await get(`${instancePath}/frames/1`, { headers: { Accept: 'multipart/related; type="application/octet-stream"' } });
    expect(frames.status).toBe(200);
    const rendered = await get(`${instancePath}/rendered`, { headers: { Accept: 'image/png' } });
    expect(rendered.status).toBe(200);
    expect(rendered.headers.get('content-type')).toBe('image/png');
    expect((await get(`/studies/${shared.studyInstanceUID}/thumbnail`)).status).toBe(200);
    expect((await get('/', { method: 'OPTIONS' })).status).toBe(200);
  });

  it('[security.share.403] cannot read another study, nor store, delete, send or manage', async () => {
    for (const path of [
      `/studies/${other.studyInstanceUID}/metadata`,
      `/studies/${other.studyInstanceUID}/thumbnail`,
      `/studies/${other.studyInstanceUID}/series`,
    ]) {
      const r = await get(path);
      expect([path, r.status]).toEqual([path, 403]);
      expect(((await r.json()) as { detail: string }).detail).toMatch(/share link/);
    }
    const { body, contentType } = stowBody(makeStudy({ series: 1, instancesPerSeries: 1 }).instances.map((i) => i.bytes));
    expect((await get('/studies', { method: 'POST', headers: { 'Content-Type': contentType }, body })).status).toBe(403);
    expect((await get(`/studies/${shared.studyInstanceUID}`, { method: 'DELETE' })).status).toBe(403);
    expect(
      (await get(`/studies/${shared.studyInstanceUID}/series/send-requests/1.2.3?destination=http://127.0.0.1:9/`, { method: 'POST' }))
        .status,
    ).toBe(403);
    expect((await get('/admin/shares')).status).toBe(403);
    expect((await get('/admin/clients')).status).toBe(403);
    expect(
      (await fetch(`${archive.url}/studies/${shared.studyInstanceUID}/metadata`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status,
    ).toBe(200);
  });

  it('[security.share.401] is refused with 401 once its link has expired (the clock moved past it)', async () => {
    const { token, expiresAt } = await createLink({ study: shared.studyInstanceUID, expires: '1h' });
    expect((await reader(token)(`/studies/${shared.studyInstanceUID}/metadata`)).status).toBe(200);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.parse(expiresAt) + 1000);
    const r = await reader(token)(`/studies/${shared.studyInstanceUID}/metadata`);
    expect(r.status).toBe(401);
    expect(((await r.json()) as { detail: string }).detail).toMatch(/expired/);
  });

  it('is refused with 401 for a token the archive never issued', async () => {
    expect((await reader(`dws_abcdefghijkl_${'0'.repeat(64)}`)('/studies')).status).toBe(401);
  });
});
