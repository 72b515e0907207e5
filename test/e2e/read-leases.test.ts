/**
 * e2e: answers whose bytes the local engine reads into pooled memory (BlobStore ReadLease,
 * lambdas/storage/local/read-buffer-pool.ts) stay right under load. Many concurrent retrievals of
 * frames, instances and series, some abandoned by their client mid-body, each compared byte for
 * byte with what was stored: memory given back too early (before its answer was written) would
 * show another answer's bytes in one of them.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newUid } from '../../lambdas/dicom/uid';
import { makeInstance, pixelFrame } from '../support/dicom-factory';
import { multipartParts, stow, tempArchive } from '../support/http';

let archive: Awaited<ReturnType<typeof tempArchive>>;
const study = newUid();
const series = newUid();
/** Multi-frame instances above 1 MiB (frames read by range) and single-frame ones below (read whole). */
const FRAMES = 6;
const FRAME_SIDE = 360; // 360 x 360 x 2 bytes: ~253 KB a frame, ~1.5 MB an instance
const stored: { sop: string; bytes: Uint8Array; frames: number }[] = [];

beforeAll(async () => {
  archive = await tempArchive();
  const add = (frames: number, opts: Parameters<typeof makeInstance>[0]) => {
    const sop = newUid();
    stored.push({ sop, frames, bytes: makeInstance({ studyInstanceUID: study, seriesInstanceUID: series, sopInstanceUID: sop, ...opts }) });
  };
  for (let i = 0; i < 4; i++) add(FRAMES, { numberOfFrames: FRAMES, rows: FRAME_SIDE, columns: FRAME_SIDE, instanceNumber: i + 1 });
  for (let i = 0; i < 8; i++) add(1, { approximateBytes: 90_000 * (i + 1) });
  for (const { bytes } of stored) expect((await stow(archive.url, [bytes])).status).toBe(200);
}, 60_000);
afterAll(async () => archive?.close());

const instanceUrl = (sop: string) => `${archive.url}/studies/${study}/series/${series}/instances/${sop}`;

/** A GET whose client goes away once the first bytes of the body arrived. */
function abandoned(url: string, accept: string): Promise<void> {
  return new Promise((resolve) => {
    const req = http.get(url, { headers: { Accept: accept } }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
      res.once('end', resolve);
    });
    req.on('error', () => resolve());
  });
}

/**
 * A GET whose client reads nothing for `pauseMs` once the answer starts: what the socket cannot take
 * meanwhile waits in the server's memory, which must still hold this answer's bytes when it is sent.
 */
function slowGet(url: string, accept: string, pauseMs: number): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { Accept: accept } }, (res) => {
      res.pause();
      setTimeout(() => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') headers.set(name, value);
          resolve(new Response(Buffer.concat(chunks), { status: res.statusCode, headers }));
        });
        res.resume();
      }, pauseMs);
    });
    req.on('error', reject);
  });
}

async function retrieveFramesRight(i: number): Promise<void> {
  const { sop, frames } = stored[i % 4]!;
  // Every third client pauses: it asks for all the frames (~1.5 MB), more than the sockets take at once.
  const slow = i % 3 === 0;
  const list = slow
    ? [1, 2, 3, 4, 5, 6].slice(i % frames).concat([1, 2, 3, 4, 5, 6].slice(0, i % frames))
    : [1 + (i % frames), 1 + ((i + 3) % frames)];
  const accept = 'multipart/related; type="application/octet-stream"';
  const url = `${instanceUrl(sop)}/frames/${list.join(',')}`;
  const r = slow ? await slowGet(url, accept, 100) : await fetch(url, { headers: { Accept: accept } });
  expect(r.status).toBe(200);
  const parts = await multipartParts(r);
  expect(parts).toHaveLength(list.length);
  parts.forEach((part, k) => {
    expect(Buffer.from(part.body).equals(Buffer.from(pixelFrame(list[k]!, FRAME_SIDE * FRAME_SIDE * 2)))).toBe(true);
  });
}

async function retrieveInstanceRight(i: number): Promise<void> {
  const { sop, bytes } = stored[4 + (i % 8)]!;
  const accept = 'application/dicom; transfer-syntax=*';
  const r = i % 3 === 1 ? await slowGet(instanceUrl(sop), accept, 30) : await fetch(instanceUrl(sop), { headers: { Accept: accept } });
  expect(r.status).toBe(200);
  expect(Buffer.from(await r.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
}

describe('leased read memory under concurrent answers', () => {
  it('answers every frame, instance and series with its own bytes, while other clients go away mid-body', async () => {
    const jobs: (() => Promise<void>)[] = [];
    for (let i = 0; i < 120; i++) {
      jobs.push(() => retrieveFramesRight(i));
      jobs.push(() => retrieveInstanceRight(i));
      if (i % 5 === 0) jobs.push(() => abandoned(instanceUrl(stored[4 + (i % 8)]!.sop), 'application/dicom; transfer-syntax=*'));
      if (i % 7 === 0)
        jobs.push(() => abandoned(`${instanceUrl(stored[i % 4]!.sop)}/frames/2`, 'multipart/related; type="application/octet-stream"'));
    }
    jobs.push(async () => {
      const r = await fetch(`${archive.url}/studies/${study}/series/${series}`, {
        headers: { Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
      });
      expect(r.status).toBe(200);
      const parts = await multipartParts(r);
      const storedBodies = new Set(stored.map((s) => Buffer.from(s.bytes).toString('base64')));
      expect(parts).toHaveLength(stored.length);
      for (const part of parts) expect(storedBodies.has(Buffer.from(part.body).toString('base64'))).toBe(true);
    });
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) await jobs[next++]!();
    };
    await Promise.all(Array.from({ length: 12 }, worker));
  }, 120_000);
});
