/**
 * Unit: the upload path (lambdas/dicomweb/upload.ts) over memory adapters: create, parts PUT to their
 * URLs, complete with the Store rules of STOW-RS, every answer of docs/uploads.md.
 */
import { describe, expect, it } from 'vitest';
import type { DicomJson } from '../../../lambdas/dicom/json';
import { Tag } from '../../../lambdas/dicom/tags';
import { BadRequestError, ConflictError, NotFoundError, PayloadTooLargeError } from '../../../lambdas/dicomweb/errors';
import { FailureReason } from '../../../lambdas/dicomweb/status-codes';
import { DuplicateSOPInstance, StoreService } from '../../../lambdas/dicomweb/store';
import { prepareStreamedInstance } from '../../../lambdas/dicomweb/store-prepare-stream';
import { UploadService, type UploadView } from '../../../lambdas/dicomweb/upload';
import { MIN_PART_BYTES, partSizeFor } from '../../../lambdas/dicomweb/upload-parts';
import { makeInstance } from '../../support/dicom-factory';
import { MemoryBlobStore } from '../../support/memory-blobs';
import { MemoryDirectTransfer } from '../../support/memory-direct-transfer';
import { MemoryMetadataIndex } from '../../support/memory-index';
import { MemoryUploadStore } from '../../support/memory-uploads';

const ME = { principal: 'api-keys:me', baseUrl: 'http://archive' };
const OTHER = { principal: 'api-keys:other', baseUrl: 'http://archive' };
const STUDY = '1.2.826.0.1.3680043.8.498.1';

function setup() {
  let clock = Date.parse('2026-12-06T12:00:00Z');
  const now = () => clock;
  const blobs = new MemoryBlobStore();
  const index = new MemoryMetadataIndex();
  const transfer = new MemoryDirectTransfer(blobs, now);
  const uploads = new MemoryUploadStore(now);
  const store = new StoreService(index, blobs, { bulkDataThreshold: 1024, maxRequestBytes: 5_000_000 });
  const service = new UploadService(
    uploads,
    transfer,
    blobs,
    store,
    prepareStreamedInstance,
    { maxBytes: 64 * 1024 ** 3, urlExpirySeconds: 3600, expirySeconds: 86_400, storingRetrySeconds: 900, bulkDataThreshold: 1024 },
    now,
  );
  /** PUTs the parts of `file` that carry a URL (all, or those numbered in `only`). */
  const send = async (view: UploadView, file: Uint8Array, only?: number[]) => {
    for (const part of view.parts) {
      if (!part.url || (only && !only.includes(part.partNumber))) continue;
      const answer = await transfer.fetch(part.url, { method: 'PUT', body: file.subarray(part.offset, part.offset + part.length) });
      expect(answer.status).toBe(200);
    }
  };
  const upload = async (file: Uint8Array, studyInstanceUID?: string) => {
    const view = await service.create({ size: file.byteLength, studyInstanceUID }, ME);
    await send(view, file);
    return service.complete(view.uploadId, ME);
  };
  return { blobs, index, transfer, uploads, service, send, upload, advance: (ms: number) => (clock += ms) };
}

const failureReasons = (response: DicomJson) =>
  ((response[Tag.FailedSOPSequence]?.Value ?? []) as DicomJson[]).map((item) => item[Tag.FailureReason]?.Value?.[0]);

describe('UploadService.create', () => {
  it('answers the upload with a URL per part, parts of max(16 MiB, size / 10,000 in MiB)', async () => {
    const { service } = setup();
    const view = await service.create({ size: 40 * 1024 * 1024 + 1 }, ME);
    expect(view).toMatchObject({
      state: 'UPLOADING',
      partSize: MIN_PART_BYTES,
      complete: `http://archive/uploads/${view.uploadId}/complete`,
    });
    expect(view.uploadId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(view.parts.map((p) => [p.partNumber, p.offset, p.length, p.received, !!p.url])).toEqual([
      [1, 0, MIN_PART_BYTES, false, true],
      [2, MIN_PART_BYTES, MIN_PART_BYTES, false, true],
      [3, 2 * MIN_PART_BYTES, 8 * 1024 * 1024 + 1, false, true],
    ]);
    expect(partSizeFor(400 * 1024 ** 3)).toBe(41 * 1024 * 1024);
    expect(Math.ceil((400 * 1024 ** 3) / partSizeFor(400 * 1024 ** 3))).toBeLessThanOrEqual(10_000);
  });

  it('[uploads.create.400] [uploads.create.413] refuses a size that is not a positive integer (400) or above the limit (413), and a malformed study (400)', async () => {
    const { service } = setup();
    for (const size of [undefined, 0, -5, 1.5, '100', null]) {
      await expect(service.create({ size }, ME)).rejects.toBeInstanceOf(BadRequestError);
    }
    await expect(service.create({ size: 64 * 1024 ** 3 + 1 }, ME)).rejects.toBeInstanceOf(PayloadTooLargeError);
    await expect(service.create({ size: 10, studyInstanceUID: '1.2.abc' }, ME)).rejects.toBeInstanceOf(BadRequestError);
  });
});

describe('UploadService.complete', () => {
  it('stores the instance like STOW-RS, byte-identical, and answers the same result when completed again', async () => {
    const { service, send, blobs } = setup();
    const file = makeInstance({ studyInstanceUID: STUDY, approximateBytes: 200_000 });
    const view = await service.create({ size: file.byteLength }, ME);
    await send(view, file);
    const result = await service.complete(view.uploadId, ME);
    expect(result.status).toBe(200);
    const referenced = (result.response[Tag.ReferencedSOPSequence]?.Value ?? []) as DicomJson[];
    expect(referenced).toHaveLength(1);
    expect(String(referenced[0]![Tag.RetrieveURL]?.Value?.[0])).toMatch(
      new RegExp(`^http://archive/studies/${STUDY.replace(/\./g, '\\.')}/series/`),
    );
    const objects = [...blobs.objects.entries()].filter(([key]) => key.startsWith(`studies/${STUDY}/`) && key.endsWith('.dcm'));
    expect(objects).toHaveLength(1);
    expect(Buffer.from(objects[0]![1].body).equals(Buffer.from(file))).toBe(true);
    // The joined upload object is gone; the record answers the same result.
    expect([...blobs.objects.keys()].filter((k) => k.startsWith('uploads/'))).toEqual([]);
    expect(await service.complete(view.uploadId, ME)).toEqual(result);
    const status = await service.status(view.uploadId, ME);
    expect(status.state).toBe('STORED');
    expect(status.result).toEqual(result);
    expect(status.parts.every((p) => p.received && p.url === undefined)).toBe(true);
    // Asked through another base URL (another proxy or port): the same result, under that one.
    const elsewhere = { ...ME, baseUrl: 'https://proxy.example/pacs' };
    const again = await service.status(view.uploadId, elsewhere);
    expect(JSON.stringify(again.result)).toBe(JSON.stringify(result).replaceAll('http://archive/', 'https://proxy.example/pacs/'));
    expect(await service.complete(view.uploadId, elsewhere)).toEqual(again.result);
  });

  it('answers 409 naming a missing or short part, keeps the upload open, then completes once it is sent', async () => {
    const { service, send, transfer } = setup();
    const file = makeInstance({ approximateBytes: MIN_PART_BYTES + 300_000 });
    const view = await service.create({ size: file.byteLength }, ME);
    expect(view.parts).toHaveLength(2);
    await send(view, file, [1]);
    const missing = await service.complete(view.uploadId, ME).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ConflictError);
    expect((missing as ConflictError).details).toEqual([{ target: 'part 2', message: expect.stringMatching(/^not received/) }]);
    // A part of the wrong length is named too, and offered again with a URL.
    await transfer.fetch(view.parts[1]!.url!, { method: 'PUT', body: file.subarray(view.parts[1]!.offset, view.parts[1]!.offset + 10) });
    const short = await service.complete(view.uploadId, ME).catch((e: unknown) => e);
    expect((short as ConflictError).details[0]?.message).toMatch(/received 10 bytes/);
    const status = await service.status(view.uploadId, ME);
    expect(status.state).toBe('UPLOADING');
    expect(status.parts.map((p) => [p.received, !!p.url])).toEqual([
      [true, false],
      [false, true],
    ]);
    await send(status, file);
    expect((await service.complete(view.uploadId, ME)).status).toBe(200);
  });

  it('[uploads.complete.retry] runs a Store cut short again only after the retry delay (409 with Retry-After before it)', async () => {
    const { service, send, uploads, advance } = setup();
    const file = makeInstance({ approximateBytes: 50_000 });
    const view = await service.create({ size: file.byteLength }, ME);
    await send(view, file);
    // A function killed mid-Store leaves STORING behind.
    expect(
      await uploads.transition(view.uploadId, ['UPLOADING'], 'STORING', {
        storingSince: new Date(Date.parse(view.expiresAt) - 86_400_000).toISOString(),
      }),
    ).toBe(true);
    const early = await service.complete(view.uploadId, ME).catch((e: unknown) => e);
    expect(early).toBeInstanceOf(ConflictError);
    expect((early as ConflictError).headers['Retry-After']).toBe('60');
    advance(901_000);
    expect((await service.complete(view.uploadId, ME)).status).toBe(200);
  });

  it('[uploads.complete.store-rules] applies the Store rules: study of the path, duplicates identical or not, not DICOM, truncated', async () => {
    const { upload } = setup();
    const file = makeInstance({ studyInstanceUID: STUDY, sopInstanceUID: '1.2.3.4.5.6', approximateBytes: 30_000 });
    const mismatch = await upload(file, '1.2.3.999');
    expect(mismatch.status).toBe(409);
    expect(failureReasons(mismatch.response)).toEqual([FailureReason.DataSetDoesNotMatchSOPClass]);
    expect((await upload(file, STUDY)).status).toBe(200);
    expect((await upload(file)).status).toBe(200);
    const other = makeInstance({ studyInstanceUID: STUDY, sopInstanceUID: '1.2.3.4.5.6', approximateBytes: 31_000, patientName: 'Other' });
    const conflicting = await upload(other);
    expect(conflicting.status).toBe(409);
    expect(failureReasons(conflicting.response)).toEqual([DuplicateSOPInstance]);
    const notDicom = await upload(Buffer.from('this is not a DICOM file at all, just some text'.repeat(10)));
    expect(failureReasons(notDicom.response)).toEqual([FailureReason.CannotUnderstand]);
    const truncated = await upload(makeInstance({ approximateBytes: 40_000 }).subarray(0, 20_000));
    expect(truncated.status).toBe(409);
    expect(failureReasons(truncated.response)).toEqual([FailureReason.CannotUnderstand]);
  });
});

describe('UploadService: who sees an upload, and aborting it', () => {
  it('answers 404 to another principal and to an unknown id, never saying which', async () => {
    const { service } = setup();
    const view = await service.create({ size: 1000 }, ME);
    for (const call of [
      () => service.status(view.uploadId, OTHER),
      () => service.complete(view.uploadId, OTHER),
      () => service.abort(view.uploadId, OTHER),
      () => service.status('AAAAAAAAAAAAAAAAAAAAAA', ME),
      () => service.status('../../etc', ME),
    ]) {
      await expect(call()).rejects.toBeInstanceOf(NotFoundError);
    }
  });

  it('[uploads.abort.409] aborts an upload in progress: its parts discarded, completing it then 409', async () => {
    const { service, transfer } = setup();
    const view = await service.create({ size: 1000 }, ME);
    await service.abort(view.uploadId, ME);
    await service.abort(view.uploadId, ME);
    expect(transfer.uploads.size).toBe(0);
    expect((await service.status(view.uploadId, ME)).state).toBe('ABORTED');
    await expect(service.complete(view.uploadId, ME)).rejects.toBeInstanceOf(ConflictError);
  });
});
