import { beforeEach, describe, expect, it } from 'vitest';
import { BadRequestError, GoneError, NotFoundError } from '../../../lambdas/dicomweb/errors';
import { DeleteService } from '../../../lambdas/dicomweb/delete';
import { derivedImageKeys, thumbnailKey } from '../../../lambdas/dicomweb/derived-images';
import { RetrieveService } from '../../../lambdas/dicomweb/retrieve';
import type { IndexEntry } from '../../../lambdas/storage/ports';
import { makeStudy } from '../../support/dicom-factory';
import { MemoryBlobStore } from '../../support/memory-blobs';
import { MemoryMetadataIndex } from '../../support/memory-index';
import { storeInstances } from '../../support/seed';

const BASE_URL = 'http://127.0.0.1:8080';
const DELETED_AT = new Date('2026-01-02T03:04:05.000Z');

let index: MemoryMetadataIndex;
let blobs: MemoryBlobStore;
let service: DeleteService;
let retrieve: RetrieveService;
let study: ReturnType<typeof makeStudy>;

function seed(files: Uint8Array[]): Promise<void> {
  return storeInstances(index, blobs, files, { baseUrl: BASE_URL });
}

function entries(level: IndexEntry['level']): IndexEntry[] {
  return index.all().filter((e) => e.level === level);
}

beforeEach(async () => {
  index = new MemoryMetadataIndex();
  blobs = new MemoryBlobStore();
  service = new DeleteService(index, blobs, { now: () => DELETED_AT });
  retrieve = new RetrieveService(index, blobs, { maxResponseBytes: 1024 * 1024 });
  study = makeStudy({ series: 2, instancesPerSeries: 2 });
  await seed(study.instances.map((i) => i.bytes));
});

describe('DeleteService', () => {
  it('deletes one instance: entry, objects, counters; then retrieve answers 410', async () => {
    const [target, sibling] = study.instances;
    const uids = {
      studyInstanceUID: study.studyInstanceUID,
      seriesInstanceUID: target!.seriesInstanceUID,
      sopInstanceUID: target!.sopInstanceUID,
    };
    const keysBefore = blobs.objects.size;

    expect(await service.deleteInstance(uids)).toEqual({ deletedInstances: 1, done: true });

    expect(entries('INSTANCE').map((e) => e.sopInstanceUID)).not.toContain(target!.sopInstanceUID);
    expect(blobs.objects.size).toBe(keysBefore - 2);
    const series = await index.getSeries(study.studyInstanceUID, target!.seriesInstanceUID);
    expect(series?.relatedInstances).toBe(1);
    const studyEntry = await index.getStudy(study.studyInstanceUID);
    expect(studyEntry?.relatedInstances).toBe(3);
    expect(studyEntry?.relatedSeries).toBe(2);
    await expect(index.findTombstone({ level: 'INSTANCE', ...uids })).resolves.toMatchObject({ deletedAt: DELETED_AT.toISOString() });

    await expect(retrieve.retrieveInstance({ ...uids, accept: undefined, baseUrl: BASE_URL })).rejects.toThrow(GoneError);
    await expect(service.deleteInstance(uids)).rejects.toThrow(GoneError);
    // The sibling in the same series is still served.
    const still = await retrieve.retrieveInstance({
      ...uids,
      sopInstanceUID: sibling!.sopInstanceUID,
      accept: undefined,
      baseUrl: BASE_URL,
    });
    expect(still.status).toBe(200);
  });

  it('removes the cached images derived from an instance with it, of one instance and of a whole study', async () => {
    const instances = entries('INSTANCE');
    for (const entry of instances) {
      for (const type of ['image/jpeg', 'image/png', 'image/gif'] as const)
        await blobs.put(thumbnailKey(entry.instance!, type), new Uint8Array([1]), type);
    }
    const [first, ...rest] = instances;
    await service.deleteInstance({
      studyInstanceUID: first!.studyInstanceUID,
      seriesInstanceUID: first!.seriesInstanceUID,
      sopInstanceUID: first!.sopInstanceUID,
    });
    for (const key of derivedImageKeys(first!.instance!)) expect(blobs.objects.has(key), key).toBe(false);
    expect(rest.every((e) => derivedImageKeys(e.instance!).every((key) => blobs.objects.has(key)))).toBe(true);
    await service.deleteStudy({ studyInstanceUID: study.studyInstanceUID });
    expect([...blobs.objects.keys()]).toEqual([]);
  });

  it('removes the series entry with its last instance, and the study entry with its last series', async () => {
    for (const instance of study.instances) {
      await service.deleteInstance({
        studyInstanceUID: study.studyInstanceUID,
        seriesInstanceUID: instance.seriesInstanceUID,
        sopInstanceUID: instance.sopInstanceUID,
      });
      if (instance === study.instances[1]) {
        // First series emptied: its entry goes, the study counts one series less.
        expect(entries('SERIES')).toHaveLength(1);
        expect((await index.getStudy(study.studyInstanceUID))?.relatedSeries).toBe(1);
      }
    }
    expect(index.all()).toEqual([]);
    expect(blobs.objects.size).toBe(0);
  });

  it('deletes a series and adjusts the study counters', async () => {
    const seriesInstanceUID = study.instances[0]!.seriesInstanceUID;

    expect(await service.deleteSeries({ studyInstanceUID: study.studyInstanceUID, seriesInstanceUID })).toEqual({
      deletedInstances: 2,
      done: true,
    });

    expect(await index.getSeries(study.studyInstanceUID, seriesInstanceUID)).toBeUndefined();
    expect(entries('INSTANCE').every((e) => e.seriesInstanceUID !== seriesInstanceUID)).toBe(true);
    const studyEntry = await index.getStudy(study.studyInstanceUID);
    expect(studyEntry).toMatchObject({ relatedSeries: 1, relatedInstances: 2 });
    await expect(
      retrieve.retrieveSeriesMetadata({
        studyInstanceUID: study.studyInstanceUID,
        seriesInstanceUID,
        accept: undefined,
        baseUrl: BASE_URL,
      }),
    ).rejects.toThrow(GoneError);
    const other = study.instances[2]!;
    const kept = await retrieve.retrieveSeries({
      studyInstanceUID: study.studyInstanceUID,
      seriesInstanceUID: other.seriesInstanceUID,
      accept: undefined,
      baseUrl: BASE_URL,
    });
    expect(kept.status).toBe(200);
  });

  it('finishes a series delete interrupted after its instance entries were removed', async () => {
    const seriesInstanceUID = study.instances[0]!.seriesInstanceUID;
    // The state a crash after step 1 leaves: instance entries gone, series entry and counters intact.
    for (const e of entries('INSTANCE').filter((e) => e.seriesInstanceUID === seriesInstanceUID)) await index.deleteEntry(e);

    await service.deleteSeries({ studyInstanceUID: study.studyInstanceUID, seriesInstanceUID });

    expect(await index.getSeries(study.studyInstanceUID, seriesInstanceUID)).toBeUndefined();
    expect(await index.getStudy(study.studyInstanceUID)).toMatchObject({ relatedSeries: 1, relatedInstances: 2 });
  });

  it('deletes a whole study: every entry and object, then 410 for it and everything below', async () => {
    expect(await service.deleteStudy({ studyInstanceUID: study.studyInstanceUID })).toEqual({ deletedInstances: 4, done: true });

    expect(index.all()).toEqual([]);
    expect(blobs.objects.size).toBe(0);
    const one = study.instances[3]!;
    await expect(
      retrieve.retrieveStudy({ studyInstanceUID: study.studyInstanceUID, accept: undefined, baseUrl: BASE_URL }),
    ).rejects.toThrow(GoneError);
    await expect(
      retrieve.retrieveInstance({
        studyInstanceUID: study.studyInstanceUID,
        seriesInstanceUID: one.seriesInstanceUID,
        sopInstanceUID: one.sopInstanceUID,
        accept: undefined,
        baseUrl: BASE_URL,
      }),
    ).rejects.toThrow(GoneError);
    await expect(service.deleteStudy({ studyInstanceUID: study.studyInstanceUID })).rejects.toThrow(GoneError);
  });

  it('answers 404 for what was never stored and 400 for a malformed UID', async () => {
    await expect(service.deleteStudy({ studyInstanceUID: '1.2.3.999' })).rejects.toThrow(NotFoundError);
    await expect(service.deleteSeries({ studyInstanceUID: study.studyInstanceUID, seriesInstanceUID: '1.2.3.999' })).rejects.toThrow(
      NotFoundError,
    );
    await expect(service.deleteStudy({ studyInstanceUID: '1..2' })).rejects.toThrow(BadRequestError);
    await expect(
      service.deleteInstance({ studyInstanceUID: study.studyInstanceUID, seriesInstanceUID: 'abc', sopInstanceUID: '1.2' }),
    ).rejects.toThrow(BadRequestError);
    expect(index.all().filter((e) => e.level === 'INSTANCE')).toHaveLength(4);
  });
});

describe('ModalitiesInStudy after deletes', () => {
  it('a deleted series takes its modality out of the study unless another series still has it', async () => {
    const mixed = makeStudy({ series: 1, instancesPerSeries: 1, modality: 'CT' });
    const mr = makeStudy({ series: 2, instancesPerSeries: 1, modality: 'MR', studyInstanceUID: mixed.studyInstanceUID });
    await seed([...mixed.instances, ...mr.instances].map((i) => i.bytes));
    const modalities = async () => (await index.getStudy(mixed.studyInstanceUID))?.modalities;
    expect(await modalities()).toEqual(['CT', 'MR']);

    // One of two MR series: MR stays.
    await service.deleteSeries({ studyInstanceUID: mixed.studyInstanceUID, seriesInstanceUID: mr.instances[0]!.seriesInstanceUID });
    expect(await modalities()).toEqual(['CT', 'MR']);
    // The last MR series, through its last instance: MR goes.
    const last = mr.instances[1]!;
    await service.deleteInstance({
      studyInstanceUID: mixed.studyInstanceUID,
      seriesInstanceUID: last.seriesInstanceUID,
      sopInstanceUID: last.sopInstanceUID,
    });
    expect(await modalities()).toEqual(['CT']);
  });
});
