/**
 * Integration: the local engine's FileDirectTransfer passes the DirectTransfer contract through real
 * HTTP to the URLs it signs, served by lib/local/transfer-site.ts; refuses forged, expired and cut
 * part requests; sweeps abandoned uploads.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBlobStore } from '../../../lambdas/storage/local/file-blobs';
import { FileDirectTransfer, TRANSFER_FILES } from '../../../lambdas/storage/local/file-transfer';
import { requestTarget } from '../../../lib/local/gateway';
import { transferSite } from '../../../lib/local/transfer-site';
import { bytes } from '../../contract/blob-store.contract';
import { describeDirectTransferContract, type TransferRequest } from '../../contract/direct-transfer.contract';

let dir: string;
let server: http.Server;
let base: string;
let transfer: FileDirectTransfer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'file-transfer-'));
  const blobs = await FileBlobStore.open(join(dir, 'objects'));
  transfer = await FileDirectTransfer.open(dir, blobs);
  const site = transferSite(transfer);
  server = http.createServer((req, res) => {
    const url = requestTarget(req.url);
    if (site.handles(url.pathname)) void site.serve(req, res, url.pathname, url.searchParams);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

function send(url: string, init: TransferRequest = {}): Promise<Response> {
  return fetch(new URL(url, base), { method: init.method ?? 'GET', headers: init.headers, body: init.body });
}

describeDirectTransferContract('FileDirectTransfer through the gateway', () => ({ transfer, blobs: transfer.blobs, fetch: send }));

describe('FileDirectTransfer signed URLs', () => {
  it('gives relative URLs under /_transfer/ and keeps its secret 0600 in the data directory', async () => {
    const id = await transfer.createMultipartUpload('uploads/relative-0123456789.dcm', 'application/dicom');
    expect(await transfer.partUploadUrl('uploads/relative-0123456789.dcm', id, 1, 60)).toMatch(
      new RegExp(`^/_transfer/uploads/${id}/parts/1\\?expires=\\d+&signature=`),
    );
    expect((await stat(join(dir, TRANSFER_FILES.secret))).mode & 0o777).toBe(0o600);
  });

  it('answers 403 to a forged or moved signature, keeps no part of a cut body, 404 once the upload is over', async () => {
    const key = 'uploads/refusals-0123456789.dcm';
    const id = await transfer.createMultipartUpload(key, 'application/dicom');
    const url = await transfer.partUploadUrl(key, id, 1, 60);
    expect((await send(url.replace(/signature=[^&]+/, 'signature=AAAA'), { method: 'PUT', body: bytes(10) })).status).toBe(403);
    // The signature of part 1 does not open part 2.
    expect((await send(url.replace('/parts/1?', '/parts/2?'), { method: 'PUT', body: bytes(10) })).status).toBe(403);
    const refused = await send(url, { method: 'PUT', body: bytes(10) });
    expect(refused.status).toBe(200);
    // A body shorter than its Content-Length: the client's connection is cut mid-part.
    const status = await new Promise<number | string>((resolve) => {
      const req = http.request(new URL(url, base), { method: 'PUT', headers: { 'Content-Length': '1000' } }, (res) =>
        resolve(res.statusCode!),
      );
      req.on('error', () => resolve('cut'));
      req.write(bytes(500));
      setTimeout(() => req.destroy(), 200);
    });
    expect(status).toBe('cut');
    expect((await transfer.listParts(key, id))?.map((p) => p.size)).toEqual([10]);
    expect((await readdir(join(dir, TRANSFER_FILES.uploads, id))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    await transfer.abortMultipartUpload(key, id);
    expect((await send(url, { method: 'PUT', body: bytes(10) })).status).toBe(404);
  });

  it('answers 416 to a range outside the object, HEAD without a body, and 403 to a download URL with its type changed', async () => {
    await transfer.blobs.put('studies/1.2/series/1.2.3/instances/1.2.3.90.dcm', bytes(100), 'application/dicom');
    const url = await transfer.downloadUrl('studies/1.2/series/1.2.3/instances/1.2.3.90.dcm', 60, { contentType: 'application/dicom' });
    const outside = await send(url, { headers: { Range: 'bytes=100-' } });
    expect(outside.status).toBe(416);
    expect(outside.headers.get('content-range')).toBe('bytes */100');
    const head = await send(url, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-length'), (await head.arrayBuffer()).byteLength]).toEqual([200, '100', 0]);
    expect((await send(url.replace('type=application%2Fdicom', 'type=text%2Fhtml'))).status).toBe(403);
  });

  it('lets a browser on an allowed origin PUT a part and read its ETag (CORS), as the bucket rule does in AWS', async () => {
    const origin = 'https://viewer.example.org';
    const site = transferSite(transfer, [origin]);
    const corsServer = http.createServer((req, res) => {
      const url = requestTarget(req.url);
      void site.serve(req, res, url.pathname, url.searchParams);
    });
    await new Promise<void>((resolve) => corsServer.listen(0, '127.0.0.1', resolve));
    try {
      const at = `http://127.0.0.1:${(corsServer.address() as AddressInfo).port}`;
      const key = 'uploads/cors-0123456789.dcm';
      const id = await transfer.createMultipartUpload(key, 'application/dicom');
      const url = new URL(await transfer.partUploadUrl(key, id, 1, 60), at);
      const preflight = await fetch(url, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'PUT' } });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
      expect(preflight.headers.get('access-control-allow-methods')).toContain('PUT');
      const put = await fetch(url, { method: 'PUT', headers: { Origin: origin }, body: bytes(10) });
      expect(put.status).toBe(200);
      expect(put.headers.get('access-control-allow-origin')).toBe(origin);
      expect(put.headers.get('access-control-expose-headers')).toContain('ETag');
      const other = await fetch(url, { method: 'PUT', headers: { Origin: 'https://evil.example' }, body: bytes(10) });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await new Promise((resolve) => corsServer.close(resolve));
    }
  });

  it('sweeps uploads created before a time and joined objects left behind, and only those', async () => {
    const old = await transfer.createMultipartUpload('uploads/sweep-old-0123456789.dcm', 'application/dicom');
    const cutoff = Date.now() + 1;
    await new Promise((resolve) => setTimeout(resolve, 5));
    const fresh = await transfer.createMultipartUpload('uploads/sweep-new-0123456789.dcm', 'application/dicom');
    expect(await transfer.sweep(cutoff)).toBeGreaterThanOrEqual(1);
    expect(await transfer.listParts('uploads/sweep-old-0123456789.dcm', old)).toBeUndefined();
    expect(await transfer.listParts('uploads/sweep-new-0123456789.dcm', fresh)).toEqual([]);
    // A joined object a complete cut short left: removed once older than the cutoff, not before.
    await transfer.blobs.put('uploads/left-behind-0123456789.dcm', bytes(10), 'application/dicom');
    expect(await transfer.sweep(Date.now() - 60_000)).toBe(0);
    expect(await transfer.blobs.get('uploads/left-behind-0123456789.dcm')).toBeDefined();
    await transfer.sweep(Date.now() + 1000);
    expect(await transfer.blobs.get('uploads/left-behind-0123456789.dcm')).toBeUndefined();
  });
});
