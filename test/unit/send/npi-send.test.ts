/**
 * Unit: Send on /{npi-name}/send-requests (Sup 248 12.X): the target of the route, the category's
 * search keys, the destination's NPI Store URL (PS3.18 12.5), and Resolve/Deliver over in-memory ports.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { BadRequestError } from '../../../lambdas/dicomweb/errors';
import { NpiService } from '../../../lambdas/dicomweb/npi';
import { requireNpiCategory } from '../../../lambdas/dicomweb/npi-categories';
import { SearchService } from '../../../lambdas/dicomweb/search';
import { parseSendSearchParameters } from '../../../lambdas/dicomweb/send';
import { bodyOf } from '../../../lambdas/dicomweb/messages';
import { sendTargetOf } from '../../../lambdas/handlers/send';
import { parseDestinationRegistry, resolveNpiStoreUrl } from '../../../lambdas/send/destinations';
import { SendOutcomes } from '../../../lambdas/send/outcomes';
import { SendTasks } from '../../../lambdas/send/tasks';
import { parseManifestJsonLines, toManifestJsonLines } from '../../../lambdas/send/workflow-io';
import { sendManifestKey } from '../../../lambdas/storage/keys';
import type { SendRequestRecord } from '../../../lambdas/storage/ports';
import { pendingSendRequest } from '../../support/send-request-record';
import { stowBody } from '../../support/http';
import { MemoryBlobStore } from '../../support/memory-blobs';
import { MemoryMetadataIndex } from '../../support/memory-index';
import { MemoryNpiIndex } from '../../support/memory-npi-index';
import { MemorySendRequestStore } from '../../support/memory-send-requests';
import { makeNpiInstance, npiSamples } from '../../support/npi-factory';

const DEST = 'http://127.0.0.1:8043/dicom-web';
const UID = '1.2.826.0.1.3680043.10.1000.12';

describe('the target of a Send route', () => {
  it('is the category for /{npi-name}/send-requests, a level for the Studies resources', () => {
    expect(sendTargetOf({ resource: '/color-palettes/send-requests/{transactionUID}', pathParameters: {} })).toEqual({
      level: 'INSTANCE',
      npi: 'color-palettes',
    });
    expect(sendTargetOf({ resource: '/inventories/send-requests/{transactionUID}', pathParameters: {} }).npi).toBe('inventories');
    expect(sendTargetOf({ resource: '/instances/send-requests/{transactionUID}', pathParameters: {} })).toEqual({
      level: 'INSTANCE',
      studyInstanceUID: undefined,
      seriesInstanceUID: undefined,
    });
  });

  it("validates the search with the category's keys (Table 12.X.1-2), includefield ignored", () => {
    const q = (o: Record<string, string>) => new Map(Object.entries(o).map(([k, v]) => [k, [v]]));
    const npi = { level: 'INSTANCE', npi: 'hanging-protocols' } as const;
    expect(parseSendSearchParameters(q({ HangingProtocolName: 'X', includefield: 'all' }), npi).matchKeys).toHaveLength(1);
    expect(() => parseSendSearchParameters(q({ PatientID: 'X' }), npi)).toThrow(BadRequestError);
    expect(() => parseSendSearchParameters(q({ HangingProtocolName: 'X' }), { level: 'INSTANCE' })).toThrow(BadRequestError);
  });
});

describe('resolveNpiStoreUrl (PS3.18 12.5: POST {root}/{npi-name})', () => {
  it.each([
    ['http://h/dicom-web', 'http://h/dicom-web/color-palettes'],
    ['http://h/dicom-web/', 'http://h/dicom-web/color-palettes'],
    ['http://h/dicom-web/studies', 'http://h/dicom-web/color-palettes'],
    ['https://h:8443', 'https://h:8443/color-palettes'],
  ])('%s -> %s', (given, expected) => {
    expect(resolveNpiStoreUrl(given, 'color-palettes')).toBe(expected);
  });
});

describe('the manifest of an NPI Send', () => {
  it('keeps the category of each item', () => {
    const items = [
      {
        studyInstanceUID: '',
        seriesInstanceUID: '',
        sopInstanceUID: '1.2.3',
        sopClassUID: '1.2.840.10008.5.1.4.39.1',
        npi: 'color-palettes',
      },
    ];
    expect(parseManifestJsonLines(toManifestJsonLines(items))).toEqual(items);
    expect(() =>
      parseManifestJsonLines('{"studyInstanceUID":"","seriesInstanceUID":"","sopInstanceUID":"1","sopClassUID":"2","npi":3}\n'),
    ).toThrow();
  });
});

describe('Resolve and Deliver of an NPI Send', () => {
  const [palette, other] = [npiSamples('31')[0]!, npiSamples('32')[0]!];
  let npiIndex: MemoryNpiIndex;
  let blobs: MemoryBlobStore;
  let requests: MemorySendRequestStore;
  let posts: { url: string; body: Buffer }[];
  let tasks: SendTasks;
  let wanted: ReturnType<typeof makeNpiInstance>;

  beforeEach(async () => {
    npiIndex = new MemoryNpiIndex();
    blobs = new MemoryBlobStore();
    requests = new MemorySendRequestStore();
    posts = [];
    const index = new MemoryMetadataIndex();
    const limits = { maxCandidates: 100, defaultLimit: 10, maxLimit: 10 };
    const npi = new NpiService(npiIndex, blobs, { ...limits, maxRequestBytes: 1e6, maxResponseBytes: 1e6 });
    tasks = new SendTasks({
      requests,
      index,
      blobs,
      search: new SearchService(index, limits),
      destinations: { load: async () => parseDestinationRegistry({ destinations: [{ url: DEST, auth: { type: 'none' } }] }) },
      npi: { service: npi, index: npiIndex },
      store: {
        fetch: (async (url: string, init: RequestInit) => {
          posts.push({ url: String(url), body: Buffer.from(init.body as Uint8Array) });
          return new Response(null, { status: 200 });
        }) as typeof fetch,
        sleep: async () => undefined,
      },
    });
    wanted = makeNpiInstance(palette);
    const { body, contentType } = stowBody([wanted.bytes, makeNpiInstance(other).bytes]);
    const category = requireNpiCategory('color-palettes');
    expect((await npi.storeInstances({ category, contentType, body: bodyOf(body), baseUrl: 'http://origin' })).status).toBe(200);
  });

  function record(search: [string, string][]): SendRequestRecord {
    return pendingSendRequest({ transactionUID: UID, target: { level: 'INSTANCE', npi: 'color-palettes' }, search, destination: DEST });
  }

  it("selects the category's matches only and stores them at {destination}/{npi-name}, byte for byte", async () => {
    await requests.create(record([['ContentLabel', 'HOT_IRON_31']]));
    const out = await tasks.resolve({ transactionUID: UID, batchSize: 10 });
    expect(out.matched).toBe(1);
    const manifest = parseManifestJsonLines(Buffer.from((await blobs.get(sendManifestKey(UID)))!).toString());
    expect(manifest).toEqual([
      {
        studyInstanceUID: '',
        seriesInstanceUID: '',
        sopInstanceUID: wanted.sopInstanceUID,
        sopClassUID: palette.sopClassUID,
        npi: 'color-palettes',
      },
    ]);

    await tasks.deliver({ Items: manifest, BatchInput: { transactionUID: UID, destination: DEST } });
    expect(posts.map((p) => p.url)).toEqual([`${DEST}/color-palettes`]);
    expect(posts[0]!.body.includes(Buffer.from(wanted.bytes))).toBe(true);
    const after = (await requests.get(UID))!;
    expect([after.completed, after.failed, after.remaining]).toEqual([1, 0, 0]);
  });

  it('counts an item no longer stored as failed without a Store request', async () => {
    await requests.create(record([]));
    await tasks.resolve({ transactionUID: UID });
    const gone = {
      studyInstanceUID: '',
      seriesInstanceUID: '',
      sopInstanceUID: '2.25.9',
      sopClassUID: palette.sopClassUID,
      npi: 'color-palettes',
    };
    await tasks.deliver({ Items: [gone], BatchInput: { transactionUID: UID, destination: DEST } });
    expect(posts).toEqual([]);
    expect(await new SendOutcomes(requests, blobs).failedSOPInstanceUIDs(UID)).toEqual(['2.25.9']);
  });
});
