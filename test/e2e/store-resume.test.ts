/**
 * e2e: `npm run store` (lib/cli/store.ts as a child process) whose large instance's upload is cut
 * off (a proxy in front of the archive refuses every part after the first, the way a network that
 * drops does), then run again: the second run resumes that upload from its journal, sending only the
 * parts the archive lacks, and the instance is stored byte-identical.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPart10 } from '../../lambdas/dicom/part10';
import { makeInstance } from '../support/dicom-factory';
import { tempArchive } from '../support/http';

const TSX = path.resolve('node_modules/.bin/tsx');
// 40 frames of 1024 x 1024 x 8 bits: ~42 MB, three parts of the archive's 16 MiB.
const large = makeInstance({ rows: 1024, columns: 1024, bitsAllocated: 8, numberOfFrames: 40 });
const uids = readPart10(large);

let archive: Awaited<ReturnType<typeof tempArchive>>;
let proxy: http.Server;
let proxyUrl: string;
/** While set, the proxy answers 503 to every part but the first. */
let cutOff = true;
let root: string;

beforeAll(async () => {
  archive = await tempArchive();
  const upstream = new URL(archive.url);
  // Host passes unchanged, so the archive's URLs (the upload, its parts) name the proxy.
  proxy = http.createServer((req, res) => {
    if (cutOff && req.method === 'PUT' && /\/parts\/(?!1\b)\d+/.test(req.url ?? '')) {
      req.resume();
      req.on('end', () => res.writeHead(503).end('cut off'));
      return;
    }
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  root = await mkdtemp(path.join(os.tmpdir(), 'store-resume-e2e-'));
  await mkdir(path.join(root, 'in'));
  await writeFile(path.join(root, 'in', 'large.dcm'), large);
}, 60_000);
afterAll(async () => {
  proxy?.closeAllConnections();
  await new Promise((resolve) => proxy?.close(resolve));
  await archive?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

function store(): Promise<{ code: number | null; summary: { stored: number; bytesSent: number; failed: { reason: string }[] } }> {
  const args = [
    '--url',
    proxyUrl,
    '--json',
    '--no-progress',
    '--part-concurrency',
    '1',
    '--upload-journal',
    path.join(root, 'uploads.json'),
  ];
  return new Promise((resolve) => {
    execFile(TSX, [path.resolve('lib/cli/store.ts'), ...args, path.join(root, 'in')], { timeout: 90_000 }, (error, stdout) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, summary: JSON.parse(stdout) });
    });
  });
}

describe('npm run store cut off mid-upload', () => {
  it('resumes the upload on the next run, sending only the parts the archive lacks', async () => {
    const first = await store();
    expect(first.code).toBe(1);
    expect(first.summary.failed[0]?.reason).toMatch(/part 2 not sent after 5 tries .*run again to resume it/);
    const [entry] = JSON.parse(await readFile(path.join(root, 'uploads.json'), 'utf8')) as { uploadUrl: string }[];
    expect(entry!.uploadUrl.startsWith(`${proxyUrl}/uploads/`)).toBe(true);

    cutOff = false;
    const second = await store();
    expect(second.code).toBe(0);
    expect(second.summary.stored).toBe(1);
    // Parts 2 and 3 only: the first was received in the first run.
    expect(second.summary.bytesSent).toBe(large.length - 16 * 1024 * 1024);
    expect(existsSync(path.join(root, 'uploads.json'))).toBe(false);

    const instance = `${archive.url}/studies/${uids.studyInstanceUID}/series/${uids.seriesInstanceUID}/instances/${uids.sopInstanceUID}`;
    const stored = await fetch(instance, { headers: { Accept: 'application/dicom; transfer-syntax=*' } });
    expect(stored.status).toBe(200);
    expect(Buffer.compare(Buffer.from(await stored.arrayBuffer()), Buffer.from(large))).toBe(0);
  }, 120_000);
});
