/** Unit: the Send and Check Send Result transactions (Sup 248 10.X, 10.Y) over in-memory ports. */
import { describe, expect, it } from 'vitest';
import {
  BadRequestError,
  ConflictError,
  GoneError,
  NotAcceptableError,
  NotFoundError,
  ServiceUnavailableError,
} from '../../../lambdas/dicomweb/errors';
import { SendService, type SendRequest } from '../../../lambdas/dicomweb/send';
import { parseDestinationRegistry } from '../../../lambdas/send/destinations';
import { SendOutcomes } from '../../../lambdas/send/outcomes';
import type { ExecutionState, SendTarget, SendWorkflow } from '../../../lambdas/storage/ports';
import { MemoryBlobStore } from '../../support/memory-blobs';
import { MemorySendRequestStore } from '../../support/memory-send-requests';

const DEST = 'http://127.0.0.1:8043/dicom-web';
const registry = parseDestinationRegistry({ destinations: [{ url: DEST, auth: { type: 'none' } }] });
const destinations = { load: async () => registry };
const studies: SendTarget = { level: 'STUDY' };
const UID = '1.2.826.0.1.3680043.10.1000.1';

function setup(opts: { start?: SendWorkflow['start']; state?: ExecutionState; now?: () => number } = {}) {
  const requests = new MemorySendRequestStore();
  const workflow: SendWorkflow = {
    start: opts.start ?? (async () => 'exec-1'),
    describe: async () => opts.state ?? 'RUNNING',
  };
  let clock = opts.now ?? (() => 1_700_000_000_000);
  const service = new SendService(
    requests,
    new SendOutcomes(requests, new MemoryBlobStore()),
    workflow,
    destinations,
    { waitMs: 50, retryAfterSeconds: 3, resultTtlSeconds: 60, tombstoneTtlSeconds: 600, pollIntervalMs: 10 },
    () => clock(),
    async () => undefined,
  );
  return { requests, service, setClock: (f: () => number) => (clock = f) };
}

function request(overrides: Partial<SendRequest> = {}): SendRequest {
  return {
    target: studies,
    transactionUID: UID,
    query: new Map([
      ['destination', [DEST]],
      ['PatientID', ['P1']],
    ]),
    accept: 'application/dicom+json',
    body: new Uint8Array(),
    ...overrides,
  };
}

describe('Send transaction', () => {
  it('202 with Retry-After and Pending counters while the workflow runs', async () => {
    const { service, requests } = setup();
    const r = await service.send(request());
    expect(r.status).toBe(202);
    expect(r.retryAfterSeconds).toBe(3);
    expect(r.payload).toEqual([
      {
        '00000900': { vr: 'US', Value: [0xff00] },
        '00001020': { vr: 'US', Value: [0] },
        '00001021': { vr: 'US', Value: [0] },
        '00001022': { vr: 'US', Value: [0] },
        '00001023': { vr: 'US', Value: [0] },
      },
    ]);
    const record = await requests.get(UID);
    expect(record?.search).toEqual([['PatientID', 'P1']]);
    expect(record?.executionId).toBe('exec-1');
  });

  it('200 with the final module when the workflow finishes within the wait', async () => {
    const { service, requests } = setup({
      start: async ({ transactionUID }) => {
        await requests.setMatched(transactionUID, 2);
        await requests.addBatchOutcome(transactionUID, { batchId: 'b1', completed: 2, warning: 0, failed: 0 });
        await requests.finish(transactionUID, { state: 'COMPLETED', status: 0 });
        return 'exec-2';
      },
    });
    const r = await service.send(request());
    expect(r.status).toBe(200);
    expect(r.retryAfterSeconds).toBeUndefined();
  });

  it('reads the result as soon as a workflow that tells (settled) has ended, not at the next poll', async () => {
    const requests = new MemorySendRequestStore();
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    const sleeps: number[] = [];
    const workflow: SendWorkflow = {
      start: async () => 'exec-3',
      describe: async () => 'RUNNING',
      settled: async () => ended,
    };
    // Polls that never end: only the end of the execution can wake the wait.
    const service = new SendService(
      requests,
      new SendOutcomes(requests, new MemoryBlobStore()),
      workflow,
      destinations,
      { waitMs: 60_000, retryAfterSeconds: 3, resultTtlSeconds: 60, tombstoneTtlSeconds: 600, pollIntervalMs: 100 },
      () => 1_700_000_000_000,
      (ms) => (sleeps.push(ms), new Promise(() => {})),
    );
    const answer = service.send(request());
    await new Promise((r) => setTimeout(r, 20));
    expect(sleeps).toEqual([100]); // read once, pending, then waiting
    await requests.setMatched(UID, 1);
    await requests.addBatchOutcome(UID, { batchId: 'b1', completed: 1, warning: 0, failed: 0 });
    await requests.finish(UID, { state: 'COMPLETED', status: 0 });
    end();
    const r = await answer;
    expect(r.status).toBe(200);
    expect(sleeps).toEqual([100]);
  });

  it('polls on when the execution ended without finishing the request, until the wait is used up', async () => {
    const requests = new MemorySendRequestStore();
    const sleeps: number[] = [];
    const workflow: SendWorkflow = { start: async () => 'exec-4', describe: async () => 'ABORTED', settled: async () => undefined };
    const service = new SendService(
      requests,
      new SendOutcomes(requests, new MemoryBlobStore()),
      workflow,
      destinations,
      { waitMs: 50, retryAfterSeconds: 3, resultTtlSeconds: 60, tombstoneTtlSeconds: 600, pollIntervalMs: 10 },
      () => 1_700_000_000_000,
      async (ms) => void sleeps.push(ms),
    );
    expect((await service.send(request())).status).toBe(202);
    expect(sleeps.length).toBeLessThanOrEqual(5); // the bounded wait, not a loop of reads
  });

  it('406 for an Accept without application/dicom+json', async () => {
    await expect(setup().service.send(request({ accept: 'image/png' }))).rejects.toBeInstanceOf(NotAcceptableError);
  });

  it.each([
    ['a payload', { body: new Uint8Array([1]) }],
    ['a malformed Transaction UID', { transactionUID: '1.02.x' }],
    ['no destination', { query: new Map([['PatientID', ['P1']]]) }],
    ['two destinations', { query: new Map([['destination', [DEST, DEST]]]) }],
    ['an unregistered destination', { query: new Map([['destination', ['http://10.0.0.1/x']]]) }],
    [
      'an unknown search key',
      {
        query: new Map([
          ['destination', [DEST]],
          ['Bogus', ['1']],
        ]),
      },
    ],
    ['a malformed study UID in the path', { target: { level: 'SERIES', studyInstanceUID: '1..2' } as SendTarget }],
  ])('400 for %s, nothing recorded', async (_, overrides) => {
    const { service, requests } = setup();
    await expect(service.send(request(overrides))).rejects.toBeInstanceOf(BadRequestError);
    expect(await requests.get(UID)).toBeUndefined();
  });

  it('409 when the Transaction UID is already in use', async () => {
    const { service } = setup();
    await service.send(request());
    await expect(service.send(request())).rejects.toBeInstanceOf(ConflictError);
  });

  it('[studies.send.503] 503 when the workflow cannot be started; the request then reads as A701', async () => {
    const { service } = setup({ start: async () => Promise.reject(new Error('no state machine')) });
    await expect(service.send(request())).rejects.toBeInstanceOf(ServiceUnavailableError);
    const check = await service.checkSendResult({ target: studies, transactionUID: UID, accept: undefined });
    expect(check.status).toBe(200);
    expect((check.payload as any)[0]['00000900'].Value).toEqual([0xa701]);
  });
});

describe('Check Send Result transaction', () => {
  it('[studies.check.400] 400 for a malformed Transaction UID', async () => {
    await expect(setup().service.checkSendResult({ target: studies, transactionUID: '1.02', accept: undefined })).rejects.toBeInstanceOf(
      BadRequestError,
    );
  });

  it('[studies.check.406] 406 for an Accept without application/dicom+json', async () => {
    await expect(setup().service.checkSendResult({ target: studies, transactionUID: UID, accept: 'text/html' })).rejects.toBeInstanceOf(
      NotAcceptableError,
    );
  });

  it('[studies.check.503] 503 when the request store cannot be read', async () => {
    const { service, requests } = setup();
    requests.get = async () => Promise.reject(new ServiceUnavailableError('DynamoDB is unavailable, retry later'));
    await expect(service.checkSendResult({ target: studies, transactionUID: UID, accept: undefined })).rejects.toBeInstanceOf(
      ServiceUnavailableError,
    );
  });

  it('404 for an unknown Transaction UID or another resource', async () => {
    const { service } = setup();
    await expect(service.checkSendResult({ target: studies, transactionUID: UID, accept: undefined })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await service.send(request());
    await expect(service.checkSendResult({ target: { level: 'SERIES' }, transactionUID: UID, accept: undefined })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('410 once the result has expired', async () => {
    const { service, setClock } = setup();
    await service.send(request());
    setClock(() => 1_700_000_000_000 + 61_000);
    await expect(service.checkSendResult({ target: studies, transactionUID: UID, accept: undefined })).rejects.toBeInstanceOf(GoneError);
  });

  it('a run the workflow service ended without Fail is failed, Remaining counted as Failed', async () => {
    const { service, requests } = setup({ state: 'ABORTED' });
    await service.send(request());
    await requests.setMatched(UID, 3);
    await requests.addBatchOutcome(UID, { batchId: 'b1', completed: 1, warning: 0, failed: 0 });
    const r = await service.checkSendResult({ target: studies, transactionUID: UID, accept: undefined });
    expect(r.status).toBe(200);
    const m = (r.payload as any)[0];
    expect([m['00000900'].Value[0], m['00001021'].Value[0], m['00001022'].Value[0]]).toEqual([0xb000, 1, 2]);
    expect(m['00001020']).toBeUndefined();
  });
  it('lists the Failed SOP Instance UIDs an earlier release kept in the request item, beside the batch outcomes', async () => {
    const { service, requests } = setup();
    await requests.create({
      transactionUID: UID,
      target: { level: 'STUDY' },
      search: [],
      destination: DEST,
      state: 'COMPLETED',
      status: 0xb000,
      remaining: 0,
      completed: 1,
      warning: 0,
      failed: 2,
      createdAt: '2026-01-01T00:00:00.000Z',
      expiresAt: 1_800_000_000,
      deleteAt: 1_900_000_000,
      itemFailedSOPInstanceUIDs: ['1.2.3.1', '1.2.3.2'],
    });
    const r = await service.checkSendResult({ target: studies, transactionUID: UID, accept: undefined });
    expect(r.status).toBe(200);
    expect((r.payload as any)[0]['00080058']).toEqual({ vr: 'UI', Value: ['1.2.3.1', '1.2.3.2'] });
  });
});
