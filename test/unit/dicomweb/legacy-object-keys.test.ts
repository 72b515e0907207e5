/**
 * Unit: instances stored by releases that wrote one object key per SOP Instance UID ({sop}.dcm and
 * {sop}.json, without a version) are served and deleted from the keys their index entries hold.
 */
import { describe, expect, it } from 'vitest';
import { parseMediaType, parseMultipartRelated } from '../../../lambdas/dicom/multipart';
import { readPart10 } from '../../../lambdas/dicom/part10';
import { DeleteService } from '../../../lambdas/dicomweb/delete';
import { RetrieveService } from '../../../lambdas/dicomweb/retrieve';
import type { DicomwebResponse } from '../../../lambdas/dicomweb/messages';
import { makeInstance } from '../../support/dicom-factory';
import { MemoryBlobStore } from '../../support/memory-blobs';
import { MemoryMetadataIndex } from '../../support/memory-index';
import { storeInstances } from '../../support/seed';

const BASE_URL = 'http://archive';

async function bodyOf(response: DicomwebResponse): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  const body = response.body;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  for await (const chunk of body ?? []) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('objects under the keys of earlier releases', () => {
  it('are retrieved (instance and metadata) and deleted through their index entry', async () => {
    const index = new MemoryMetadataIndex();
    const blobs = new MemoryBlobStore();
    const bytes = makeInstance({ patientName: 'Legacy^Layout' });
    const uids = readPart10(bytes);
    await storeInstances(index, blobs, [bytes], { baseUrl: BASE_URL });
    // Rewrite what the store wrote into the layout of an earlier release.
    const entry = (await index.getInstance(uids.studyInstanceUID, uids.seriesInstanceUID, uids.sopInstanceUID))!;
    const prefix = `studies/${uids.studyInstanceUID}/series/${uids.seriesInstanceUID}/instances/${uids.sopInstanceUID}`;
    const legacy = { ...entry.instance!, objectKey: `${prefix}.dcm`, metadataKey: `${prefix}.json` };
    await blobs.put(legacy.objectKey, (await blobs.get(entry.instance!.objectKey))!, 'application/dicom');
    await blobs.put(legacy.metadataKey, (await blobs.get(entry.instance!.metadataKey))!, 'application/dicom+json');
    await blobs.delete([entry.instance!.objectKey, entry.instance!.metadataKey]);
    await index.deleteEntry(entry);
    await index.putInstance({ ...entry, instance: legacy });
    expect([...blobs.objects.keys()].sort()).toEqual([legacy.objectKey, legacy.metadataKey].sort());

    const retrieve = new RetrieveService(index, blobs, { maxResponseBytes: 1024 * 1024 });
    const instance = await retrieve.retrieveInstance({
      ...uids,
      accept: 'multipart/related; type="application/dicom"; transfer-syntax=*',
      baseUrl: BASE_URL,
    });
    const boundary = parseMediaType(instance.headers!['Content-Type']!).params.boundary!;
    expect(Buffer.from(parseMultipartRelated(await bodyOf(instance), boundary)[0]!.body).equals(Buffer.from(bytes))).toBe(true);
    const metadata = JSON.parse(
      (await bodyOf(await retrieve.retrieveInstanceMetadata({ ...uids, accept: undefined, baseUrl: BASE_URL }))).toString('utf8'),
    );
    expect(metadata[0]['00100010'].Value).toEqual([{ Alphabetic: 'Legacy^Layout' }]);

    await new DeleteService(index, blobs).deleteInstance(uids);
    expect(blobs.objects.size).toBe(0);
  });
});
