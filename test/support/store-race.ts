/**
 * Two Store calls racing on one SOP Instance UID, as two Lambda functions would (issue 19, defect 10):
 * two StoreService instances (no shared in-process lock) over the same index and blob store, with the
 * index's putInstance held at a gate so that the interleaving is chosen, not left to timing:
 *
 *   winner: lookup (none), PutObject(Y)  ... held before its conditional put
 *   loser:  lookup (none), PutObject(X)  ... held before its conditional put
 *   winner: conditional put -> created (digest of Y), answered 200
 *   loser:  conditional put -> conflict, answered 409 / 0111
 *
 * With one object key per SOP Instance UID the loser's PutObject replaces the winner's bytes while the
 * index keeps the winner's digest: acknowledged bytes change. The scenario reports what a reader sees.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readPart10 } from '../../lambdas/dicom/part10';
import { Tag } from '../../lambdas/dicom/tags';
import { StoreService, type StoreResult } from '../../lambdas/dicomweb/store';
import { bodyOf } from '../../lambdas/dicomweb/messages';
import type { BlobStore, IndexEntry, MetadataIndex } from '../../lambdas/storage/ports';
import { makeInstance } from './dicom-factory';
import { stowBody } from './http';

interface Held<E> {
  readonly entry: E;
  release(): void;
}

/**
 * The index (Studies or Non-Patient Instances) with putInstance held until released, one gate per
 * call in call order.
 */
export function gatedIndex<E, I extends { putInstance(entry: E): Promise<unknown> }>(
  index: I,
): { index: I; arrival(n: number): Promise<Held<E>> } {
  const arrivals: ((held: Held<E>) => void)[] = [];
  const arrived: Promise<Held<E>>[] = [];
  const slot = (n: number) => {
    while (arrived.length <= n) arrived.push(new Promise<Held<E>>((resolve) => arrivals.push(resolve)));
    return n;
  };
  let calls = 0;
  const putInstance = async (entry: E): Promise<unknown> => {
    const n = slot(calls++);
    await new Promise<void>((release) => arrivals[n]!({ entry, release }));
    return index.putInstance(entry);
  };
  const gated = new Proxy(index, {
    get(target, prop) {
      if (prop === 'putInstance') return putInstance;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { index: gated, arrival: (n) => arrived[slot(n)]! };
}

/** The blob store, recording every key put. */
export function recordingBlobs(blobs: BlobStore): { blobs: BlobStore; puts: string[] } {
  const puts: string[] = [];
  const recorded = new Proxy(blobs, {
    get(target, prop) {
      if (prop === 'put') {
        return (key: string, body: Uint8Array, contentType: string) => {
          puts.push(key);
          return target.put(key, body, contentType);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { blobs: recorded, puts };
}

export interface RaceOutcome {
  readonly winner: StoreResult;
  readonly loser: StoreResult;
  /** sha256 of the winner's Part 10 bytes, as acknowledged. */
  readonly winnerDigest: string;
  /** The index entry after the race. */
  readonly entry: IndexEntry | undefined;
  /** sha256 of the bytes stored at the entry's object key. */
  readonly storedDigest: string | undefined;
  /** Patient's Name in the DICOM JSON stored at the entry's metadata key. */
  readonly storedPatientName: unknown;
  /** Every key the two calls put, and which of them still hold an object. */
  readonly puts: readonly string[];
  readonly remaining: readonly string[];
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Runs the interleaving above on fresh UIDs and reports what the archive holds afterwards; with
 * `identical`, the loser stores the very bytes of the winner (a retried request racing its first try).
 */
export async function raceTwoStores(
  index: MetadataIndex,
  blobs: BlobStore,
  opts: { readonly identical?: boolean } = {},
): Promise<RaceOutcome> {
  const gate = gatedIndex<IndexEntry, MetadataIndex>(index);
  const recorded = recordingBlobs(blobs);
  const options = { bulkDataThreshold: 1024, maxRequestBytes: 50_000_000 };
  const winnerService = new StoreService(gate.index, recorded.blobs, options);
  const loserService = new StoreService(gate.index, recorded.blobs, options);

  const y = makeInstance({ patientName: 'Winner^Wanda' });
  const uids = readPart10(y);
  const x = opts.identical
    ? y
    : makeInstance({
        studyInstanceUID: uids.studyInstanceUID,
        seriesInstanceUID: uids.seriesInstanceUID,
        sopInstanceUID: uids.sopInstanceUID,
        patientName: 'Loser^Larry',
      });
  const post = (service: StoreService, file: Uint8Array) => {
    const { body, contentType } = stowBody([file]);
    return service.storeInstances({ contentType, body: bodyOf(body), baseUrl: 'http://archive' });
  };

  const winnerDone = post(winnerService, y);
  const winnerHeld = await gate.arrival(0);
  const loserDone = post(loserService, x);
  const loserHeld = await gate.arrival(1);
  winnerHeld.release();
  const winner = await winnerDone;
  loserHeld.release();
  const loser = await loserDone;

  const entry = await index.getInstance(uids.studyInstanceUID, uids.seriesInstanceUID, uids.sopInstanceUID);
  const stored = entry?.instance && (await blobs.get(entry.instance.objectKey));
  const metadata = entry?.instance && (await blobs.get(entry.instance.metadataKey));
  const json = metadata && (JSON.parse(Buffer.from(metadata).toString('utf8')) as Record<string, { Value?: unknown[] }>);
  const remaining: string[] = [];
  for (const key of new Set(recorded.puts)) if (await blobs.get(key)) remaining.push(key);
  return {
    winner,
    loser,
    winnerDigest: sha256(y),
    entry,
    storedDigest: stored ? sha256(stored) : undefined,
    storedPatientName: json?.[Tag.PatientName]?.Value?.[0],
    puts: recorded.puts,
    remaining,
  };
}

/**
 * The race's expectations, one suite for every pair of ports it runs on (in memory, S3 and DynamoDB on
 * the emulators): `ports` is called in each test, after the suite's setup.
 */
export function describeStoreRace(name: string, ports: () => { index: MetadataIndex; blobs: BlobStore }): void {
  describe(`concurrent Store of one SOP Instance UID with different content, ${name}`, () => {
    it('an identical copy racing the first: both answered as stored, one pair of objects kept', async () => {
      const { index, blobs } = ports();
      const race = await raceTwoStores(index, blobs, { identical: true });
      expect([race.winner.status, race.loser.status]).toEqual([200, 200]);
      expect(race.storedDigest).toBe(race.winnerDigest);
      expect(race.puts).toHaveLength(4);
      expect([...race.remaining].sort()).toEqual([race.entry!.instance!.objectKey, race.entry!.instance!.metadataKey].sort());
    });

    it('never changes the acknowledged bytes: the entry names the winner object, the loser is refused (0111) and its objects go', async () => {
      const { index, blobs } = ports();
      const race = await raceTwoStores(index, blobs);
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
}
