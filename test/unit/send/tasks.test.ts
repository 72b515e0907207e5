/**
 * Unit: the Send workflow's tasks (Resolve, Deliver, Finalize, Fail) over in-memory ports, with the
 * destination answered by a fake fetch.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { SearchService } from '../../../lambdas/dicomweb/search';
import { parseDestinationRegistry } from '../../../lambdas/send/destinations';
import { SendTasks } from '../../../lambdas/send/tasks';
import { SendOutcomes } from '../../../lambdas/send/outcomes';
import { STORE_CLOSE_OVERHEAD_BYTES, STORE_PART_OVERHEAD_BYTES } from '../../../lambdas/send/stow-client';
import { DEFAULT_SEND_MAX_BATCH_BYTES, LAMBDA_MAX_REQUEST_BYTES, loadConfig } from '../../../lambdas/config';
import { STORAGE_UNAVAILABLE } from '../../../lambdas/send/task-errors';
import { ServiceUnavailableError } from '../../../lambdas/dicomweb/errors';
import { parseManifestJsonLines } from '../../../lambdas/send/workflow-io';
import { sendManifestKey } from '../../../lambdas/storage/keys';
import { SendRequestNotFoundError, type SendRequestRecord } from '../../../lambdas/storage/ports';
import { pendingSendRequest } from '../../support/send-request-record';
import { makeStudy } from '../../support/dicom-factory';
import { MemoryBlobStore } from '../../support/memory-blobs';
import { MemoryMetadataIndex } from '../../support/memory-index';
import { MemorySendRequestStore } from '../../support/memory-send-requests';
import { storeInstances } from '../../support/seed';

const DEST = 'http://127.0.0.1:8043/dicom-web';
const UID = '1.2.826.0.1.3680043.10.1000.7';

const study = makeStudy({ series: 2, instancesPerSeries: 2, patientID: 'TASKS' });

let index: MemoryMetadataIndex;
let blobs: MemoryBlobStore;
let requests: MemorySendRequestStore;
let posted: number;
let answer: (sops: string[]) => Response;

function tasks(opts: { maxBatchBytes?: number } = {}) {
  return new SendTasks({
    ...opts,
    requests,
    index,
    blobs,
    search: new SearchService(index, { maxCandidates: 1000, defaultLimit: 1, maxLimit: 1 }),
    destinations: { load: async () => parseDestinationRegistry({ destinations: [{ url: DEST, auth: { type: 'none' } }] }) },
    store: {
      fetch: (async (_url: string, init: RequestInit) => {
        posted++;
        const sops = [
          ...Buffer.from(init.body as Uint8Array)
            .toString('latin1')
            .matchAll(/\d+(?:\.\d+){4,}/g),
        ].map((m) => m[0]);
        return answer(sops);
      }) as typeof fetch,
      sleep: async () => undefined,
    },
  });
}

function record(search: [string, string][], target: SendRequestRecord['target'] = { level: 'STUDY' }): SendRequestRecord {
  return pendingSendRequest({ transactionUID: UID, target, search, destination: DEST });
}

beforeEach(async () => {
  index = new MemoryMetadataIndex();
  blobs = new MemoryBlobStore();
  requests = new MemorySendRequestStore();
  posted = 0;
  answer = () => new Response('refused', { status: 400 });
  await storeInstances(
    index,
    blobs,
    study.instances.map((i) => i.bytes),
    { baseUrl: 'http://origin' },
  );
});

describe('Resolve', () => {
  it('expands matched studies to their instances, writes the manifest, sets Remaining (no QIDO page limit)', async () => {
    await requests.create(record([['PatientID', 'TASKS']]));
    const out = await tasks().resolve({ transactionUID: UID, batchSize: 3 });
    expect(out.matched).toBe(4);
    expect(out.batches?.map((b) => b.length)).toEqual([3, 1]);
    const manifest = parseManifestJsonLines(Buffer.from((await blobs.get(sendManifestKey(UID)))!).toString());
    expect(manifest.map((m) => m.sopInstanceUID).sort()).toEqual(study.instances.map((i) => i.sopInstanceUID).sort());
    expect((await requests.get(UID))?.remaining).toBe(4);
  });

  it('run again after it counted the matches (its answer lost), answers the manifest it wrote', async () => {
    await requests.create(record([['PatientID', 'TASKS']]));
    const first = await tasks().resolve({ transactionUID: UID, batchSize: 3 });
    // Stored in between: a search now would match five instances, against Remaining 4.
    const more = makeStudy({ series: 1, instancesPerSeries: 1, patientID: 'TASKS' });
    await storeInstances(
      index,
      blobs,
      more.instances.map((i) => i.bytes),
      { baseUrl: 'http://origin' },
    );
    const again = await tasks().resolve({ transactionUID: UID, batchSize: 3 });
    expect(again).toEqual(first);
    expect((await requests.get(UID))?.remaining).toBe(4);
  });

  it('series level within a study', async () => {
    const series = study.instances[0]!.seriesInstanceUID;
    await requests.create(record([['SeriesInstanceUID', series]], { level: 'SERIES', studyInstanceUID: study.studyInstanceUID }));
    expect((await tasks().resolve({ transactionUID: UID })).matched).toBe(2);
  });
});

describe('Deliver, Finalize, Fail', () => {
  it('a refused batch counts failed; Finalize gives A702, the failed list kept per batch', async () => {
    await requests.create(record([['PatientID', 'TASKS']]));
    const t = tasks();
    const { batches } = await t.resolve({ transactionUID: UID, batchSize: 4 });
    await t.deliver({ Items: batches![0]!, BatchInput: { transactionUID: UID, destination: DEST } });
    expect(posted).toBe(1);
    const module = await t.finalize({ transactionUID: UID });
    expect(module[0]!['00000900']!.Value).toEqual([0xa702]);
    expect(module[0]!['00001022']!.Value).toEqual([4]);
    // Finalize's output stays small (a state's output is at most 256 KiB): the list is Check Send Result's.
    expect(module[0]!['00080058']).toBeUndefined();
    expect((await new SendOutcomes(requests, blobs).failedSOPInstanceUIDs(UID)).sort()).toEqual(
      batches![0]!.map((i) => i.sopInstanceUID).sort(),
    );
  });

  it('a batch over maxBatchBytes goes out as several requests, reading each group only when it is sent', async () => {
    await requests.create(record([['PatientID', 'TASKS']]));
    const events: string[] = [];
    const get = blobs.get.bind(blobs);
    blobs.get = async (key) => (events.push('read'), get(key));
    const entries = await index.getEntries(
      study.instances.map((i) => ({
        level: 'INSTANCE' as const,
        studyInstanceUID: study.studyInstanceUID,
        seriesInstanceUID: i.seriesInstanceUID,
        sopInstanceUID: i.sopInstanceUID,
      })),
    );
    const size = Math.max(...entries.map((e) => e!.instance!.size));
    answer = (sops) => {
      events.push('post');
      return new Response(
        JSON.stringify({ '00081199': { vr: 'SQ', Value: [...new Set(sops)].map((s) => ({ '00081155': { vr: 'UI', Value: [s] } })) } }),
        {
          status: 200,
          headers: { 'Content-Type': 'application/dicom+json' },
        },
      );
    };
    const t = tasks({ maxBatchBytes: 2 * (size + STORE_PART_OVERHEAD_BYTES) + STORE_CLOSE_OVERHEAD_BYTES }); // the body of two of these instances, not three
    const { batches } = await t.resolve({ transactionUID: UID, batchSize: 4 });
    events.length = 0;
    await t.deliver({ Items: batches![0]!, BatchInput: { transactionUID: UID, destination: DEST } });
    expect(events).toEqual(['read', 'read', 'post', 'read', 'read', 'post']);
    const r = await requests.get(UID);
    expect([r?.completed, r?.failed, r?.remaining]).toEqual([4, 0, 0]);
  });

  it('no Store request body exceeds maxBatchBytes, multipart framing included, so a gateway-fronted destination never answers 413', async () => {
    await requests.create(record([['PatientID', 'TASKS']]));
    const entries = await index.getEntries(
      study.instances.map((i) => ({
        level: 'INSTANCE' as const,
        studyInstanceUID: study.studyInstanceUID,
        seriesInstanceUID: i.seriesInstanceUID,
        sopInstanceUID: i.sopInstanceUID,
      })),
    );
    const [a, b] = entries.map((e) => e!.instance!.size).sort((x, y) => x - y);
    // Any two instances' bytes fit, no two instances' request body does.
    const maxBatchBytes = a! + b! + 2 * STORE_PART_OVERHEAD_BYTES + STORE_CLOSE_OVERHEAD_BYTES - 1;
    const bodies: number[] = [];
    const t = new SendTasks({
      requests,
      index,
      blobs,
      search: new SearchService(index, { maxCandidates: 1000, defaultLimit: 1, maxLimit: 1 }),
      destinations: { load: async () => parseDestinationRegistry({ destinations: [{ url: DEST, auth: { type: 'none' } }] }) },
      maxBatchBytes,
      store: {
        sleep: async () => undefined,
        fetch: (async (_url: string, init: RequestInit) => {
          const body = Buffer.from(init.body as Uint8Array);
          bodies.push(body.byteLength);
          if (body.byteLength > maxBatchBytes) return new Response('{"message":"Request Too Long"}', { status: 413 });
          const sops = [...new Set([...body.toString('latin1').matchAll(/\d+(?:\.\d+){4,}/g)].map((m) => m[0]))];
          return new Response(
            JSON.stringify({ '00081199': { vr: 'SQ', Value: sops.map((u) => ({ '00081155': { vr: 'UI', Value: [u] } })) } }),
            {
              status: 200,
              headers: { 'Content-Type': 'application/dicom+json' },
            },
          );
        }) as typeof fetch,
      },
    });
    const { batches } = await t.resolve({ transactionUID: UID, batchSize: 4 });
    await t.deliver({ Items: batches![0]!, BatchInput: { transactionUID: UID, destination: DEST } });
    expect(bodies).toHaveLength(4);
    expect(Math.max(...bodies)).toBeLessThanOrEqual(maxBatchBytes);
    const r = await requests.get(UID);
    expect([r?.completed, r?.failed, r?.remaining]).toEqual([4, 0, 0]);
  });

  it('SEND_MAX_BATCH_BYTES defaults to the request a Lambda integration behind API Gateway accepts', () => {
    expect(DEFAULT_SEND_MAX_BATCH_BYTES).toBe(LAMBDA_MAX_REQUEST_BYTES);
    expect(loadConfig({ BUCKET_NAME: 'b', TABLE_NAME: 't' }).sendMaxBatchBytes).toBe(LAMBDA_MAX_REQUEST_BYTES);
  });

  it('an instance deleted since Resolve fails without being sent', async () => {
    await requests.create(record([['PatientID', 'TASKS']]));
    const t = tasks();
    const { batches } = await t.resolve({ transactionUID: UID, batchSize: 4 });
    const gone = batches![0]![0]!;
    await index.deleteEntry({ level: 'INSTANCE', ...gone });
    answer = (sops) =>
      new Response(
        JSON.stringify({
          '00081199': {
            vr: 'SQ',
            Value: sops.filter((s) => s !== gone.sopInstanceUID).map((s) => ({ '00081155': { vr: 'UI', Value: [s] } })),
          },
        }),
        {
          status: 200,
          headers: { 'Content-Type': 'application/dicom+json' },
        },
      );
    await t.deliver({ Items: batches![0]!, BatchInput: { transactionUID: UID, destination: DEST } });
    const r = await requests.get(UID);
    expect([r?.completed, r?.failed, r?.remaining]).toEqual([3, 1, 0]);
    expect(await new SendOutcomes(requests, blobs).failedSOPInstanceUIDs(UID)).toEqual([gone.sopInstanceUID]);
  });

  it('Fail before Resolve counted anything: A701; after: the remaining count as failed', async () => {
    await requests.create(record([['PatientID', 'TASKS']]));
    await tasks().fail({ transactionUID: UID, error: { Error: 'States.TaskFailed' } });
    expect((await requests.get(UID))?.status).toBe(0xa701);

    requests = new MemorySendRequestStore();
    await requests.create(record([['PatientID', 'TASKS']]));
    await requests.setMatched(UID, 4);
    await requests.addBatchOutcome(UID, { batchId: 'b1', completed: 1, warning: 0, failed: 0 });
    await tasks().fail({ transactionUID: UID, error: { Error: 'States.TaskFailed' } });
    const r = await requests.get(UID);
    expect([r?.state, r?.status, r?.completed, r?.failed, r?.remaining]).toEqual(['FAILED', 0xb000, 1, 3, 0]);
  });

  it('a throttled storage call surfaces as Send.StorageUnavailable from every Task, which the workflow retries', async () => {
    await requests.create(record([['PatientID', 'TASKS']]));
    const { batches } = await tasks().resolve({ transactionUID: UID, batchSize: 4 });
    requests.get = async () => {
      throw new ServiceUnavailableError('DynamoDB is unavailable, retry later');
    };
    const t = tasks();
    const named = expect.objectContaining({ name: STORAGE_UNAVAILABLE });
    await expect(t.resolve({ transactionUID: UID })).rejects.toEqual(named);
    await expect(t.finalize({ transactionUID: UID })).rejects.toEqual(named);
    await expect(t.fail({ transactionUID: UID, error: { Error: 'States.TaskFailed' } })).rejects.toEqual(named);
    blobs.get = async () => {
      throw new ServiceUnavailableError('S3 is unavailable, retry later');
    };
    await expect(t.deliver({ Items: batches![0]!, BatchInput: { transactionUID: UID, destination: DEST } })).rejects.toEqual(named);
  });

  it('a Task for a Transaction UID with no send request is a fault of the workflow, and sends nothing', async () => {
    const t = tasks();
    await expect(t.resolve({ transactionUID: UID })).rejects.toBeInstanceOf(SendRequestNotFoundError);
    await expect(t.finalize({ transactionUID: UID })).rejects.toBeInstanceOf(SendRequestNotFoundError);
    await expect(t.fail({ transactionUID: UID, error: { Error: 'States.TaskFailed' } })).rejects.toBeInstanceOf(SendRequestNotFoundError);
    expect(posted).toBe(0);
  });
});
