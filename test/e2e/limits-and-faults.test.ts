/**
 * e2e: the archive's limits and fault answers over HTTP: bearer token (401), a search too broad for
 * the candidate cap (413), and unreachable storage (503 with Retry-After, never 500).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeInstance } from '../support/dicom-factory';
import { stow, stowBody, tempArchive } from '../support/http';

describe('bearer token (AUTH_TOKEN)', () => {
  let archive: Awaited<ReturnType<typeof tempArchive>>;
  beforeAll(async () => (archive = await tempArchive({ env: { AUTH_TOKEN: 'local-secret' } })));
  afterAll(async () => archive?.close());

  it('[common.401] 401 without or with a wrong token, 200/204 with the right one', async () => {
    const none = await fetch(`${archive.url}/studies`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="dicomweb"');
    expect(((await none.json()) as any).status).toBe(401);
    expect((await fetch(`${archive.url}/studies`, { headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${archive.url}/studies`, { headers: { Authorization: 'Bearer local-secret' } })).status).toBe(204);
  });
});

describe('Search 413: a query that would read more entries than QIDO_MAX_CANDIDATES', () => {
  let archive: Awaited<ReturnType<typeof tempArchive>>;
  beforeAll(async () => (archive = await tempArchive({ env: { QIDO_MAX_CANDIDATES: '5' } })));
  afterAll(async () => archive?.close());

  it('[studies.search.413] answers 413 to a broad search and 200 to a selective one', async () => {
    const files = Array.from({ length: 8 }, (_, i) => makeInstance({ patientID: `CAP-${i}` }));
    expect((await stow(archive.url, files)).status).toBe(200);
    const broad = await fetch(`${archive.url}/instances`);
    expect(broad.status).toBe(413);
    expect(((await broad.json()) as any).detail).toMatch(/selective|PatientID|UID/);
    expect((await fetch(`${archive.url}/studies?PatientID=CAP-3`)).status).toBe(200);
  });
});

describe('503 when storage cannot be reached', () => {
  it('[common.503] DynamoDB unreachable: search and store answer 503 with Retry-After', async () => {
    const archive = await tempArchive({ env: { DYNAMODB_ENDPOINT: 'http://127.0.0.1:9' } });
    try {
      const search = await fetch(`${archive.url}/studies?PatientID=X`);
      expect(search.status).toBe(503);
      expect(search.headers.get('retry-after')).toMatch(/^\d+$/);
      const { body, contentType } = stowBody([makeInstance()]);
      const store = await fetch(`${archive.url}/studies`, { method: 'POST', headers: { 'Content-Type': contentType }, body });
      expect(store.status).toBe(503);
    } finally {
      await archive.close();
    }
  });

  it('S3 unreachable: store answers 503, and nothing is indexed', async () => {
    const archive = await tempArchive({ env: { S3_ENDPOINT: 'http://127.0.0.1:9' } });
    try {
      const file = makeInstance({ patientID: 'S3DOWN' });
      expect((await stow(archive.url, [file])).status).toBe(503);
      const found = await fetch(`${archive.url}/instances?PatientID=S3DOWN`);
      expect(found.status).toBe(204);
    } finally {
      await archive.close();
    }
  });
});
