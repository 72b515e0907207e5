/**
 * Reliability, faults: the embedded archive (`npm start`, lib/local/main.ts, the local engine) killed
 * with SIGKILL in the middle of an upload and in the middle of its complete, then restarted on the
 * same data directory (docs/uploads.md). Mid-upload, the parts received before the kill are kept and
 * the upload resumes; a part cut by the kill is simply not received. Mid-complete, completing again
 * after UPLOAD_STORING_RETRY_SECONDS stores the instance once, byte-identical.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { DicomJson } from '../../lambdas/dicom/json';
import { readPart10 } from '../../lambdas/dicom/part10';
import { Tag } from '../../lambdas/dicom/tags';
import { ARCHIVE_NODE_FLAGS, ARCHIVE_START } from '../../lib/local/node-flags';
import { makeInstance } from '../support/dicom-factory';
import { DICOM_JSON, multipartParts } from '../support/http';

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

const root = path.resolve(__dirname, '../..');
const children = new Set<ChildProcess>();
const dirs: string[] = [];
/** A Store cut short runs again 1 s later (UPLOAD_STORING_RETRY_SECONDS), not after the 900 s default. */
const ENV = { UPLOAD_STORING_RETRY_SECONDS: '1' };

/** `npm start`'s entry, run by node in this child itself, so a SIGKILL of the child kills the archive. */
function startOn(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [...ARCHIVE_NODE_FLAGS, ARCHIVE_START], {
    cwd: root,
    env: { ...process.env, ...ENV, DATA_DIR: dataDir, PORT: '0', DIMSE_PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`archive not ready after 30 s: ${out}`)), 30_000);
    child.stderr!.resume();
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const url = /ready at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ child, url });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`archive exited with ${code} before it was ready: ${out}`));
    });
  });
}

function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

afterEach(async () => {
  await Promise.all([...children].map(kill9));
});
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function create(base: string, size: number): Promise<Upload> {
  const r = await fetch(`${base}/uploads`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ size }),
  });
  expect(r.status).toBe(201);
  return (await r.json()) as Upload;
}

const put = (part: Part, file: Uint8Array) =>
  fetch(part.url!, { method: 'PUT', body: file.subarray(part.offset, part.offset + part.length) });
const complete = (upload: Upload) => fetch(upload.complete, { method: 'POST', headers: { Accept: DICOM_JSON } });

/** The instance's retrieve and the number of instances the archive lists under its SOP Instance UID. */
async function storedOnce(base: string, file: Uint8Array, response: DicomJson): Promise<void> {
  // A recorded answer names the base URL of the request that stored it: the killed archive's port
  // when the kill came after the Store. Its path is read from the archive answering now.
  const recorded = new URL(String(((response[Tag.ReferencedSOPSequence]?.Value ?? []) as DicomJson[])[0]?.[Tag.RetrieveURL]?.Value?.[0]));
  const retrieved = await fetch(`${base}${recorded.pathname}`, {
    headers: { Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
  });
  expect(retrieved.status).toBe(200);
  const [part] = await multipartParts(retrieved);
  expect(Buffer.from(part!.body).equals(Buffer.from(file))).toBe(true);
  const found = await fetch(`${base}/instances?SOPInstanceUID=${readPart10(file).sopInstanceUID}`, { headers: { Accept: DICOM_JSON } });
  expect(((await found.json()) as unknown[]).length).toBe(1);
}

describe('SIGKILL and the upload path (local engine)', () => {
  it('mid-upload: the parts received are kept, a part cut by the kill is not, and the upload resumes', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'archive-upload-kill-'));
    dirs.push(dataDir);
    const file = makeInstance({ approximateBytes: 20 * 1024 * 1024 });
    let archive = await startOn(dataDir);
    const upload = await create(archive.url, file.byteLength);
    expect((await put(upload.parts[0]!, file)).status).toBe(200);
    // Part 2 under way when the archive dies: half its body sent.
    const second = upload.parts[1]!;
    const cut = new Promise<void>((resolve) => {
      const req = http.request(second.url!, { method: 'PUT', headers: { 'Content-Length': String(second.length) } });
      req.on('error', () => resolve());
      req.on('response', () => resolve());
      req.write(file.subarray(second.offset, second.offset + Math.floor(second.length / 2)));
      setTimeout(() => void kill9(archive.child), 300);
    });
    await cut;
    await kill9(archive.child);

    archive = await startOn(dataDir);
    const resumed = (await (await fetch(`${archive.url}/uploads/${upload.uploadId}`)).json()) as Upload;
    expect(resumed.state).toBe('UPLOADING');
    expect(resumed.parts.map((p) => [p.received, p.url !== undefined])).toEqual([
      [true, false],
      [false, true],
    ]);
    expect((await put(resumed.parts[1]!, file)).status).toBe(200);
    // The restarted archive listens on another port: its own URLs, from the upload it answers now.
    const done = await complete(resumed);
    expect(done.status).toBe(200);
    await storedOnce(archive.url, file, (await done.json()) as DicomJson);
  }, 120_000);

  it('mid-complete: completing again after the retry delay stores the instance once, byte-identical', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'archive-upload-kill-'));
    dirs.push(dataDir);
    const file = makeInstance({ approximateBytes: 40 * 1024 * 1024 });
    let archive = await startOn(dataDir);
    const upload = await create(archive.url, file.byteLength);
    for (const part of upload.parts) expect((await put(part, file)).status).toBe(200);
    // Killed while completing: before, during or after the Store, whichever the timing gives.
    const cut = complete(upload).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 150));
    await kill9(archive.child);
    await cut;

    archive = await startOn(dataDir);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const restarted = (await (await fetch(`${archive.url}/uploads/${upload.uploadId}`)).json()) as Upload;
    expect(['UPLOADING', 'STORING', 'STORED']).toContain(restarted.state);
    const done = await complete(restarted);
    if (done.status !== 200) expect.fail(`${restarted.state}: ${done.status} ${await done.text()}`);
    const response = (await done.json()) as DicomJson;
    await storedOnce(archive.url, file, response);
    // And once more: the recorded answer.
    expect(await (await complete(restarted)).json()).toEqual(response);
  }, 120_000);
});
