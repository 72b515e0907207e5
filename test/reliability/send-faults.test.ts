/**
 * Reliability, faults of a SEND-RS destination: a peer that drops the connection in the middle of a
 * Store sub-operation. Dropped connections are transient faults, retried with backoff (docs/architecture.md,
 * send, Deliver); a peer that keeps dropping fails its sub-operations, and the final counters say so
 * exactly (PS3.4 C.4.2.3.1.1.4, C.4.2.3.1: A702 when all failed).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newUid } from '../../lambdas/dicom/uid';
import { makeStudy } from '../support/dicom-factory';
import { startFakeDestination, type FakeDestination } from '../support/fake-destination';
import { DICOM_JSON, stow, tempArchive } from '../support/http';

type Archive = Awaited<ReturnType<typeof tempArchive>>;
type Module = Record<string, { vr: string; Value?: any[] }>;

const STATUS = '00000900';
const COMPLETED = '00001021';
const FAILED = '00001022';
const WARNING = '00001023';
const FAILED_LIST = '00080058';
const v = (m: Module, tag: string) => m[tag]?.Value?.[0];

let archive: Archive;
let peer: FakeDestination;
const study = makeStudy({ series: 2, instancesPerSeries: 3, patientID: `DROP-${Date.now()}` });

beforeAll(async () => {
  peer = await startFakeDestination();
  archive = await tempArchive({ env: { SEND_WAIT_MS: '200', SEND_BATCH_SIZE: '3' } });
  await writeFile(
    path.join(archive.dataDir, 'destinations.json'),
    JSON.stringify({ destinations: [{ url: peer.url, auth: { type: 'none' } }] }),
  );
  expect(
    (
      await stow(
        archive.url,
        study.instances.map((i) => i.bytes),
      )
    ).status,
  ).toBe(200);
});
afterAll(async () => {
  await archive?.close();
  await peer?.close();
});

/** Send the study to the peer and poll Check Send Result until it is final. */
async function sendStudy(): Promise<Module> {
  const uid = newUid();
  const query = `destination=${encodeURIComponent(peer.url)}&StudyInstanceUID=${study.studyInstanceUID}`;
  let r = await fetch(`${archive.url}/studies/send-requests/${uid}?${query}`, { method: 'POST', headers: { Accept: DICOM_JSON } });
  const deadline = Date.now() + 60_000;
  while (r.status === 202 && Date.now() < deadline) {
    await r.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 100));
    r = await fetch(`${archive.url}/studies/send-requests/${uid}`, { headers: { Accept: DICOM_JSON } });
  }
  expect(r.status).toBe(200);
  return ((await r.json()) as Module[])[0]!;
}

describe('a destination that drops connections mid-send', () => {
  it('a few dropped connections are retried: every instance arrives, Success', async () => {
    peer.behaviour = { kind: 'drop', times: 2 };
    peer.requests = 0;
    const final = await sendStudy();
    expect([v(final, STATUS), v(final, COMPLETED), v(final, WARNING), v(final, FAILED)]).toEqual([0, 6, 0, 0]);
    expect([...peer.stored].sort()).toEqual(study.instances.map((i) => i.sopInstanceUID).sort());
    expect(peer.requests).toBe(2 + 2); // two batches, each delivered once after the drops
  }, 60_000);

  it('a peer that always drops: every sub-operation fails, A702, the Failed SOP Instance UID List names them all', async () => {
    peer.behaviour = { kind: 'drop', times: Number.MAX_SAFE_INTEGER };
    const before = peer.stored.length;
    const final = await sendStudy();
    expect([v(final, STATUS), v(final, COMPLETED), v(final, WARNING), v(final, FAILED)]).toEqual([0xa702, 0, 0, 6]);
    expect(new Set(final[FAILED_LIST]?.Value)).toEqual(new Set(study.instances.map((i) => i.sopInstanceUID)));
    expect(peer.stored.length).toBe(before);
  }, 60_000);
});
