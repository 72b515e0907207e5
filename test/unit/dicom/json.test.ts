import { describe, expect, it } from 'vitest';
import { copyJson, getBulkData, stringValue, toDicomJson, type DicomJsonOptions } from '../../../lambdas/dicom/json';
import type { DataSet } from '../../../lambdas/dicom/data-set';
import { BulkDataValue, readPart10 } from '../../../lambdas/dicom/part10';
import { newPart10 } from '../../../lambdas/dicom/part10-write';
import { Tag } from '../../../lambdas/dicom/tags';
import { SopClass, TransferSyntax } from '../../../lambdas/dicom/uid';
import { makeInstance } from '../../support/dicom-factory';

const OPTIONS: DicomJsonOptions = { bulkDataThreshold: 16, bulkDataUri: (tagPath) => `/bulkdata/${tagPath}` };
const STUDY_UID = '1.2.392.200036.9116.2.2.2.1762893313.1029997326.945873';
const VENDOR_BINARY = Buffer.from('z0x9c8v7', 'base64');
const ICON_PIXELS = Uint8Array.from({ length: 64 }, (_, i) => i);

const ab = (bytes: Uint8Array) => Uint8Array.from(bytes).buffer;

/**
 * The data set of the PS3.18 Annex F example (F.4), written to a Part 10 file and read back, so the
 * dict has exactly the shapes readPart10 produces; plus the cases the example leaves out.
 */
function annexFExample(): DataSet {
  const file = newPart10({
    [Tag.SpecificCharacterSet]: { vr: 'CS', Value: ['ISO_IR 192'] },
    [Tag.StudyDate]: { vr: 'DA', Value: ['20130409'] },
    [Tag.StudyTime]: { vr: 'TM', Value: ['131600.0000'] },
    [Tag.AccessionNumber]: { vr: 'SH', Value: ['11235813'] },
    [Tag.InstanceAvailability]: { vr: 'CS', Value: ['ONLINE'] },
    [Tag.ModalitiesInStudy]: { vr: 'CS', Value: ['CT', 'PET'] },
    [Tag.ReferringPhysicianName]: { vr: 'PN', Value: [{ Alphabetic: '^Bob^^Dr.' }] },
    [Tag.RetrieveURL]: { vr: 'UR', Value: [`http://wado.nema.org/studies/${STUDY_UID}`] },
    '00090010': { vr: 'LO', Value: ['Vendor A'] },
    '00091002': { vr: 'UN', Value: [ab(VENDOR_BINARY)] },
    [Tag.PatientName]: { vr: 'PN', Value: [{ Alphabetic: 'Wang^XiaoDong', Ideographic: '王^小東' }] },
    [Tag.PatientID]: { vr: 'LO', Value: ['12345'] },
    '00100021': { vr: 'LO', Value: ['Hospital A'] },
    [Tag.PatientBirthDate]: { vr: 'DA', Value: ['19670701'] },
    [Tag.PatientSex]: { vr: 'CS', Value: ['M'] },
    '00101002': {
      vr: 'SQ',
      Value: [
        { '00100020': { vr: 'LO', Value: ['54321'] }, '00100021': { vr: 'LO', Value: ['Hospital B'] } },
        { '00100020': { vr: 'LO', Value: ['24680'] }, '00100021': { vr: 'LO', Value: ['Hospital C'] } },
      ],
    },
    [Tag.StudyInstanceUID]: { vr: 'UI', Value: [STUDY_UID] },
    [Tag.NumberOfStudyRelatedSeries]: { vr: 'IS', Value: ['4'] },
    [Tag.NumberOfStudyRelatedInstances]: { vr: 'IS', Value: ['942'] },
    // Beyond the example: DS, AT, empty values, an empty sequence, binaries inline and as bulk data.
    [Tag.SOPClassUID]: { vr: 'UI', Value: [SopClass.CTImageStorage] },
    [Tag.StudyDescription]: { vr: 'LO', Value: [''] },
    '00080008': { vr: 'CS', Value: ['ORIGINAL', '', 'AXIAL'] },
    '00280030': { vr: 'DS', Value: ['0.50', '-1.25e2'] },
    '00280009': { vr: 'AT', Value: [0x00181063] },
    [Tag.Rows]: { vr: 'US', Value: [8] },
    [Tag.RequestAttributesSequence]: { vr: 'SQ', Value: [] },
    '00880200': { vr: 'SQ', Value: [{ [Tag.PixelData]: { vr: 'OB', Value: [ab(ICON_PIXELS)] } }] },
    '00282000': { vr: 'OB', Value: [ab(new Uint8Array([1, 2, 3, 4]))] }, // ICC Profile, under the threshold
    [Tag.PixelData]: { vr: 'OW', Value: [ab(new Uint8Array(128).fill(7))] },
  });
  return readPart10(file).dict;
}

describe('toDicomJson (PS3.18 F.2)', () => {
  const json = toDicomJson(annexFExample(), OPTIONS);

  it('has the shapes of the PS3.18 Annex F example', () => {
    expect(json).toMatchObject({
      '0020000D': { vr: 'UI', Value: [STUDY_UID] },
      '00080005': { vr: 'CS', Value: ['ISO_IR 192'] },
      '00080020': { vr: 'DA', Value: ['20130409'] },
      '00080030': { vr: 'TM', Value: ['131600.0000'] },
      '00080050': { vr: 'SH', Value: ['11235813'] },
      '00080056': { vr: 'CS', Value: ['ONLINE'] },
      '00080061': { vr: 'CS', Value: ['CT', 'PET'] },
      '00080090': { vr: 'PN', Value: [{ Alphabetic: '^Bob^^Dr.' }] },
      '00081190': { vr: 'UR', Value: [`http://wado.nema.org/studies/${STUDY_UID}`] },
      '00090010': { vr: 'LO', Value: ['Vendor A'] },
      '00091002': { vr: 'UN', InlineBinary: 'z0x9c8v7' },
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Wang^XiaoDong', Ideographic: '王^小東' }] },
      '00100020': { vr: 'LO', Value: ['12345'] },
      '00100021': { vr: 'LO', Value: ['Hospital A'] },
      '00100030': { vr: 'DA', Value: ['19670701'] },
      '00100040': { vr: 'CS', Value: ['M'] },
      '00101002': {
        vr: 'SQ',
        Value: [
          { '00100020': { vr: 'LO', Value: ['54321'] }, '00100021': { vr: 'LO', Value: ['Hospital B'] } },
          { '00100020': { vr: 'LO', Value: ['24680'] }, '00100021': { vr: 'LO', Value: ['Hospital C'] } },
        ],
      },
      '00201206': { vr: 'IS', Value: [4] },
      '00201208': { vr: 'IS', Value: [942] },
    });
  });

  it('writes DS as numbers and AT as 8 hex digits (F.2.3)', () => {
    expect(json['00280030']).toEqual({ vr: 'DS', Value: [0.5, -125] });
    expect(json['00280009']).toEqual({ vr: 'AT', Value: ['00181063'] });
    expect(json[Tag.Rows]).toEqual({ vr: 'US', Value: [8] });
  });

  it('leaves Value out of an empty element and writes null for an empty value among others (F.2.5)', () => {
    expect(json[Tag.StudyDescription]).toEqual({ vr: 'LO' });
    expect(json[Tag.RequestAttributesSequence]).toEqual({ vr: 'SQ' });
    expect(json['00080008']).toEqual({ vr: 'CS', Value: ['ORIGINAL', null, 'AXIAL'] });
  });

  it('inlines small binary values and refers to larger ones by BulkDataURI with their tag path (F.2.7)', () => {
    expect(json['00282000']).toEqual({ vr: 'OB', InlineBinary: Buffer.from([1, 2, 3, 4]).toString('base64') });
    expect(json[Tag.PixelData]).toEqual({ vr: 'OW', BulkDataURI: '/bulkdata/7FE00010' });
    expect(json['00880200']).toEqual({ vr: 'SQ', Value: [{ '7FE00010': { vr: 'OB', BulkDataURI: '/bulkdata/00880200/0/7FE00010' } }] });
  });

  it('sorts the keys ascending', () => {
    expect(Object.keys(json)).toEqual(Object.keys(json).sort());
  });

  it('refers to encapsulated pixel data by BulkDataURI whatever its size', () => {
    const dict = readPart10(
      makeInstance({ transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit, numberOfFrames: 2, rows: 1, columns: 1 }),
    ).dict;
    const large = toDicomJson(dict, { ...OPTIONS, bulkDataThreshold: 1_000_000 });
    expect(large[Tag.PixelData]).toEqual({ vr: 'OB', BulkDataURI: '/bulkdata/7FE00010' });
  });

  it('refers to a value readPart10 left in the bytes by BulkDataURI whatever its size, and has no bytes of it', () => {
    const dict: DataSet = { [Tag.PixelData]: { vr: 'OW', Value: [new BulkDataValue(1000, 8)] } };
    expect(toDicomJson(dict, { ...OPTIONS, bulkDataThreshold: 1_000_000 })[Tag.PixelData]).toEqual({
      vr: 'OW',
      BulkDataURI: '/bulkdata/7FE00010',
    });
    expect(() => getBulkData(dict, '7FE00010')).toThrow(TypeError);
  });
});

describe('getBulkData', () => {
  const dict = annexFExample();

  it('returns the bytes of a top-level or nested binary value', () => {
    expect(getBulkData(dict, '7FE00010')).toEqual(new Uint8Array(128).fill(7));
    expect(getBulkData(dict, '00880200/0/7FE00010')).toEqual(ICON_PIXELS);
    expect(getBulkData(dict, '00880200/0/7fe00010')).toEqual(ICON_PIXELS);
  });

  it('answers undefined for absent, non-binary or malformed paths', () => {
    expect(getBulkData(dict, '00880200/1/7FE00010')).toBeUndefined();
    expect(getBulkData(dict, '00880200/x/7FE00010')).toBeUndefined();
    expect(getBulkData(dict, '00880200/0')).toBeUndefined();
    expect(getBulkData(dict, '00100010')).toBeUndefined();
    expect(getBulkData(dict, '7FE00008')).toBeUndefined();
    expect(getBulkData(dict, '00101002/0/00100020')).toBeUndefined();
  });
});

describe('stringValue', () => {
  const json = toDicomJson(annexFExample(), OPTIONS);

  it('returns the first value as a string, PN as its Alphabetic group', () => {
    expect(stringValue(json, Tag.PatientName)).toBe('Wang^XiaoDong');
    expect(stringValue(json, Tag.ModalitiesInStudy)).toBe('CT');
    expect(stringValue(json, Tag.NumberOfStudyRelatedInstances)).toBe('942');
  });

  it('answers undefined when the attribute is absent or empty', () => {
    expect(stringValue(json, Tag.SeriesInstanceUID)).toBeUndefined();
    expect(stringValue(json, Tag.StudyDescription)).toBeUndefined();
    expect(stringValue({ '00100010': { vr: 'PN', Value: [{ Ideographic: '王' }] } }, Tag.PatientName)).toBeUndefined();
    expect(stringValue({ '00080008': { vr: 'CS', Value: [null, 'AXIAL'] } }, '00080008')).toBeUndefined();
  });
});

describe('copyJson', () => {
  const json = toDicomJson(annexFExample(), OPTIONS);

  it('copies DICOM JSON deeply: equal, and sharing no object or array with the original', () => {
    const copy = copyJson(json);
    expect(copy).toEqual(json);
    const shared: string[] = [];
    const walk = (a: unknown, b: unknown, at: string) => {
      if (a === null || typeof a !== 'object') return;
      if (a === b) shared.push(at);
      for (const key of Object.keys(a)) walk((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${at}/${key}`);
    };
    walk(copy, json, '');
    expect(shared).toEqual([]);
    (copy[Tag.PatientName]!.Value![0] as Record<string, string>).Alphabetic = 'Changed^Name';
    expect(stringValue(json, Tag.PatientName)).toBe('Wang^XiaoDong');
  });

  it('keeps null values, numbers and empty elements as they are', () => {
    const element = { vr: 'DS', Value: [null, 1.5, -0, '2'] };
    expect(copyJson(element)).toEqual(element);
    expect(copyJson({ vr: 'LO' })).toEqual({ vr: 'LO' });
  });
});
