/**
 * Memory of the Send workflow's Deliver with a 300 MB instance (issue 25: "a 1 GB instance fits a
 * Deliver of 1 GB memory"): by STOW-RS to a destination that reads and discards, and by C-STORE to a
 * storescp that receives without storing, the process's RSS and heap grow by far less than the
 * instance, which a BlobStore refusing whole reads generates as it is streamed.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverSubOperations } from '../../lambdas/dimse/sub-operations';
import { SendDelivery } from '../../lambdas/send/deliver';
import { parseDestinationRegistry, type DestinationRegistry } from '../../lambdas/send/destinations';
import { STREAMED_INSTANCE_BYTES } from '../../lambdas/send/stored-instances';
import { newUid } from '../../lambdas/dicom/uid';
import { pendingSendRequest } from '../support/send-request-record';
import { hasDcmtk, startStoreScp, type StoreScp } from '../support/dcmtk';
import { makeInstance } from '../support/dicom-factory';
import { generatedInstance } from '../support/generated-instance';
import { MemoryBlobStore } from '../support/memory-blobs';
import { MemoryMetadataIndex } from '../support/memory-index';
import { MemorySendRequestStore } from '../support/memory-send-requests';
import { storeInstances } from '../support/seed';
import { StreamOnlyBlobStore } from '../support/stream-only-blobs';

/** 2,400 frames of 128 KiB: 300 MiB of Pixel Data; DELIVER_MEMORY_FRAMES=8192 for 1 GiB (docs/performance.md). */
const instance = generatedInstance(Number(process.env.DELIVER_MEMORY_FRAMES ?? 2400));
const MiB = 1024 * 1024;
/** Growth allowed while delivering it: a third of the instance. */
const MAX_GROWTH_BYTES = 100 * MiB;

const studyInstanceUID = newUid();
const seriesInstanceUID = newUid();
const index = new MemoryMetadataIndex();
const blobs = new StreamOnlyBlobStore(STREAMED_INSTANCE_BYTES);
let sink: Server;
let sinkUrl: string;
let received = 0;
let scp: StoreScp | undefined;

beforeAll(async () => {
  // The index entry of the instance as a Store makes it (from a small file with its UIDs), with the
  // generated object's key and size.
  const seeded = new MemoryMetadataIndex();
  const small = makeInstance({ studyInstanceUID, seriesInstanceUID, sopInstanceUID: instance.sopInstanceUID });
  await storeInstances(seeded, new MemoryBlobStore(), [small], { baseUrl: '' });
  const entry = seeded.all().find((e) => e.level === 'INSTANCE')!;
  const objectKey = `${entry.instance!.objectKey}.generated`;
  await index.putInstance({ ...entry, instance: { ...entry.instance!, objectKey, size: instance.size } });
  blobs.putGenerated(objectKey, instance.size, () => instance.chunks(64 * 1024));

  // A destination that reads every byte and keeps none.
  sink = createServer((req, res) => {
    req.on('data', (c: Buffer) => void (received += c.length));
    req.on('end', () =>
      res
        .writeHead(200, { 'Content-Type': 'application/dicom+json' })
        .end(JSON.stringify({ '00081199': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: [instance.sopInstanceUID] } }] } })),
    );
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/dicomweb`;
  if (hasDcmtk) scp = await startStoreScp('SINK', ['--ignore']);
}, 120_000);

afterAll(async () => {
  sink?.closeAllConnections();
  await new Promise((resolve) => sink?.close(resolve));
  await scp?.close();
});

/** Delivers the instance to `destination`; answers the counters and the growth of RSS and heap while it ran. */
async function deliver(destination: string, registry: DestinationRegistry) {
  const transactionUID = newUid();
  const requests = new MemorySendRequestStore();
  const record = pendingSendRequest({
    transactionUID,
    target: { level: 'STUDY' },
    search: [['StudyInstanceUID', studyInstanceUID]],
    destination,
    remaining: 1,
    createdAt: new Date().toISOString(),
  });
  await requests.create(record);
  const delivery = new SendDelivery({
    requests,
    index,
    blobs,
    destinations: { load: async () => registry },
    deliverBatch: deliverSubOperations,
  });
  const before = process.memoryUsage();
  const peak = { rss: before.rss, heapUsed: before.heapUsed };
  const sampler = setInterval(() => {
    const now = process.memoryUsage();
    peak.rss = Math.max(peak.rss, now.rss);
    peak.heapUsed = Math.max(peak.heapUsed, now.heapUsed);
  }, 10);
  try {
    await delivery.deliver({
      Items: [{ studyInstanceUID, seriesInstanceUID, sopInstanceUID: instance.sopInstanceUID, sopClassUID: instance.sopClassUID }],
      BatchInput: { transactionUID, destination },
    });
  } finally {
    clearInterval(sampler);
  }
  const growth = { rss: peak.rss - before.rss, heap: peak.heapUsed - before.heapUsed };
  console.log(
    `Deliver of ${(instance.size / MiB).toFixed(0)} MiB to ${destination}: RSS +${(growth.rss / MiB).toFixed(1)} MiB, heap +${(growth.heap / MiB).toFixed(1)} MiB`,
  );
  return { counters: await requests.get(transactionUID), growth };
}

describe(`Deliver of a ${Math.round(instance.size / MiB)} MiB instance, streamed`, () => {
  it('by STOW-RS: every byte reaches the destination, RSS and heap grow by less than a third of it', async () => {
    const registry = parseDestinationRegistry({ destinations: [{ url: sinkUrl, auth: { type: 'none' } }] });
    const { counters, growth } = await deliver(sinkUrl, registry);
    expect(counters).toMatchObject({ completed: 1, failed: 0, remaining: 0 });
    expect(received).toBeGreaterThan(instance.size);
    expect(growth.rss).toBeLessThan(MAX_GROWTH_BYTES);
    expect(growth.heap).toBeLessThan(MAX_GROWTH_BYTES);
  }, 120_000);

  it.skipIf(!hasDcmtk)(
    'by C-STORE: the association stores it, RSS and heap grow by less than a third of it',
    async () => {
      const url = 'http://sink.invalid/dicomweb';
      const registry = parseDestinationRegistry({ destinations: [{ url, aeTitle: 'SINK', host: '127.0.0.1', port: scp!.port }] });
      const { counters, growth } = await deliver(url, registry);
      expect(counters).toMatchObject({ completed: 1, failed: 0, remaining: 0 });
      expect(growth.rss).toBeLessThan(MAX_GROWTH_BYTES);
      expect(growth.heap).toBeLessThan(MAX_GROWTH_BYTES);
    },
    120_000,
  );
});
