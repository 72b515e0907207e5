/**
 * Unit: two NPI Store calls racing on one SOP Instance UID (issue 19, defect 10, as for the Studies
 * Store: test/support/store-race.ts), each past its lookup before the other's conditional put.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Tag } from '../../../lambdas/dicom/tags';
import { NpiService } from '../../../lambdas/dicomweb/npi';
import { requireNpiCategory } from '../../../lambdas/dicomweb/npi-categories';
import { bodyOf } from '../../../lambdas/dicomweb/messages';
import type { NpiEntry, NpiIndex } from '../../../lambdas/storage/ports';
import { stowBody } from '../../support/http';
import { MemoryBlobStore } from '../../support/memory-blobs';
import { MemoryNpiIndex } from '../../support/memory-npi-index';
import { makeNpiInstance, npiSamples } from '../../support/npi-factory';
import { gatedIndex, recordingBlobs } from '../../support/store-race';

const category = requireNpiCategory('hanging-protocols');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('concurrent NPI Store of one SOP Instance UID with different content', () => {
  it('never changes the acknowledged bytes; the loser is refused (0111) and its objects go', async () => {
    const index = new MemoryNpiIndex();
    const blobs = new MemoryBlobStore();
    const gate = gatedIndex<NpiEntry, NpiIndex>(index);
    const recorded = recordingBlobs(blobs);
    const options = { maxCandidates: 10, defaultLimit: 10, maxLimit: 10, maxRequestBytes: 1_000_000, maxResponseBytes: 1_000_000 };
    const [a, b] = npiSamples('race1')
      .filter((s) => s.npiName === 'hanging-protocols')
      .concat(npiSamples('race2').filter((s) => s.npiName === 'hanging-protocols'));
    const winnerFile = makeNpiInstance(a!);
    const loserFile = makeNpiInstance(b!, { sopInstanceUID: winnerFile.sopInstanceUID });
    const post = (file: Uint8Array) => {
      const { body, contentType } = stowBody([file]);
      return new NpiService(gate.index, recorded.blobs, options).storeInstances({
        category,
        contentType,
        body: bodyOf(body),
        baseUrl: 'http://archive',
      });
    };

    const winnerDone = post(winnerFile.bytes);
    const winnerHeld = await gate.arrival(0);
    const loserDone = post(loserFile.bytes);
    const loserHeld = await gate.arrival(1);
    winnerHeld.release();
    expect((await winnerDone).status).toBe(200);
    loserHeld.release();
    const loser = await loserDone;
    expect(loser.status).toBe(409);
    expect(loser.response[Tag.FailedSOPSequence]!.Value![0]).toMatchObject({ [Tag.FailureReason]: { Value: [0x0111] } });

    const entry = (await index.getInstance(category.name, winnerFile.sopInstanceUID))!;
    expect(sha256((await blobs.get(entry.instance.objectKey))!)).toBe(sha256(winnerFile.bytes));
    expect(recorded.puts).toHaveLength(4);
    expect([...blobs.objects.keys()].sort()).toEqual([entry.instance.objectKey, entry.instance.metadataKey].sort());
  });
});
