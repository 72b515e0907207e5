import { describe, expect, it } from 'vitest';
import { Tag } from '../../../lambdas/dicom/tags';
import { BadRequestError } from '../../../lambdas/dicomweb/errors';
import { MAX_INDEXED_ATTRIBUTE_BYTES, buildIndexEntries, fitsIndex } from '../../../lambdas/dicomweb/index-entries';
import type { InstanceObject } from '../../../lambdas/storage/ports';
import type { DicomJson } from '../../../lambdas/dicom/json';

const instance: InstanceObject = {
  sopClassUID: '1.2.840.10008.5.1.4.1.1.2',
  transferSyntaxUID: '1.2.840.10008.1.2.1',
  objectKey: 'studies/1.2/series/1.2.3/instances/1.2.3.4.dcm',
  metadataKey: 'studies/1.2/series/1.2.3/instances/1.2.3.4.json',
  size: 1234,
  digest: 'ab'.repeat(32),
  numberOfFrames: 1,
};

const dataset: DicomJson = {
  [Tag.SpecificCharacterSet]: { vr: 'CS', Value: ['ISO_IR 192'] },
  [Tag.SOPClassUID]: { vr: 'UI', Value: [instance.sopClassUID] },
  [Tag.SOPInstanceUID]: { vr: 'UI', Value: ['1.2.3.4'] },
  [Tag.StudyDate]: { vr: 'DA', Value: ['20240315'] },
  [Tag.Modality]: { vr: 'CS', Value: ['CT'] },
  [Tag.InstitutionName]: { vr: 'LO', Value: ['Not indexed'] },
  [Tag.PatientName]: { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] },
  [Tag.PatientID]: { vr: 'LO', Value: ['P1'] },
  [Tag.StudyInstanceUID]: { vr: 'UI', Value: ['1.2'] },
  [Tag.SeriesInstanceUID]: { vr: 'UI', Value: ['1.2.3'] },
  [Tag.InstanceNumber]: { vr: 'IS', Value: [3] },
  [Tag.RequestAttributesSequence]: {
    vr: 'SQ',
    Value: [
      {
        [Tag.ScheduledProcedureStepID]: { vr: 'SH', Value: ['SPS1'] },
        [Tag.RequestedProcedureID]: { vr: 'SH', Value: ['RP1'] },
        [Tag.AccessionNumber]: { vr: 'SH', Value: ['dropped'] },
      },
    ],
  },
  [Tag.PixelData]: { vr: 'OW', BulkDataURI: '/studies/1.2/series/1.2.3/instances/1.2.3.4/bulkdata/7FE00010' },
};

describe('buildIndexEntries', () => {
  const { study, series, instance: inst } = buildIndexEntries(dataset, instance);

  it('keys each entry by its UIDs and carries study date and patient ID', () => {
    expect(study).toMatchObject({ level: 'STUDY', studyInstanceUID: '1.2', studyDate: '20240315', patientId: 'P1' });
    expect(study.seriesInstanceUID).toBeUndefined();
    expect(series).toMatchObject({ level: 'SERIES', studyInstanceUID: '1.2', seriesInstanceUID: '1.2.3' });
    expect(inst).toMatchObject({ level: 'INSTANCE', seriesInstanceUID: '1.2.3', sopInstanceUID: '1.2.3.4', instance });
    expect(study.instance).toBeUndefined();
  });

  it('keeps the level attributes plus those of the levels above, nothing else', () => {
    expect(Object.keys(study.attributes).sort()).toEqual(
      [Tag.SpecificCharacterSet, Tag.StudyDate, Tag.PatientName, Tag.PatientID, Tag.StudyInstanceUID].sort(),
    );
    expect(Object.keys(series.attributes).sort()).toEqual(
      [...Object.keys(study.attributes), Tag.Modality, Tag.SeriesInstanceUID, Tag.RequestAttributesSequence].sort(),
    );
    expect(Object.keys(inst.attributes).sort()).toEqual(
      [...Object.keys(series.attributes), Tag.SOPClassUID, Tag.SOPInstanceUID, Tag.InstanceNumber].sort(),
    );
    expect(inst.attributes[Tag.PatientName]).toEqual(dataset[Tag.PatientName]);
  });

  it('trims Request Attributes Sequence items to the matching keys', () => {
    expect(series.attributes[Tag.RequestAttributesSequence]).toEqual({
      vr: 'SQ',
      Value: [{ [Tag.ScheduledProcedureStepID]: { vr: 'SH', Value: ['SPS1'] }, [Tag.RequestedProcedureID]: { vr: 'SH', Value: ['RP1'] } }],
    });
  });

  it('keeps dates and times of the pre-V3.0 forms (YYYY.MM.DD, HH:MM:SS.frac) as YYYYMMDD and HHMMSS.frac (PS3.5 6.2)', () => {
    const entries = buildIndexEntries(
      { ...dataset, [Tag.StudyDate]: { vr: 'DA', Value: ['2024.03.15'] }, [Tag.StudyTime]: { vr: 'TM', Value: ['10:15:30.5'] } },
      instance,
    );
    expect(entries.study.studyDate).toBe('20240315');
    expect(entries.study.attributes[Tag.StudyDate]).toEqual({ vr: 'DA', Value: ['20240315'] });
    expect(entries.instance.attributes[Tag.StudyTime]).toEqual({ vr: 'TM', Value: ['101530.5'] });
    // A Study Date of any other form is no date to the index (the attribute keeps it as it is).
    for (const value of ['2024', '2024.03', '15.03.2024', '2'.repeat(3000)]) {
      const entry = buildIndexEntries({ ...dataset, [Tag.StudyDate]: { vr: 'DA', Value: [value] } }, instance).study;
      expect(entry.studyDate).toBe('');
      if (value.length < 100) expect(entry.attributes[Tag.StudyDate]).toEqual({ vr: 'DA', Value: [value] });
    }
  });

  it('leaves out an attribute over MAX_INDEXED_ATTRIBUTE_BYTES, so that no entry outgrows an index item', () => {
    const many = { vr: 'LO', Value: Array.from({ length: 2000 }, (_, i) => `description ${i}`) };
    expect(fitsIndex(many)).toBe(false);
    const entries = buildIndexEntries({ ...dataset, [Tag.StudyDescription]: many }, instance);
    for (const entry of [entries.study, entries.series, entries.instance]) expect(entry.attributes[Tag.StudyDescription]).toBeUndefined();
    // Whatever the 32 attributes of an instance entry hold, the entry stays far below DynamoDB's 400 KB.
    expect(32 * MAX_INDEXED_ATTRIBUTE_BYTES).toBeLessThan(300 * 1024);
    expect(fitsIndex({ vr: 'PN', Value: [{ Alphabetic: 'x'.repeat(MAX_INDEXED_ATTRIBUTE_BYTES) }] })).toBe(false);
    expect(fitsIndex({ vr: 'LO', Value: ['x'.repeat(MAX_INDEXED_ATTRIBUTE_BYTES - 100)] })).toBe(true);
    expect(fitsIndex({ vr: 'SQ', Value: [{ [Tag.AccessionNumber]: { vr: 'SH', Value: ['A'] } }] })).toBe(true);
  });

  it('indexes a Patient ID longer than LO allows (64 characters) as absent: it would make an oversized index key', () => {
    const entries = buildIndexEntries({ ...dataset, [Tag.PatientID]: { vr: 'LO', Value: ['P'.repeat(3000)] } }, instance);
    expect(entries.study.patientId).toBe('');
    expect(buildIndexEntries({ ...dataset, [Tag.PatientID]: { vr: 'LO', Value: ['P'.repeat(64)] } }, instance).study.patientId).toBe(
      'P'.repeat(64),
    );
  });

  it("fills studyDate and patientId with '' when absent", () => {
    const { [Tag.StudyDate]: _d, [Tag.PatientID]: _p, ...rest } = dataset;
    const entries = buildIndexEntries(rest, instance);
    expect(entries.series).toMatchObject({ studyDate: '', patientId: '' });
  });

  it('rejects an instance without its UIDs', () => {
    const { [Tag.SeriesInstanceUID]: _s, ...rest } = dataset;
    expect(() => buildIndexEntries(rest, instance)).toThrow(BadRequestError);
  });
});
