/**
 * e2e: OHIF Viewer 3.13's study list against the archive. OHIF searches with dicomweb-client
 * (extensions/default/src/DicomWebDataSource/qido.js: its includefield, limit, offset, fuzzymatching)
 * and reads each result with @ohif/core's DICOMWeb helpers; one study without Modality answered as
 * `"00080061":{"vr":"CS"}` made getModalities throw, and the list showed no study at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tag } from '../../lambdas/dicom/tags';
import { makeStudy } from '../support/dicom-factory';
import { dicomwebClient } from '../support/dicomweb-client';
import { stow, tempArchive } from '../support/http';

type Element = { vr?: string; Value?: unknown[] } | undefined;
type Json = Record<string, Element>;

/** @ohif/core src/DICOMWeb/getString.js (MIT), as OHIF 3.13 ships it. */
function getString(element: Element, defaultValue?: string): string | undefined {
  if (!element || !element.Value || !element.Value.length) return defaultValue;
  return element.Value.join('\\');
}

/** @ohif/core src/DICOMWeb/getModalities.js (MIT), as OHIF 3.13 ships it: reads ModalitiesInStudy.Value.length. */
function getModalities(modality: Element, modalitiesInStudy: Element): Element {
  if (!modality && !modalitiesInStudy) return {};
  const modalities = modality ?? { vr: 'CS', Value: [] };
  modalities.Value = modalities.Value ?? [];
  if (modalitiesInStudy) {
    if (modalities.vr && modalities.vr === modalitiesInStudy.vr) {
      for (let i = 0; i < modalitiesInStudy.Value!.length; i++) {
        const value = modalitiesInStudy.Value![i];
        if (modalities.Value.indexOf(value) === -1) modalities.Value.push(value);
      }
    } else return modalitiesInStudy;
  }
  return modalities;
}

/** The fields of qido.js processResults that the study list shows. */
function studyListRow(study: Json) {
  return {
    studyInstanceUid: getString(study[Tag.StudyInstanceUID]),
    date: getString(study[Tag.StudyDate]),
    accession: getString(study[Tag.AccessionNumber]) || '',
    mrn: getString(study[Tag.PatientID]) || '',
    instances: Number(getString(study[Tag.NumberOfStudyRelatedInstances])) || 0,
    description: getString(study[Tag.StudyDescription]) || '',
    modalities: getString(getModalities(study[Tag.Modality], study[Tag.ModalitiesInStudy])) || '',
  };
}

let archive: Awaited<ReturnType<typeof tempArchive>>;
let client: any;

beforeAll(async () => {
  archive = await tempArchive();
  client = await dicomwebClient(archive.url);
});
afterAll(async () => archive?.close());

describe("OHIF 3.13's study list", () => {
  const patientID = `OHIF-${Date.now()}`;
  const withModality = makeStudy({ series: 1, instancesPerSeries: 2, patientID, modality: 'MR', studyDate: '20240301' });
  // No Modality, and none of the other attributes the list shows: StudyDate, AccessionNumber, StudyDescription, PatientName.
  const bare = makeStudy({
    series: 1,
    instancesPerSeries: 1,
    patientID,
    omit: ['Modality', 'StudyDate', 'AccessionNumber', 'StudyDescription', 'PatientName'],
  });

  beforeAll(async () => {
    expect(
      (
        await stow(
          archive.url,
          [...withModality.instances, ...bare.instances].map((i) => i.bytes),
        )
      ).status,
    ).toBe(200);
  });

  it('lists every study, the one without Modality included, with the query OHIF sends', async () => {
    const studies: Json[] = await client.searchForStudies({
      queryParams: {
        '00100020': patientID,
        limit: 101,
        offset: 0,
        fuzzymatching: false,
        includefield: '00081030,00080060,00080090,00100030',
      },
    });
    const rows = studies.map(studyListRow);
    expect(rows.map((r) => r.studyInstanceUid).sort()).toEqual([withModality.studyInstanceUID, bare.studyInstanceUID].sort());
    const [mr, none] = [withModality, bare].map((s) => rows.find((r) => r.studyInstanceUid === s.studyInstanceUID)!);
    expect(mr).toMatchObject({ modalities: 'MR', instances: 2, date: '20240301', accession: 'ACC0001' });
    expect(none).toMatchObject({ modalities: '', instances: 1, date: undefined, accession: '', description: '' });
    // The form chosen: ModalitiesInStudy left out when the study has none and the request did not name it.
    const bareResult = studies.find((s) => getString(s[Tag.StudyInstanceUID]) === bare.studyInstanceUID)!;
    expect(Object.hasOwn(bareResult, Tag.ModalitiesInStudy)).toBe(false);
    expect(bareResult[Tag.PatientName]).toEqual({ vr: 'PN' });
  });

  it("answers a frame to OHIF's Accept without quotes (omitQuotationForMultipartRequest: no CORS-unsafe byte)", async () => {
    const [instance] = withModality.instances;
    const path = `/studies/${withModality.studyInstanceUID}/series/${instance!.seriesInstanceUID}/instances/${instance!.sopInstanceUID}/frames/1`;
    const response = await fetch(`${archive.url}${path}`, {
      headers: { Accept: 'multipart/related; type=application/octet-stream; transfer-syntax=*' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^multipart\/related;.*type="?application\/octet-stream/);
    await response.arrayBuffer();
  });

  it('filters by modality as OHIF does (ModalitiesInStudy as a matching key)', async () => {
    const studies: Json[] = await client.searchForStudies({ queryParams: { '00100020': patientID, ModalitiesInStudy: 'MR' } });
    expect(studies.map(studyListRow).map((r) => [r.studyInstanceUid, r.modalities])).toEqual([[withModality.studyInstanceUID, 'MR']]);
  });
});
