/**
 * C-MOVE of large instances to a dcmtk storescp (bit-preserving): each data set is streamed from
 * storage in P-DATA-TF PDUs (lambdas/dimse/streamed-data-set.ts), never read whole (the BlobStore
 * refuses it), and arrives byte-identical; one stored in Implicit VR Little Endian goes in its own
 * presentation context, so the peer's preference for Explicit VR does not make it transcode.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SearchService } from '../../../lambdas/dicomweb/search';
import { readPart10 } from '../../../lambdas/dicom/part10';
import { Tag } from '../../../lambdas/dicom/tags';
import { QRTag } from '../../../lambdas/dimse/identifier';
import { performMove } from '../../../lambdas/dimse/move';
import type { MoveResponse } from '../../../lambdas/dimse/move-response';
import { dataSetOf } from '../../../lambdas/dimse/part10-file';
import { parseDestinationRegistry } from '../../../lambdas/send/destinations';
import { STREAMED_INSTANCE_BYTES } from '../../../lambdas/send/stored-instances';
import { newUid } from '../../../lambdas/dicom/uid';
import { dcmtkSuite, startStoreScp, type StoreScp } from '../../support/dcmtk';
import { inImplicitVR, makeInstance } from '../../support/dicom-factory';
import { MemoryMetadataIndex } from '../../support/memory-index';
import { storeInstances } from '../../support/seed';
import { StreamOnlyBlobStore } from '../../support/stream-only-blobs';

dcmtkSuite('C-MOVE of large instances by C-STORE (PS3.8 9.3.5)', () => {
  let scp: StoreScp;
  const studyInstanceUID = newUid();
  const files = [
    makeInstance({ studyInstanceUID, approximateBytes: 50_000_000 }),
    inImplicitVR(makeInstance({ studyInstanceUID, approximateBytes: 12_000_000 })),
    makeInstance({ studyInstanceUID, approximateBytes: 100_000 }),
  ];
  const index = new MemoryMetadataIndex();
  const blobs = new StreamOnlyBlobStore(STREAMED_INSTANCE_BYTES);

  beforeAll(async () => {
    // storescp's defaults: Explicit and Implicit VR Little Endian, Maximum Length 16,384.
    [scp] = await Promise.all([startStoreScp('DEST', ['+B']), storeInstances(index, blobs, files, { baseUrl: '' })]);
  }, 120_000);
  afterAll(async () => scp?.close());

  it('moves them byte-identical (data set), streamed from storage', async () => {
    const registry = parseDestinationRegistry({
      destinations: [{ url: 'http://dest.invalid/dicomweb', aeTitle: 'DEST', host: '127.0.0.1', port: scp.port }],
    });
    const pending: MoveResponse[] = [];
    const final = await performMove(
      {
        index,
        blobs,
        search: new SearchService(index, { maxCandidates: 100, defaultLimit: 100, maxLimit: 100 }),
        destinations: { load: async () => registry },
        aeTitle: 'ARCHIVE',
        batchSize: 10,
      },
      {
        model: 'STUDY',
        identifier: {
          [QRTag.QueryRetrieveLevel]: { vr: 'CS', Value: ['STUDY'] },
          [Tag.StudyInstanceUID]: { vr: 'UI', Value: [studyInstanceUID] },
        },
        moveDestination: 'DEST',
        signal: new AbortController().signal,
      },
      (r) => pending.push(r),
    );
    expect(final).toMatchObject({ status: 0x0000, counters: { remaining: 0, completed: 3, failed: 0, warning: 0 } });
    const large = [...blobs.opened.entries()].filter(([, n]) => n > 0);
    expect(large).toHaveLength(2); // the two above 8 MiB, once each
    expect(large.every(([, n]) => n === 1)).toBe(true);
    const received = await readdir(scp.dir);
    for (const file of files) {
      const sop = readPart10(file, { bulkDataAbove: 0 }).sopInstanceUID;
      const name = received.find((f) => f.endsWith(sop));
      expect(name, sop).toBeDefined();
      const got = await readFile(path.join(scp.dir, name!));
      expect(Buffer.from(dataSetOf(got)).equals(Buffer.from(dataSetOf(file)))).toBe(true);
    }
  }, 120_000);
});
