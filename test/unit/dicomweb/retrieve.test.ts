import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseMediaType, parseMultipartRelated, type MultipartPart } from '../../../lambdas/dicom/multipart';
import { getBulkData } from '../../../lambdas/dicom/json';
import { PIXEL_DATA_SCAN_STOP } from '../../../lambdas/dicom/frames/header-scan';
import { readPart10, scanPart10Header } from '../../../lambdas/dicom/part10';
import { Tag } from '../../../lambdas/dicom/tags';
import { TransferSyntax } from '../../../lambdas/dicom/uid';
import { BadRequestError, GoneError, NotAcceptableError, NotFoundError, PayloadTooLargeError } from '../../../lambdas/dicomweb/errors';
import { parseFrameList, RetrieveService, withAbsoluteBulkDataURIs, type RetrieveRequest } from '../../../lambdas/dicomweb/retrieve';
import type { DicomwebResponse } from '../../../lambdas/dicomweb/messages';
import type { DicomJson } from '../../../lambdas/dicom/json';
import { fakeJpegFrame, makeInstance, makeStudy, pixelFrame } from '../../support/dicom-factory';
import { MemoryBlobStore } from '../../support/memory-blobs';
import { MemoryMetadataIndex } from '../../support/memory-index';
import { storeInstances } from '../../support/seed';

const BASE_URL = 'https://archive.example/dicomweb';
const EVRLE = TransferSyntax.ExplicitVRLittleEndian;
const ANY_DICOM = 'multipart/related; type="application/dicom"; transfer-syntax=*';
const ANY_OCTETS = 'multipart/related; type="application/octet-stream"; transfer-syntax=*';
const DEFAULT_OCTETS = 'multipart/related; type="application/octet-stream"';

let index: MemoryMetadataIndex;
let blobs: MemoryBlobStore;
let retrieve: RetrieveService;

/** Stores Part 10 files through the Store service, so the storage layout is the real one. */
function seed(...files: Uint8Array[]): Promise<void> {
  return storeInstances(index, blobs, files, { baseUrl: BASE_URL });
}

async function bodyBytes(response: DicomwebResponse): Promise<Uint8Array> {
  const { body } = response;
  if (body === undefined) return new Uint8Array();
  if (typeof body === 'string') return new TextEncoder().encode(body);
  if (body instanceof Uint8Array) return body;
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function partsOf(response: DicomwebResponse): Promise<MultipartPart[]> {
  const media = parseMediaType(response.headers?.['Content-Type'] ?? '');
  expect(media.mediaType).toBe('multipart/related');
  return parseMultipartRelated(await bodyBytes(response), media.params.boundary!);
}

async function jsonOf(response: DicomwebResponse): Promise<DicomJson[]> {
  return JSON.parse(new TextDecoder().decode(await bodyBytes(response))) as DicomJson[];
}

function transferSyntaxOf(part: MultipartPart): string | undefined {
  return parseMediaType(part.headers['content-type'] ?? '').params['transfer-syntax'];
}

function request(uids: Partial<RetrieveRequest> & { studyInstanceUID: string }, accept?: string): RetrieveRequest {
  return { accept, baseUrl: BASE_URL, ...uids };
}

beforeEach(() => {
  index = new MemoryMetadataIndex();
  blobs = new MemoryBlobStore(100);
  retrieve = new RetrieveService(index, blobs, { maxResponseBytes: 10 * 1024 * 1024 });
});

/** Counts the whole-object reads, the bytes read by range and those streamed from now on. */
function countReads() {
  const reads = { whole: 0, ranged: 0, streamed: 0 };
  const get = blobs.get.bind(blobs);
  const getRange = blobs.getRange.bind(blobs);
  const getStream = blobs.getStream.bind(blobs);
  blobs.get = async (key) => ((reads.whole += 1), get(key));
  blobs.getRange = async (key, start, end) => {
    const got = await getRange(key, start, end);
    reads.ranged += got?.byteLength ?? 0;
    return got;
  };
  blobs.getStream = async (key, start) => {
    const stream = await getStream(key, start);
    return (
      stream &&
      (async function* () {
        for await (const chunk of stream) {
          reads.streamed += chunk.byteLength;
          yield chunk;
        }
      })()
    );
  };
  return reads;
}

describe('retrieve instances (PS3.18 10.4.1.1.1)', () => {
  it('returns the stored bytes unchanged for transfer-syntax=*, one part per instance', async () => {
    const study = makeStudy({ series: 2, instancesPerSeries: 2 });
    await seed(...study.instances.map((i) => i.bytes));

    const response = await retrieve.retrieveStudy(request({ studyInstanceUID: study.studyInstanceUID }, ANY_DICOM));

    expect(response.status).toBe(200);
    expect(response.headers?.['Content-Type']).toMatch(/^multipart\/related; type="application\/dicom"; boundary=/);
    const parts = await partsOf(response);
    expect(parts).toHaveLength(4);
    const byLocation = new Map(parts.map((p) => [p.headers['content-location'], p]));
    for (const instance of study.instances) {
      const part = byLocation.get(
        `${BASE_URL}/studies/${study.studyInstanceUID}/series/${instance.seriesInstanceUID}/instances/${instance.sopInstanceUID}`,
      );
      expect(part).toBeDefined();
      expect(Buffer.from(part!.body).equals(Buffer.from(instance.bytes))).toBe(true);
      expect(transferSyntaxOf(part!)).toBe(EVRLE);
    }
  });

  it('requests the next object while one streams, and closes every object it opened when the response is abandoned', async () => {
    const study = makeStudy({ series: 1, instancesPerSeries: 4 });
    await seed(...study.instances.map((i) => i.bytes));
    let opened = 0;
    let closed = 0;
    const getStream = blobs.getStream.bind(blobs);
    // Node streams, as the S3 adapter answers.
    blobs.getStream = async (key) => {
      const stream = Readable.from((await getStream(key))!);
      opened++;
      stream.once('close', () => closed++);
      return stream;
    };

    const response = await retrieve.retrieveStudy(request({ studyInstanceUID: study.studyInstanceUID }, ANY_DICOM));
    const body = (response.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    // The first part's header and first chunk: the first object streams, the second is requested.
    await body.next();
    await body.next();
    await new Promise((resolve) => setImmediate(resolve));
    expect(opened).toBe(2);

    await body.return!(undefined);
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(2);
  });

  it('converts an Implicit VR instance to Explicit VR Little Endian by default (PS3.18 8.7.3.5.2)', async () => {
    const bytes = makeInstance({ transferSyntaxUID: TransferSyntax.ImplicitVRLittleEndian, bitsAllocated: 16 });
    const stored = readPart10(bytes);
    await seed(bytes);

    const response = await retrieve.retrieveInstance(
      request({
        studyInstanceUID: stored.studyInstanceUID,
        seriesInstanceUID: stored.seriesInstanceUID,
        sopInstanceUID: stored.sopInstanceUID,
      }),
    );

    expect(response.status).toBe(200);
    const [part] = await partsOf(response);
    expect(transferSyntaxOf(part!)).toBe(EVRLE);
    const returned = readPart10(part!.body);
    expect(returned.transferSyntaxUID).toBe(EVRLE);
    expect(returned.sopInstanceUID).toBe(stored.sopInstanceUID);
    const pixels = (d: typeof stored) => Buffer.from(d.dict[Tag.PixelData]!.Value![0] as ArrayBuffer);
    expect(pixels(returned).equals(pixels(stored))).toBe(true);
  });

  it('answers 206 with a Warning when some instances are compressed and cannot be returned in Explicit VR LE', async () => {
    const studyInstanceUID = '1.2.3.4.1';
    const seriesInstanceUID = '1.2.3.4.1.1';
    const native = makeInstance({ studyInstanceUID, seriesInstanceUID });
    const jpeg = makeInstance({ studyInstanceUID, seriesInstanceUID, transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit });
    await seed(native, jpeg);

    const response = await retrieve.retrieveSeries(request({ studyInstanceUID, seriesInstanceUID }));

    expect(response.status).toBe(206);
    expect(response.headers?.Warning).toMatch(/^299 archive\.example "1 of 2 instance\(s\) .*"$/);
    const parts = await partsOf(response);
    expect(parts).toHaveLength(1);
    expect(Buffer.from(parts[0]!.body).equals(Buffer.from(native))).toBe(true);
  });

  it('answers 406 when no instance can be produced in the requested transfer syntax', async () => {
    const jpeg = makeInstance({ transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit });
    const { studyInstanceUID } = readPart10(jpeg);
    await seed(jpeg);

    await expect(retrieve.retrieveStudy(request({ studyInstanceUID }))).rejects.toThrow(NotAcceptableError);
    const other = `multipart/related; type="application/dicom"; transfer-syntax=${TransferSyntax.JPEG2000}`;
    await expect(retrieve.retrieveStudy(request({ studyInstanceUID }, other))).rejects.toThrow(NotAcceptableError);
  });

  it('returns a compressed instance as stored when its own transfer syntax is asked for', async () => {
    const jpeg = makeInstance({ transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit });
    const { studyInstanceUID } = readPart10(jpeg);
    await seed(jpeg);
    const accept = `multipart/related; type="application/dicom"; transfer-syntax=${TransferSyntax.JPEGBaseline8Bit}`;

    const response = await retrieve.retrieveStudy(request({ studyInstanceUID }, accept));

    expect(response.status).toBe(200);
    const [part] = await partsOf(response);
    expect(transferSyntaxOf(part!)).toBe(TransferSyntax.JPEGBaseline8Bit);
    expect(Buffer.from(part!.body).equals(Buffer.from(jpeg))).toBe(true);
  });

  it('answers 400 for a malformed UID, 404 for an unknown study', async () => {
    await expect(retrieve.retrieveStudy(request({ studyInstanceUID: '1.2.03' }))).rejects.toThrow(BadRequestError);
    await expect(
      retrieve.retrieveInstance(request({ studyInstanceUID: '1.2.3', seriesInstanceUID: '1.2.3.4', sopInstanceUID: 'x' })),
    ).rejects.toThrow(BadRequestError);
    await expect(retrieve.retrieveStudy(request({ studyInstanceUID: '1.2.3.999' }))).rejects.toThrow(NotFoundError);
  });

  it('answers 410 for a resource that has a tombstone', async () => {
    await index.putTombstone({ level: 'STUDY', studyInstanceUID: '1.2.3.5', deletedAt: new Date().toISOString() });
    await expect(retrieve.retrieveStudy(request({ studyInstanceUID: '1.2.3.5' }))).rejects.toThrow(GoneError);
    await expect(retrieve.retrieveSeriesMetadata(request({ studyInstanceUID: '1.2.3.5', seriesInstanceUID: '1.2.3.5.1' }))).rejects.toThrow(
      GoneError,
    );
  });

  it('answers 413 advising a lower level when the response would exceed the limit', async () => {
    const study = makeStudy({ series: 1, instancesPerSeries: 2, approximateBytes: 4096 });
    await seed(...study.instances.map((i) => i.bytes));
    const small = new RetrieveService(index, blobs, { maxResponseBytes: 6000 });

    const error = await small.retrieveStudy(request({ studyInstanceUID: study.studyInstanceUID })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect((error as PayloadTooLargeError).details[0]?.message).toContain('series by series');
    // One instance fits.
    const one = study.instances[0]!;
    const response = await small.retrieveInstance(
      request({ studyInstanceUID: study.studyInstanceUID, seriesInstanceUID: one.seriesInstanceUID, sopInstanceUID: one.sopInstanceUID }),
    );
    expect(response.status).toBe(200);
  });
});

describe('retrieve frames (PS3.18 10.4.1.1.3)', () => {
  async function seedFrames(opts: Parameters<typeof makeInstance>[0]) {
    const bytes = makeInstance({ rows: 4, columns: 3, numberOfFrames: 3, ...opts });
    const { studyInstanceUID, seriesInstanceUID, sopInstanceUID } = readPart10(bytes);
    await seed(bytes);
    return { studyInstanceUID, seriesInstanceUID, sopInstanceUID };
  }

  it.each([8, 16] as const)('returns raw %i-bit frames in the order asked, each with its Content-Location', async (bitsAllocated) => {
    const uids = await seedFrames({ bitsAllocated });
    const frameLength = 4 * 3 * (bitsAllocated / 8);

    const response = await retrieve.retrieveFrames({ ...request(uids, DEFAULT_OCTETS), frames: '3,1' });

    expect(response.status).toBe(200);
    expect(response.headers?.['Content-Type']).toMatch(/^multipart\/related; type="application\/octet-stream"; boundary=/);
    const parts = await partsOf(response);
    expect(parts.map((p) => Buffer.from(p.body))).toEqual([
      Buffer.from(pixelFrame(3, frameLength)),
      Buffer.from(pixelFrame(1, frameLength)),
    ]);
    expect(parts.map(transferSyntaxOf)).toEqual([EVRLE, EVRLE]);
    const instanceUrl = `${BASE_URL}/studies/${uids.studyInstanceUID}/series/${uids.seriesInstanceUID}/instances/${uids.sopInstanceUID}`;
    expect(parts.map((p) => p.headers['content-location'])).toEqual([`${instanceUrl}/frames/3`, `${instanceUrl}/frames/1`]);
  });

  it('returns encapsulated frames as stored for transfer-syntax=*, 406 for Explicit VR LE', async () => {
    const uids = await seedFrames({ transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit });

    const response = await retrieve.retrieveFrames({ ...request(uids, ANY_OCTETS), frames: '2' });
    const [part] = await partsOf(response);
    expect(Buffer.from(part!.body).equals(Buffer.from(fakeJpegFrame(2, 4 * 3)))).toBe(true);
    expect(transferSyntaxOf(part!)).toBe(TransferSyntax.JPEGBaseline8Bit);

    await expect(retrieve.retrieveFrames({ ...request(uids, DEFAULT_OCTETS), frames: '2' })).rejects.toThrow(NotAcceptableError);
  });

  it('answers 206 when some frames are beyond NumberOfFrames, 404 when all are', async () => {
    const uids = await seedFrames({ bitsAllocated: 8 });

    const partial = await retrieve.retrieveFrames({ ...request(uids), frames: '2,7' });
    expect(partial.status).toBe(206);
    expect(partial.headers?.Warning).toContain('7');
    const parts = await partsOf(partial);
    expect(parts).toHaveLength(1);
    expect(parts[0]!.headers['content-location']).toMatch(/\/frames\/2$/);

    await expect(retrieve.retrieveFrames({ ...request(uids), frames: '4,9' })).rejects.toThrow(NotFoundError);
  });

  it.each(['', '0', '-1', '1,,2', '1.5', 'a', '2,x'])('answers 400 for the frame list %j', async (frames) => {
    const uids = await seedFrames({ bitsAllocated: 8 });
    await expect(retrieve.retrieveFrames({ ...request(uids), frames })).rejects.toThrow(BadRequestError);
  });

  it('reads only the header and the frames asked of a large native instance (ranged reads), frames byte-identical', async () => {
    // 24 frames of 256 x 256 x 16 bits: 3 MiB of pixel data, above the size read whole.
    const bytes = makeInstance({ rows: 256, columns: 256, bitsAllocated: 16, numberOfFrames: 24 });
    const { studyInstanceUID, seriesInstanceUID, sopInstanceUID } = readPart10(bytes);
    await seed(bytes);
    const reads = countReads();
    const frameLength = 256 * 256 * 2;

    const parts = await partsOf(
      await retrieve.retrieveFrames({ ...request({ studyInstanceUID, seriesInstanceUID, sopInstanceUID }), frames: '3,2' }),
    );

    expect(parts.map((p) => Buffer.from(p.body))).toEqual([
      Buffer.from(pixelFrame(3, frameLength)),
      Buffer.from(pixelFrame(2, frameLength)),
    ]);
    expect(reads.whole).toBe(0);
    // A header prefix (64 KiB), then the span of frames 2 and 3.
    expect(reads.ranged).toBeLessThanOrEqual(64 * 1024 + 2 * frameLength);
  });

  it('reads only the header, the offset table and the frames asked of a large encapsulated instance', async () => {
    // 24 frames of 256 x 256 fake JPEG bitstreams, one fragment each, with a Basic Offset Table: 1.5 MiB.
    const bytes = makeInstance({ transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit, rows: 256, columns: 256, numberOfFrames: 24 });
    const { studyInstanceUID, seriesInstanceUID, sopInstanceUID } = readPart10(bytes);
    await seed(bytes);
    const reads = countReads();
    const frameLength = 256 * 256 + 4; // SOI, the bytes, EOI

    const parts = await partsOf(
      await retrieve.retrieveFrames({ ...request({ studyInstanceUID, seriesInstanceUID, sopInstanceUID }, ANY_OCTETS), frames: '24,23' }),
    );

    expect(parts.map((p) => Buffer.from(p.body))).toEqual([
      Buffer.from(fakeJpegFrame(24, 256 * 256)),
      Buffer.from(fakeJpegFrame(23, 256 * 256)),
    ]);
    expect(parts.map(transferSyntaxOf)).toEqual([TransferSyntax.JPEGBaseline8Bit, TransferSyntax.JPEGBaseline8Bit]);
    expect(reads.whole).toBe(0);
    // A header prefix (64 KiB), then the span of frames 23 and 24 with their item headers and the delimiter.
    expect(reads.ranged).toBeLessThanOrEqual(64 * 1024 + 2 * (frameLength + 8) + 8);
  });

  it('reads the frames of a large encapsulated instance without an offset table by the offsets its index entry keeps', async () => {
    // 24 frames of 256 x 256 fake JPEG bitstreams, one fragment each, no offset table: 1.5 MiB.
    const bytes = makeInstance({
      transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit,
      rows: 256,
      columns: 256,
      numberOfFrames: 24,
      offsetTable: 'none',
    });
    const { studyInstanceUID, seriesInstanceUID, sopInstanceUID } = readPart10(bytes);
    await seed(bytes);
    const entry = await index.getInstance(studyInstanceUID, seriesInstanceUID, sopInstanceUID);
    const frameBytes = 256 * 256 + 4; // SOI, the bytes, EOI
    expect(entry!.instance!.frameOffsets).toEqual(Array.from({ length: 25 }, (_, k) => k * (8 + frameBytes)));
    const reads = countReads();

    const parts = await partsOf(
      await retrieve.retrieveFrames({ ...request({ studyInstanceUID, seriesInstanceUID, sopInstanceUID }, ANY_OCTETS), frames: '7,3' }),
    );

    expect(parts.map((p) => Buffer.from(p.body))).toEqual([
      Buffer.from(fakeJpegFrame(7, 256 * 256)),
      Buffer.from(fakeJpegFrame(3, 256 * 256)),
    ]);
    // The header prefix (which holds the empty table), then the two frames' items by range.
    expect(reads).toEqual({ whole: 0, ranged: 64 * 1024 + 2 * (8 + frameBytes), streamed: 0 });
  });

  it('streams the items, keeping only the frames asked, when the index entry keeps no offsets (stored before it did)', async () => {
    const bytes = makeInstance({
      transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit,
      rows: 256,
      columns: 256,
      numberOfFrames: 24,
      offsetTable: 'none',
    });
    const { studyInstanceUID, seriesInstanceUID, sopInstanceUID } = readPart10(bytes);
    await seed(bytes);
    const entry = (await index.getInstance(studyInstanceUID, seriesInstanceUID, sopInstanceUID))!;
    await index.deleteEntry(entry);
    await index.putInstance({ ...entry, instance: { ...entry.instance!, frameOffsets: undefined } });
    const reads = countReads();

    const parts = await partsOf(
      await retrieve.retrieveFrames({ ...request({ studyInstanceUID, seriesInstanceUID, sopInstanceUID }, ANY_OCTETS), frames: '7,3' }),
    );

    expect(parts.map((p) => Buffer.from(p.body))).toEqual([
      Buffer.from(fakeJpegFrame(7, 256 * 256)),
      Buffer.from(fakeJpegFrame(3, 256 * 256)),
    ]);
    expect(reads.whole).toBe(0);
    expect(reads.ranged).toBe(64 * 1024); // the header prefix, which holds the empty table
    expect(reads.streamed).toBeGreaterThan(bytes.length - 64 * 1024); // the items, from the first fragment
  });

  it('reads a header longer than the prefix, and the frames its Extended Offset Table names only', async () => {
    // 5,000 frames of 16 x 16 in 1.3 MiB; the Extended Offset Table and its Lengths are 80 KB of header.
    const bytes = makeInstance({
      transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit,
      rows: 16,
      columns: 16,
      numberOfFrames: 5000,
      offsetTable: 'extended',
    });
    const { studyInstanceUID, seriesInstanceUID, sopInstanceUID } = readPart10(bytes);
    await seed(bytes);
    const reads = countReads();

    const parts = await partsOf(
      await retrieve.retrieveFrames({ ...request({ studyInstanceUID, seriesInstanceUID, sopInstanceUID }, ANY_OCTETS), frames: '4321,2' }),
    );

    expect(parts.map((p) => Buffer.from(p.body))).toEqual([Buffer.from(fakeJpegFrame(4321, 256)), Buffer.from(fakeJpegFrame(2, 256))]);
    expect(reads).toMatchObject({ whole: 0, streamed: 0 });
    // The header (80 KB) read on from the prefix until it ends, with 64 KiB more, then frame 4321's item.
    expect(reads.ranged).toBeLessThanOrEqual(82_000 + 64 * 1024 + 8 + 260);
  });

  it('serves a frame of a 300 MB multi-frame instance by reading its header and that frame only', async () => {
    // 150 frames of 1024 x 1024 x 16 bits (300 MiB): stored as 1 x 1 pixels, then the header's Rows,
    // Columns and Pixel Data length made those of the large instance, whose pixels are computed on read.
    const FRAMES = 150;
    const frameLength = 1024 * 1024 * 2;
    const small = makeInstance({ rows: 1, columns: 1, bitsAllocated: 16, numberOfFrames: FRAMES });
    const { studyInstanceUID, seriesInstanceUID, sopInstanceUID } = readPart10(small);
    await seed(small);
    const scan = scanPart10Header(small, PIXEL_DATA_SCAN_STOP)!;
    const header = Buffer.from(small.subarray(0, scan.stop.valueStart));
    for (const tag of [Tag.Rows, Tag.Columns]) header.writeUInt16LE(1024, scan.elements.get(parseInt(tag, 16))!.valueStart);
    header.writeUInt32LE(FRAMES * frameLength, scan.stop.valueStart - 4);
    const size = header.length + FRAMES * frameLength;
    const entry = (await index.getInstance(studyInstanceUID, seriesInstanceUID, sopInstanceUID))!;
    await index.deleteEntry(entry);
    await index.putInstance({ ...entry, instance: { ...entry.instance!, size } });
    const byteAt = (at: number) => {
      const offset = at - header.length;
      return offset < 0 ? header[at]! : ((offset % frameLength) * 7 + Math.floor(offset / frameLength) + 1) & 0xff;
    };
    const reads = { whole: 0, ranged: 0, streamed: 0 };
    const large: typeof blobs = Object.assign(Object.create(blobs) as MemoryBlobStore, {
      get: async () => ((reads.whole += 1), undefined),
      getStream: async () => ((reads.streamed += 1), undefined),
      getRange: async (_key: string, start: number, end: number) => {
        const bytes = new Uint8Array(Math.min(end, size) - start);
        for (let i = 0; i < bytes.length; i++) bytes[i] = byteAt(start + i);
        reads.ranged += bytes.length;
        return bytes;
      },
    });
    retrieve = new RetrieveService(index, large, { maxResponseBytes: 10 * 1024 * 1024 });

    const uids = { studyInstanceUID, seriesInstanceUID, sopInstanceUID };
    const [part] = await partsOf(await retrieve.retrieveFrames({ ...request(uids, DEFAULT_OCTETS), frames: '137' }));

    expect(Buffer.from(part!.body).equals(Buffer.from(pixelFrame(137, frameLength)))).toBe(true);
    expect(reads).toMatchObject({ whole: 0, streamed: 0 });
    // The header prefix (64 KiB), then the frame: about 2 MiB of the 300.
    expect(reads.ranged).toBeLessThanOrEqual(64 * 1024 + frameLength);
  });

  it('refuses frames over the response limit before reading them, from the offset table', async () => {
    const bytes = makeInstance({ transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit, rows: 256, columns: 256, numberOfFrames: 24 });
    const { studyInstanceUID, seriesInstanceUID, sopInstanceUID } = readPart10(bytes);
    await seed(bytes);
    retrieve = new RetrieveService(index, blobs, { maxResponseBytes: 3 * 256 * 256 });
    const reads = countReads();

    await expect(
      retrieve.retrieveFrames({ ...request({ studyInstanceUID, seriesInstanceUID, sopInstanceUID }, ANY_OCTETS), frames: '1,5,9,13' }),
    ).rejects.toThrow(PayloadTooLargeError);
    expect(reads).toEqual({ whole: 0, ranged: 64 * 1024, streamed: 0 }); // the header prefix, which holds the table
  });

  it('answers 406, not 500, for a stored object that cannot be read for its frames or values (stored by an earlier version)', async () => {
    const bytes = makeInstance({ transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit, rows: 4, columns: 4, numberOfFrames: 3 });
    const { studyInstanceUID, seriesInstanceUID, sopInstanceUID } = readPart10(bytes);
    await seed(bytes);
    // Frame 2's Basic Offset Table entry 2 bytes into its item: the walk declines, dcmjs refuses.
    const { stop } = scanPart10Header(bytes, PIXEL_DATA_SCAN_STOP)!;
    const corrupted = Buffer.from(bytes);
    corrupted.writeUInt32LE(corrupted.readUInt32LE(stop.valueStart + 8 + 4) + 2, stop.valueStart + 8 + 4);
    const key = (await index.getInstance(studyInstanceUID, seriesInstanceUID, sopInstanceUID))!.instance!.objectKey;
    await blobs.put(key, corrupted, 'application/dicom');
    const uids = { studyInstanceUID, seriesInstanceUID, sopInstanceUID };
    await expect(retrieve.retrieveFrames({ ...request(uids, ANY_OCTETS), frames: '2' })).rejects.toThrow(NotAcceptableError);
    await expect(retrieve.retrieveBulkdata({ ...request(uids, ANY_OCTETS), tag: '00880200.0.7FE00010' })).rejects.toThrow(
      NotAcceptableError,
    );
    // The instance itself is served as stored.
    expect(Buffer.from((await partsOf(await retrieve.retrieveInstance({ ...request(uids, ANY_DICOM) })))[0]!.body).equals(corrupted)).toBe(
      true,
    );
  });

  it('parses a frame list, dropping repeated numbers', () => {
    expect(parseFrameList('1, 3,5,3')).toEqual([1, 3, 5]);
  });
});

describe('retrieve metadata (PS3.18 10.4.1.1.2)', () => {
  it('streams a DICOM JSON array whose BulkDataURIs are absolute and serve the value', async () => {
    const study = makeStudy({ series: 1, instancesPerSeries: 3, rows: 16, columns: 16, bitsAllocated: 8 });
    await seed(...study.instances.map((i) => i.bytes));

    const response = await retrieve.retrieveStudyMetadata(request({ studyInstanceUID: study.studyInstanceUID }));

    expect(response.status).toBe(200);
    expect(response.headers?.['Content-Type']).toBe('application/dicom+json');
    const datasets = await jsonOf(response);
    expect(datasets.map((d) => d[Tag.SOPInstanceUID]?.Value?.[0]).sort()).toEqual(study.instances.map((i) => i.sopInstanceUID).sort());
    const first = study.instances[0]!;
    const dataset = datasets.find((d) => d[Tag.SOPInstanceUID]?.Value?.[0] === first.sopInstanceUID)!;
    const uri = dataset[Tag.PixelData]?.BulkDataURI;
    const instanceUrl = `${BASE_URL}/studies/${study.studyInstanceUID}/series/${first.seriesInstanceUID}/instances/${first.sopInstanceUID}`;
    expect(uri).toBe(`${instanceUrl}/bulkdata/${Tag.PixelData}`);

    const bulk = await retrieve.retrieveBulkdata({
      ...request({
        studyInstanceUID: study.studyInstanceUID,
        seriesInstanceUID: first.seriesInstanceUID,
        sopInstanceUID: first.sopInstanceUID,
      }),
      tag: uri!.split('/bulkdata/')[1],
    });
    const [part] = await partsOf(bulk);
    expect(Buffer.from(part!.body).equals(Buffer.from(pixelFrame(1, 16 * 16)))).toBe(true);
    expect(part!.headers['content-location']).toBe(uri);
  });

  it('answers application/json to a client that accepts only that, 406 to one that accepts neither', async () => {
    const bytes = makeInstance();
    const { studyInstanceUID } = readPart10(bytes);
    await seed(bytes);
    const json = await retrieve.retrieveStudyMetadata(request({ studyInstanceUID }, 'application/json'));
    expect(json.headers?.['Content-Type']).toBe('application/json');
    expect(await jsonOf(json)).toHaveLength(1);
    await expect(retrieve.retrieveStudyMetadata(request({ studyInstanceUID }, ANY_DICOM))).rejects.toThrow(NotAcceptableError);
  });
  it('lets the accept query parameter replace the Accept header (PS3.18 8.3.3.1)', async () => {
    const bytes = makeInstance();
    const { studyInstanceUID } = readPart10(bytes);
    await seed(bytes);
    const response = await retrieve.retrieveStudyMetadata({ ...request({ studyInstanceUID }, ANY_DICOM), acceptQuery: 'application/json' });
    expect(response.headers?.['Content-Type']).toBe('application/json');
  });

  it('makes relative BulkDataURIs absolute inside sequence items too, leaving absolute ones alone', () => {
    const dataset: DicomJson = {
      '00540016': {
        vr: 'SQ',
        Value: [{ '00181072': { vr: 'OB', BulkDataURI: '/studies/1/series/2/instances/3/bulkdata/00540016.0.00181072' } }],
      },
      '7FE00010': { vr: 'OW', BulkDataURI: 'https://elsewhere.example/x' },
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Test^Patient' }] },
    };
    const out = withAbsoluteBulkDataURIs(dataset, `${BASE_URL}/`);
    const item = (out['00540016']!.Value![0] as DicomJson)['00181072'];
    expect(item?.BulkDataURI).toBe(`${BASE_URL}/studies/1/series/2/instances/3/bulkdata/00540016.0.00181072`);
    expect(out['7FE00010']?.BulkDataURI).toBe('https://elsewhere.example/x');
    expect(out['00100010']).toEqual(dataset['00100010']);
    // The stored object is not modified.
    expect((dataset['00540016']!.Value![0] as DicomJson)['00181072']?.BulkDataURI).toMatch(/^\/studies\//);
  });
});

describe('retrieve bulkdata (PS3.18 10.4.1.1.5)', () => {
  it('answers 404 for a tag the instance lacks and 400 for a malformed tag path', async () => {
    const bytes = makeInstance();
    const { studyInstanceUID, seriesInstanceUID, sopInstanceUID } = readPart10(bytes);
    await seed(bytes);
    const uids = { studyInstanceUID, seriesInstanceUID, sopInstanceUID };
    await expect(retrieve.retrieveBulkdata({ ...request(uids), tag: '00091010' })).rejects.toThrow(NotFoundError);
    await expect(retrieve.retrieveBulkdata({ ...request(uids), tag: '7FE0' })).rejects.toThrow(BadRequestError);
  });

  async function bulkOf(bytes: Uint8Array, tag: string, service = retrieve): Promise<Buffer> {
    const { studyInstanceUID, seriesInstanceUID, sopInstanceUID } = readPart10(bytes);
    const [part] = await partsOf(
      await service.retrieveBulkdata({ ...request({ studyInstanceUID, seriesInstanceUID, sopInstanceUID }, ANY_OCTETS), tag }),
    );
    return Buffer.from(part!.body);
  }

  it('returns the bytes dcmjs reads, top-level values found by the header walk and nested ones by dcmjs', async () => {
    const extra = {
      RedPaletteColorLookupTableData: pixelFrame(9, 512).buffer,
      IconImageSequence: [{ Rows: 2, Columns: 2, PixelData: pixelFrame(5, 32).buffer }],
    };
    const explicit = makeInstance({ rows: 8, columns: 8, extra });
    const implicit = makeInstance({ rows: 8, columns: 8, transferSyntaxUID: TransferSyntax.ImplicitVRLittleEndian, extra });
    await seed(explicit, implicit);
    for (const [bytes, tag] of [
      [explicit, Tag.PixelData],
      [explicit, '00281201'],
      [explicit, '00880200.0.7FE00010'],
      [implicit, Tag.PixelData],
      [implicit, '00281201'],
    ] as const) {
      const expected = getBulkData(readPart10(bytes).dict, tag.replaceAll('.', '/'))!;
      expect(await bulkOf(bytes, tag)).toEqual(Buffer.from(expected));
    }
  });

  it('returns the fragments of encapsulated Pixel Data as dcmjs reads them, streamed from a large object, refused past the limit', async () => {
    const small = makeInstance({ transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit, rows: 4, columns: 4, numberOfFrames: 3 });
    // 24 frames of 256 x 256 fake JPEG bitstreams without an offset table: 1.5 MiB, above the size read whole.
    const large = makeInstance({
      transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit,
      rows: 256,
      columns: 256,
      numberOfFrames: 24,
      offsetTable: 'none',
    });
    await seed(small, large);
    for (const bytes of [small, large]) {
      const expected = getBulkData(readPart10(bytes).dict, Tag.PixelData)!;
      expect((await bulkOf(bytes, Tag.PixelData)).equals(expected)).toBe(true);
    }
    const reads = countReads();
    await bulkOf(large, Tag.PixelData);
    expect(reads).toMatchObject({ whole: 0, ranged: 64 * 1024 });
    expect(reads.streamed).toBeGreaterThan(large.length - 64 * 1024);

    reads.streamed = 0;
    const limited = new RetrieveService(index, blobs, { maxResponseBytes: 256 * 1024 });
    await expect(bulkOf(large, Tag.PixelData, limited)).rejects.toThrow(PayloadTooLargeError);
    expect(reads.whole).toBe(0);
    expect(reads.streamed).toBeLessThan(512 * 1024); // let go once past the limit, not read to the end
  });

  it("reads a large instance's Pixel Data by range after its header, and refuses one over the limit before reading it", async () => {
    // 24 frames of 256 x 256 x 16 bits: 3 MiB of pixel data, above the size read whole.
    const bytes = makeInstance({ rows: 256, columns: 256, bitsAllocated: 16, numberOfFrames: 24 });
    await seed(bytes);
    const reads = countReads();
    const pixels = Buffer.concat(Array.from({ length: 24 }, (_, f) => pixelFrame(f + 1, 256 * 256 * 2)));

    expect((await bulkOf(bytes, Tag.PixelData)).equals(pixels)).toBe(true);
    expect(reads).toEqual({ whole: 0, ranged: 64 * 1024 + pixels.length, streamed: 0 }); // the header prefix, then the value

    reads.ranged = 0;
    const small = new RetrieveService(index, blobs, { maxResponseBytes: 1024 * 1024 });
    await expect(bulkOf(bytes, Tag.PixelData, small)).rejects.toThrow(PayloadTooLargeError);
    expect(reads).toEqual({ whole: 0, ranged: 64 * 1024, streamed: 0 });
  });
});
