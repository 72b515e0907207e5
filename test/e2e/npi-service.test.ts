/**
 * e2e: the Non-Patient Instance Service (PS3.18 12) over HTTP for each of the six categories: Store,
 * Search by the category's keys, Retrieve byte-identical, the wrong SOP Class refused, NPI instances
 * never in a Studies search; and Send / Check Send Result (Sup 248 12.X / 12.Y) to a second embedded
 * archive with every status code of the NPI send tables.
 */
import { writeFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newUid } from '../../lambdas/dicom/uid';
import { Tag } from '../../lambdas/dicom/tags';
import { SendResponseTag } from '../../lambdas/send/response-module';
import { makeInstance } from '../support/dicom-factory';
import { DICOM_JSON, multipartParts, stowBody, tempArchive, value } from '../support/http';
import { makeNpiInstance, npiSamples, type NpiSample } from '../support/npi-factory';

type Archive = Awaited<ReturnType<typeof tempArchive>>;
type Module = Record<string, { vr: string; Value?: any[] }>;

const {
  RetrieveURL: RETRIEVE_URL,
  SOPInstanceUID: SOP_INSTANCE_UID,
  FailedSOPSequence: FAILED_SOP_SEQUENCE,
  ReferencedSOPSequence: REFERENCED_SOP_SEQUENCE,
  FailureReason: FAILURE_REASON,
} = Tag;
const { Status: STATUS, NumberOfCompletedSuboperations: COMPLETED, NumberOfFailedSuboperations: FAILED } = SendResponseTag;

let a: Archive;
let b: Archive;
let held: HeldDestination;

/** A DICOMweb Store destination that answers nothing until the test releases it (then 200). */
interface HeldDestination {
  readonly url: string;
  readonly paths: string[];
  /** Settles when the first Store request has arrived. */
  readonly arrived: Promise<void>;
  release(): void;
  close(): Promise<void>;
}

async function startHeldDestination(): Promise<HeldDestination> {
  const waiting: ServerResponse[] = [];
  const paths: string[] = [];
  let released = false;
  let arrive!: () => void;
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      paths.push(req.url ?? '');
      arrive();
      if (released) res.writeHead(200).end();
      else waiting.push(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/dicom-web`,
    paths,
    arrived,
    release: () => {
      released = true;
      for (const res of waiting.splice(0)) res.writeHead(200).end();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

beforeAll(async () => {
  b = await tempArchive();
  held = await startHeldDestination();
  a = await tempArchive({ env: { SEND_WAIT_MS: '300' } });
  await writeFile(
    path.join(a.dataDir, 'destinations.json'),
    JSON.stringify({
      destinations: [
        { url: b.url, auth: { type: 'none' } },
        { url: held.url, auth: { type: 'none' } },
      ],
    }),
  );
});
afterAll(async () => {
  held?.release();
  await a?.close();
  await b?.close();
  await held?.close();
});

async function storeNpi(baseUrl: string, npiName: string, files: readonly Uint8Array[]): Promise<Response> {
  const { body, contentType } = stowBody(files);
  return fetch(`${baseUrl}/${npiName}`, { method: 'POST', headers: { 'Content-Type': contentType, Accept: DICOM_JSON }, body });
}

async function search(baseUrl: string, npiName: string, keys: Readonly<Record<string, string>>): Promise<Response> {
  return fetch(`${baseUrl}/${npiName}?${new URLSearchParams(keys)}`, { headers: { Accept: DICOM_JSON } });
}

/** Two instances per category: the sample itself and one that the sample's search keys do not match. */
const stored = new Map<string, { sample: NpiSample; wanted: { sopInstanceUID: string; bytes: Uint8Array }; other: string }>();

describe.each(npiSamples('101'))('$npiName', (sample) => {
  const other = npiSamples('202').find((s) => s.npiName === sample.npiName)!;

  it('[npi.store.200] stores instances of the category (200) with Retrieve URLs under /{npi-name}', async () => {
    const wanted = makeNpiInstance(sample);
    const unwanted = makeNpiInstance(other);
    const r = await storeNpi(a.url, sample.npiName, [wanted.bytes, unwanted.bytes]);
    expect(r.status).toBe(200);
    const module = (await r.json()) as Module;
    const referenced = module[REFERENCED_SOP_SEQUENCE]!.Value as Module[];
    expect(referenced.map((i) => value(i, RETRIEVE_URL))).toEqual([
      `${a.url}/${sample.npiName}/${wanted.sopInstanceUID}`,
      `${a.url}/${sample.npiName}/${unwanted.sopInstanceUID}`,
    ]);
    stored.set(sample.npiName, { sample, wanted, other: unwanted.sopInstanceUID });
  });

  it("[npi.search.200] [npi.search.204] searches by the category's keys (200), and answers 204 when nothing matches", async () => {
    const { wanted } = stored.get(sample.npiName)!;
    const r = await search(a.url, sample.npiName, sample.search);
    expect(r.status).toBe(200);
    const results = (await r.json()) as Module[];
    expect(results.map((m) => value(m, SOP_INSTANCE_UID))).toEqual([wanted.sopInstanceUID]);
    expect(value(results[0]!, RETRIEVE_URL)).toBe(`${a.url}/${sample.npiName}/${wanted.sopInstanceUID}`);

    const all = (await (await search(a.url, sample.npiName, {})).json()) as Module[];
    expect(all).toHaveLength(2);
    expect((await search(a.url, sample.npiName, { SOPInstanceUID: newUid() })).status).toBe(204);
  });

  it('[npi.search.400] refuses a key that is not one of the category (400)', async () => {
    expect((await search(a.url, sample.npiName, { PatientID: 'X' })).status).toBe(400);
  });

  it('[npi.retrieve.200] [npi.retrieve.400] [npi.retrieve.404] [npi.retrieve.406] retrieves the instance byte-identical; 404 unknown, 400 malformed UID, 406 unacceptable', async () => {
    const { wanted } = stored.get(sample.npiName)!;
    const r = await fetch(`${a.url}/${sample.npiName}/${wanted.sopInstanceUID}`, {
      headers: { Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
    });
    expect(r.status).toBe(200);
    const parts = await multipartParts(r);
    expect(parts).toHaveLength(1);
    expect(Buffer.from(parts[0]!.body).equals(Buffer.from(wanted.bytes))).toBe(true);

    expect((await fetch(`${a.url}/${sample.npiName}/${newUid()}`)).status).toBe(404);
    expect((await fetch(`${a.url}/${sample.npiName}/not-a-uid`)).status).toBe(400);
    const unacceptable = await fetch(`${a.url}/${sample.npiName}/${wanted.sopInstanceUID}`, { headers: { Accept: 'image/png' } });
    expect(unacceptable.status).toBe(406);
  });

  it('[npi.store.409] [npi.store.reason.0122] refuses an instance of another SOP Class with Failure Reason 0x0122 (409)', async () => {
    const wrong = npiSamples('303').find((s) => s.npiName !== sample.npiName)!;
    const npi = makeNpiInstance(wrong);
    const ct = makeInstance();
    const r = await storeNpi(a.url, sample.npiName, [npi.bytes, ct]);
    expect(r.status).toBe(409);
    const failed = ((await r.json()) as Module)[FAILED_SOP_SEQUENCE]!.Value as Module[];
    expect(failed.map((f) => value(f, FAILURE_REASON))).toEqual([0x0122, 0x0122]);
  });
});

describe('apart from the Studies Service', () => {
  it('never shows NPI instances in a Studies search', async () => {
    const [sample] = npiSamples('404');
    const npi = makeNpiInstance(sample!);
    expect((await storeNpi(a.url, sample!.npiName, [npi.bytes])).status).toBe(200);
    for (const resource of ['/instances', '/studies', '/series']) {
      const r = await fetch(`${a.url}${resource}`, { headers: { Accept: DICOM_JSON } });
      const body = r.status === 204 ? [] : ((await r.json()) as Module[]);
      expect(JSON.stringify(body)).not.toContain(npi.sopInstanceUID);
    }
    const bySop = await fetch(`${a.url}/instances?SOPInstanceUID=${npi.sopInstanceUID}`, { headers: { Accept: DICOM_JSON } });
    expect(bySop.status).toBe(204);
  });
});

/** Send, then Check Send Result until 200; returns the final module. */
async function sendAndWait(npiName: string, query: string): Promise<{ uid: string; module: Module }> {
  const uid = newUid();
  let r = await fetch(`${a.url}/${npiName}/send-requests/${uid}?${query}`, { method: 'POST', headers: { Accept: DICOM_JSON } });
  for (;;) {
    expect([200, 202]).toContain(r.status);
    expect(r.headers.get('content-type')).toContain(DICOM_JSON);
    const [module] = (await r.json()) as Module[];
    if (r.status === 200) return { uid, module: module! };
    expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    r = await fetch(`${a.url}/${npiName}/send-requests/${uid}`, { headers: { Accept: DICOM_JSON } });
  }
}

describe.each(npiSamples('101'))('Send of $npiName (Sup 248 12.X, 12.Y)', (sample) => {
  it("[npi.send.200] [npi.check.200] sends the instances the category's keys match to a second archive, byte-identical (200)", async () => {
    const { wanted, other } = stored.get(sample.npiName)!;
    const query = new URLSearchParams({ destination: b.url, ...sample.search }).toString();
    const { uid, module } = await sendAndWait(sample.npiName, query);
    expect(value(module, STATUS)).toBe(0);
    expect(value(module, COMPLETED)).toBe(1);
    expect(value(module, FAILED)).toBe(0);

    const r = await fetch(`${b.url}/${sample.npiName}/${wanted.sopInstanceUID}`, {
      headers: { Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
    });
    expect(r.status).toBe(200);
    const [part] = await multipartParts(r);
    expect(Buffer.from(part!.body).equals(Buffer.from(wanted.bytes))).toBe(true);
    // Only what matched was sent.
    expect((await fetch(`${b.url}/${sample.npiName}/${other}`)).status).toBe(404);

    // Check Send Result on the same resource: 200 with the same final module.
    const check = await fetch(`${a.url}/${sample.npiName}/send-requests/${uid}`, { headers: { Accept: DICOM_JSON } });
    expect(check.status).toBe(200);
    expect(value(((await check.json()) as Module[])[0]!, COMPLETED)).toBe(1);
  });
});

describe('Send and Check Send Result status codes on /{npi-name}/send-requests', () => {
  const npiName = 'hanging-protocols';
  const url = (uid: string, query = '') => `${a.url}/${npiName}/send-requests/${uid}${query ? `?${query}` : ''}`;
  const dest = `destination=${encodeURIComponent('http://127.0.0.1:1')}`;

  it('[npi.send.202] [npi.check.202] 202 with Retry-After while a sub-operation is under way, then 200', async () => {
    const [sample] = npiSamples('505').filter((s) => s.npiName === npiName);
    const npi = makeNpiInstance(sample!);
    expect((await storeNpi(a.url, npiName, [npi.bytes])).status).toBe(200);
    const uid = newUid();
    const sent = await fetch(url(uid, `destination=${encodeURIComponent(held.url)}&SOPInstanceUID=${npi.sopInstanceUID}`), {
      method: 'POST',
      headers: { Accept: DICOM_JSON },
    });
    // The destination holds the Store request: the Send cannot have finished.
    expect(sent.status).toBe(202);
    expect(sent.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(value(((await sent.json()) as Module[])[0]!, STATUS)).toBe(0xff00);
    await held.arrived;
    const pending = await fetch(url(uid), { headers: { Accept: DICOM_JSON } });
    expect(pending.status).toBe(202);
    expect(pending.headers.get('retry-after')).toMatch(/^\d+$/);
    held.release();
    for (;;) {
      const r = await fetch(url(uid), { headers: { Accept: DICOM_JSON } });
      if (r.status === 200) {
        expect(value(((await r.json()) as Module[])[0]!, COMPLETED)).toBe(1);
        break;
      }
      expect(r.status).toBe(202);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(held.paths).toEqual([`/dicom-web/${npiName}`]);
  });

  it('[npi.send.400] 400: no destination, an unregistered destination, a key of another category, a payload, a bad UID', async () => {
    const uid = newUid();
    expect((await fetch(url(uid), { method: 'POST', headers: { Accept: DICOM_JSON } })).status).toBe(400);
    expect((await fetch(url(uid, dest), { method: 'POST', headers: { Accept: DICOM_JSON } })).status).toBe(400);
    const wrongKey = `destination=${encodeURIComponent(b.url)}&ContentLabel=X`;
    expect((await fetch(url(uid, wrongKey), { method: 'POST', headers: { Accept: DICOM_JSON } })).status).toBe(400);
    const withBody = await fetch(url(uid, `destination=${encodeURIComponent(b.url)}`), {
      method: 'POST',
      headers: { Accept: DICOM_JSON, 'Content-Type': 'text/plain' },
      body: 'x',
    });
    expect(withBody.status).toBe(400);
    expect((await fetch(url('not-a-uid', `destination=${encodeURIComponent(b.url)}`), { method: 'POST' })).status).toBe(400);
  });

  it('[npi.send.409] 409 when the Transaction UID is in use', async () => {
    const { uid } = await sendAndWait(npiName, `destination=${encodeURIComponent(b.url)}&SOPInstanceUID=${newUid()}`);
    const again = await fetch(url(uid, `destination=${encodeURIComponent(b.url)}`), { method: 'POST', headers: { Accept: DICOM_JSON } });
    expect(again.status).toBe(409);
  });

  it('[npi.check.404] 404 for an unknown Transaction UID, or one sent on another resource', async () => {
    expect((await fetch(url(newUid()), { headers: { Accept: DICOM_JSON } })).status).toBe(404);
    const { uid } = await sendAndWait(npiName, `destination=${encodeURIComponent(b.url)}&SOPInstanceUID=${newUid()}`);
    const elsewhere = await fetch(`${a.url}/color-palettes/send-requests/${uid}`, { headers: { Accept: DICOM_JSON } });
    expect(elsewhere.status).toBe(404);
    const onStudies = await fetch(`${a.url}/studies/send-requests/${uid}`, { headers: { Accept: DICOM_JSON } });
    expect(onStudies.status).toBe(404);
  });

  it('[npi.send.406] [npi.check.406] 406 when the response cannot be given in an acceptable media type', async () => {
    const r = await fetch(url(newUid(), `destination=${encodeURIComponent(b.url)}`), { method: 'POST', headers: { Accept: 'image/png' } });
    expect(r.status).toBe(406);
    expect((await fetch(url(newUid()), { headers: { Accept: 'image/png' } })).status).toBe(406);
  });
});

describe('Store requests the NPI Service refuses or partly accepts', () => {
  const npiName = 'color-palettes';

  it('[npi.store.202] 202 when some instances are stored and some refused', async () => {
    const [sample] = npiSamples('606');
    const r = await storeNpi(a.url, npiName, [makeNpiInstance(sample!).bytes, makeInstance()]);
    expect(r.status).toBe(202);
    const module = (await r.json()) as Module;
    expect(module[REFERENCED_SOP_SEQUENCE]!.Value).toHaveLength(1);
    expect(value((module[FAILED_SOP_SEQUENCE]!.Value as Module[])[0]!, FAILURE_REASON)).toBe(0x0122);
  });

  it('[npi.store.400] [npi.store.415] 400 for a malformed multipart body, 415 for another media type', async () => {
    const malformed = await fetch(`${a.url}/${npiName}`, {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/related; type="application/dicom"; boundary=x', Accept: DICOM_JSON },
      body: 'no parts here',
    });
    expect(malformed.status).toBe(400);
    const json = await fetch(`${a.url}/${npiName}`, { method: 'POST', headers: { 'Content-Type': DICOM_JSON }, body: '[]' });
    expect(json.status).toBe(415);
  });
});

describe('Check Send Result after expiry, and an unreachable request store', () => {
  it('[npi.check.410] 410 once the result has expired', async () => {
    const c = await tempArchive({ env: { SEND_RESULT_TTL_SECONDS: '1' } });
    try {
      await writeFile(
        path.join(c.dataDir, 'destinations.json'),
        JSON.stringify({ destinations: [{ url: b.url, auth: { type: 'none' } }] }),
      );
      const uid = newUid();
      const r = await fetch(`${c.url}/inventories/send-requests/${uid}?destination=${encodeURIComponent(b.url)}`, { method: 'POST' });
      expect(r.status).toBeLessThan(300);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await fetch(`${c.url}/inventories/send-requests/${uid}`)).status).toBe(410);
    } finally {
      await c.close();
    }
  });

  it('[npi.send.503] [npi.check.503] 503 with Retry-After when the request store cannot be reached', async () => {
    const c = await tempArchive({ env: { DYNAMODB_ENDPOINT: 'http://127.0.0.1:9' } });
    try {
      await writeFile(
        path.join(c.dataDir, 'destinations.json'),
        JSON.stringify({ destinations: [{ url: b.url, auth: { type: 'none' } }] }),
      );
      const sent = await fetch(`${c.url}/inventories/send-requests/${newUid()}?destination=${encodeURIComponent(b.url)}`, {
        method: 'POST',
      });
      expect(sent.status).toBe(503);
      expect(sent.headers.get('retry-after')).toMatch(/^\d+$/);
      const check = await fetch(`${c.url}/inventories/send-requests/${newUid()}`);
      expect(check.status).toBe(503);
      expect(check.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      await c.close();
    }
  });
});
