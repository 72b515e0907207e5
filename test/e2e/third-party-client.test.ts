/**
 * e2e: a third-party DICOMweb user agent (the dicomweb-client npm package, as used by OHIF) stores,
 * searches and retrieves (metadata, frames, bulk data) against the embedded archive (docs/clients.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPart10 } from '../../lambdas/dicom/part10';
import { Tag } from '../../lambdas/dicom/tags';
import { makeStudy, pixelFrame } from '../support/dicom-factory';
import { dicomwebClient } from '../support/dicomweb-client';
import { tempArchive, value } from '../support/http';

let archive: Awaited<ReturnType<typeof tempArchive>>;
let client: any;

beforeAll(async () => {
  archive = await tempArchive();
  client = await dicomwebClient(archive.url);
});
afterAll(async () => archive?.close());

describe('dicomweb-client against the archive', () => {
  const patientID = `DWC-${Date.now()}`;
  const study = makeStudy({ series: 1, instancesPerSeries: 2, patientID, modality: 'MR' });

  it('storeInstances, searchForStudies, searchForInstances, retrieveInstance, retrieveStudyMetadata', async () => {
    await client.storeInstances({
      datasets: study.instances.map((i) => i.bytes.buffer.slice(i.bytes.byteOffset, i.bytes.byteOffset + i.bytes.byteLength)),
      studyInstanceUID: study.studyInstanceUID,
    });

    const studies = await client.searchForStudies({ queryParams: { PatientID: patientID } });
    expect(studies).toHaveLength(1);
    expect(value(studies[0], Tag.StudyInstanceUID)).toBe(study.studyInstanceUID);

    const instances = await client.searchForInstances({ studyInstanceUID: study.studyInstanceUID });
    expect(instances).toHaveLength(2);

    const [first] = study.instances;
    const retrieved = await client.retrieveInstance({
      studyInstanceUID: study.studyInstanceUID,
      seriesInstanceUID: first!.seriesInstanceUID,
      sopInstanceUID: first!.sopInstanceUID,
    });
    const bytes = new Uint8Array(Array.isArray(retrieved) ? retrieved[0] : retrieved);
    expect(readPart10(bytes).sopInstanceUID).toBe(first!.sopInstanceUID);

    const metadata = await client.retrieveStudyMetadata({ studyInstanceUID: study.studyInstanceUID });
    expect(metadata.map((m: any) => value(m, Tag.SOPInstanceUID)).sort()).toEqual(study.instances.map((i) => i.sopInstanceUID).sort());
  });

  it("retrieveInstanceFrames and retrieveBulkData, as OHIF's image loader and PDF viewport call them", async () => {
    const large = makeStudy({ series: 1, instancesPerSeries: 1, patientID, modality: 'CT', approximateBytes: 8192 });
    const [instance] = large.instances;
    await client.storeInstances({ datasets: [instance!.bytes.slice().buffer], studyInstanceUID: large.studyInstanceUID });
    const uids = {
      studyInstanceUID: large.studyInstanceUID,
      seriesInstanceUID: instance!.seriesInstanceUID,
      sopInstanceUID: instance!.sopInstanceUID,
    };
    const [metadata] = await client.retrieveInstanceMetadata(uids);
    const rows = value(metadata, Tag.Rows) as number;
    const columns = value(metadata, Tag.Columns) as number;
    const expected = pixelFrame(1, rows * columns * 2);

    const frames = await client.retrieveInstanceFrames({ ...uids, frameNumbers: [1] });
    expect(frames).toHaveLength(1);
    expect(Buffer.from(frames[0]).equals(Buffer.from(expected))).toBe(true);

    // OHIF follows the metadata's absolute BulkDataURI for Pixel Data it does not take as frames.
    const bulkDataURI = metadata[Tag.PixelData].BulkDataURI as string;
    expect(bulkDataURI.startsWith(`${archive.url}/studies/${large.studyInstanceUID}/`)).toBe(true);
    const bulk = await client.retrieveBulkData({ BulkDataURI: bulkDataURI });
    expect(Buffer.from(bulk[0]).equals(Buffer.from(expected))).toBe(true);
  });
});
