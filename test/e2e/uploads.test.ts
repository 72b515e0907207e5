/**
 * e2e: the upload path (docs/uploads.md) on `npm start`, spoken with plain fetch as any client would:
 * an instance above the Store request limit created as an upload, its parts PUT to the URLs the
 * archive gave (no Authorization header; one part sent twice), completed with a part missing (409),
 * then completed, retrieved byte-identical; completing again answers the same. On the emulators'
 * path (STORAGE=aws-emulators) the part URLs are s3rver's presigned ones, reachable by the client.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DicomJson } from '../../lambdas/dicom/json';
import { Tag } from '../../lambdas/dicom/tags';
import { makeInstance } from '../support/dicom-factory';
import { DICOM_JSON, multipartParts, tempArchive } from '../support/http';
import { startNpmStart, type NpmStart } from '../support/npm-start';

interface Part {
  partNumber: number;
  offset: number;
  length: number;
  received: boolean;
  url?: string;
}
interface Upload {
  uploadId: string;
  state: string;
  parts: Part[];
  complete: string;
}

const TOKEN = 'uploads-e2e-token';
const AUTH = { Authorization: `Bearer ${TOKEN}` };

async function createUpload(base: string, size: number): Promise<Response> {
  return fetch(`${base}/uploads`, {
    method: 'POST',
    headers: { ...AUTH, 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ size }),
  });
}

async function putPart(part: Part, file: Uint8Array, body = file.subarray(part.offset, part.offset + part.length)): Promise<Response> {
  return fetch(part.url!, { method: 'PUT', body });
}

describe('the upload path on npm start', () => {
  let dataDir: string;
  let archive: NpmStart;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'archive-uploads-'));
    archive = await startNpmStart(dataDir, { AUTH_TOKEN: TOKEN });
  }, 60_000);
  afterAll(async () => {
    await archive?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('[uploads.create.201] [uploads.part.200] [uploads.complete.409] [uploads.complete.200] stores an instance above the request limit through its parts, byte-identical', async () => {
    const base = archive.url;
    const file = makeInstance({ approximateBytes: 20 * 1024 * 1024 });
    // Above MAX_REQUEST_BYTES: STOW-RS refuses it with 413 naming the upload path ([studies.store.413]).
    expect(file.byteLength).toBeGreaterThan(4_653_056);
    expect((await createUpload(base, file.byteLength)).status).toBe(201);
    const created = await createUpload(base, file.byteLength);
    expect(created.headers.get('location')).toMatch(new RegExp(`^${base}/uploads/[A-Za-z0-9_-]{22}$`));
    const upload = (await created.json()) as Upload;
    expect(upload.parts).toHaveLength(2);
    const first = upload.parts[0]!;
    expect(first.url).toMatch(new RegExp(`^${base}/_transfer/uploads/`));

    // Part 1 sent with other bytes, then again: the last write wins. No Authorization header.
    expect((await putPart(first, file, new Uint8Array(first.length))).status).toBe(200);
    const put = await putPart(first, file);
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);

    const early = await fetch(upload.complete, { method: 'POST', headers: { ...AUTH, Accept: DICOM_JSON } });
    expect(early.status).toBe(409);
    expect(JSON.stringify(await early.json())).toContain('part 2');

    const status = (await (await fetch(`${base}/uploads/${upload.uploadId}`, { headers: AUTH })).json()) as Upload;
    expect(status.parts.map((p) => [p.received, p.url !== undefined])).toEqual([
      [true, false],
      [false, true],
    ]);
    expect((await putPart(status.parts[1]!, file)).status).toBe(200);

    const done = await fetch(upload.complete, { method: 'POST', headers: { ...AUTH, Accept: DICOM_JSON } });
    expect(done.status).toBe(200);
    const response = (await done.json()) as DicomJson;
    const retrieveUrl = String(((response[Tag.ReferencedSOPSequence]?.Value ?? []) as DicomJson[])[0]?.[Tag.RetrieveURL]?.Value?.[0]);
    const again = await fetch(upload.complete, { method: 'POST', headers: { ...AUTH, Accept: DICOM_JSON } });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(response);

    const retrieved = await fetch(retrieveUrl, {
      headers: { ...AUTH, Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
    });
    expect(retrieved.status).toBe(200);
    const [part] = await multipartParts(retrieved);
    expect(Buffer.from(part!.body).equals(Buffer.from(file))).toBe(true);
  }, 120_000);

  it('[uploads.part.403] [uploads.status.404] [uploads.abort.204] [uploads.part.404] refuses a forged part URL, another credential and an unknown upload; aborts', async () => {
    const base = archive.url;
    const upload = (await (await createUpload(base, 1000)).json()) as Upload;
    const notJson = await fetch(`${base}/uploads`, {
      method: 'POST',
      headers: { ...AUTH, 'Content-Type': 'application/json' },
      body: 'size=10',
    });
    expect(notJson.status).toBe(400);
    const forged = upload.parts[0]!.url!.replace(/signature=[^&]+/, 'signature=forged');
    expect((await fetch(forged, { method: 'PUT', body: new Uint8Array(1000) })).status).toBe(403);
    expect((await fetch(`${base}/uploads/${upload.uploadId}`)).status).toBe(401);
    expect((await fetch(`${base}/uploads/AAAAAAAAAAAAAAAAAAAAAA`, { headers: AUTH })).status).toBe(404);
    const aborted = await fetch(`${base}/uploads/${upload.uploadId}`, { method: 'DELETE', headers: AUTH });
    expect(aborted.status).toBe(204);
    expect((await fetch(upload.parts[0]!.url!, { method: 'PUT', body: new Uint8Array(1000) })).status).toBe(404);
  });
});

describe('the upload path scoped to a study', () => {
  it('checks the instance against the study of POST /studies/{study}/uploads, as STOW-RS to it', async () => {
    const archive = await tempArchive({ env: { STORAGE: 'local', AUTH_TOKEN: TOKEN } });
    try {
      const file = makeInstance({ studyInstanceUID: '1.2.826.0.1.3680043.8.498.77', approximateBytes: 50_000 });
      const created = await fetch(`${archive.url}/studies/1.2.826.0.1.3680043.8.498.78/uploads`, {
        method: 'POST',
        headers: { ...AUTH, 'Content-Type': 'application/json' },
        body: JSON.stringify({ size: file.byteLength }),
      });
      expect(created.status).toBe(201);
      const upload = (await created.json()) as Upload & { studyInstanceUID: string };
      expect(upload.studyInstanceUID).toBe('1.2.826.0.1.3680043.8.498.78');
      expect((await putPart(upload.parts[0]!, file)).status).toBe(200);
      const done = await fetch(upload.complete, { method: 'POST', headers: { ...AUTH, Accept: DICOM_JSON } });
      expect(done.status).toBe(409);
      const failed = ((await done.json()) as DicomJson)[Tag.FailedSOPSequence]?.Value as DicomJson[];
      expect(failed[0]?.[Tag.FailureReason]?.Value).toEqual([0xa900]);
      // A Content-Type other than JSON: 415, as the admin JSON resources answer.
      const form = await fetch(`${archive.url}/uploads`, {
        method: 'POST',
        headers: { ...AUTH, 'Content-Type': 'text/plain' },
        body: '{}',
      });
      expect(form.status).toBe(415);
    } finally {
      await archive.close();
    }
  }, 60_000);
});

describe('the upload path on the emulators (STORAGE=aws-emulators)', () => {
  it('gives part URLs presigned for s3rver that a client reaches without a credential', async () => {
    const archive = await tempArchive({ env: { STORAGE: 'aws-emulators' } });
    try {
      const file = makeInstance({ approximateBytes: 100_000 });
      const created = await createUpload(archive.url, file.byteLength);
      expect(created.status).toBe(201);
      const upload = (await created.json()) as Upload;
      const part = upload.parts[0]!;
      expect(new URL(part.url!).searchParams.get('X-Amz-Signature')).toBeTruthy();
      const put = await putPart(part, file);
      expect(put.status).toBe(200);
      expect(put.headers.get('etag')).toBeTruthy();
    } finally {
      await archive.close();
    }
  }, 60_000);
});
