/** Unit: two Store calls racing on one SOP Instance UID (issue 19, defect 10), over in-memory ports. */
import { describe, expect, it } from 'vitest';
import { Tag } from '../../../lambdas/dicom/tags';
import { MemoryBlobStore } from '../../support/memory-blobs';
import { MemoryMetadataIndex } from '../../support/memory-index';
import { raceTwoStores } from '../../support/store-race';

describe('concurrent Store of one SOP Instance UID with different content', () => {
  it('an identical copy racing the first: both answered as stored, one pair of objects kept', async () => {
    const race = await raceTwoStores(new MemoryMetadataIndex(), new MemoryBlobStore(), { identical: true });
    expect([race.winner.status, race.loser.status]).toEqual([200, 200]);
    expect(race.storedDigest).toBe(race.winnerDigest);
    expect(race.puts).toHaveLength(4);
    expect([...race.remaining].sort()).toEqual([race.entry!.instance!.objectKey, race.entry!.instance!.metadataKey].sort());
  });

  it('never changes the acknowledged bytes: the entry names the winner object, the loser is refused (0111) and its objects go', async () => {
    const blobs = new MemoryBlobStore();
    const race = await raceTwoStores(new MemoryMetadataIndex(), blobs);
    expect(race.winner.status).toBe(200);
    expect(race.loser.status).toBe(409);
    expect(race.loser.response[Tag.FailedSOPSequence]!.Value![0]).toMatchObject({ [Tag.FailureReason]: { Value: [0x0111] } });
    expect(race.entry?.instance?.digest).toBe(race.winnerDigest);
    expect(race.storedDigest).toBe(race.winnerDigest);
    expect(race.storedPatientName).toEqual({ Alphabetic: 'Winner^Wanda' });
    // The loser's two objects were written under keys of their own and removed once it lost.
    expect(race.puts).toHaveLength(4);
    expect([...race.remaining].sort()).toEqual([race.entry!.instance!.objectKey, race.entry!.instance!.metadataKey].sort());
  });
});
