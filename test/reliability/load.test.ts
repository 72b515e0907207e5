/**
 * Reliability, load: many concurrent STOW and QIDO clients against one embedded archive whose
 * gateway admits few requests at once (MAX_IN_FLIGHT_REQUESTS), for a bounded time. Overload is
 * answered 503 with Retry-After and a Status Report, never 500; every instance a Store response
 * acknowledged is afterwards retrievable byte-identical, and the index lists exactly those.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newUid } from '../../lambdas/dicom/uid';
import { makeInstance } from '../support/dicom-factory';
import { DICOM_JSON, stowBody, tempArchive } from '../support/http';
import { Ledger, lostOrAltered, storeInstances, walkIndex, type SentInstance } from '../support/ledger';

type Archive = Awaited<ReturnType<typeof tempArchive>>;

const MAX_IN_FLIGHT = 6;
const CLIENTS = 24;
/** Each client stops after this many operations or at the deadline, whichever comes first. */
const OPERATIONS_PER_CLIENT = 25;
const DURATION_MS = 10_000;

let archive: Archive;
/** Instances stored by the admission test (outside the load test's ledger). */
const heldInstances = new Set<string>();
beforeAll(async () => {
  archive = await tempArchive({ env: { MAX_IN_FLIGHT_REQUESTS: String(MAX_IN_FLIGHT) } });
});
afterAll(async () => archive?.close());

/** A client honours Retry-After, shortened tenfold to keep the test bounded. */
const backOff = (retryAfter: string | null) => new Promise((resolve) => setTimeout(resolve, Number(retryAfter) * 100));

function expectOverloadAnswer(status: number, retryAfter: string | null, body: unknown): void {
  expect(status).toBe(503);
  expect(retryAfter).toMatch(/^\d+$/);
  expect((body as { status?: number }).status).toBe(503);
}

describe('admission control of the embedded gateway', () => {
  it('answers 503 with Retry-After beyond MAX_IN_FLIGHT_REQUESTS, and serves again once requests finish', async () => {
    // Hold MAX_IN_FLIGHT Store requests open: headers sent, body not finished.
    const { hostname, port } = new URL(archive.url);
    const instances = Array.from({ length: MAX_IN_FLIGHT }, () => {
      const sopInstanceUID = newUid();
      heldInstances.add(sopInstanceUID);
      return makeInstance({ sopInstanceUID, patientID: 'HELD' });
    });
    const held = instances.map((file) => {
      const { body, contentType } = stowBody([file]);
      const req = http.request({
        host: hostname,
        port,
        path: '/studies',
        method: 'POST',
        headers: { 'Content-Type': contentType, Accept: DICOM_JSON },
      });
      const done = new Promise<number>((resolve, reject) => {
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
      });
      req.write(body.subarray(0, 10));
      return { req, rest: body.subarray(10), done };
    });
    // The server has admitted all of them once a request beyond the limit is refused.
    let refused: Response | undefined;
    for (let attempt = 0; attempt < 100 && !refused; attempt++) {
      const r = await fetch(`${archive.url}/studies?PatientID=HELD`, { headers: { Accept: DICOM_JSON } });
      if (r.status === 503) refused = r;
      else await r.arrayBuffer();
    }
    expect(refused).toBeDefined();
    expectOverloadAnswer(refused!.status, refused!.headers.get('retry-after'), await refused!.json());

    for (const h of held) h.req.end(h.rest);
    expect(await Promise.all(held.map((h) => h.done))).toEqual(instances.map(() => 200));
    const after = await fetch(`${archive.url}/studies?PatientID=HELD`, { headers: { Accept: DICOM_JSON } });
    expect(after.status).toBe(200);
    expect(await after.json()).toHaveLength(MAX_IN_FLIGHT);
  }, 30_000);
});

describe('concurrent STOW and QIDO clients', () => {
  it('never 500; overload is 503 + Retry-After; every acknowledged instance is retrievable byte-identical', async () => {
    const ledger = new Ledger();
    const statuses = new Map<number, number>();
    const count = (s: number) => statuses.set(s, (statuses.get(s) ?? 0) + 1);
    const deadline = Date.now() + DURATION_MS;
    // A few shared studies, so that concurrent writers meet on the same study and series entries.
    const studies = Array.from({ length: 4 }, () => ({ studyInstanceUID: newUid(), series: [newUid(), newUid()] }));

    async function client(n: number): Promise<void> {
      for (let op = 0; op < OPERATIONS_PER_CLIENT && Date.now() < deadline; op++) {
        const study = studies[(n + op) % studies.length]!;
        if ((n + op) % 2 === 0) {
          const sent: SentInstance[] = Array.from({ length: 1 + (op % 3) }, (_, k) => {
            const ids = { studyInstanceUID: study.studyInstanceUID, seriesInstanceUID: study.series[k % 2]!, sopInstanceUID: newUid() };
            return { ...ids, bytes: makeInstance({ ...ids, patientID: `LOAD-${n % 4}` }) };
          });
          const r = await storeInstances(archive.url, sent);
          count(r.status);
          ledger.record(r.status, r.module, sent);
          if (r.status !== 503) expect(r.status, JSON.stringify(r.module)).toBe(200);
          else {
            expectOverloadAnswer(r.status, r.retryAfter, r.module);
            await backOff(r.retryAfter);
          }
        } else {
          const r = await fetch(`${archive.url}/studies/${study.studyInstanceUID}/instances?includefield=all`, {
            headers: { Accept: DICOM_JSON },
          });
          count(r.status);
          const body = await r.text();
          if (r.status !== 503) expect([200, 204]).toContain(r.status);
          else {
            expectOverloadAnswer(r.status, r.headers.get('retry-after'), JSON.parse(body));
            await backOff(r.headers.get('retry-after'));
          }
        }
      }
    }
    await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));

    expect([...statuses.keys()].filter((s) => s >= 500 && s !== 503)).toEqual([]);
    expect(ledger.acknowledged.size).toBeGreaterThan(0);
    expect(await lostOrAltered(archive.url, ledger)).toEqual([]);
    const { listed, withoutObject } = await walkIndex(archive.url);
    expect(withoutObject).toEqual([]);
    expect(listed.filter((uid) => !heldInstances.has(uid)).sort()).toEqual([...ledger.acknowledged.keys()].sort());
    // Study counters agree with the instances stored under each study.
    for (const s of studies) {
      const stored = [...ledger.acknowledged.values()].filter((i) => i.studyInstanceUID === s.studyInstanceUID).length;
      const r = await fetch(`${archive.url}/studies?StudyInstanceUID=${s.studyInstanceUID}`, { headers: { Accept: DICOM_JSON } });
      if (stored === 0) continue;
      const [study] = (await r.json()) as Record<string, { Value?: unknown[] }>[];
      expect(Number(study!['00201208']!.Value![0])).toBe(stored);
    }
  }, 120_000);
});
