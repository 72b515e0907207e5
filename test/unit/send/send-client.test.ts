import { describe, expect, it } from 'vitest';
import { isValidUid } from '../../../lambdas/dicom/uid';
import { encodeSendRequestResponse, sendRequestResponse, SendStatus } from '../../../lambdas/send/response-module';
import type { SubOperationCounters } from '../../../lambdas/send/counters';
import {
  buildSendUrl,
  parseSearchPair,
  SendClientLimits,
  sendAndWait,
  sendResourcePath,
  SendUsageError,
  type SendOptions,
} from '../../../lambdas/send/send-client';
import { exitCodeOf, formatOutcome } from '../../../lib/cli/send-output';

const ORIGIN = 'http://origin.test/dicomweb';
const DESTINATION = 'http://dest.test:8081/dicomweb';
const STUDY = '1.2.826.0.1.3680043.8.498.1';
const SERIES = '1.2.826.0.1.3680043.8.498.2';
const TX = '2.25.1234';

type Step = { status: number; body?: unknown; headers?: Record<string, string> } | Error;

/** A scripted origin server: answers each request with the next step and records the requests. */
function fakeOrigin(steps: Step[]) {
  const requests: { method: string; url: URL; headers: Headers }[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    requests.push({ method: init?.method ?? 'GET', url: new URL(String(input)), headers: new Headers(init?.headers) });
    const step = steps.shift();
    if (step === undefined) throw new Error('the test script has no more responses');
    if (step instanceof Error) throw step;
    const body = step.body === undefined ? null : typeof step.body === 'string' ? step.body : JSON.stringify(step.body);
    return new Response(body, { status: step.status, headers: step.headers });
  }) as typeof globalThis.fetch;
  return { fetch, requests, left: () => steps.length };
}

/** A clock that the fake sleep advances, so --max-wait is exercised without waiting. */
function fakeClock(start = Date.UTC(2026, 0, 1)) {
  let t = start;
  const delays: number[] = [];
  return { now: () => t, sleep: async (ms: number) => void (delays.push(ms), (t += ms)), delays };
}

const counters = (remaining: number, completed: number, failed = 0, warning = 0): SubOperationCounters => ({
  remaining,
  completed,
  failed,
  warning,
});
const module = (c: SubOperationCounters, failedUids: string[] = []) => encodeSendRequestResponse(sendRequestResponse(c, failedUids));
const ok = (c: SubOperationCounters, failedUids: string[] = []): Step => ({ status: 200, body: module(c, failedUids) });
const accepted = (c: SubOperationCounters, retryAfter?: string): Step => ({
  status: 202,
  body: module(c),
  ...(retryAfter !== undefined ? { headers: { 'Retry-After': retryAfter } } : {}),
});
const statusReport = (status: number, detail: string, errors: { target?: string; message: string }[] = []) => ({
  status,
  headers: { 'Content-Type': 'application/json' },
  body: { status, title: 'x', detail, ...(errors.length ? { errors } : {}) },
});

async function run(steps: Step[], more: Partial<SendOptions> = {}) {
  const origin = fakeOrigin(steps);
  const clock = fakeClock();
  const progress: [SubOperationCounters, number][] = [];
  const notices: string[] = [];
  const outcome = await sendAndWait({
    origin: ORIGIN,
    resourcePath: `/studies/${STUDY}/series`,
    destination: DESTINATION,
    search: [],
    transactionUID: TX,
    maxWaitSeconds: 3600,
    fetch: origin.fetch,
    sleep: clock.sleep,
    now: clock.now,
    onProgress: (c, matched) => progress.push([c, matched]),
    onNotice: (m) => notices.push(m),
    ...more,
  });
  return { outcome, requests: origin.requests, left: origin.left(), delays: clock.delays, progress, notices };
}

const uidOf = (url: URL) => url.pathname.split('/send-requests/')[1]!;

describe('sendAndWait: Send transaction (PS3.2 N.7.3.3.3.X2)', () => {
  it('[studies.send-ua.200] [studies.check-ua.200] 200: POSTs once with Accept and no body, and completes with the final module', async () => {
    const r = await run([ok(counters(0, 3))], { token: 'secret-token', search: [['PatientID', 'X']] });
    expect(r.outcome).toEqual({ kind: 'completed', transactionUID: TX, response: { status: 0, completed: 3, failed: 0, warning: 0 } });
    expect(r.requests).toHaveLength(1);
    const [req] = r.requests;
    expect(req!.method).toBe('POST');
    expect(req!.headers.get('accept')).toBe('application/dicom+json');
    expect(req!.headers.get('authorization')).toBe('Bearer secret-token');
    expect(req!.url.pathname).toBe(`/dicomweb/studies/${STUDY}/series/send-requests/${TX}`);
    expect(req!.url.searchParams.get('destination')).toBe(DESTINATION);
    expect(req!.url.searchParams.get('PatientID')).toBe('X');
    expect(r.progress).toEqual([[counters(0, 3), 3]]);
    expect(exitCodeOf(r.outcome)).toBe(0);
  });

  it('[studies.send-ua.409] 409: retries with a new Transaction UID and tells the user', async () => {
    const r = await run([statusReport(409, 'in use'), ok(counters(0, 1))]);
    expect(r.requests.map((q) => q.method)).toEqual(['POST', 'POST']);
    const [first, second] = r.requests.map((q) => uidOf(q.url));
    expect(first).toBe(TX);
    expect(second).not.toBe(TX);
    expect(isValidUid(second!)).toBe(true);
    expect(r.outcome).toMatchObject({ kind: 'completed', transactionUID: second });
    expect(r.notices.join('\n')).toContain(`Transaction UID ${TX} is already in use (409)`);
  });

  it('409: gives up after the bounded number of new Transaction UIDs', async () => {
    const steps = Array.from({ length: SendClientLimits.conflictRetries + 1 }, () => statusReport(409, 'in use'));
    const r = await run(steps);
    expect(r.requests).toHaveLength(SendClientLimits.conflictRetries + 1);
    expect(new Set(r.requests.map((q) => uidOf(q.url))).size).toBe(SendClientLimits.conflictRetries + 1);
    expect(r.outcome).toMatchObject({ kind: 'failed', transaction: 'Send', httpStatus: 409 });
    expect(exitCodeOf(r.outcome)).toBe(1);
  });

  it('[studies.send-ua.400] 400: reports the failure with the Status Report', async () => {
    const r = await run([
      statusReport(400, 'the destination is not registered', [{ target: 'destination', message: 'not in the allow-list' }]),
    ]);
    expect(r.outcome).toMatchObject({
      kind: 'failed',
      httpStatus: 400,
      statusReport: { detail: 'the destination is not registered', errors: [{ target: 'destination', message: 'not in the allow-list' }] },
    });
    const text = formatOutcome(r.outcome);
    expect(text).toContain('answered 400');
    expect(text).toContain('the destination is not registered');
    expect(text).toContain('- destination: not in the allow-list');
    expect(exitCodeOf(r.outcome)).toBe(1);
  });

  it('[studies.check-ua.other] any other code on Check Send Result: reports the failure', async () => {
    const r = await run([accepted(counters(1, 0), '1'), statusReport(500, 'broken')]);
    expect(r.requests.map((q) => q.method)).toEqual(['POST', 'GET']);
    expect(r.outcome).toMatchObject({ kind: 'failed', transaction: 'CheckSendResult', httpStatus: 500 });
  });

  it('[studies.send-ua.other] any other code: reports the failure, with or without a readable payload', async () => {
    const teapot = await run([{ status: 418, body: 'no json here' }]);
    expect(teapot.outcome).toMatchObject({ kind: 'failed', httpStatus: 418 });
    expect(teapot.outcome).not.toHaveProperty('statusReport');
    const notFound = await run([statusReport(404, 'no such study')]);
    expect(notFound.requests).toHaveLength(1); // 404 restarts only on Check Send Result
    expect(notFound.outcome).toMatchObject({
      kind: 'failed',
      transaction: 'Send',
      httpStatus: 404,
      statusReport: { detail: 'no such study' },
    });
  });

  it('a redirect is reported, not followed', async () => {
    const r = await run([{ status: 307, headers: { Location: 'http://elsewhere.test/' } }]);
    expect(r.requests).toHaveLength(1);
    expect(r.outcome).toMatchObject({ kind: 'failed', httpStatus: 307 });
    expect(formatOutcome(r.outcome)).toContain('redirect to http://elsewhere.test/, not followed');
  });

  it('200 without a valid module is a failure, not a success', async () => {
    const r = await run([{ status: 200, body: [{ '00000900': { vr: 'US', Value: [0] } }] }]);
    expect(r.outcome).toMatchObject({ kind: 'failed', httpStatus: 200 });
    const pending = await run([{ status: 200, body: module(counters(5, 0)) }]);
    expect(pending.outcome).toMatchObject({ kind: 'failed', httpStatus: 200 });
  });
});

describe('sendAndWait: Check Send Result (PS3.2 N.7.3.3.3.X4)', () => {
  it('[studies.send-ua.202] [studies.check-ua.202] 202, 202, 200: polls with GET on the same URI, honouring Retry-After in seconds and as an HTTP date', async () => {
    const clockStart = Date.UTC(2026, 0, 1);
    const r = await run([
      accepted(counters(10, 0), '3'),
      accepted(counters(4, 5, 1), new Date(clockStart + 3000 + 5000).toUTCString()),
      ok(counters(0, 8, 1, 1), ['1.2.3.9']),
    ]);
    expect(r.delays).toEqual([3000, 5000]);
    expect(r.requests.map((q) => q.method)).toEqual(['POST', 'GET', 'GET']);
    for (const q of r.requests.slice(1)) {
      expect(q.url.pathname).toBe(`/dicomweb/studies/${STUDY}/series/send-requests/${TX}`);
      expect(q.url.search).toBe(''); // 10.Y.1.2: no query parameters
      expect(q.headers.get('accept')).toBe('application/dicom+json');
    }
    expect(r.progress.map(([c, m]) => [c.remaining, m])).toEqual([
      [10, 10],
      [4, 10],
      [0, 10],
    ]);
    expect(r.outcome).toEqual({
      kind: 'completed',
      transactionUID: TX,
      response: { status: SendStatus.Warning, completed: 8, failed: 1, warning: 1, failedSOPInstanceUIDList: ['1.2.3.9'] },
    });
    expect(exitCodeOf(r.outcome)).toBe(2);
  });

  it('202 without Retry-After waits the default interval', async () => {
    const r = await run([accepted(counters(1, 0)), ok(counters(0, 1))]);
    expect(r.delays).toEqual([SendClientLimits.defaultPollDelayMs]);
  });

  it.each([404, 410])(
    '[studies.check-ua.404] [studies.check-ua.410] %i: starts all over once with a new Send request and tells the user',
    async (code) => {
      const r = await run([accepted(counters(2, 0), '1'), statusReport(code, 'gone'), ok(counters(0, 2))]);
      expect(r.requests.map((q) => q.method)).toEqual(['POST', 'GET', 'POST']);
      const uids = r.requests.map((q) => uidOf(q.url));
      expect(uids[1]).toBe(TX);
      expect(uids[2]).not.toBe(TX);
      expect(r.requests[2]!.url.searchParams.get('destination')).toBe(DESTINATION);
      expect(r.outcome).toMatchObject({ kind: 'completed', transactionUID: uids[2] });
      expect(r.notices.some((n) => n.includes(`(${code})`) && n.includes(uids[2]!))).toBe(true);
    },
  );

  it('404 again after starting over: reports the failure', async () => {
    const r = await run([accepted(counters(2, 0), '1'), statusReport(404, 'x'), accepted(counters(2, 0), '1'), statusReport(404, 'x')]);
    expect(r.left).toBe(0);
    expect(r.outcome).toMatchObject({ kind: 'failed', transaction: 'CheckSendResult', httpStatus: 404 });
  });

  it('[studies.check-ua.503] 503: honours Retry-After and retries, then completes', async () => {
    const r = await run([accepted(counters(1, 0), '1'), { status: 503, headers: { 'Retry-After': '7' } }, ok(counters(0, 1))]);
    expect(r.requests.map((q) => q.method)).toEqual(['POST', 'GET', 'GET']);
    expect(r.delays).toEqual([1000, 7000]);
    expect(r.outcome).toMatchObject({ kind: 'completed', transactionUID: TX });
  });

  it('[studies.send-ua.503] 503: reports the failure after the bounded number of retries', async () => {
    const steps = Array.from({ length: SendClientLimits.unavailableRetries + 1 }, () => statusReport(503, 'try later'));
    const r = await run(steps);
    expect(r.requests).toHaveLength(SendClientLimits.unavailableRetries + 1);
    expect(r.outcome).toMatchObject({ kind: 'failed', httpStatus: 503, statusReport: { detail: 'try later' } });
  });

  it('503 on Send, then 409 for the same UID: the earlier Send was accepted, so its result is checked (no second send)', async () => {
    const r = await run([{ status: 503 }, statusReport(409, 'in use'), ok(counters(0, 4))]);
    expect(r.requests.map((q) => `${q.method} ${uidOf(q.url)}`)).toEqual([`POST ${TX}`, `POST ${TX}`, `GET ${TX}`]);
    expect(r.outcome).toMatchObject({ kind: 'completed', transactionUID: TX });
  });

  it('a transient network fault is retried; any other fault is reported', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) });
    const r = await run([refused, ok(counters(0, 1))]);
    expect(r.outcome).toMatchObject({ kind: 'completed' });
    const broken = await run([new TypeError('fetch failed')]);
    expect(broken.outcome).toMatchObject({ kind: 'failed', transaction: 'Send' });
    expect(broken.outcome).not.toHaveProperty('httpStatus');
  });

  it('stops at --max-wait and says how to check later', async () => {
    const steps = Array.from({ length: 10 }, () => accepted(counters(3, 1), '10'));
    const r = await run(steps, { maxWaitSeconds: 25 });
    expect(r.delays).toEqual([10_000, 10_000, 5_000]);
    expect(r.outcome).toEqual({
      kind: 'timed-out',
      transactionUID: TX,
      checkUrl: `${ORIGIN}/studies/${STUDY}/series/send-requests/${TX}`,
      last: { status: SendStatus.Pending, remaining: 3, completed: 1, failed: 0, warning: 0 },
    });
    expect(exitCodeOf(r.outcome)).toBe(1);
    expect(formatOutcome(r.outcome)).toContain(`GET ${ORIGIN}/studies/${STUDY}/series/send-requests/${TX}`);
  });

  it('refuses a bad Transaction UID before any request', async () => {
    await expect(run([], { transactionUID: '01.2' })).rejects.toBeInstanceOf(SendUsageError);
  });
});

describe('target URI (Table 10.X.1-1)', () => {
  it.each([
    [{}, '/studies'],
    [{ level: 'series' as const }, '/series'],
    [{ level: 'instances' as const }, '/instances'],
    [{ studyInstanceUID: STUDY }, `/studies/${STUDY}/series`],
    [{ studyInstanceUID: STUDY, level: 'series' as const }, `/studies/${STUDY}/series`],
    [{ studyInstanceUID: STUDY, level: 'instances' as const }, `/studies/${STUDY}/instances`],
    [{ studyInstanceUID: STUDY, seriesInstanceUID: SERIES }, `/studies/${STUDY}/series/${SERIES}/instances`],
  ])('%j -> %s', (target, path) => {
    expect(sendResourcePath(target)).toBe(path);
    expect(buildSendUrl('http://127.0.0.1:8080/', path, TX)).toBe(`http://127.0.0.1:8080${path}/send-requests/${TX}`);
  });

  it.each([
    [{ seriesInstanceUID: SERIES }],
    [{ studyInstanceUID: STUDY, seriesInstanceUID: SERIES, level: 'series' as const }],
    [{ studyInstanceUID: STUDY, level: 'studies' as const }],
    [{ studyInstanceUID: '1.2.03' }],
    [{ studyInstanceUID: STUDY, seriesInstanceUID: 'abc' }],
  ])('refuses %j', (target) => {
    expect(() => sendResourcePath(target)).toThrow(SendUsageError);
  });

  it('percent-encodes the destination and the search parameters (RFC 3986)', () => {
    const url = buildSendUrl(ORIGIN, '/studies', TX, {
      destination: 'https://pacs.test:8443/dicom web?tenant=a&x=1',
      search: [
        ['PatientName', 'DOE^J*'],
        ['StudyDate', '2024-'],
        ['ModalitiesInStudy', 'CT'],
        ['ModalitiesInStudy', 'MR'],
      ],
    });
    expect(url).toBe(
      `${ORIGIN}/studies/send-requests/${TX}?destination=https%3A%2F%2Fpacs.test%3A8443%2Fdicom%20web%3Ftenant%3Da%26x%3D1` +
        '&PatientName=DOE%5EJ*&StudyDate=2024-&ModalitiesInStudy=CT&ModalitiesInStudy=MR',
    );
    const parsed = new URL(url).searchParams;
    expect(parsed.get('destination')).toBe('https://pacs.test:8443/dicom web?tenant=a&x=1');
    expect(parsed.getAll('ModalitiesInStudy')).toEqual(['CT', 'MR']);
  });

  it('refuses a destination or origin that is not an absolute http(s) URL', () => {
    expect(() => buildSendUrl(ORIGIN, '/studies', TX, { destination: 'PACS_AE', search: [] })).toThrow(SendUsageError);
    expect(() => buildSendUrl(ORIGIN, '/studies', TX, { destination: 'file:///etc/passwd', search: [] })).toThrow(SendUsageError);
    expect(() => buildSendUrl('origin.test', '/studies', TX)).toThrow(SendUsageError);
  });

  it('parses --query pairs at the first =', () => {
    expect(parseSearchPair('PatientID=A=B')).toEqual(['PatientID', 'A=B']);
    expect(parseSearchPair('StudyDate=')).toEqual(['StudyDate', '']);
    expect(() => parseSearchPair('PatientID')).toThrow(SendUsageError);
    expect(() => parseSearchPair('=x')).toThrow(SendUsageError);
    expect(() => parseSearchPair('destination=http://x')).toThrow(SendUsageError);
  });
});
