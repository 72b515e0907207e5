/** Unit: the Store service (STOW-RS, PS3.18 10.5) over in-memory ports: order, duplicates, concurrency. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readPart10 } from '../../../lambdas/dicom/part10';
import { Tag } from '../../../lambdas/dicom/tags';
import { ServiceUnavailableError } from '../../../lambdas/dicomweb/errors';
import { StoreService } from '../../../lambdas/dicomweb/store';
import { makeInstance, makeStudy } from '../../support/dicom-factory';
import { stowBody } from '../../support/http';
import { MemoryBlobStore } from '../../support/memory-blobs';
import { MemoryMetadataIndex } from '../../support/memory-index';

function setup() {
  const index = new MemoryMetadataIndex();
  const blobs = new MemoryBlobStore();
  const store = new StoreService(index, blobs, { bulkDataThreshold: 1024, maxRequestBytes: 50_000_000 });
  const post = (files: Uint8Array[]) => {
    const { body, contentType } = stowBody(files);
    return store.storeInstances({ contentType, body, baseUrl: 'http://archive' });
  };
  return { index, blobs, post };
}

const sopsOf = (seq: unknown) =>
  ((seq as { Value?: Record<string, { Value?: unknown[] }>[] } | undefined)?.Value ?? []).map((i) => i[Tag.ReferencedSOPInstanceUID]!.Value![0]);

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
    // Two series: one ADD each; the study: one ADD per created series (at ensure time) and one tally.
    expect(calls).toEqual({ series: 2, study: 3 });
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
    blobs.put = async (...args) => (++puts > 8 ? Promise.reject(new ServiceUnavailableError('S3 is unavailable, retry later')) : put(...args));
    await expect(post(study.instances.map((i) => i.bytes))).rejects.toBeInstanceOf(ServiceUnavailableError);
    const created = index.all().filter((e) => e.level === 'INSTANCE').length;
    expect(created).toBeGreaterThan(0);
    expect((await index.getStudy(study.studyInstanceUID))?.relatedInstances).toBe(created);
    expect((await index.getSeries(study.studyInstanceUID, study.instances[0]!.seriesInstanceUID))?.relatedInstances).toBe(created);
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
});
