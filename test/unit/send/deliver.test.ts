/**
 * Unit: Deliver (lambdas/send/deliver.ts) of a batch holding an instance above STREAMED_INSTANCE_BYTES,
 * over in-memory ports whose BlobStore refuses to read it whole, the destination answered by a fake
 * fetch that reads each request body as the network would.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { parseMultipartRelated, parseMediaType } from '../../../lambdas/dicom/multipart';
import { readPart10 } from '../../../lambdas/dicom/part10';
import type { DicomJson } from '../../../lambdas/dicom/json';
import { SendService } from '../../../lambdas/dicomweb/send';
import { SendDelivery } from '../../../lambdas/send/deliver';
import { parseDestinationRegistry } from '../../../lambdas/send/destinations';
import { SendOutcomes } from '../../../lambdas/send/outcomes';
import { STREAMED_INSTANCE_BYTES } from '../../../lambdas/send/stored-instances';
import type { ManifestItem } from '../../../lambdas/send/workflow-io';
import { newUid } from '../../../lambdas/dicom/uid';
import type { SendRequestRecord } from '../../../lambdas/storage/ports';
import { pendingSendRequest } from '../../support/send-request-record';
import { makeInstance } from '../../support/dicom-factory';
import { MemoryMetadataIndex } from '../../support/memory-index';
import { MemorySendRequestStore } from '../../support/memory-send-requests';
import { storeInstances } from '../../support/seed';
import { StreamOnlyBlobStore } from '../../support/stream-only-blobs';

const DEST = 'http://127.0.0.1:8043/dicom-web';
const UID = '1.2.826.0.1.3680043.10.1000.8';
const studyInstanceUID = newUid();
const seriesInstanceUID = newUid();
const files = [
  makeInstance({ studyInstanceUID, seriesInstanceUID, approximateBytes: 20_000 }),
  makeInstance({ studyInstanceUID, seriesInstanceUID, approximateBytes: STREAMED_INSTANCE_BYTES + 500_000 }),
  makeInstance({ studyInstanceUID, seriesInstanceUID, approximateBytes: 20_000 }),
];
const items: ManifestItem[] = files.map((file) => {
  const { sopInstanceUID, sopClassUID } = readPart10(file, { bulkDataAbove: 0 });
  return { studyInstanceUID, seriesInstanceUID, sopInstanceUID, sopClassUID };
});

interface Sent {
  readonly streamed: boolean;
  readonly contentLength: string | null;
  readonly parts: Uint8Array[];
}

let index: MemoryMetadataIndex;
let blobs: StreamOnlyBlobStore;
let requests: MemorySendRequestStore;
let sent: Sent[];
let answer: (sops: string[]) => Response;

const referenced = (sops: string[]) =>
  new Response(JSON.stringify({ '00081199': { vr: 'SQ', Value: sops.map((s) => ({ '00081155': { vr: 'UI', Value: [s] } })) } }), {
    status: 200,
    headers: { 'Content-Type': 'application/dicom+json' },
  });

function delivery() {
  return new SendDelivery({
    requests,
    index,
    blobs,
    destinations: { load: async () => parseDestinationRegistry({ destinations: [{ url: DEST, auth: { type: 'none' } }] }) },
    store: {
      sleep: async () => undefined,
      fetch: (async (_url: string, init: RequestInit) => {
        const headers = new Headers(init.headers);
        const body = new Uint8Array(await new Response(init.body).arrayBuffer());
        const boundary = parseMediaType(headers.get('content-type') ?? '').params.boundary ?? '';
        const parts = parseMultipartRelated(body, boundary).map((p) => p.body);
        sent.push({ streamed: init.body instanceof ReadableStream, contentLength: headers.get('content-length'), parts });
        return answer(parts.map((p) => readPart10(p, { bulkDataAbove: 0 }).sopInstanceUID));
      }) as typeof fetch,
    },
  });
}

function record(): SendRequestRecord {
  const search: [string, string][] = [['StudyInstanceUID', studyInstanceUID]];
  return pendingSendRequest({ transactionUID: UID, target: { level: 'STUDY' }, search, destination: DEST, remaining: files.length });
}

beforeEach(async () => {
  index = new MemoryMetadataIndex();
  blobs = new StreamOnlyBlobStore(STREAMED_INSTANCE_BYTES);
  requests = new MemorySendRequestStore();
  sent = [];
  answer = referenced;
  await storeInstances(index, blobs, files, { baseUrl: 'http://origin' });
  await requests.create(record());
});

describe('Deliver of a large instance (issue 25: never held whole)', () => {
  it('streams it from storage on a Store request of its own, with its Content-Length; the small ones go together', async () => {
    await delivery().deliver({ Items: items, BatchInput: { transactionUID: UID, destination: DEST } });
    expect(sent.map((s) => [s.parts.length, s.streamed])).toEqual([
      [2, false],
      [1, true],
    ]);
    const [small, large] = sent;
    expect(Buffer.from(small!.parts[0]!).equals(Buffer.from(files[0]!))).toBe(true);
    expect(Buffer.from(large!.parts[0]!).equals(Buffer.from(files[1]!))).toBe(true);
    expect(Number(large!.contentLength)).toBeGreaterThan(files[1]!.byteLength);
    expect([...blobs.opened.values()]).toEqual([1]);
    const r = await requests.get(UID);
    expect([r?.completed, r?.failed, r?.remaining]).toEqual([3, 0, 0]);
  });

  it('a destination refusing it as too large (413): it alone fails, listed in the Failed SOP Instance UID List', async () => {
    answer = (sops) =>
      sops.length === 1 && sops[0] === items[1]!.sopInstanceUID ? new Response('too large', { status: 413 }) : referenced(sops);
    await delivery().deliver({ Items: items, BatchInput: { transactionUID: UID, destination: DEST } });
    const r = await requests.get(UID);
    expect([r?.completed, r?.failed, r?.remaining]).toEqual([2, 1, 0]);
    expect(await new SendOutcomes(requests, blobs).failures(UID)).toEqual({ sopInstanceUIDs: [items[1]!.sopInstanceUID], tooLarge: 1 });
    // Check Send Result says why, in the Error Comment (0000,0902) of the final module.
    await requests.finish(UID, { state: 'COMPLETED', status: 0xb000 });
    const service = new SendService(
      requests,
      new SendOutcomes(requests, blobs),
      { start: async () => 'exec', describe: async () => 'SUCCEEDED' },
      { load: async () => parseDestinationRegistry({ destinations: [{ url: DEST, auth: { type: 'none' } }] }) },
      { waitMs: 0, retryAfterSeconds: 1, resultTtlSeconds: 60, tombstoneTtlSeconds: 600 },
    );
    const [module] = (await service.checkSendResult({ target: { level: 'STUDY' }, transactionUID: UID, accept: undefined }))
      .payload as DicomJson[];
    expect(module!['00080058']).toEqual({ vr: 'UI', Value: [items[1]!.sopInstanceUID] });
    expect(module!['00000902']).toEqual({ vr: 'LO', Value: ['1 instance too large for the destination (HTTP 413)'] });
  });
});
