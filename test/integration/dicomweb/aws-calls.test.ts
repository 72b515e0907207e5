/**
 * AWS calls per instance on the cloud path (docs/performance.md, "AWS calls per instance"): the
 * embedded archive on the AWS adapters over s3rver and dynalite records every S3 and DynamoDB call
 * (lambdas/storage/call-recorder.ts) while it stores, retrieves and sends instances. The counts are
 * pinned as they are: a change that adds a call to a stored, retrieved or sent instance fails here.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newUid } from '../../../lambdas/dicom/uid';
import { installAwsCallRecorder, type RecordedAwsCall } from '../../../lambdas/storage/call-recorder';
import { dcmtk, dcmtkSuite } from '../../support/dcmtk';
import { makeInstance, makeStudy } from '../../support/dicom-factory';
import { startFakeDestination, type FakeDestination } from '../../support/fake-destination';
import { DICOM_JSON, stow, tempArchive } from '../../support/http';

type Archive = Awaited<ReturnType<typeof tempArchive>>;

const calls: RecordedAwsCall[] = [];
let stopRecording: (() => void) | undefined;
let archive: Archive;
let destination: FakeDestination;

/**
 * The S3 and DynamoDB calls `fn` makes, by operation ("S3.PutObject": 2), in name order; only those
 * `counted` keeps (by the call and its place in the order of calls) when given.
 */
async function callsOf(
  fn: () => Promise<unknown>,
  counted: (call: RecordedAwsCall, at: number) => boolean = () => true,
): Promise<Record<string, number>> {
  calls.length = 0;
  await fn();
  const counts: Record<string, number> = {};
  for (const c of calls.filter((c, at) => (c.service === 'S3' || c.service === 'DynamoDB') && counted(c, at))) {
    const name = `${c.service}.${c.operation}`;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

async function stored(files: readonly Uint8Array[]): Promise<void> {
  const r = await stow(archive.url, files);
  expect(r.status, await r.text()).toBe(200);
}

beforeAll(async () => {
  stopRecording = installAwsCallRecorder((call) => calls.push(call));
  destination = await startFakeDestination();
  archive = await tempArchive({ storage: 'aws-emulators', dimsePort: 0 });
  await writeFile(
    path.join(archive.dataDir, 'destinations.json'),
    JSON.stringify({ destinations: [{ url: destination.url, auth: { type: 'none' } }] }),
  );
}, 60_000);

afterAll(async () => {
  await archive?.close();
  await destination?.close();
  stopRecording?.();
});

describe('AWS calls per stored instance (STOW-RS, one instance per request)', () => {
  const series = { studyInstanceUID: newUid(), seriesInstanceUID: newUid(), patientID: 'CALLS-1' };
  const first = makeInstance(series);

  it('a new study', async () => {
    const counts = await callsOf(() => stored([first]));
    expect(counts).toEqual({
      'DynamoDB.BatchGetItem': 1,
      'DynamoDB.BatchWriteItem': 4,
      'DynamoDB.PutItem': 3,
      'DynamoDB.Query': 1,
      'DynamoDB.UpdateItem': 2,
      'S3.PutObject': 2,
    });
    expect(total(counts)).toBe(13);
  });

  it('an existing study and series', async () => {
    const counts = await callsOf(() => stored([makeInstance(series)]));
    expect(counts).toEqual({
      'DynamoDB.BatchGetItem': 1,
      'DynamoDB.BatchWriteItem': 2,
      'DynamoDB.PutItem': 1,
      'DynamoDB.Query': 1,
      'DynamoDB.UpdateItem': 2,
      'S3.PutObject': 2,
    });
    expect(total(counts)).toBe(9);
  });

  it('a new series in an existing study', async () => {
    const counts = await callsOf(() => stored([makeInstance({ ...series, seriesInstanceUID: newUid() })]));
    expect(counts).toEqual({
      'DynamoDB.BatchGetItem': 1,
      'DynamoDB.BatchWriteItem': 3,
      'DynamoDB.PutItem': 2,
      'DynamoDB.Query': 1,
      'DynamoDB.UpdateItem': 2,
      'S3.PutObject': 2,
    });
    expect(total(counts)).toBe(11);
  });

  it('an identical re-store', async () => {
    const counts = await callsOf(() => stored([first]));
    // The UID lookup finds the entry's key in ByUid (keys only) and reads the entry by it.
    expect(counts).toEqual({ 'DynamoDB.BatchGetItem': 1, 'DynamoDB.Query': 1 });
    expect(total(counts)).toBe(2);
  });
});

dcmtkSuite('AWS calls per stored instance (DIMSE C-STORE, one instance per association)', () => {
  const series = { studyInstanceUID: newUid(), seriesInstanceUID: newUid(), patientID: 'CALLS-DIMSE' };
  const cStore = async (bytes: Uint8Array) => {
    const file = path.join(archive.dataDir, `${newUid()}.dcm`);
    await writeFile(file, bytes);
    const run = await dcmtk('storescu', ['-aec', 'ARCHIVE', '127.0.0.1', String(archive.dimse!.port), file]);
    expect(run.code, run.out).toBe(0);
  };
  const totalOf = (bytes: Uint8Array) => callsOf(() => cStore(bytes)).then(total);

  it('a new study, a new series of it, an existing series', async () => {
    // Without a request around it, a C-STORE counts its new series in its study at once.
    expect(await totalOf(makeInstance(series))).toBe(14);
    expect(await totalOf(makeInstance({ ...series, seriesInstanceUID: newUid() }))).toBe(12);
    expect(await totalOf(makeInstance(series))).toBe(9);
  });
});

describe('AWS calls per stored instance (STOW-RS, many instances per request)', () => {
  it('ten instances of one new series', async () => {
    const study = makeStudy({ series: 1, instancesPerSeries: 10, patientID: 'CALLS-10' });
    const counts = await callsOf(() => stored(study.instances.map((i) => i.bytes)));
    expect(counts).toEqual({
      'DynamoDB.BatchGetItem': 1,
      'DynamoDB.BatchWriteItem': 13,
      'DynamoDB.PutItem': 12,
      'DynamoDB.Query': 10,
      'DynamoDB.UpdateItem': 2,
      'S3.PutObject': 20,
    });
    expect(total(counts)).toBe(58);
  });
});

describe('AWS calls per retrieved instance', () => {
  const instance = { studyInstanceUID: newUid(), seriesInstanceUID: newUid(), sopInstanceUID: newUid(), patientID: 'CALLS-R' };
  const url = () =>
    `${archive.url}/studies/${instance.studyInstanceUID}/series/${instance.seriesInstanceUID}/instances/${instance.sopInstanceUID}`;
  beforeAll(() => stored([makeInstance(instance)]));

  it('WADO-RS instance, as stored', async () => {
    const counts = await callsOf(async () => {
      const r = await fetch(url(), { headers: { Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' } });
      expect(r.status).toBe(200);
      await r.arrayBuffer();
    });
    expect(counts).toEqual({ 'DynamoDB.GetItem': 1, 'S3.GetObject': 1 });
    expect(total(counts)).toBe(2);
  });

  it('WADO-RS instance metadata', async () => {
    const counts = await callsOf(async () => {
      const r = await fetch(`${url()}/metadata`, { headers: { Accept: DICOM_JSON } });
      expect(r.status).toBe(200);
      await r.arrayBuffer();
    });
    expect(counts).toEqual({ 'DynamoDB.GetItem': 1, 'S3.GetObject': 1 });
    expect(total(counts)).toBe(2);
  });
});

describe('AWS calls per searched instance', () => {
  const patientID = `CALLS-Q-${newUid().slice(-6)}`;
  const study = makeStudy({ series: 2, instancesPerSeries: 5, patientID });
  beforeAll(() => stored(study.instances.map((i) => i.bytes)));

  const searched = (query: string) =>
    callsOf(async () => {
      const r = await fetch(`${archive.url}/${query}`, { headers: { Accept: DICOM_JSON } });
      expect(r.status).toBe(200);
      expect(await r.json()).toHaveLength(10);
    });

  it('QIDO-RS /instances by PatientID: the keys from ByPatient, the entries by key, the counters above them', async () => {
    // ByPatient projects keys only: one BatchGetItem reads the ten entries (with ALL, none).
    const counts = await searched(`instances?PatientID=${patientID}&limit=100`);
    expect(counts).toEqual({ 'DynamoDB.BatchGetItem': 2, 'DynamoDB.Query': 1 });
    expect(total(counts)).toBe(3);
  });

  it('QIDO-RS /instances of a study: the table alone', async () => {
    const counts = await searched(`studies/${study.studyInstanceUID}/instances`);
    expect(counts).toEqual({ 'DynamoDB.BatchGetItem': 1, 'DynamoDB.Query': 1 });
    expect(total(counts)).toBe(2);
  });
});

describe('AWS calls per sent instance', () => {
  it('SEND-RS of a study of ten instances in two series', async () => {
    const study = makeStudy({ series: 2, instancesPerSeries: 5, patientID: 'CALLS-S' });
    await stored(study.instances.map((i) => i.bytes));
    const uid = newUid();
    const resource = `${archive.url}/studies/send-requests/${uid}`;
    // The Send function's reads of the request's progress (while it waits to answer, and each Check
    // Send Result) follow the clock, not the instances: not counted.
    const counts = await callsOf(
      async () => {
        const search = new URLSearchParams({ destination: destination.url, StudyInstanceUID: study.studyInstanceUID });
        let r = await fetch(`${resource}?${search}`, { method: 'POST', headers: { Accept: DICOM_JSON } });
        for (let i = 0; r.status === 202 && i < 200; i++) {
          await r.arrayBuffer();
          await new Promise((resolve) => setTimeout(resolve, 100));
          r = await fetch(resource, { headers: { Accept: DICOM_JSON } });
        }
        expect(r.status, await r.clone().text()).toBe(200);
        await r.arrayBuffer();
      },
      (call) => call.caller !== 'send' || call.operation !== 'GetItem',
    );
    expect(destination.stored).toHaveLength(10);
    // One BatchGetItem more than with ALL projections: the study the StudyInstanceUID key finds in
    // ByUid (keys only), read by its key.
    expect(counts).toEqual({
      'DynamoDB.BatchGetItem': 2,
      'DynamoDB.GetItem': 4,
      'DynamoDB.PutItem': 2,
      'DynamoDB.Query': 2,
      'DynamoDB.UpdateItem': 6,
      'S3.GetObject': 11,
      'S3.PutObject': 1,
    });
    expect(total(counts)).toBe(28);
  });
});
