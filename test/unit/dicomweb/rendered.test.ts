/** Unit: the rendered resources' service over the memory adapters: limits, codec errors, entity tags. */
import { describe, expect, it } from 'vitest';
import { NotAcceptableError, NotFoundError, PayloadTooLargeError } from '../../../lambdas/dicomweb/errors';
import { derivedImageKeys } from '../../../lambdas/dicomweb/derived-images';
import { RenderService, renderErrorToDicomweb } from '../../../lambdas/dicomweb/rendered';
import { entityTag, matches } from '../../../lambdas/dicomweb/rendered-caching';
import { newUid } from '../../../lambdas/dicom/uid';
import { makeInstance } from '../../support/dicom-factory';
import { MemoryBlobStore } from '../../support/memory-blobs';
import { MemoryMetadataIndex } from '../../support/memory-index';
import { storeInstances } from '../../support/seed';

const BASE_URL = 'http://127.0.0.1:8080';

async function seeded(maxResponseBytes: number) {
  const index = new MemoryMetadataIndex();
  const blobs = new MemoryBlobStore();
  const studyInstanceUID = newUid();
  const seriesInstanceUID = newUid();
  const files = [1, 2, 3].map((n) =>
    makeInstance({ studyInstanceUID, seriesInstanceUID, instanceNumber: n, bitsAllocated: 8, rows: 64, columns: 64 }),
  );
  await storeInstances(index, blobs, files, { baseUrl: BASE_URL });
  return { service: new RenderService(index, blobs, { maxResponseBytes }), index, blobs, studyInstanceUID, seriesInstanceUID };
}

const request = (uids: { studyInstanceUID: string; seriesInstanceUID?: string }) => ({
  ...uids,
  query: new Map(),
  accept: 'image/png',
  baseUrl: BASE_URL,
});

describe('RenderService', () => {
  it('[studies.rendered.413] refuses a rendered study or series beyond the response limit', async () => {
    const { service, studyInstanceUID } = await seeded(100);
    await expect(service.retrieveRenderedStudy(request({ studyInstanceUID }))).rejects.toBeInstanceOf(PayloadTooLargeError);
    const { service: roomy, studyInstanceUID: other } = await seeded(1024 * 1024);
    expect((await roomy.retrieveRenderedStudy(request({ studyInstanceUID: other }))).status).toBe(200);
  });

  it("[studies.rendered.406] the codec's unsupported transfer syntax is a 406 naming it; a frame out of range a 404", () => {
    const mpeg = { transferSyntaxUID: '1.2.840.10008.1.2.4.100' };
    const error = renderErrorToDicomweb('unsupported-transfer-syntax', mpeg);
    expect(error).toBeInstanceOf(NotAcceptableError);
    expect(error.message).toContain(mpeg.transferSyntaxUID);
    expect(error.details[0]).toEqual({ target: 'transfer-syntax', message: mpeg.transferSyntaxUID });
    expect(renderErrorToDicomweb('corrupt', mpeg)).toBeInstanceOf(NotAcceptableError);
    expect(renderErrorToDicomweb('not-an-image', mpeg)).toBeInstanceOf(NotAcceptableError);
    expect(renderErrorToDicomweb('frame-out-of-range', mpeg)).toBeInstanceOf(NotFoundError);
  });
});

describe('the cached thumbnail', () => {
  it('[studies.thumbnail.200] is not kept for an instance deleted while it was made', async () => {
    const { service, index, blobs, studyInstanceUID, seriesInstanceUID } = await seeded(1024 * 1024);
    const [entry] = index.all().filter((e) => e.level === 'INSTANCE');
    const put = blobs.put.bind(blobs);
    // A Delete of the instance runs between the thumbnail's rendering and its write.
    blobs.put = async (key, body, type) => {
      await index.deleteEntry(entry!);
      await put(key, body, type);
    };
    const uids = { studyInstanceUID, seriesInstanceUID, sopInstanceUID: entry!.sopInstanceUID };
    expect((await service.retrieveInstanceThumbnail({ ...request(uids), ...uids })).status).toBe(200);
    expect(derivedImageKeys(entry!.instance!).filter((key) => blobs.objects.has(key))).toEqual([]);
  });

  it('[studies.thumbnail.200] a failed write leaves the answer whole', async () => {
    const { service, index, blobs, studyInstanceUID, seriesInstanceUID } = await seeded(1024 * 1024);
    const [entry] = index.all().filter((e) => e.level === 'INSTANCE');
    blobs.put = () => Promise.reject(new Error('throttled'));
    const uids = { studyInstanceUID, seriesInstanceUID, sopInstanceUID: entry!.sopInstanceUID };
    const r = await service.retrieveInstanceThumbnail({ ...request(uids), ...uids });
    expect(r.status).toBe(200);
    expect(r.headers?.['Content-Type']).toBe('image/png');
  });
});

describe('entity tags (RFC 9110 8.8.3, 13.1.2)', () => {
  const params = { annotation: [], iccProfile: 'no' } as const;
  it('a strong tag per stored object, resource, parameters and media type', () => {
    const tag = entityTag(['a.dcm'], 'rendered', params, 'image/jpeg');
    expect(tag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    expect(entityTag(['a.dcm'], 'rendered', params, 'image/jpeg')).toBe(tag);
    expect(entityTag(['b.dcm'], 'rendered', params, 'image/jpeg')).not.toBe(tag);
    expect(entityTag(['a.dcm'], 'thumbnail', params, 'image/jpeg')).not.toBe(tag);
    expect(entityTag(['a.dcm'], 'rendered', params, 'image/png')).not.toBe(tag);
    expect(entityTag(['a.dcm'], 'rendered', { ...params, quality: 5 }, 'image/jpeg')).not.toBe(tag);
  });

  it('If-None-Match: a list, weak or strong, or *', () => {
    expect(matches(undefined, '"x"')).toBe(false);
    expect(matches('"y", W/"x"', '"x"')).toBe(true);
    expect(matches('*', '"x"')).toBe(true);
    expect(matches('"y"', '"x"')).toBe(false);
  });
});
