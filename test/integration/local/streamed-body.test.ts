/**
 * The embedded gateway's streamed request body on the local engine (lib/local/streamed-body.ts), over
 * HTTP on 127.0.0.1: a Store request is read as its parts are stored, held to the request limit as it
 * arrives, and a client leaving mid-body stores nothing of the part it was sending.
 */
import http from 'node:http';
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPart10 } from '../../../lambdas/dicom/part10';
import { makeInstance } from '../../support/dicom-factory';
import { DICOM_JSON, stowBody, tempArchive } from '../../support/http';

const BOUNDARY = 'streamed-7c2e';
const CONTENT_TYPE = `multipart/related; type="application/dicom"; boundary=${BOUNDARY}`;
const MAX_REQUEST_BYTES = 400_000;

let archive: Awaited<ReturnType<typeof tempArchive>>;
beforeAll(async () => {
  archive = await tempArchive({ env: { STORAGE: 'local', MAX_REQUEST_BYTES: String(MAX_REQUEST_BYTES) } });
});
afterAll(() => archive?.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  readonly status: number;
  readonly body: string;
}

/** A STOW-RS request whose body the test writes as it likes (chunked transfer coding: no Content-Length). */
function openStow(): { req: http.ClientRequest; answer: Promise<Answer> } {
  const req = http.request(`${archive.url}/studies`, {
    method: 'POST',
    headers: { 'Content-Type': CONTENT_TYPE, Accept: DICOM_JSON },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  return { req, answer };
}

const write = (req: http.ClientRequest, bytes: Uint8Array) =>
  new Promise<void>((resolve, reject) => req.write(bytes, (e) => (e ? reject(e) : resolve())));

async function isStored(sopInstanceUID: string): Promise<boolean> {
  const r = await fetch(`${archive.url}/instances?SOPInstanceUID=${sopInstanceUID}`, { headers: { Accept: DICOM_JSON } });
  if (r.status === 204) return false;
  expect(r.status).toBe(200);
  return ((await r.json()) as unknown[]).length === 1;
}

async function until(condition: () => Promise<boolean>, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (await condition()) return true;
  return false;
}

/** Every file path under the data directory. */
async function dataFiles(): Promise<string[]> {
  return (await readdir(archive.dataDir, { recursive: true })).map(String);
}

describe('a request body streamed to the local engine', () => {
  it('stores every instance of a body sent slowly in small chunks, a boundary split across two of them', async () => {
    const files = [1, 2, 3].map((n) => makeInstance({ instanceNumber: n, approximateBytes: 20_000 }));
    const { body } = stowBody(files, BOUNDARY);
    // Cut in 7 KB chunks, with one cut inside the delimiter before the second part.
    const second = body.indexOf(`\r\n--${BOUNDARY}\r\n`, 100);
    const cuts = [...new Set([second + 5, ...Array.from({ length: Math.ceil(body.length / 7000) }, (_, i) => i * 7000)])].sort(
      (a, b) => a - b,
    );
    const { req, answer } = openStow();
    for (let i = 0; i < cuts.length; i++) {
      await write(req, body.subarray(cuts[i], cuts[i + 1] ?? body.length));
      await sleep(10);
    }
    req.end();
    expect((await answer).status).toBe(200);
    for (const file of files) expect(await isStored(readPart10(file).sopInstanceUID)).toBe(true);
  });

  it('stores the first instance before the client has sent the rest of the body: the gateway does not buffer it', async () => {
    const [first, second] = [makeInstance(), makeInstance()];
    const { body } = stowBody([first!, second!], BOUNDARY);
    // The first part and its delimiter, and the second part's headers only.
    const held = body.indexOf(`--${BOUNDARY}\r\n`, 10) + BOUNDARY.length + 40;
    const { req, answer } = openStow();
    await write(req, body.subarray(0, held));
    expect(await until(() => isStored(readPart10(first!).sopInstanceUID), 5_000)).toBe(true);
    expect(await isStored(readPart10(second!).sopInstanceUID)).toBe(false);
    req.end(body.subarray(held));
    expect((await answer).status).toBe(200);
    expect(await isStored(readPart10(second!).sopInstanceUID)).toBe(true);
  });

  it('keeps serving when a client aborts mid-body: the instances it completed are stored, the one cut off leaves nothing', async () => {
    const [first, cut] = [makeInstance(), makeInstance({ approximateBytes: 100_000 })];
    const { body } = stowBody([first!, cut!], BOUNDARY);
    const { req, answer } = openStow();
    answer.catch(() => undefined); // the connection is destroyed: no answer
    await write(req, body.subarray(0, body.length - 50_000));
    expect(await until(() => isStored(readPart10(first!).sopInstanceUID), 5_000)).toBe(true);
    req.destroy();
    await sleep(300);
    const cutUID = readPart10(cut!).sopInstanceUID;
    expect(await isStored(cutUID)).toBe(false);
    expect((await dataFiles()).filter((f) => f.includes(cutUID) || f.endsWith('.tmp'))).toEqual([]);
    // And the archive serves the next request, the cut instance included.
    const again = await fetch(`${archive.url}/studies`, {
      method: 'POST',
      headers: { 'Content-Type': CONTENT_TYPE },
      body: stowBody([cut!], BOUNDARY).body,
    });
    expect(again.status).toBe(200);
  });

  it('answers 413 with a Status Report when a body without Content-Length passes the limit as it arrives', async () => {
    const files = [1, 2, 3].map((n) => makeInstance({ instanceNumber: n, approximateBytes: 180_000 }));
    const { body } = stowBody(files, BOUNDARY);
    expect(body.length).toBeGreaterThan(MAX_REQUEST_BYTES);
    const { req, answer } = openStow();
    req.on('error', () => undefined); // the gateway closes the connection once it has answered
    for (let at = 0; at < body.length; at += 16_384) {
      if (req.destroyed) break;
      await write(req, body.subarray(at, at + 16_384)).catch(() => undefined);
    }
    req.end();
    const r = await answer;
    expect(r.status).toBe(413);
    const report = JSON.parse(r.body) as { detail: string; errors: { message: string }[] };
    expect(report.detail).toMatch(`exceeds ${MAX_REQUEST_BYTES} bytes`);
    expect(report.errors[0]!.message).toMatch(/split/);
    const after = await fetch(`${archive.url}/studies`, { headers: { Accept: DICOM_JSON } });
    expect(after.status).toBeLessThan(300);
  });

  it('drops the rest of a body answered before it was read, and serves the next request on the connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const post = (contentType: string, body: Buffer) =>
        new Promise<{ status: number; socket: unknown }>((resolve, reject) => {
          const req = http.request(`${archive.url}/studies`, { method: 'POST', agent, headers: { 'Content-Type': contentType } });
          req.on('response', (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, socket: req.socket }));
          });
          req.on('error', reject);
          req.end(body);
        });
      // Malformed at the first part (its headers never end): answered 400 with most of the body unread.
      const malformed = Buffer.concat([
        Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n--${BOUNDARY}\r\n\r\n`),
        Buffer.alloc(300_000, 0x61),
        Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
      ]);
      const refused = await post(CONTENT_TYPE, malformed);
      expect(refused.status).toBe(400);
      const file = makeInstance();
      const stored = await post(CONTENT_TYPE, stowBody([file], BOUNDARY).body);
      expect(stored.status).toBe(200);
      expect(stored.socket).toBe(refused.socket);
    } finally {
      agent.destroy();
    }
  });

  it('tells an empty body without Content-Length from a payload: a Send request with one is refused, without one is not', async () => {
    const send = (payload: string) =>
      new Promise<Answer>((resolve, reject) => {
        const req = http.request(`${archive.url}/studies/send-requests/2.25.1?destination=nowhere&StudyInstanceUID=1.2.3`, {
          method: 'POST',
          headers: { Accept: 'application/dicom+json', 'Transfer-Encoding': 'chunked' },
        });
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        });
        req.on('error', reject);
        req.end(payload);
      });
    const withPayload = await send('{}');
    expect(withPayload.status).toBe(400);
    expect(withPayload.body).toMatch(/no payload/);
    const empty = await send('');
    expect(empty.status).toBeLessThan(500);
    expect(empty.body).not.toMatch(/no payload/);
  });

  it('answers 202 with Failure Reason C000 for a body found malformed after a stored part', async () => {
    const file = makeInstance();
    const { body } = stowBody([file], BOUNDARY);
    // The closing delimiter replaced by a part whose headers never end.
    const malformed = Buffer.concat([
      body.subarray(0, body.length - `--${BOUNDARY}--\r\n`.length),
      Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n`),
    ]);
    const { req, answer } = openStow();
    req.end(malformed);
    const r = await answer;
    expect(r.status).toBe(202);
    expect(r.body).toContain('"00081197":{"vr":"US","Value":[49152]}');
  });
});
