/**
 * Unit: Delete of a study or series larger than one step's time (issue 19, defect 12), over in-memory
 * ports: the job is marked first, continued step by step, resumed after an interruption.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { Tag } from '../../../lambdas/dicom/tags';
import { DeleteService, type DeleteTarget } from '../../../lambdas/dicomweb/delete';
import { GoneError } from '../../../lambdas/dicomweb/errors';
import { RetrieveService } from '../../../lambdas/dicomweb/retrieve';
import { StoreService } from '../../../lambdas/dicomweb/store';
import { bodyOf } from '../../../lambdas/dicomweb/messages';
import { makeInstance, makeStudy } from '../../support/dicom-factory';
import { stowBody } from '../../support/http';
import { MemoryBlobStore } from '../../support/memory-blobs';
import { MemoryMetadataIndex } from '../../support/memory-index';
import { storeInstances } from '../../support/seed';

const BASE_URL = 'http://archive';
/** A step that is always out of time: one batch, then the job is handed on. */
const OUT_OF_TIME = { remainingMillis: () => 0 };

let index: MemoryMetadataIndex;
let blobs: MemoryBlobStore;
let study: ReturnType<typeof makeStudy>;
let handedOn: DeleteTarget[];
let service: DeleteService;

beforeEach(async () => {
  index = new MemoryMetadataIndex();
  blobs = new MemoryBlobStore();
  study = makeStudy({ series: 2, instancesPerSeries: 5 });
  await storeInstances(
    index,
    blobs,
    study.instances.map((i) => i.bytes),
    { baseUrl: BASE_URL },
  );
  handedOn = [];
  service = new DeleteService(index, blobs, { batchSize: 3, continueJob: async (t) => void handedOn.push(t) });
});

const instanceEntries = () => index.all().filter((e) => e.level === 'INSTANCE');
const retrieve = () => new RetrieveService(index, blobs, { maxResponseBytes: 1 << 20 });

/** Runs the continuations handed on, one step each, as the asynchronous invocations would. */
async function runContinuations(svc = service): Promise<number> {
  let steps = 0;
  while (handedOn.length > 0) {
    await svc.resume(handedOn.shift()!, OUT_OF_TIME);
    steps++;
  }
  return steps;
}

function post(store: StoreService, files: Uint8Array[]) {
  const { body, contentType } = stowBody(files);
  return store.storeInstances({ contentType, body: bodyOf(body), baseUrl: BASE_URL });
}

describe('Delete of a study larger than one step', () => {
  it('answers after one batch, reads answer 410 at once, and continuations finish it', async () => {
    const first = await service.deleteStudy({ studyInstanceUID: study.studyInstanceUID }, OUT_OF_TIME);
    expect(first).toEqual({ deletedInstances: 3, done: false });
    expect(handedOn).toEqual([{ level: 'STUDY', studyInstanceUID: study.studyInstanceUID }]);
    expect(instanceEntries()).toHaveLength(7);
    // The study and series entries went first (searches stop listing them); retrieves answer 410.
    expect(index.all().filter((e) => e.level !== 'INSTANCE')).toEqual([]);
    await expect(
      retrieve().retrieveStudy({ studyInstanceUID: study.studyInstanceUID, baseUrl: BASE_URL, accept: undefined }),
    ).rejects.toThrow(GoneError);
    const series = study.instances[9]!.seriesInstanceUID;
    await expect(
      retrieve().retrieveSeriesMetadata({
        studyInstanceUID: study.studyInstanceUID,
        seriesInstanceUID: series,
        baseUrl: BASE_URL,
        accept: undefined,
      }),
    ).rejects.toThrow(GoneError);

    expect(await runContinuations()).toBe(3); // 3 + 3 + 1 instances, the last step finding none after them
    expect(index.all()).toEqual([]);
    expect(blobs.objects.size).toBe(0);
    expect(await index.findDeleteJob({ studyInstanceUID: study.studyInstanceUID })).toBeUndefined();
    await expect(index.findTombstone({ level: 'STUDY', studyInstanceUID: study.studyInstanceUID })).resolves.toBeDefined();
    await expect(service.deleteStudy({ studyInstanceUID: study.studyInstanceUID })).rejects.toThrow(GoneError);
  });

  it('resumes an interrupted job on the next DELETE, and a continuation of a finished job does nothing', async () => {
    const deleteEntry = index.deleteEntry.bind(index);
    let calls = 0;
    index.deleteEntry = async (e) => {
      // The function's time runs out in the middle of the second batch.
      if (++calls === 5) throw new Error('Task timed out');
      return deleteEntry(e);
    };
    const unlimited = new DeleteService(index, blobs, { batchSize: 3, continueJob: async (t) => void handedOn.push(t) });
    await expect(unlimited.deleteStudy({ studyInstanceUID: study.studyInstanceUID })).rejects.toThrow('Task timed out');
    expect(instanceEntries().length).toBeGreaterThan(0);
    await expect(
      retrieve().retrieveStudy({ studyInstanceUID: study.studyInstanceUID, baseUrl: BASE_URL, accept: undefined }),
    ).rejects.toThrow(GoneError);

    const again = await unlimited.deleteStudy({ studyInstanceUID: study.studyInstanceUID });
    expect(again.done).toBe(true);
    expect(index.all()).toEqual([]);
    expect(blobs.objects.size).toBe(0);
    expect(await unlimited.resume({ level: 'STUDY', studyInstanceUID: study.studyInstanceUID })).toEqual({
      deletedInstances: 0,
      done: true,
    });
  });

  it('continues in the background of this process when no continuation is given (embedded)', async () => {
    const embedded = new DeleteService(index, blobs, { batchSize: 3 });
    expect((await embedded.deleteStudy({ studyInstanceUID: study.studyInstanceUID }, OUT_OF_TIME)).done).toBe(false);
    await embedded.settled();
    expect(index.all()).toEqual([]);
    expect(blobs.objects.size).toBe(0);
  });
});

describe('Delete of a series larger than one step', () => {
  it('takes the series out of the study counters once, however many steps it takes', async () => {
    const seriesInstanceUID = study.instances[0]!.seriesInstanceUID;
    const result = await service.deleteSeries({ studyInstanceUID: study.studyInstanceUID, seriesInstanceUID }, OUT_OF_TIME);
    expect(result.done).toBe(false);
    // A second DELETE meanwhile resumes the same job.
    expect((await service.deleteSeries({ studyInstanceUID: study.studyInstanceUID, seriesInstanceUID }, OUT_OF_TIME)).done).toBe(true);
    await runContinuations();
    const studyEntry = await index.getStudy(study.studyInstanceUID);
    expect([studyEntry?.relatedSeries, studyEntry?.relatedInstances]).toEqual([1, 5]);
    expect(instanceEntries().map((e) => e.seriesInstanceUID)).not.toContain(seriesInstanceUID);
    expect(instanceEntries()).toHaveLength(5);
  });
});

describe('Delete of a study while one of its series is being deleted', () => {
  it('takes the series job over: afterwards the series takes stores again', async () => {
    const store = new StoreService(index, blobs, { bulkDataThreshold: 1024, maxRequestBytes: 10_000_000 });
    const seriesInstanceUID = study.instances[0]!.seriesInstanceUID;
    expect((await service.deleteSeries({ studyInstanceUID: study.studyInstanceUID, seriesInstanceUID }, OUT_OF_TIME)).done).toBe(false);
    expect((await service.deleteStudy({ studyInstanceUID: study.studyInstanceUID })).done).toBe(true);
    expect(index.all()).toEqual([]);
    expect(await index.findDeleteJob({ studyInstanceUID: study.studyInstanceUID, seriesInstanceUID })).toBeUndefined();
    // The series' own continuation finds nothing left to do.
    expect(await runContinuations()).toBe(1);
    const again = makeInstance({ studyInstanceUID: study.studyInstanceUID, seriesInstanceUID });
    expect((await post(store, [again])).status).toBe(200);
  });
});

describe('Store into a study being deleted', () => {
  it('[studies.store.reason.0110] is refused with Failure Reason 0110 until the Delete has ended, then stored again', async () => {
    const store = new StoreService(index, blobs, { bulkDataThreshold: 1024, maxRequestBytes: 10_000_000 });
    await service.deleteStudy({ studyInstanceUID: study.studyInstanceUID }, OUT_OF_TIME);
    const late = makeInstance({ studyInstanceUID: study.studyInstanceUID, seriesInstanceUID: study.instances[0]!.seriesInstanceUID });
    const refused = await post(store, [late]);
    expect(refused.status).toBe(409);
    expect(refused.response[Tag.FailedSOPSequence]!.Value![0]).toMatchObject({ [Tag.FailureReason]: { Value: [0x0110] } });
    await runContinuations();
    expect(index.all()).toEqual([]);
    expect((await post(store, [late])).status).toBe(200);
    expect(instanceEntries()).toHaveLength(1);
  });
});
