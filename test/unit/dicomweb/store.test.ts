/** Unit: the Store service (STOW-RS, PS3.18 10.5) over in-memory ports: order, duplicates, concurrency. */
import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { numberOfFrames } from '../../../lambdas/dicom/frames/instance';
import { readPart10 } from '../../../lambdas/dicom/part10';
import { Tag } from '../../../lambdas/dicom/tags';
import { BadRequestError, ServiceUnavailableError } from '../../../lambdas/dicomweb/errors';
import { StoreService } from '../../../lambdas/dicomweb/store';
import { bodyOf } from '../../../lambdas/dicomweb/messages';
import { inImplicitVR, makeInstance, makeStudy, withOtherFileMeta } from '../../support/dicom-factory';
import { stowBody } from '../../support/http';
import { MemoryBlobStore } from '../../support/memory-blobs';
import { MemoryMetadataIndex } from '../../support/memory-index';

function setup() {
  const index = new MemoryMetadataIndex();
  const blobs = new MemoryBlobStore();
  const store = new StoreService(index, blobs, { bulkDataThreshold: 1024, maxRequestBytes: 50_000_000 });
  const post = (files: Uint8Array[]) => {
    const { body, contentType } = stowBody(files);
    return store.storeInstances({ contentType, body: bodyOf(body), baseUrl: 'http://archive' });
  };
  /** POSTs a body given as chunks, counting how many chunks the service has read. */
  const postChunks = (chunks: readonly Uint8Array[], read = { chunks: 0 }) =>
    store.storeInstances({
      contentType: `multipart/related; type="application/dicom"; boundary=${BOUNDARY}`,
      body: {
        byteLength: chunks.reduce((n, c) => n + c.byteLength, 0),
        async *chunks() {
          for (const chunk of chunks) {
            read.chunks++;
            yield chunk;
          }
        },
      },
      baseUrl: 'http://archive',
    });
  return { index, blobs, store, post, postChunks };
}

const BOUNDARY = 'unit-boundary';
/** One chunk per part: the boundary line, the part's headers and the instance. */
const partChunk = (file: Uint8Array) =>
  Buffer.concat([Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`), file, Buffer.from('\r\n')]);
const closeChunk = Buffer.from(`--${BOUNDARY}--\r\n`);
const storedSops = (index: MemoryMetadataIndex) =>
  index
    .all()
    .filter((e) => e.level === 'INSTANCE')
    .map((e) => e.sopInstanceUID);

/** The Study, Series and SOP Instance UIDs of a file, to make another data set under them. */
const uidsOf = (file: Uint8Array) => {
  const { studyInstanceUID, seriesInstanceUID, sopInstanceUID } = readPart10(file);
  return { studyInstanceUID, seriesInstanceUID, sopInstanceUID };
};

const sopsOf = (seq: unknown) =>
  ((seq as { Value?: Record<string, { Value?: unknown[] }>[] } | undefined)?.Value ?? []).map(
    (i) => i[Tag.ReferencedSOPInstanceUID]!.Value![0],
  );

describe('StoreService.storeInstances', () => {
  it('lists the instances in request order while storing several at once, counters exact', async () => {
    const { index, post } = setup();
    const study = makeStudy({ series: 2, instancesPerSeries: 4 });
    const r = await post(study.instances.map((i) => i.bytes));
    expect(r.status).toBe(200);
    expect(sopsOf(r.response[Tag.ReferencedSOPSequence])).toEqual(study.instances.map((i) => i.sopInstanceUID));
    const entry = await index.getStudy(study.studyInstanceUID);
    expect([entry?.relatedSeries, entry?.relatedInstances]).toEqual([2, 8]);
  });

  it('keeps the frame count the frame readers read: NumberOfFrames, 1 without it or below 1, 0 without Pixel Data', async () => {
    const { index, post } = setup();
    const study = { studyInstanceUID: '1.2.826.0.1.3680043.10.511.7', seriesInstanceUID: '1.2.826.0.1.3680043.10.511.7.1' };
    const files = [
      makeInstance({ ...study, numberOfFrames: 3 }),
      makeInstance({ ...study }),
      makeInstance({ ...study, extra: { NumberOfFrames: 0 } }),
      makeInstance({ ...study, omit: ['PixelData'] }),
    ];
    expect((await post(files)).status).toBe(200);
    const kept = await Promise.all(
      files.map(async (bytes) => {
        const uid = readPart10(bytes).dict[Tag.SOPInstanceUID]!.Value![0] as string;
        return (await index.getInstance(study.studyInstanceUID, study.seriesInstanceUID, uid))?.instance?.numberOfFrames;
      }),
    );
    expect(kept).toEqual([3, 1, 1, 0]);
    expect(kept).toEqual(files.map((bytes) => numberOfFrames(readPart10(bytes))));
  });

  it('one SOP Instance UID twice with different content: one stored, the other refused (0111), the object matches its entry', async () => {
    const { index, blobs, post } = setup();
    const first = makeInstance({ patientName: 'First^One' });
    const sop = readPart10(first);
    const second = makeInstance({
      studyInstanceUID: sop.studyInstanceUID,
      seriesInstanceUID: sop.seriesInstanceUID,
      sopInstanceUID: sop.sopInstanceUID,
      patientName: 'Second^Two',
    });
    const r = await post([first, second]);
    expect(r.status).toBe(202);
    expect(r.stored).toBe(1);
    expect(r.response[Tag.FailedSOPSequence]!.Value![0]).toMatchObject({ [Tag.FailureReason]: { Value: [0x0111] } });
    const entry = await index.getInstance(sop.studyInstanceUID, sop.seriesInstanceUID, sop.sopInstanceUID);
    const stored = await blobs.get(entry!.instance!.objectKey);
    expect(createHash('sha256').update(stored!).digest('hex')).toBe(entry!.instance!.digest);
    expect((await index.getStudy(sop.studyInstanceUID))?.relatedInstances).toBe(1);
  });

  it('the same instance twice in one request: both referenced, stored once', async () => {
    const { index, post } = setup();
    const file = makeInstance();
    const r = await post([file, file]);
    expect(r.status).toBe(200);
    expect(r.stored).toBe(2);
    const all = index.all().filter((e) => e.level === 'INSTANCE');
    expect(all).toHaveLength(1);
  });

  describe('duplicates judged on the data set, not the file', () => {
    const storedBytes = async (index: MemoryMetadataIndex, blobs: MemoryBlobStore, file: Uint8Array) => {
      const i = readPart10(file);
      const entry = await index.getInstance(i.studyInstanceUID, i.seriesInstanceUID, i.sopInstanceUID);
      return blobs.get(entry!.instance!.objectKey);
    };

    it('[studies.store.200] the same data set in other File Meta Information or in Implicit VR: 200, referenced, the first file kept', async () => {
      const { index, blobs, post } = setup();
      const first = makeInstance();
      expect((await post([first])).status).toBe(200);
      for (const again of [withOtherFileMeta(first, 'MODALITY'), inImplicitVR(first)]) {
        expect(Buffer.compare(again, first)).not.toBe(0);
        const r = await post([again]);
        expect(r.status).toBe(200);
        expect(sopsOf(r.response[Tag.ReferencedSOPSequence])).toEqual([readPart10(first).sopInstanceUID]);
        expect(r.response[Tag.FailedSOPSequence]).toBeUndefined();
      }
      expect(Buffer.compare((await storedBytes(index, blobs, first))!, first)).toBe(0);
      expect(index.all().filter((e) => e.level === 'INSTANCE')).toHaveLength(1);
      expect((await index.getStudy(readPart10(first).studyInstanceUID))?.relatedInstances).toBe(1);
    });

    it('[studies.store.reason.0111] another data set under the stored SOP Instance UID, in any File Meta Information: 0111, the first kept', async () => {
      const { index, blobs, post } = setup();
      const first = makeInstance({ patientName: 'First^One' });
      const i = readPart10(first);
      const other = makeInstance({ ...uidsOf(first), patientName: 'Other^One' });
      await post([first]);
      for (const again of [other, withOtherFileMeta(other, 'MODALITY'), inImplicitVR(other)]) {
        const r = await post([again]);
        expect(r.status).toBe(409);
        expect(r.response[Tag.FailedSOPSequence]!.Value![0]).toMatchObject({ [Tag.FailureReason]: { Value: [0x0111] } });
      }
      expect(Buffer.compare((await storedBytes(index, blobs, first))!, first)).toBe(0);
      expect((await index.getInstance(i.studyInstanceUID, i.seriesInstanceUID, i.sopInstanceUID))?.instance?.datasetDigest).toMatch(
        /^[0-9a-f]{64}$/,
      );
    });

    it('an entry stored before data set digests existed: its object is read once and judged by its data set', async () => {
      const { index, blobs, post } = setup();
      const first = makeInstance();
      // The entry as stored before: its file digest only.
      const put = index.putInstance.bind(index);
      vi.spyOn(index, 'putInstance').mockImplementationOnce(async (entry) => {
        const { datasetDigest: _, ...instance } = entry.instance!;
        return put({ ...entry, instance });
      });
      await post([first]);
      const i = readPart10(first);
      expect((await index.getInstance(i.studyInstanceUID, i.seriesInstanceUID, i.sopInstanceUID))?.instance).not.toHaveProperty(
        'datasetDigest',
      );

      const reads = vi.spyOn(blobs, 'get');
      expect((await post([first])).status).toBe(200); // the same bytes: no read
      expect(reads).not.toHaveBeenCalled();
      expect((await post([withOtherFileMeta(first, 'PACS')])).status).toBe(200);
      expect(reads).toHaveBeenCalledTimes(1);
      const other = makeInstance({ ...uidsOf(first), patientName: 'Other^One' });
      expect((await post([other])).status).toBe(409);
      expect(Buffer.compare((await storedBytes(index, blobs, first))!, first)).toBe(0);
    });

    it('a concurrent writer of the same data set in another file won the conditional put: referenced, its file kept', async () => {
      const { index, blobs, post } = setup();
      const first = makeInstance();
      const again = withOtherFileMeta(first, 'MODALITY');
      // Both look for the SOP Instance UID before either has written it (as in two processes).
      const query = index.query.bind(index);
      vi.spyOn(index, 'query').mockImplementation((q) => (q.by === 'uid' ? (async function* () {})() : query(q)));
      const put = index.putInstance.bind(index);
      // The winner's entry predates data set digests, so the loser judges it from its object.
      vi.spyOn(index, 'putInstance').mockImplementationOnce(async (entry) => {
        const { datasetDigest: _, ...instance } = entry.instance!;
        return put({ ...entry, instance });
      });
      expect((await post([first])).status).toBe(200);
      const r = await post([again]);
      expect(r.status).toBe(200);
      expect(Buffer.compare((await storedBytes(index, blobs, first))!, first)).toBe(0);
      // The loser's objects are removed: only the winner's instance and metadata remain.
      expect([...blobs.objects.keys()].filter((k) => k.endsWith('.dcm'))).toHaveLength(1);
    });
  });

  it('an unavailable object store fails the request with 503 and leaves no instance entry', async () => {
    const { index, blobs, post } = setup();
    blobs.put = async () => Promise.reject(new ServiceUnavailableError('S3 is unavailable, retry later'));
    await expect(post(makeStudy({ series: 1, instancesPerSeries: 6 }).instances.map((i) => i.bytes))).rejects.toBeInstanceOf(
      ServiceUnavailableError,
    );
    expect(index.all().filter((e) => e.level === 'INSTANCE')).toEqual([]);
  });

  it('writes the counters once per series and study of a request, counting only created instances', async () => {
    const { index, post } = setup();
    const study = makeStudy({ series: 2, instancesPerSeries: 5, modality: 'MR' });
    const calls = { series: 0, study: 0 };
    const addSeries = index.addSeriesCounters.bind(index);
    const addStudy = index.addStudyCounters.bind(index);
    index.addSeriesCounters = (...args) => (calls.series++, addSeries(...args));
    index.addStudyCounters = (...args) => (calls.study++, addStudy(...args));

    await post(study.instances.map((i) => i.bytes));
    // Two series: one ADD each; the study: one ADD, its created series counted with its instances.
    expect(calls).toEqual({ series: 2, study: 1 });
    expect(await index.getStudy(study.studyInstanceUID)).toMatchObject({ relatedSeries: 2, relatedInstances: 10, modalities: ['MR'] });
    const series = await index.getSeries(study.studyInstanceUID, study.instances[0]!.seriesInstanceUID);
    expect(series?.relatedInstances).toBe(5);

    // A re-store creates nothing, so it counts nothing.
    await post(study.instances.map((i) => i.bytes));
    expect((await index.getStudy(study.studyInstanceUID))?.relatedInstances).toBe(10);
  });

  it('counts what a failing request created before it failed', async () => {
    const { index, blobs, post } = setup();
    const study = makeStudy({ series: 1, instancesPerSeries: 8 });
    const put = blobs.put.bind(blobs);
    let puts = 0;
    // Two objects per instance: the fifth instance's first put fails, after four were stored.
    blobs.put = async (...args) =>
      ++puts > 8 ? Promise.reject(new ServiceUnavailableError('S3 is unavailable, retry later')) : put(...args);
    await expect(post(study.instances.map((i) => i.bytes))).rejects.toBeInstanceOf(ServiceUnavailableError);
    const created = index.all().filter((e) => e.level === 'INSTANCE').length;
    expect(created).toBeGreaterThan(0);
    expect((await index.getStudy(study.studyInstanceUID))?.relatedInstances).toBe(created);
    expect((await index.getSeries(study.studyInstanceUID, study.instances[0]!.seriesInstanceUID))?.relatedInstances).toBe(created);
  });

  it('counts a series the request created in its study, also when none of its instances was stored', async () => {
    const { index, blobs, post } = setup();
    const study = makeStudy({ series: 1, instancesPerSeries: 2 });
    blobs.put = () => Promise.reject(new ServiceUnavailableError('S3 is unavailable, retry later'));
    await expect(post(study.instances.map((i) => i.bytes))).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(await index.getStudy(study.studyInstanceUID)).toMatchObject({ relatedSeries: 1, relatedInstances: 0 });
  });

  it('writes no ensure for a study and series already indexed: only a new series is ensured', async () => {
    const { index, post } = setup();
    const study = makeStudy({ series: 2, instancesPerSeries: 2 });
    const [a1, a2, b1] = study.instances;
    await post([a1!.bytes]);
    const ensures: string[] = [];
    const ensureStudy = index.ensureStudy.bind(index);
    const ensureSeries = index.ensureSeries.bind(index);
    index.ensureStudy = (e) => (ensures.push('study'), ensureStudy(e));
    index.ensureSeries = (e) => (ensures.push('series'), ensureSeries(e));
    await post([a2!.bytes]);
    expect(ensures).toEqual([]);
    await post([b1!.bytes]);
    expect(ensures).toEqual(['series']);
    expect(await index.getStudy(study.studyInstanceUID)).toMatchObject({ relatedSeries: 2, relatedInstances: 3 });
  });

  it('a re-store after a delete clears the tombstones of the instance, its series and its study', async () => {
    const { index, post } = setup();
    const study = makeStudy({ series: 1, instancesPerSeries: 3 });
    const uids = (i: (typeof study.instances)[number]) => ({
      studyInstanceUID: study.studyInstanceUID,
      seriesInstanceUID: i.seriesInstanceUID,
      sopInstanceUID: i.sopInstanceUID,
    });
    const deletedAt = '2026-01-01T00:00:00.000Z';
    await index.putTombstone({ level: 'STUDY', studyInstanceUID: study.studyInstanceUID, deletedAt });
    await index.putTombstone({ level: 'INSTANCE', ...uids(study.instances[0]!), deletedAt });
    expect((await post(study.instances.map((i) => i.bytes))).status).toBe(200);
    for (const i of study.instances) expect(await index.findTombstone({ level: 'INSTANCE', ...uids(i) })).toBeUndefined();
  });

  it('reads the body only as parts are stored: at most the parts in flight and the one being read', async () => {
    const { blobs, postChunks } = setup();
    const study = makeStudy({ series: 1, instancesPerSeries: 12 });
    const read = { chunks: 0 };
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const put = blobs.put.bind(blobs);
    let waiting = 0;
    blobs.put = async (...args) => {
      waiting++;
      await gate;
      return put(...args);
    };
    const result = postChunks([...study.instances.map((i) => partChunk(i.bytes)), closeChunk], read);
    // Four instances wait on the object store (two puts each); nothing more is read meanwhile.
    await vi.waitFor(() => expect(waiting).toBe(8));
    await new Promise((resolve) => setTimeout(resolve, 20));
    // A part ends at the next part's boundary: the four parts in flight, and the chunk that ended the fourth.
    expect(read.chunks).toBe(5);
    open();
    expect((await result).stored).toBe(12);
    expect(read.chunks).toBe(13);
  });

  it('a body malformed after stored parts: 202 with them, a C000 item for the unreadable rest, a Warning; nothing after it stored', async () => {
    const { index, postChunks } = setup();
    const [one, two, three] = makeStudy({ series: 1, instancesPerSeries: 3 }).instances;
    // The third part never ends: no closing delimiter follows it.
    const r = await postChunks([partChunk(one!.bytes), partChunk(two!.bytes), partChunk(three!.bytes)]);
    expect(r.status).toBe(202);
    expect(sopsOf(r.response[Tag.ReferencedSOPSequence])).toEqual([one!.sopInstanceUID, two!.sopInstanceUID]);
    expect(r.response[Tag.FailedSOPSequence]!.Value).toEqual([
      {
        [Tag.ReferencedSOPClassUID]: { vr: 'UI' },
        [Tag.ReferencedSOPInstanceUID]: { vr: 'UI' },
        [Tag.FailureReason]: { vr: 'US', Value: [0xc000] },
      },
    ]);
    expect(r.warning).toMatch(/^299 archive "malformed multipart body: missing closing delimiter after part 2/);
    expect(storedSops(index).sort()).toEqual([one!.sopInstanceUID, two!.sopInstanceUID].sort());
  });

  it('[studies.store.reason.a700] a request whose time runs out: 202 with what was stored, A700 for the rest with their UIDs, a Warning', async () => {
    const { index, store } = setup();
    const study = makeStudy({ series: 1, instancesPerSeries: 10 });
    const { body, contentType } = stowBody(study.instances.map((i) => i.bytes));
    // The function's clock: each part read costs 3 s of an 18 s timeout.
    let remaining = 18_000;
    const r = await store.storeInstances({
      contentType,
      body: bodyOf(body),
      baseUrl: 'http://archive',
      remainingMillis: () => (remaining -= 3_000) + 3_000,
    });
    expect(r.status).toBe(202);
    const stored = sopsOf(r.response[Tag.ReferencedSOPSequence]);
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.length).toBeLessThan(10);
    const failed = r.response[Tag.FailedSOPSequence]!.Value as Record<string, { Value?: unknown[] }>[];
    expect(failed.map((f) => f[Tag.FailureReason]!.Value![0])).toEqual(failed.map(() => 0xa700));
    expect([...stored, ...failed.map((f) => f[Tag.ReferencedSOPInstanceUID]!.Value![0])]).toEqual(
      study.instances.map((i) => i.sopInstanceUID),
    );
    expect(failed[0]![Tag.ReferencedSOPClassUID]!.Value).toEqual(['1.2.840.10008.5.1.4.1.1.2']); // CT Image Storage
    expect(r.warning).toMatch(new RegExp(`^299 archive "the request's time ran out: ${failed.length} instances were not stored`));
    expect(storedSops(index).sort()).toEqual([...stored].sort());
  });

  it('a request with time left stores every part and says nothing of time', async () => {
    const { store } = setup();
    const study = makeStudy({ series: 1, instancesPerSeries: 3 });
    const { body, contentType } = stowBody(study.instances.map((i) => i.bytes));
    const r = await store.storeInstances({ contentType, body: bodyOf(body), baseUrl: 'http://archive', remainingMillis: () => 17_000 });
    expect(r.status).toBe(200);
    expect(r.warning).toBeUndefined();
  });

  it('a body malformed before any instance is stored: 400 as a whole malformed body, nothing stored', async () => {
    const { index, postChunks } = setup();
    const [one] = makeStudy({ series: 1, instancesPerSeries: 1 }).instances;
    const notDicom = Buffer.from(`--${BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nhello\r\n`);
    const cases: Uint8Array[][] = [
      // the first part's headers never end
      [Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n`), one!.bytes, closeChunk],
      // a part that fails (not application/dicom), then no closing delimiter
      [notDicom, partChunk(one!.bytes).subarray(0, 100)],
      // no opening boundary at all
      [one!.bytes],
      // empty
      [],
    ];
    for (const chunks of cases) {
      const error = await postChunks(chunks).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BadRequestError);
      expect((error as BadRequestError).message).toMatch(/^malformed multipart body: /);
    }
    expect(storedSops(index)).toEqual([]);
  });
});
