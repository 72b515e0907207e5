/**
 * The behaviours every DirectTransfer promises (lambdas/storage/direct-transfer.ts), exercised the way
 * a client uses them: parts PUT to the URLs the adapter gives, with no other credential (real HTTP for
 * the local engine's gateway and for S3's presigned URLs on s3rver), completed into the object; the
 * object read back through a download URL, whole and by range. Run against every adapter: the
 * in-memory one of test/support, the local engine through its served URLs, S3 on s3rver.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore, DirectTransfer, UploadedPart } from '../../lambdas/storage/ports';
import { bytes } from './blob-store.contract';

export interface TransferRequest {
  readonly method?: string;
  readonly body?: Uint8Array;
  readonly headers?: Record<string, string>;
}

export interface DirectTransferFixture {
  readonly transfer: DirectTransfer;
  /** Where completed uploads become objects. */
  readonly blobs: BlobStore;
  /** A client's request to a URL the adapter gave (a relative one resolved against the archive's base). */
  fetch(url: string, init?: TransferRequest): Promise<Response>;
  /** Calls the adapter's store lacks (an emulator), each with why: their cases are skipped, and the report says so. */
  readonly lacks?: { readonly listParts?: string; readonly abort?: string; readonly responseHeaders?: string };
}

/** S3's smallest part but the last. */
const PART = 5 * 1024 * 1024;

export function describeDirectTransferContract(name: string, make: () => DirectTransferFixture | Promise<DirectTransferFixture>): void {
  describe(`${name} (DirectTransfer contract)`, () => {
    let f: DirectTransferFixture;
    beforeAll(async () => {
      f = await make();
    });

    async function putPart(key: string, uploadId: string, partNumber: number, body: Uint8Array): Promise<UploadedPart> {
      const url = await f.transfer.partUploadUrl(key, uploadId, partNumber, 600);
      const answer = await f.fetch(url, { method: 'PUT', body, headers: { 'Content-Type': 'application/octet-stream' } });
      expect(answer.status).toBe(200);
      const etag = answer.headers.get('etag');
      expect(etag).toBeTruthy();
      return { partNumber, size: body.byteLength, etag: etag! };
    }

    it('joins the parts a client PUT to their URLs, in part order, the last write of a part winning', async () => {
      const key = 'uploads/contract-join-0123456789.dcm';
      const whole = bytes(2 * PART + 1234, 11);
      const uploadId = await f.transfer.createMultipartUpload(key, 'application/dicom');
      // Out of order, and part 1 sent first with other bytes, then again: the last write wins.
      const third = await putPart(key, uploadId, 3, whole.subarray(2 * PART));
      await putPart(key, uploadId, 1, bytes(PART, 99));
      const first = await putPart(key, uploadId, 1, whole.subarray(0, PART));
      const second = await putPart(key, uploadId, 2, whole.subarray(PART, 2 * PART));
      if (!f.lacks?.listParts) {
        const listed = await f.transfer.listParts(key, uploadId);
        expect(listed).toEqual([first, second, third]);
      }
      await f.transfer.completeMultipartUpload(key, uploadId, [first, second, third]);
      const stored = await f.blobs.get(key);
      expect(stored && Buffer.from(stored).equals(Buffer.from(whole))).toBe(true);
      if (!f.lacks?.listParts) expect(await f.transfer.listParts(key, uploadId)).toBeUndefined();
    });

    it('lists no parts of an upload never started or aborted, and aborting twice is harmless', async (ctx) => {
      if (f.lacks?.listParts || f.lacks?.abort) ctx.skip();
      const key = 'uploads/contract-abort-0123456789.dcm';
      const uploadId = await f.transfer.createMultipartUpload(key, 'application/dicom');
      expect(await f.transfer.listParts(key, uploadId)).toEqual([]);
      await putPart(key, uploadId, 1, bytes(1000, 3));
      expect((await f.transfer.listParts(key, uploadId))?.map((p) => p.size)).toEqual([1000]);
      await f.transfer.abortMultipartUpload(key, uploadId);
      await f.transfer.abortMultipartUpload(key, uploadId);
      expect(await f.transfer.listParts(key, uploadId)).toBeUndefined();
      const url = await f.transfer.partUploadUrl(key, uploadId, 2, 600);
      expect((await f.fetch(url, { method: 'PUT', body: bytes(10) })).status).toBeGreaterThanOrEqual(400);
    });

    it('serves an object through a download URL, whole and by range, with the type and filename asked', async () => {
      const key = 'studies/1.2/series/1.2.3/instances/1.2.3.77.dcm';
      const body = bytes(300_000, 21);
      await f.blobs.put(key, body, 'application/dicom');
      const url = await f.transfer.downloadUrl(key, 300, { contentType: 'application/dicom', filename: '1.2.3.77.dcm' });
      const whole = await f.fetch(url);
      expect(whole.status).toBe(200);
      expect(Buffer.from(await whole.arrayBuffer()).equals(Buffer.from(body))).toBe(true);
      if (!f.lacks?.responseHeaders) {
        expect(whole.headers.get('content-type')).toBe('application/dicom');
        expect(whole.headers.get('content-disposition')).toBe('attachment; filename="1.2.3.77.dcm"');
      }
      const range = await f.fetch(url, { headers: { Range: 'bytes=1000-1999' } });
      expect(range.status).toBe(206);
      expect(range.headers.get('content-range')).toBe(`bytes 1000-1999/${body.byteLength}`);
      expect(Buffer.from(await range.arrayBuffer()).equals(Buffer.from(body.subarray(1000, 2000)))).toBe(true);
    });

    it('refuses a download URL once it has expired', async () => {
      const key = 'studies/1.2/series/1.2.3/instances/1.2.3.78.dcm';
      await f.blobs.put(key, bytes(100), 'application/dicom');
      const url = await f.transfer.downloadUrl(key, 1, { contentType: 'application/dicom' });
      await new Promise((resolve) => setTimeout(resolve, 2100));
      expect((await f.fetch(url)).status).toBe(403);
    });
  });
}
