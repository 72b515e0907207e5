import { describe, expect, it } from 'vitest';
import { Tag } from '../../../lambdas/dicom/tags';
import {
  DimseStatusError,
  findQueryOf,
  moveQueryOf,
  patientsOf,
  QRTag,
  responseIdentifier,
  toDicomJson,
} from '../../../lambdas/dimse/identifier';
import { Dataset } from '../../../lambdas/dimse/lib';
import type { DicomJson } from '../../../lambdas/dicom/json';
import { encoded } from '../../support/dicom-factory';

const id = (level: string, keys: DicomJson = {}): DicomJson => ({ [QRTag.QueryRetrieveLevel]: { vr: 'CS', Value: [level] }, ...keys });
const pn = (name?: string) => (name === undefined ? { vr: 'PN' } : { vr: 'PN', Value: [{ Alphabetic: name }] });

function statusOf(f: () => unknown): number | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof DimseStatusError) return e.status;
    throw e;
  }
  return undefined;
}

describe('C-FIND Identifier as a search (PS3.4 C.4.1.2.1)', () => {
  it('keys with a value match, every key is returned; IMAGE is searched at INSTANCE level', () => {
    const q = findQueryOf(
      id('IMAGE', {
        [Tag.PatientName]: pn('DOE*'),
        [Tag.SeriesInstanceUID]: { vr: 'UI', Value: ['1.2.3\\1.2.4'] },
        [Tag.SOPInstanceUID]: { vr: 'UI' },
      }),
      'PATIENT',
    );
    expect(q.level).toBe('INSTANCE');
    expect(q.parameters.matchKeys).toEqual([
      { tag: Tag.PatientName, value: 'DOE*' },
      { tag: Tag.SeriesInstanceUID, value: '1.2.3,1.2.4' },
    ]);
    expect(q.returnTags).toEqual([Tag.SOPInstanceUID, Tag.PatientName, Tag.SeriesInstanceUID].sort());
    expect(q.unsupportedKeys).toEqual([]);
  });

  it('reports an Optional Key it cannot match (FF01) and keeps it as a return key', () => {
    const q = findQueryOf(id('STUDY', { '00081070': pn('SOMEONE') }), 'STUDY');
    expect(q.unsupportedKeys).toEqual(['00081070']);
    expect(q.parameters.matchKeys).toEqual([]);
  });

  it('answers A900 for a missing or foreign Query/Retrieve Level and a malformed value', () => {
    expect(statusOf(() => findQueryOf({ [Tag.PatientID]: { vr: 'LO', Value: ['X'] } }, 'STUDY'))).toBe(0xa900);
    expect(statusOf(() => findQueryOf(id('PATIENT'), 'STUDY'))).toBe(0xa900);
    expect(statusOf(() => findQueryOf(id('STUDY', { [Tag.StudyDate]: { vr: 'DA', Value: ['2020x'] } }), 'STUDY'))).toBe(0xa900);
  });

  it('PATIENT level matches patient keys only', () => {
    const q = findQueryOf(
      id('PATIENT', { [Tag.PatientID]: { vr: 'LO', Value: ['P1'] }, [Tag.StudyDate]: { vr: 'DA', Value: ['20200101'] } }),
      'PATIENT',
    );
    expect(q.level).toBe('STUDY');
    expect(q.parameters.matchKeys).toEqual([{ tag: Tag.PatientID, value: 'P1' }]);
    expect(q.unsupportedKeys).toEqual([Tag.StudyDate]);
  });

  it('matches a Person Name key by its component groups: an ideographic-only key is not universal', () => {
    const json = toDicomJson({ QueryRetrieveLevel: 'STUDY', PatientName: [{ Ideographic: '山田*' }] });
    expect(findQueryOf(json, 'STUDY').parameters.matchKeys).toEqual([{ tag: Tag.PatientName, value: '=山田*' }]);
  });

  it('decodes an Identifier in ISO 2022 code extensions (\\ISO 2022 IR 87), which the library reads in value 1 only', () => {
    // As the library parses the bytes: the ESC sequences left in the text, values and groups split at
    // every "\\" and "=", even inside two-byte characters (JIS X 0208 0x243D is そ, its second byte "=").
    const json = toDicomJson({
      SpecificCharacterSet: 'ISO_IR 192',
      QueryRetrieveLevel: 'STUDY',
      PatientName: [{ Alphabetic: 'Yamada^Tarou', Ideographic: '\x1b$B;3ED\x1b(B*' }],
      StudyDescription: ['\x1b$B$', '\x1b(B'],
    });
    expect(json[Tag.PatientName]!.Value).toEqual([{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田*' }]);
    expect(toDicomJson({ PatientName: [{ Alphabetic: '', Ideographic: '\x1b$B$', Phonetic: '\x1b(B' }] })[Tag.PatientName]!.Value).toEqual([
      { Ideographic: 'そ' },
    ]);
    expect(json[Tag.StudyDescription]!.Value).toEqual(['ぼ']);
    expect(findQueryOf(json, 'STUDY').parameters.matchKeys).toContainEqual({ tag: Tag.PatientName, value: 'Yamada^Tarou=山田*' });
  });

  it('decodes the values of sequence items of an ISO 2022 Identifier too', () => {
    const json = toDicomJson({
      SpecificCharacterSet: ['', 'ISO 2022 IR 87'],
      QueryRetrieveLevel: 'STUDY',
      RequestAttributesSequence: [{ RequestedProcedureDescription: ['\x1b$B$', '\x1b(B'], RequestedProcedureID: 'RP1' }],
    });
    const item = json['00400275']!.Value![0] as DicomJson;
    expect(item['00321060']!.Value).toEqual(['ぼ']);
    expect(item['00401001']!.Value).toEqual(['RP1']);
  });

  it('decodes Identifiers as the library parses them from the bytes, ISO 2022 IR 13 and IR 87 (PS3.5 H.3.2)', () => {
    const element = (tag: number, value: Buffer) => {
      const header = Buffer.alloc(8);
      header.writeUInt16LE(tag >>> 16, 0);
      header.writeUInt16LE(tag & 0xffff, 2);
      header.writeUInt32LE(value.length + (value.length % 2), 4);
      return Buffer.concat([header, value, Buffer.alloc(value.length % 2, 0x20)]);
    };
    const name = encoded({ hex: 'd4 cf c0 de' }, '^', { hex: 'c0 db b3' }, '=', { hex: '1b 24 42 3b 33 45 44 1b 28 4a' }, '^', {
      hex: '1b 24 42 42 40 4f 3a 1b 28 4a',
    });
    const bytes = Buffer.concat([
      element(0x00080005, Buffer.from('ISO 2022 IR 13\\ISO 2022 IR 87')),
      element(0x00080052, Buffer.from('STUDY')),
      element(0x00100010, Buffer.from(name)),
    ]);
    const json = toDicomJson(new Dataset(bytes, '1.2.840.10008.1.2').getElements());
    expect(json[Tag.PatientName]!.Value).toEqual([{ Alphabetic: 'ﾔﾏﾀﾞ^ﾀﾛｳ', Ideographic: '山田^太郎' }]);
  });

  it('reads date and time keys of the pre-V3.0 form (YYYY.MM.DD, HH:MM:SS, PS3.5 6.2), ranges too', () => {
    const q = findQueryOf(
      id('STUDY', {
        [Tag.StudyDate]: { vr: 'DA', Value: ['2024.01.01-2024.01.31'] },
        [Tag.StudyTime]: { vr: 'TM', Value: ['08:00-12:30:00'] },
      }),
      'STUDY',
    );
    expect(q.parameters.matchKeys).toEqual(
      expect.arrayContaining([
        { tag: Tag.StudyDate, value: '20240101-20240131' },
        { tag: Tag.StudyTime, value: '0800-123000' },
      ]),
    );
  });

  it('reads identifiers as dcmjs-dimse gives them (naturalized)', () => {
    const json = toDicomJson({ QueryRetrieveLevel: 'STUDY', PatientName: [{ Alphabetic: 'A^B' }], StudyInstanceUID: '' });
    expect(findQueryOf(json, 'STUDY').parameters.matchKeys).toEqual([{ tag: Tag.PatientName, value: 'A^B' }]);
  });
});

describe('C-MOVE Identifier (PS3.4 C.4.2.2.1)', () => {
  it('selects by the Unique Keys of the level and those above', () => {
    const q = moveQueryOf(
      id('SERIES', { [Tag.StudyInstanceUID]: { vr: 'UI', Value: ['1.2'] }, [Tag.SeriesInstanceUID]: { vr: 'UI', Value: ['1.3\\1.4'] } }),
      'STUDY',
    );
    expect(q.level).toBe('SERIES');
    expect(q.parameters.matchKeys).toEqual([
      { tag: Tag.StudyInstanceUID, value: '1.2' },
      { tag: Tag.SeriesInstanceUID, value: '1.3,1.4' },
    ]);
  });

  it('answers A900 without the Unique Key of the level or with an invalid UID', () => {
    expect(statusOf(() => moveQueryOf(id('SERIES', { [Tag.StudyInstanceUID]: { vr: 'UI', Value: ['1.2'] } }), 'STUDY'))).toBe(0xa900);
    expect(statusOf(() => moveQueryOf(id('STUDY', { [Tag.StudyInstanceUID]: { vr: 'UI', Value: ['1.2.x'] } }), 'STUDY'))).toBe(0xa900);
    expect(statusOf(() => moveQueryOf(id('PATIENT', { [Tag.PatientID]: { vr: 'LO', Value: ['P'] } }), 'STUDY'))).toBe(0xa900);
  });
});

describe('C-FIND responses (PS3.4 C.4.1.1.3.2)', () => {
  it('carry exactly the keys asked for, empty when absent, with the level and the Retrieve AE Title', () => {
    const match: DicomJson = { [Tag.PatientName]: pn('A^B'), [Tag.StudyDate]: { vr: 'DA', Value: ['20200101'] } };
    const out = responseIdentifier(
      match,
      { queryLevel: 'STUDY', returnTags: [Tag.PatientName, Tag.AccessionNumber, QRTag.RetrieveAETitle] },
      'ARCHIVE',
    );
    expect(out).toEqual({
      [QRTag.QueryRetrieveLevel]: { vr: 'CS', Value: ['STUDY'] },
      [Tag.PatientName]: pn('A^B'),
      [Tag.AccessionNumber]: { vr: 'SH' },
      [QRTag.RetrieveAETitle]: { vr: 'AE', Value: ['ARCHIVE'] },
    });
  });

  it('declare ISO_IR 192 when a value is not ASCII (the library writes UTF-8), also for a match stored without a character set', () => {
    const returnTags = [Tag.PatientName];
    const ask = (match: DicomJson) => responseIdentifier(match, { queryLevel: 'STUDY', returnTags }, 'ARCHIVE')[Tag.SpecificCharacterSet];
    expect(ask({ [Tag.PatientName]: pn('Müller^Hans') })).toEqual({ vr: 'CS', Value: ['ISO_IR 192'] });
    expect(ask({ [Tag.PatientName]: pn('Muller^Hans') })).toBeUndefined();
    expect(ask({ [Tag.PatientName]: pn('Muller^Hans'), [Tag.SpecificCharacterSet]: { vr: 'CS', Value: ['ISO_IR 192'] } })).toEqual({
      vr: 'CS',
      Value: ['ISO_IR 192'],
    });
  });

  it('PATIENT level: one match per Patient ID with the number of its studies', () => {
    const study = (patientId: string): DicomJson => ({
      [Tag.PatientID]: { vr: 'LO', Value: [patientId] },
      [Tag.PatientName]: pn(patientId),
    });
    const patients = patientsOf([study('P1'), study('P2'), study('P1')]);
    expect(patients.map((p) => [p[Tag.PatientID]?.Value?.[0], p[QRTag.NumberOfPatientRelatedStudies]?.Value?.[0]])).toEqual([
      ['P1', 2],
      ['P2', 1],
    ]);
  });
});
