/**
 * Reliability, security: what an attacker can put in a request must not make the archive reach out
 * or escape its data directory (docs/send-rs.md, matching rule; Sup 248 10.X.2: destinations are an allow-list).
 * - destinations outside the registry, private / link-local / metadata URLs, other schemes, embedded
 *   credentials, dot segments: 400 before any connection (the registered loopback recorder sees none);
 * - a registered destination that redirects: the redirect is not followed (its target sees nothing);
 * - path traversal in UIDs and Transaction UIDs: 400/404, no file outside the data directory;
 * - oversized headers and request lines: refused (431), never a 5xx, and the archive keeps serving.
 * Only 127.0.0.1 is ever connected to: the other addresses are strings the archive must refuse.
 */
import { readdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newUid } from '../../lambdas/dicom/uid';
import { makeInstance, makeStudy } from '../support/dicom-factory';
import { DICOM_JSON, stow, stowBody, tempArchive } from '../support/http';
import { startRecordingServer, type RecordingServer } from '../support/recording-server';

type Archive = Awaited<ReturnType<typeof tempArchive>>;
type Module = Record<string, { vr: string; Value?: any[] }>;

const STATUS = '00000900';
const COMPLETED = '00001021';
const FAILED = '00001022';
const WARNING = '00001023';
const v = (m: Module, tag: string) => m[tag]?.Value?.[0];

let archive: Archive;
/** Registered destination that must never be contacted by a refused Send. */
let registered: RecordingServer;
/** Registered destination that answers every request with a 302 to `target`. */
let redirecting: RecordingServer;
/** Unregistered server: the redirect target, and a destination the registry does not know. */
let target: RecordingServer;
const patientID = `SEC-${Date.now()}`;
const study = makeStudy({ series: 1, instancesPerSeries: 2, patientID });

beforeAll(async () => {
  target = await startRecordingServer({ kind: 'status', status: 200 });
  registered = await startRecordingServer({ kind: 'status', status: 200 });
  redirecting = await startRecordingServer({
    kind: 'status',
    status: 302,
    headers: { Location: `${target.url}/studies` },
  });
  archive = await tempArchive({ env: { SEND_WAIT_MS: '200' } });
  await writeFile(
    path.join(archive.dataDir, 'destinations.json'),
    JSON.stringify({
      destinations: [
        { url: registered.url, auth: { type: 'bearer', token: 'never-leaked' } },
        { url: redirecting.url, auth: { type: 'none' } },
      ],
    }),
  );
  expect(
    (
      await stow(
        archive.url,
        study.instances.map((i) => i.bytes),
      )
    ).status,
  ).toBe(200);
});
afterAll(async () => {
  await archive?.close();
  await Promise.all([registered, redirecting, target].map((s) => s?.close()));
});

function send(resource: string, transactionUID: string, query: string): Promise<Response> {
  return fetch(`${archive.url}${resource}/send-requests/${transactionUID}?${query}`, {
    method: 'POST',
    headers: { Accept: DICOM_JSON },
  });
}

/** A raw request, path sent as written (fetch would resolve dot segments first). */
function rawRequest(rawPath: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(archive.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path: rawPath, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('Send to destinations outside the registry: 400, no outbound connection', () => {
  const refused = () => [
    ['unregistered loopback server', target.url],
    ['link-local metadata service', 'http://169.254.169.254/latest/meta-data/iam/security-credentials/'],
    ['private network', 'http://10.0.0.1/dicom-web'],
    ['private network (172.16/12)', 'https://172.16.0.5/dicom-web'],
    ['private network (192.168/16)', 'http://192.168.1.1:8080/dicom-web'],
    ['IPv6 loopback', `http://[::1]:${registered.port}/dicom-web`],
    ['IPv6 link-local', 'http://[fe80::1]/dicom-web'],
    ['decimal IPv4 of the metadata service', 'http://2852039166/'],
    ['localhost name instead of the registered address', `http://localhost:${registered.port}/dicom-web`],
    ['registered path as a string prefix only', `${registered.url}2`],
    ['dot segments climbing out of the registered path', `${registered.url}/../admin`],
    ['encoded dot segments', `${registered.url}/%2e%2e/admin`],
    ['credentials in the URL', registered.url.replace('http://', 'http://user:pass@')],
    ['registered host as userinfo of another host', `http://127.0.0.1:${registered.port}@10.0.0.1/dicom-web`],
    ['file scheme', 'file:///etc/passwd'],
    ['gopher scheme', `gopher://127.0.0.1:${registered.port}/dicom-web`],
    ['relative URL', '/dicom-web'],
    ['empty', ''],
    ['too long', `${registered.url}/${'a'.repeat(4096)}`],
  ];

  it('refuses each with a 400 Status Report and creates no send request', async () => {
    const before = { registered: registered.connections, target: target.connections, redirecting: redirecting.connections };
    for (const [what, destination] of refused()) {
      const transactionUID = newUid();
      const r = await send(
        '/studies',
        transactionUID,
        `destination=${encodeURIComponent(destination!)}&StudyInstanceUID=${study.studyInstanceUID}`,
      );
      expect(r.status, what).toBe(400);
      const report = (await r.json()) as { status: number; detail?: string };
      expect(report.status, what).toBe(400);
      expect(JSON.stringify(report), what).not.toContain('never-leaked');
      const check = await fetch(`${archive.url}/studies/send-requests/${transactionUID}`, { headers: { Accept: DICOM_JSON } });
      expect(check.status, what).toBe(404);
    }
    // Two destinations at once, one of them registered: refused too.
    const two = await fetch(
      `${archive.url}/studies/send-requests/${newUid()}?destination=${encodeURIComponent(registered.url)}&destination=${encodeURIComponent('http://10.0.0.1/')}`,
      { method: 'POST', headers: { Accept: DICOM_JSON } },
    );
    expect(two.status).toBe(400);
    expect({ registered: registered.connections, target: target.connections, redirecting: redirecting.connections }).toEqual(before);
  });

  it('the registered destination itself is accepted (the refusals above are the registry at work)', async () => {
    const r = await send(
      '/studies',
      newUid(),
      `destination=${encodeURIComponent(registered.url)}&StudyInstanceUID=${study.studyInstanceUID}`,
    );
    expect([200, 202]).toContain(r.status);
  });
});

describe('Redirects from a registered destination are not followed', () => {
  it('the send fails its sub-operations; the redirect target receives nothing', async () => {
    const transactionUID = newUid();
    let r = await send(
      '/studies',
      transactionUID,
      `destination=${encodeURIComponent(redirecting.url)}&StudyInstanceUID=${study.studyInstanceUID}`,
    );
    const deadline = Date.now() + 30_000;
    while (r.status === 202 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      r = await fetch(`${archive.url}/studies/send-requests/${transactionUID}`, { headers: { Accept: DICOM_JSON } });
    }
    expect(r.status).toBe(200);
    const [final] = (await r.json()) as Module[];
    expect([v(final!, STATUS), v(final!, COMPLETED), v(final!, WARNING), v(final!, FAILED)]).toEqual([0xa702, 0, 0, 2]);
    expect(redirecting.requests.length).toBeGreaterThan(0);
    expect(target.connections).toBe(0);
  }, 40_000);
});

describe('Path traversal in UIDs', () => {
  const escapes = [
    '/studies/..%2F..%2F..%2Fetc%2Fpasswd',
    '/studies/1.2.3%2F..%2F..%2F..%2Fetc/series/1.2/instances/1.2.3',
    '/studies/..%2f..%2f/metadata',
    '/studies/../../../etc/passwd',
    '/studies/1.2/series/..%5C..%5Cwindows/instances',
    '/studies/1.2/series/1.2/instances/..%2F..%2F..%2Fdestinations.json',
    '/studies/1.2/series/1.2/instances/1.2/bulkdata/..%2F..%2Fx',
    '/studies/1.2/series/1.2/instances/1.2/frames/..%2F1',
    '/studies/send-requests/..%2F..%2Fetc',
    '/studies/%00/series',
  ];

  it('answers 400 or 404 to traversal in every UID position, never 5xx', async () => {
    for (const p of escapes) {
      const r = await rawRequest(p, { Accept: 'application/dicom+json, multipart/related; type="application/dicom"; transfer-syntax=*' });
      expect([400, 404], p).toContain(r.status);
      expect(r.body, p).not.toContain('root:');
      expect(r.body, p).not.toContain('never-leaked');
    }
    // Encoded dot segments are resolved by URL parsing (WHATWG) before routing: they can only land
    // on another resource of the service (here /series), never outside it.
    const resolved = await rawRequest('/studies/%2e%2e/%2e%2e/%2e%2e/series', { Accept: DICOM_JSON });
    expect(resolved.status).toBeLessThan(500);
    expect(resolved.body).not.toContain('never-leaked');
  });

  it('a stored instance whose UIDs climb directories is refused and leaves no file outside the data directory', async () => {
    const marker = `escape${Date.now()}`;
    const bad = [
      makeInstance({ studyInstanceUID: `../../../${marker}` }),
      makeInstance({ seriesInstanceUID: `..\\..\\${marker}` }),
      makeInstance({ sopInstanceUID: `1.2/../../../../${marker}` }),
    ];
    const { body, contentType } = stowBody(bad);
    const r = await fetch(`${archive.url}/studies`, { method: 'POST', headers: { 'Content-Type': contentType, Accept: DICOM_JSON }, body });
    expect(r.status).toBe(409);
    const parent = path.dirname(archive.dataDir);
    const near = [...(await readdir(parent)), ...(await readdir(os.tmpdir())), ...(await readdir(archive.dataDir, { recursive: true }))];
    expect(near.filter((name) => String(name).includes(marker))).toEqual([]);
  });
});

describe('Oversized headers and request lines', () => {
  it('431 (or 400/414) for an oversized header, URL or header count; never 5xx; still serving', async () => {
    const cases: [string, string, Record<string, string>][] = [
      ['one 64 KB header', '/studies', { 'X-Big': 'a'.repeat(64 * 1024) }],
      ['a 64 KB URL', `/studies?PatientID=${'b'.repeat(64 * 1024)}`, {}],
      ['an oversized Authorization', '/studies', { Authorization: `Bearer ${'c'.repeat(32 * 1024)}` }],
      ['many headers', '/studies', Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`X-H${i}`, 'x'.repeat(8)]))],
    ];
    for (const [what, p, headers] of cases) {
      const r = await rawRequest(p, headers).catch((error: NodeJS.ErrnoException) => ({ status: 0, body: error.code ?? '' }));
      // The server may reset the connection after answering 431 while the request is still being
      // written; the client then sees ECONNRESET/EPIPE instead of the status: a refusal too.
      if (r.status === 0) expect(['ECONNRESET', 'EPIPE'], what).toContain(r.body);
      else expect([400, 413, 414, 431], what).toContain(r.status);
    }
    expect((await fetch(`${archive.url}/studies?PatientID=${patientID}`)).status).toBe(200);
    expect((await fetch(`${archive.url}/studies/${study.studyInstanceUID}/instances`)).status).toBe(200);
  });
});
