import { describe, expect, it } from 'vitest';
import { SearchService } from '../../../lambdas/dicomweb/search';
import { Tag } from '../../../lambdas/dicom/tags';
import { findMoveDestination, mechanismsOf } from '../../../lambdas/dimse/ae-registry';
import { QRTag } from '../../../lambdas/dimse/identifier';
import { performMove, type MoveDeps } from '../../../lambdas/dimse/move';
import type { MoveResponse } from '../../../lambdas/dimse/move-response';
import { acceptedTransferSyntax } from '../../../lambdas/dimse/scp';
import { parseDestinationRegistry, type DestinationRegistry } from '../../../lambdas/send/destinations';
import { encodeSendRequestResponse } from '../../../lambdas/send/response-module';
import type { DicomJson } from '../../../lambdas/dicom/json';
import { makeStudy } from '../../support/dicom-factory';
import { MemoryBlobStore } from '../../support/memory-blobs';
import { MemoryMetadataIndex } from '../../support/memory-index';
import { storeInstances } from '../../support/seed';

const registry: DestinationRegistry = parseDestinationRegistry({
  destinations: [
    { url: 'http://pacs.invalid/dicomweb', aeTitle: 'PACS', host: '127.0.0.1', port: 104 },
    { url: 'http://web.invalid/dicomweb' },
    { url: 'http://cloud.invalid/dicomweb', aeTitle: 'CLOUD', host: '127.0.0.1', port: 104, subOperations: ['stow'] },
    { url: 'http://both.invalid/dicomweb', aeTitle: 'BOTH', host: '127.0.0.1', port: 104, subOperations: ['c-store', 'stow'] },
  ],
});

describe('AE registry (PS3.4 C.4.2.3.1.1.9 decision logic)', () => {
  it('finds a Move Destination by AE Title; C-STORE by default, the listed mechanisms otherwise', () => {
    expect(mechanismsOf(findMoveDestination(registry, 'PACS')!.destination)).toEqual(['c-store']);
    expect(findMoveDestination(registry, 'CLOUD')!.mechanisms).toEqual(['stow']);
    expect(findMoveDestination(registry, 'BOTH ')!.mechanisms).toEqual(['c-store', 'stow']);
    expect(findMoveDestination(registry, 'pacs')).toBeUndefined();
    expect(findMoveDestination(registry, '')).toBeUndefined();
    expect(mechanismsOf(registry.destinations[1]!)).toEqual(['stow']);
  });

  it('refuses C-STORE without a DIMSE mapping and repeated mechanisms', () => {
    expect(() => parseDestinationRegistry({ destinations: [{ url: 'http://a.invalid', subOperations: ['c-store'] }] })).toThrow(
      /subOperations/,
    );
    expect(() => parseDestinationRegistry({ destinations: [{ url: 'http://a.invalid', subOperations: ['stow', 'stow'] }] })).toThrow(
      /subOperations/,
    );
  });
});

describe('presentation context negotiation (PS3.8 9.3.2.2)', () => {
  it('accepts storage in any syntax (Explicit VR Little Endian first) and queries in uncompressed little endian only', () => {
    expect(acceptedTransferSyntax('1.2.840.10008.5.1.4.1.1.2', ['1.2.840.10008.1.2', '1.2.840.10008.1.2.1'])).toBe('1.2.840.10008.1.2.1');
    expect(acceptedTransferSyntax('1.2.840.10008.5.1.4.1.1.2', ['1.2.840.10008.1.2.4.50'])).toBe('1.2.840.10008.1.2.4.50');
    expect(acceptedTransferSyntax('1.2.840.10008.5.1.4.1.2.2.1', ['1.2.840.10008.1.2'])).toBe('1.2.840.10008.1.2');
    expect(acceptedTransferSyntax('1.2.840.10008.5.1.4.1.2.2.1', ['1.2.840.10008.1.2.4.50'])).toBeUndefined();
    expect(acceptedTransferSyntax('1.2.840.10008.5.1.4.1.2.2.3', ['1.2.840.10008.1.2'])).toBeUndefined(); // C-GET not served
  });
});

async function deps(opts: { maxCandidates?: number; proxy?: MoveDeps['proxy'] } = {}) {
  const index = new MemoryMetadataIndex();
  const blobs = new MemoryBlobStore();
  const study = makeStudy({ series: 1, instancesPerSeries: 3 });
  await storeInstances(
    index,
    blobs,
    study.instances.map((i) => i.bytes),
    { baseUrl: '' },
  );
  const d: MoveDeps = {
    index,
    blobs,
    search: new SearchService(index, { maxCandidates: opts.maxCandidates ?? 100, defaultLimit: 100, maxLimit: 100 }),
    destinations: { load: async () => registry },
    aeTitle: 'ARCHIVE',
    batchSize: 10,
    proxy: opts.proxy,
  };
  return { d, study };
}

const studyId = (uid: string): DicomJson => ({
  [QRTag.QueryRetrieveLevel]: { vr: 'CS', Value: ['STUDY'] },
  [Tag.StudyInstanceUID]: { vr: 'UI', Value: [uid] },
});

async function run(d: MoveDeps, identifier: DicomJson, moveDestination: string, signal = new AbortController().signal) {
  const pending: MoveResponse[] = [];
  const final = await performMove(d, { model: 'STUDY', identifier, moveDestination, signal }, (r) => pending.push(r));
  return { final, pending };
}

describe('C-MOVE SCP (PS3.4 C.4.2.3.1)', () => {
  it('A801 for a Move Destination not in the registry', async () => {
    const { d, study } = await deps();
    expect((await run(d, studyId(study.studyInstanceUID), 'NOBODY')).final.status).toBe(0xa801);
  });

  it('A900 when the Identifier lacks the Unique Key', async () => {
    const { d } = await deps();
    expect((await run(d, { [QRTag.QueryRetrieveLevel]: { vr: 'CS', Value: ['STUDY'] } }, 'PACS')).final).toMatchObject({
      status: 0xa900,
      offendingElements: [Tag.StudyInstanceUID],
    });
  });

  it('[dimse.cmove-scp.a701] A701 when the matches cannot be counted', async () => {
    const { d, study } = await deps({ maxCandidates: 1 });
    // IMAGE level with three SOP Instance UIDs reads three index entries, over the limit of one.
    const id: DicomJson = {
      ...studyId(study.studyInstanceUID),
      [QRTag.QueryRetrieveLevel]: { vr: 'CS', Value: ['IMAGE'] },
      [Tag.SeriesInstanceUID]: { vr: 'UI', Value: [study.instances[0]!.seriesInstanceUID] },
      [Tag.SOPInstanceUID]: { vr: 'UI', Value: [study.instances.map((i) => i.sopInstanceUID).join('\\')] },
    };
    expect((await run(d, id, 'PACS')).final.status).toBe(0xa701);
  });

  it('[dimse.cmove-scp.c000] C000 when the move cannot be processed (the registry cannot be read)', async () => {
    const { d, study } = await deps();
    const broken = { ...d, destinations: { load: () => Promise.reject(new Error('registry down')) } };
    expect((await run(broken, studyId(study.studyInstanceUID), 'PACS')).final).toEqual({
      status: 0xc000,
      comment: 'the move could not be processed',
    });
  });

  it('sends a batch over maxBatchBytes in parts, one Store request each (SEND_MAX_BATCH_BYTES)', async () => {
    const { d, study } = await deps();
    const requests: number[] = [];
    const fetch = (async (_url: string, init: RequestInit) => {
      const body = Buffer.from(init.body as Uint8Array).toString('latin1');
      const sent = study.instances.filter((i) => body.includes(i.sopInstanceUID));
      requests.push(sent.length);
      const referenced = sent.map((i) => ({ [Tag.ReferencedSOPInstanceUID]: { vr: 'UI', Value: [i.sopInstanceUID] } }));
      return new Response(JSON.stringify({ [Tag.ReferencedSOPSequence]: { vr: 'SQ', Value: referenced } }), {
        status: 200,
        headers: { 'Content-Type': 'application/dicom+json' },
      });
    }) as unknown as typeof globalThis.fetch;
    const { final } = await run(
      { ...d, maxBatchBytes: 1, stow: { fetch, sleep: async () => undefined } },
      studyId(study.studyInstanceUID),
      'CLOUD',
    );
    expect(requests).toEqual([1, 1, 1]); // three instances, each larger than the bound: one request each
    expect(final).toMatchObject({ status: 0x0000, counters: { remaining: 0, completed: 3, failed: 0, warning: 0 } });
  });

  it('Success with zero counters when nothing matches', async () => {
    const { d } = await deps();
    expect((await run(d, studyId('1.2.3.4'), 'PACS')).final).toEqual({
      status: 0x0000,
      counters: { remaining: 0, completed: 0, failed: 0, warning: 0 },
    });
  });

  it('Cancel before any sub-operation: FE00 with every match Remaining', async () => {
    const { d, study } = await deps();
    const cancelled = new AbortController();
    cancelled.abort();
    const { final, pending } = await run(d, studyId(study.studyInstanceUID), 'PACS', cancelled.signal);
    expect(final).toEqual({ status: 0xfe00, counters: { remaining: 3, completed: 0, failed: 0, warning: 0 } });
    expect(pending).toEqual([]);
  });
});

describe('Proxy Option (PS3.4 C.4.2.3.1.2)', () => {
  const module = (status: number, c: { remaining?: number; completed: number; failed: number; warning: number }) =>
    JSON.stringify(encodeSendRequestResponse({ status, ...c }));

  it('turns the Send Request Response Modules into Pending and final C-MOVE responses', async () => {
    const urls: string[] = [];
    const answers = [
      new Response(module(0xff00, { remaining: 2, completed: 1, failed: 0, warning: 0 }), { status: 202, headers: { 'Retry-After': '0' } }),
      new Response(module(0xb000, { completed: 2, failed: 1, warning: 0 }), { status: 200 }),
    ];
    const fetch = (async (url: string) => {
      urls.push(url);
      return answers.shift()!;
    }) as unknown as typeof globalThis.fetch;
    const { d, study } = await deps({ proxy: { origin: 'http://origin.invalid', maxWaitSeconds: 60, fetch } });
    const { final, pending } = await run(d, studyId(study.studyInstanceUID), 'PACS');
    expect(urls[0]).toMatch(
      new RegExp(
        `^http://origin.invalid/studies/send-requests/[0-9.]+\\?destination=${encodeURIComponent('http://pacs.invalid/dicomweb')}&StudyInstanceUID=${study.studyInstanceUID}$`,
      ),
    );
    expect(pending).toEqual([{ status: 0xff00, counters: { remaining: 2, completed: 1, failed: 0, warning: 0 } }]);
    expect(final).toEqual({ status: 0xb000, counters: { remaining: 0, completed: 2, failed: 1, warning: 0 } });
  });

  it('C-CANCEL-MOVE stops polling and answers FE00 with the last counters (Sup 248 open issue 14)', async () => {
    const controller = new AbortController();
    const fetch = (async () => {
      setTimeout(() => controller.abort(), 10);
      return new Response(module(0xff00, { remaining: 2, completed: 1, failed: 0, warning: 0 }), {
        status: 202,
        headers: { 'Retry-After': '30' },
      });
    }) as unknown as typeof globalThis.fetch;
    const { d, study } = await deps({ proxy: { origin: 'http://origin.invalid', maxWaitSeconds: 60, fetch } });
    const { final } = await run(d, studyId(study.studyInstanceUID), 'PACS', controller.signal);
    expect(final).toEqual({ status: 0xfe00, counters: { remaining: 2, completed: 1, failed: 0, warning: 0 } });
  });
});
