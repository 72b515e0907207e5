/**
 * e2e: SEND-RS (Supplement 248) over HTTP. Archive A sends to archive B (a second embedded archive)
 * and to scriptable destinations; Check Send Result is polled until final. Every status code of the
 * Send and Check Send Result tables of the conformance statement is produced here.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newUid } from '../../lambdas/dicom/uid';
import { SendResponseTag } from '../../lambdas/send/response-module';
import { makeStudy } from '../support/dicom-factory';
import { startFakeDestination, type FakeDestination } from '../support/fake-destination';
import { DICOM_JSON, multipartParts, stow, tempArchive } from '../support/http';

type Archive = Awaited<ReturnType<typeof tempArchive>>;
type Module = Record<string, { vr: string; Value?: any[] }>;

const {
  Status: STATUS,
  NumberOfRemainingSuboperations: REMAINING,
  NumberOfCompletedSuboperations: COMPLETED,
  NumberOfFailedSuboperations: FAILED,
  NumberOfWarningSuboperations: WARNING,
  FailedSOPInstanceUIDList: FAILED_LIST,
} = SendResponseTag;

const v = (m: Module, tag: string) => m[tag]?.Value?.[0];
const total = (m: Module) => (v(m, REMAINING) ?? 0) + v(m, COMPLETED) + v(m, FAILED) + v(m, WARNING);

let a: Archive;
let b: Archive;
let fake: FakeDestination;
let down: string;

beforeAll(async () => {
  b = await tempArchive();
  fake = await startFakeDestination();
  // A port nobody listens on: connection refused.
  const gone = await startFakeDestination();
  down = gone.url;
  await gone.close();
  a = await tempArchive({ env: { SEND_WAIT_MS: '300', SEND_BATCH_SIZE: '3' } });
  await writeFile(
    path.join(a.dataDir, 'destinations.json'),
    JSON.stringify({
      destinations: [
        { url: b.url, auth: { type: 'none' } },
        { url: fake.url, auth: { type: 'bearer', token: 'peer-token' } },
        { url: down, auth: { type: 'none' } },
      ],
    }),
  );
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await fake?.close();
});

async function post(resource: string, uid: string, query: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${a.url}${resource}/send-requests/${uid}?${query}`, { method: 'POST', headers: { Accept: DICOM_JSON }, ...init });
}

/** Send, then Check Send Result until 200; every module seen is returned (first to last). */
async function sendAndWait(resource: string, query: string): Promise<{ uid: string; modules: Module[]; statuses: number[] }> {
  const uid = newUid();
  const modules: Module[] = [];
  const statuses: number[] = [];
  let r = await post(resource, uid, query);
  for (;;) {
    statuses.push(r.status);
    expect([200, 202]).toContain(r.status);
    expect(r.headers.get('content-type')).toContain(DICOM_JSON);
    const body = (await r.json()) as Module[];
    expect(body).toHaveLength(1);
    modules.push(body[0]!);
    if (r.status === 200) return { uid, modules, statuses };
    expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    r = await fetch(`${a.url}${resource}/send-requests/${uid}`, { headers: { Accept: DICOM_JSON } });
  }
}

const dest = (url: string) => `destination=${encodeURIComponent(url)}`;

describe('Send to a second embedded archive', () => {
  const patientID = `SEND-${Date.now()}`;
  const study = makeStudy({ series: 2, instancesPerSeries: 3, patientID, modality: 'CT' });

  beforeAll(async () => {
    expect(
      (
        await stow(
          a.url,
          study.instances.map((i) => i.bytes),
        )
      ).status,
    ).toBe(200);
  });

  it('[studies.send.200] [studies.send.202] [studies.check.200] [studies.check.202] 200 after 202s: the study arrives byte-identical, counters add up at every poll', async () => {
    const { modules, statuses } = await sendAndWait('/studies', `${dest(b.url)}&StudyInstanceUID=${study.studyInstanceUID}`);
    const final = modules.at(-1)!;
    expect(v(final, STATUS)).toBe(0x0000);
    expect(v(final, COMPLETED)).toBe(6);
    expect(final[REMAINING]).toBeUndefined();
    expect(final[FAILED_LIST]).toBeUndefined();
    for (const m of modules.slice(0, -1)) expect(v(m, STATUS)).toBe(0xff00);
    for (const m of modules) if (m[REMAINING]?.Value) expect(total(m)).toBe(6);
    expect(statuses.at(-1)).toBe(200);

    const found = await fetch(`${b.url}/studies/${study.studyInstanceUID}/instances`);
    expect(((await found.json()) as unknown[]).length).toBe(6);
    for (const i of study.instances) {
      const r = await fetch(`${b.url}/studies/${study.studyInstanceUID}/series/${i.seriesInstanceUID}/instances/${i.sopInstanceUID}`, {
        headers: { Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
      });
      const [part] = await multipartParts(r);
      expect(Buffer.compare(Buffer.from(part!.body), Buffer.from(i.bytes))).toBe(0);
    }
  });

  it('every one of the six resources of Table 10.X.1-1', async () => {
    const [s1, s2] = [study.instances[0]!, study.instances[3]!];
    const cases: [string, string, number][] = [
      ['/studies', `PatientID=${patientID}`, 6],
      [`/studies/${study.studyInstanceUID}/series`, `SeriesInstanceUID=${s1.seriesInstanceUID}`, 3],
      [`/studies/${study.studyInstanceUID}/instances`, `SOPInstanceUID=${s1.sopInstanceUID},${s2.sopInstanceUID}`, 2],
      ['/series', `PatientID=${patientID}&Modality=CT`, 6],
      [`/studies/${study.studyInstanceUID}/series/${s2.seriesInstanceUID}/instances`, '', 3],
      ['/instances', `SOPInstanceUID=${s2.sopInstanceUID}`, 1],
    ];
    for (const [resource, query, expected] of cases) {
      const { modules } = await sendAndWait(resource, `${dest(b.url)}${query ? `&${query}` : ''}`);
      expect(v(modules.at(-1)!, COMPLETED), resource).toBe(expected);
      expect(v(modules.at(-1)!, STATUS), resource).toBe(0);
    }
  });

  it('a send that matches nothing is a Success with all counters 0', async () => {
    const { modules } = await sendAndWait('/studies', `${dest(b.url)}&PatientID=NOBODY-${Date.now()}`);
    const final = modules.at(-1)!;
    expect([v(final, STATUS), v(final, COMPLETED), v(final, FAILED), v(final, WARNING)]).toEqual([0, 0, 0, 0]);
  });
});

describe('Sub-operation outcomes from the destination (PS3.4 C.4.2.3.1.1.4)', () => {
  const study = makeStudy({ series: 1, instancesPerSeries: 4, patientID: `OUT-${Date.now()}` });
  const query = () => `${dest(fake.url)}&StudyInstanceUID=${study.studyInstanceUID}`;

  beforeAll(async () => {
    expect(
      (
        await stow(
          a.url,
          study.instances.map((i) => i.bytes),
        )
      ).status,
    ).toBe(200);
  });

  it('warnings: Warning counter, Status B000, never retried', async () => {
    fake.behaviour = { kind: 'warn' };
    fake.requests = 0;
    const final = (await sendAndWait('/studies', query())).modules.at(-1)!;
    expect([v(final, STATUS), v(final, WARNING), v(final, COMPLETED), v(final, FAILED)]).toEqual([0xb000, 4, 0, 0]);
    expect(fake.requests).toBe(2); // 4 instances in batches of 3: two STOW requests, no retry
  });

  it('partial failures: B000 with the Failed SOP Instance UID List', async () => {
    const refused = study.instances[1]!.sopInstanceUID;
    fake.behaviour = { kind: 'fail', sopInstanceUIDs: new Set([refused]) };
    const final = (await sendAndWait('/studies', query())).modules.at(-1)!;
    expect([v(final, STATUS), v(final, COMPLETED), v(final, FAILED)]).toEqual([0xb000, 3, 1]);
    expect(final[FAILED_LIST]!.Value).toEqual([refused]);
  });

  it.each([409, 415, 400])('a destination answering %i without a module: all failed, A702', async (status) => {
    fake.behaviour = { kind: 'status', status };
    const final = (await sendAndWait('/studies', query())).modules.at(-1)!;
    expect([v(final, STATUS), v(final, FAILED), v(final, COMPLETED)]).toEqual([0xa702, 4, 0]);
    expect([...final[FAILED_LIST]!.Value!].sort()).toEqual(study.instances.map((i) => i.sopInstanceUID).sort());
  });

  it('503 then 200: transient faults are retried, all completed', async () => {
    fake.behaviour = { kind: 'unavailable', times: 1 };
    const final = (await sendAndWait('/studies', query())).modules.at(-1)!;
    expect([v(final, STATUS), v(final, COMPLETED)]).toEqual([0, 4]);
  });

  it('a destination that is down: every sub-operation fails, A702', async () => {
    const final = (await sendAndWait('/studies', `${dest(down)}&StudyInstanceUID=${study.studyInstanceUID}`)).modules.at(-1)!;
    expect([v(final, STATUS), v(final, FAILED)]).toEqual([0xa702, 4]);
  }, 60_000);
});

describe('Send failures (Table N.7.3.3.3.X1-1) and Check Send Result failures (X3-1)', () => {
  it('[studies.send.409] 409: a Transaction UID already in use', async () => {
    const uid = newUid();
    expect((await post('/studies', uid, `${dest(b.url)}&PatientID=NONE`)).status).toBeLessThan(300);
    const again = await post('/studies', uid, `${dest(b.url)}&PatientID=NONE`);
    expect(again.status).toBe(409);
    expect(((await again.json()) as any).detail).toMatch(/already in use/);
  });

  it('[studies.send.400] 400: missing, malformed or unregistered destination; malformed Transaction UID; bad search key; a payload', async () => {
    const cases: [string, string, RequestInit?][] = [
      [newUid(), 'PatientID=X'],
      [newUid(), 'destination=not-a-url'],
      [newUid(), `${dest('http://127.0.0.1:1/elsewhere')}`],
      ['1.2.abc', dest(b.url)],
      [newUid(), `${dest(b.url)}&NoSuchKey=1`],
      [newUid(), dest(b.url), { body: 'payload', headers: { Accept: DICOM_JSON, 'Content-Type': 'text/plain' } }],
    ];
    for (const [uid, query, init] of cases) {
      const r = await post('/studies', uid, query, init);
      expect(r.status, query).toBe(400);
      expect(((await r.json()) as any).status).toBe(400);
    }
  });

  it('[studies.send.406] 406: Accept other than application/dicom+json', async () => {
    const r = await post('/studies', newUid(), dest(b.url), { headers: { Accept: 'image/png' } });
    expect(r.status).toBe(406);
  });

  it('[studies.check.404] 404: Check Send Result of an unknown Transaction UID (or of another resource)', async () => {
    expect((await fetch(`${a.url}/studies/send-requests/${newUid()}`)).status).toBe(404);
    const { uid } = await sendAndWait('/studies', `${dest(b.url)}&PatientID=NONE`);
    expect((await fetch(`${a.url}/series/send-requests/${uid}`)).status).toBe(404);
  });

  it('[studies.check.410] 410: Check Send Result after the result expired (tombstone kept)', async () => {
    const c = await tempArchive({ env: { SEND_RESULT_TTL_SECONDS: '1' } });
    try {
      await writeFile(
        path.join(c.dataDir, 'destinations.json'),
        JSON.stringify({ destinations: [{ url: b.url, auth: { type: 'none' } }] }),
      );
      const uid = newUid();
      const r = await fetch(`${c.url}/studies/send-requests/${uid}?${dest(b.url)}&PatientID=NONE`, { method: 'POST' });
      expect(r.status).toBeLessThan(300);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const gone = await fetch(`${c.url}/studies/send-requests/${uid}`);
      expect(gone.status).toBe(410);
    } finally {
      await c.close();
    }
  });
});
