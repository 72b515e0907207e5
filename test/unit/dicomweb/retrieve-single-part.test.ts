/**
 * Retrieve Instance as the single part application/dicom (PS3.18 10.4.4) and its redirect above the
 * response limit (lambdas/dicomweb/retrieve-single-part.ts), over the real storage layout (seeded
 * through the Store) and a small fake of the DirectTransfer port that records what it signed.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { readPart10 } from '../../../lambdas/dicom/part10';
import { TransferSyntax } from '../../../lambdas/dicom/uid';
import { NotAcceptableError, PayloadTooLargeError } from '../../../lambdas/dicomweb/errors';
import type { DicomwebResponse } from '../../../lambdas/dicomweb/messages';
import { RetrieveService, type RetrieveRequest } from '../../../lambdas/dicomweb/retrieve';
import { prefersRedirect, REDIRECT_URL_SECONDS } from '../../../lambdas/dicomweb/retrieve-single-part';
import type { DirectTransfer } from '../../../lambdas/storage/ports';
import { makeInstance } from '../../support/dicom-factory';
import { MemoryBlobStore } from '../../support/memory-blobs';
import { MemoryMetadataIndex } from '../../support/memory-index';
import { storeInstances } from '../../support/seed';

const BASE_URL = 'https://archive.example/dicomweb';
const AS_STORED = 'application/dicom; transfer-syntax=*';
const LIMIT = 20_000;

/** The DirectTransfer port's download URLs, as the local engine makes them (relative) or S3 (absolute). */
class FakeDirectTransfer implements DirectTransfer {
  readonly signed: { key: string; expiresInSeconds: number; contentType: string; filename?: string }[] = [];
  constructor(private readonly prefix = '/_transfer/objects/') {}
  async downloadUrl(key: string, expiresInSeconds: number, opts: { contentType: string; filename?: string }): Promise<string> {
    this.signed.push({ key, expiresInSeconds, ...opts });
    return `${this.prefix}${key}?signature=fake`;
  }
  createMultipartUpload(): Promise<string> {
    throw new Error('not used by Retrieve');
  }
  partUploadUrl(): Promise<string> {
    throw new Error('not used by Retrieve');
  }
  listParts(): Promise<undefined> {
    throw new Error('not used by Retrieve');
  }
  completeMultipartUpload(): Promise<void> {
    throw new Error('not used by Retrieve');
  }
  abortMultipartUpload(): Promise<void> {
    throw new Error('not used by Retrieve');
  }
}

let index: MemoryMetadataIndex;
let blobs: MemoryBlobStore;
let transfer: FakeDirectTransfer;
let reads: number;

beforeEach(() => {
  index = new MemoryMetadataIndex();
  blobs = new MemoryBlobStore();
  transfer = new FakeDirectTransfer();
  reads = 0;
});

const service = (direct: DirectTransfer | 'none' = transfer) => {
  // Counts every read of an object, whole, by range or as a stream.
  const counted = Object.assign(Object.create(blobs) as MemoryBlobStore, {
    get: (key: string) => ((reads += 1), blobs.get(key)),
    getRange: (key: string, start: number, end: number) => ((reads += 1), blobs.getRange(key, start, end)),
    getStream: (key: string, start?: number) => ((reads += 1), blobs.getStream(key, start)),
  });
  return new RetrieveService(index, counted, { maxResponseBytes: LIMIT }, direct === 'none' ? undefined : direct);
};

async function seeded(opts: Parameters<typeof makeInstance>[0]) {
  const bytes = makeInstance(opts);
  await storeInstances(index, blobs, [bytes], { baseUrl: BASE_URL });
  const { studyInstanceUID, seriesInstanceUID, sopInstanceUID } = readPart10(bytes);
  const uids = { studyInstanceUID, seriesInstanceUID, sopInstanceUID };
  const request = (accept: string | undefined, more: Partial<RetrieveRequest> = {}): RetrieveRequest => ({
    ...uids,
    accept,
    baseUrl: BASE_URL,
    ...more,
  });
  const objectKey = (await index.getInstance(studyInstanceUID, seriesInstanceUID, sopInstanceUID))!.instance!.objectKey;
  return { bytes, uids, request, objectKey };
}

async function bodyOf(response: DicomwebResponse): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  const body = response.body;
  if (body === undefined || typeof body === 'string' || body instanceof Uint8Array) return Buffer.from(body ?? '');
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('Retrieve Instance, single part application/dicom (PS3.18 10.4.4)', () => {
  it('[studies.retrieve.200] answers the instance as stored, alone, below the limit', async () => {
    const { bytes, uids, request } = await seeded({ approximateBytes: 4000 });

    const response = await service().retrieveInstance(request(AS_STORED));

    expect(response.status).toBe(200);
    expect(response.headers?.['Content-Type']).toBe(`application/dicom; transfer-syntax=${TransferSyntax.ExplicitVRLittleEndian}`);
    expect(response.headers?.['Content-Location']).toBe(
      `${BASE_URL}/studies/${uids.studyInstanceUID}/series/${uids.seriesInstanceUID}/instances/${uids.sopInstanceUID}`,
    );
    expect(Buffer.compare(await bodyOf(response), Buffer.from(bytes))).toBe(0);
    expect(transfer.signed).toEqual([]);
  });

  it('converts an Implicit VR instance to Explicit VR Little Endian by default, as multipart does', async () => {
    const { request } = await seeded({ transferSyntaxUID: TransferSyntax.ImplicitVRLittleEndian });
    const response = await service().retrieveInstance(request('application/dicom'));
    expect(response.headers?.['Content-Type']).toBe(`application/dicom; transfer-syntax=${TransferSyntax.ExplicitVRLittleEndian}`);
    expect(readPart10(await bodyOf(response)).transferSyntaxUID).toBe(TransferSyntax.ExplicitVRLittleEndian);
  });

  it('[studies.retrieve.303] answers 303 See Other to the object above the limit, reading none of it', async () => {
    const { uids, request, objectKey } = await seeded({ approximateBytes: 2 * LIMIT });

    const response = await service().retrieveInstance(request(AS_STORED));

    expect(response).toEqual({
      status: 303,
      headers: { Location: `${BASE_URL}/_transfer/objects/${objectKey}?signature=fake`, 'Cache-Control': 'no-store' },
    });
    expect(transfer.signed).toEqual([
      {
        key: objectKey,
        expiresInSeconds: REDIRECT_URL_SECONDS,
        contentType: `application/dicom; transfer-syntax=${TransferSyntax.ExplicitVRLittleEndian}`,
        filename: `${uids.sopInstanceUID}.dcm`,
      },
    ]);
    expect(reads).toBe(0);
  });

  it('keeps an absolute URL (S3 presigned) as the port gives it; the stored syntax named asks as stored too', async () => {
    transfer = new FakeDirectTransfer('https://bucket.s3.amazonaws.com/');
    const { request, objectKey } = await seeded({ approximateBytes: 2 * LIMIT });
    const response = await service().retrieveInstance(
      request(`application/dicom; transfer-syntax=${TransferSyntax.ExplicitVRLittleEndian}`),
    );
    expect(response.status).toBe(303);
    expect(response.headers?.Location).toBe(`https://bucket.s3.amazonaws.com/${objectKey}?signature=fake`);
  });

  it('redirects below the limit when the client prefers so (Prefer: return=redirect), saying it applied it', async () => {
    const { request } = await seeded({ approximateBytes: 4000 });
    const response = await service().retrieveInstance(request(AS_STORED, { prefer: 'respond-async, return=redirect' }));
    expect(response.status).toBe(303);
    expect(response.headers?.['Preference-Applied']).toBe('return=redirect');
    expect(reads).toBe(0);
    // Without a DirectTransfer the preference is ignored (RFC 7240 2): the instance itself.
    const plain = await service('none').retrieveInstance(request(AS_STORED, { prefer: 'return=redirect' }));
    expect(plain.status).toBe(200);
    expect(plain.headers?.['Preference-Applied']).toBeUndefined();
  });

  it('[studies.retrieve.413] above the limit: 413 advising as stored when it must be transcoded, frames without a DirectTransfer', async () => {
    const implicit = await seeded({ transferSyntaxUID: TransferSyntax.ImplicitVRLittleEndian, approximateBytes: 2 * LIMIT });
    const transcoded = await failure(service().retrieveInstance(implicit.request('application/dicom')));
    expect(transcoded).toBeInstanceOf(PayloadTooLargeError);
    expect((transcoded as PayloadTooLargeError).details[0]?.message).toMatch(/transfer-syntax=\* \(the instance as stored\), answered 303/);

    const { request } = await seeded({ approximateBytes: 2 * LIMIT });
    const noTransfer = await failure(service('none').retrieveInstance(request(AS_STORED)));
    expect(noTransfer).toBeInstanceOf(PayloadTooLargeError);
    expect((noTransfer as PayloadTooLargeError).details[0]?.message).toMatch(/frame by frame/);
    expect(reads).toBe(0);
  });

  it('keeps the 413 of multipart/related above the limit, naming the single part redirect and frames', async () => {
    const { request } = await seeded({ approximateBytes: 2 * LIMIT });
    for (const level of ['instance', 'series'] as const) {
      const req = request('multipart/related; type="application/dicom"; transfer-syntax=*');
      const error = await failure(
        level === 'instance' ? service().retrieveInstance(req) : service().retrieveSeries({ ...req, sopInstanceUID: undefined }),
      );
      expect(error).toBeInstanceOf(PayloadTooLargeError);
      const advice = (error as PayloadTooLargeError).details[0]?.message;
      expect(advice).toContain('Accept: application/dicom; transfer-syntax=*');
      expect(advice).toContain('303 See Other');
      expect(advice).toContain(level === 'instance' ? 'frame by frame' : 'instance by instance');
    }
  });

  it('answers 406 for a compressed instance asked in Explicit VR Little Endian, and for a study asked as single part', async () => {
    const { request } = await seeded({ transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit });
    await expect(service().retrieveInstance(request('application/dicom'))).rejects.toThrow(NotAcceptableError);
    const jpeg = await service().retrieveInstance(request(`application/dicom; transfer-syntax=${TransferSyntax.JPEGBaseline8Bit}`));
    expect(jpeg.status).toBe(200);
    // PS3.18 10.4.4: a single part media type is for an individual Instance resource only.
    await expect(service().retrieveStudy(request('application/dicom'))).rejects.toThrow(NotAcceptableError);
  });
});

describe('prefersRedirect (RFC 7240)', () => {
  it('finds return=redirect among the preferences, token or quoted, with parameters', () => {
    expect(prefersRedirect('return=redirect')).toBe(true);
    expect(prefersRedirect('wait=10, RETURN = "redirect"; x=1')).toBe(true);
    expect(prefersRedirect('return=representation')).toBe(false);
    expect(prefersRedirect('return=redirected')).toBe(false);
    expect(prefersRedirect(undefined)).toBe(false);
  });
});
