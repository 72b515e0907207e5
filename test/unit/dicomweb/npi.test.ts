/** NpiService over in-memory ports: Store, Search and Retrieve of the NPI Service (PS3.18 12). */
import { beforeEach, describe, expect, it } from 'vitest';
import { Tag } from '../../../lambdas/dicom/tags';
import { newUid } from '../../../lambdas/dicom/uid';
import { BadRequestError, NotAcceptableError, NotFoundError } from '../../../lambdas/dicomweb/errors';
import { NpiService, parseNpiSearchParameters } from '../../../lambdas/dicomweb/npi';
import { requireNpiCategory } from '../../../lambdas/dicomweb/npi-categories';
import { DuplicateSOPInstance } from '../../../lambdas/dicomweb/store';
import { bodyOf } from '../../../lambdas/dicomweb/messages';
import { inImplicitVR, makeInstance, withOtherFileMeta } from '../../support/dicom-factory';
import { stowBody } from '../../support/http';
import { MemoryBlobStore } from '../../support/memory-blobs';
import { MemoryNpiIndex } from '../../support/memory-npi-index';
import { makeNpiInstance, npiSamples } from '../../support/npi-factory';

const BASE = 'http://archive.test';
const hp = requireNpiCategory('hanging-protocols');
const [hpSample] = npiSamples('11').filter((s) => s.npiName === 'hanging-protocols');

let index: MemoryNpiIndex;
let blobs: MemoryBlobStore;
let service: NpiService;

beforeEach(() => {
  index = new MemoryNpiIndex();
  blobs = new MemoryBlobStore();
  service = new NpiService(index, blobs, {
    maxCandidates: 100,
    defaultLimit: 10,
    maxLimit: 10,
    maxRequestBytes: 1_000_000,
    maxResponseBytes: 1_000_000,
  });
});

function store(files: Uint8Array[], category = hp) {
  const { body, contentType } = stowBody(files);
  return service.storeInstances({ category, contentType, body: bodyOf(body), baseUrl: BASE });
}
const q = (o: Record<string, string>) => new Map(Object.entries(o).map(([k, v]) => [k, [v]]));
const first = (ds: Record<string, { Value?: unknown[] }>, tag: string) => ds[tag]?.Value?.[0];

describe('store', () => {
  it('stores an instance of the category under npi/{category}/ with its key attributes indexed', async () => {
    const npi = makeNpiInstance(hpSample!);
    const result = await store([npi.bytes]);
    expect(result.status).toBe(200);
    const item = (result.response[Tag.ReferencedSOPSequence]!.Value as Record<string, { Value?: unknown[] }>[])[0]!;
    expect(first(item, Tag.RetrieveURL)).toBe(`${BASE}/hanging-protocols/${npi.sopInstanceUID}`);
    const entry = await index.getInstance('hanging-protocols', npi.sopInstanceUID);
    const keys = [...blobs.objects.keys()].sort();
    expect(keys).toEqual([entry!.instance.objectKey, entry!.instance.metadataKey]);
    expect(keys[0]).toMatch(
      new RegExp(`^npi/hanging-protocols/${npi.sopInstanceUID.replaceAll('.', '\\.')}\\.[0-9a-f]{16}-[0-9a-f]{8}\\.dcm$`),
    );
    expect(first(entry!.attributes, '00720002')).toBe('CHEST_11');
    // Only key attributes are indexed, not the whole data set.
    expect(entry!.attributes['00720004']).toBeDefined();
    expect(entry!.attributes[Tag.InstanceNumber]).toBeUndefined();
  });

  it('stores an instance with an attribute too large for an index entry, leaving it out of the index only', async () => {
    const description = Array.from({ length: 500 }, (_, i) => `description ${i} of a protocol with many values`);
    const npi = makeNpiInstance({ ...hpSample!, attributes: { ...hpSample!.attributes, HangingProtocolDescription: description } });
    expect((await store([npi.bytes])).status).toBe(200);
    const entry = await index.getInstance('hanging-protocols', npi.sopInstanceUID);
    expect(entry!.attributes['00720004']).toBeUndefined();
    expect(first(entry!.attributes, '00720002')).toBe('CHEST_11');
    const metadata = JSON.parse(Buffer.from(blobs.objects.get(entry!.instance.metadataKey)!.body).toString());
    expect(metadata['00720004'].Value).toHaveLength(500);
  });

  it('refuses another SOP Class with 0x0122, 409 when none stored', async () => {
    const palette = makeNpiInstance(npiSamples('12')[0]!);
    const result = await store([palette.bytes, makeInstance()]);
    expect(result.status).toBe(409);
    const failed = result.response[Tag.FailedSOPSequence]!.Value as Record<string, { Value?: unknown[] }>[];
    expect(failed.map((f) => first(f, Tag.FailureReason))).toEqual([0x0122, 0x0122]);
    expect(blobs.objects.size).toBe(0);
  });

  it('accepts an identical re-store and refuses other content under a stored UID (0111)', async () => {
    const npi = makeNpiInstance(hpSample!);
    await store([npi.bytes]);
    expect((await store([npi.bytes])).status).toBe(200);
    const other = makeNpiInstance(
      { ...hpSample!, attributes: { ...hpSample!.attributes, NumberOfScreens: 4 } },
      { sopInstanceUID: npi.sopInstanceUID },
    );
    const result = await store([other.bytes]);
    expect(result.status).toBe(409);
    expect(first((result.response[Tag.FailedSOPSequence]!.Value as any[])[0], Tag.FailureReason)).toBe(DuplicateSOPInstance);
  });

  it('[npi.store.200] judges duplicates on the data set: other File Meta Information or Implicit VR is the same instance, the first file kept', async () => {
    const npi = makeNpiInstance(hpSample!);
    await store([npi.bytes]);
    const before = new Map([...blobs.objects].map(([k, v]) => [k, v.body]));
    for (const again of [withOtherFileMeta(npi.bytes, 'WORKSTATION'), inImplicitVR(npi.bytes)]) {
      expect((await store([again])).status).toBe(200);
    }
    expect(new Map([...blobs.objects].map(([k, v]) => [k, v.body]))).toEqual(before);
  });
});

describe('search', () => {
  it("matches the category's keys, with wildcards, sequence keys, limit and offset", async () => {
    const a = makeNpiInstance(hpSample!);
    const b = makeNpiInstance(npiSamples('22').find((s) => s.npiName === 'hanging-protocols')!);
    await store([a.bytes, b.bytes]);
    const search = (o: Record<string, string>) =>
      service.search({ category: hp, parameters: parseNpiSearchParameters(q(o), hp), baseUrl: BASE });
    const uids = async (o: Record<string, string>) => (await search(o)).results.map((r) => first(r, Tag.SOPInstanceUID));

    expect(await uids({ HangingProtocolName: 'CHEST_11' })).toEqual([a.sopInstanceUID]);
    expect((await uids({ HangingProtocolName: 'CHEST_*' })).sort()).toEqual([a.sopInstanceUID, b.sopInstanceUID].sort());
    expect(await uids({ 'HangingProtocolDefinitionSequence.Modality': 'MR' })).toEqual([]);
    expect(await uids({ HangingProtocolCreationDateTime: '2024-' })).toHaveLength(2);
    const page = await search({ limit: '1' });
    expect(page.results).toHaveLength(1);
    expect(page.truncated).toBe(true);
    expect(first(page.results[0]!, Tag.RetrieveURL)).toMatch(new RegExp(`^${BASE}/hanging-protocols/`));
  });

  it("refuses keys that are not the category's", () => {
    expect(() => parseNpiSearchParameters(q({ PatientID: 'X' }), hp)).toThrow(BadRequestError);
    try {
      parseNpiSearchParameters(q({ ContentLabel: 'X' }), hp);
      expect.unreachable();
    } catch (error) {
      expect((error as BadRequestError).details[0]!.message).toMatch(/not a supported matching key of a Hanging Protocol search/);
    }
    expect(() => parseNpiSearchParameters(q({ SOPInstanceUID: 'x.y' }), hp)).toThrow(BadRequestError);
  });
});

describe('retrieve', () => {
  it('returns the stored bytes, or the DICOM JSON when only application/dicom+json is acceptable', async () => {
    const npi = makeNpiInstance(hpSample!);
    await store([npi.bytes]);
    const req = { category: hp, sopInstanceUID: npi.sopInstanceUID, baseUrl: BASE };
    const r = await service.retrieveInstance({ ...req, accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' });
    expect(r.status).toBe(200);
    expect(r.headers!['Content-Type']).toMatch(/^multipart\/related; type="application\/dicom"/);

    const json = await service.retrieveInstance({ ...req, accept: 'application/dicom+json' });
    expect(json.headers!['Content-Type']).toBe('application/dicom+json');
    const [dataset] = JSON.parse(json.body as string) as Record<string, { Value?: unknown[] }>[];
    expect(first(dataset!, '00720002')).toBe('CHEST_11');
  });

  it('answers 400 for a malformed UID, 404 for another category or an unknown UID, 406 otherwise', async () => {
    const npi = makeNpiInstance(hpSample!);
    await store([npi.bytes]);
    const base = { baseUrl: BASE, accept: undefined };
    await expect(service.retrieveInstance({ ...base, category: hp, sopInstanceUID: '1..2' })).rejects.toThrow(BadRequestError);
    await expect(service.retrieveInstance({ ...base, category: hp, sopInstanceUID: newUid() })).rejects.toThrow(NotFoundError);
    const palettes = requireNpiCategory('color-palettes');
    await expect(service.retrieveInstance({ ...base, category: palettes, sopInstanceUID: npi.sopInstanceUID })).rejects.toThrow(
      NotFoundError,
    );
    await expect(
      service.retrieveInstance({ ...base, category: hp, sopInstanceUID: npi.sopInstanceUID, accept: 'image/jpeg' }),
    ).rejects.toThrow(NotAcceptableError);
  });
});
