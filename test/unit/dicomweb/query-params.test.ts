import { describe, expect, it } from 'vitest';
import { Tag } from '../../../lambdas/dicom/tags';
import { BadRequestError } from '../../../lambdas/dicomweb/errors';
import { parseSearchParameters } from '../../../lambdas/dicomweb/query-params';
import type { Level } from '../../../lambdas/storage/ports';

const q = (entries: Record<string, string | string[]>) => new Map(Object.entries(entries).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));

/** The details of the BadRequestError the query raises. */
function problems(entries: Record<string, string | string[]>, level: Level = 'STUDY') {
  try {
    parseSearchParameters(q(entries), level);
  } catch (e) {
    expect(e).toBeInstanceOf(BadRequestError);
    return (e as BadRequestError).details;
  }
  throw new Error('expected a BadRequestError');
}

describe('parseSearchParameters', () => {
  it('reads matching keys by keyword and by tag, and the paging parameters', () => {
    const p = parseSearchParameters(
      q({ PatientName: 'Doe*', '00100020': 'P1', StudyDate: '20200101-', limit: '10', offset: '5', fuzzymatching: 'true' }),
      'STUDY',
    );
    expect(p.matchKeys).toEqual([
      { tag: Tag.PatientName, value: 'Doe*' },
      { tag: Tag.PatientID, value: 'P1' },
      { tag: Tag.StudyDate, value: '20200101-' },
    ]);
    expect(p).toMatchObject({ limit: 10, offset: 5, fuzzymatching: true, includeFields: [] });
  });

  it('has defaults: no limit, offset 0, no fuzzy matching', () => {
    expect(parseSearchParameters(q({}), 'STUDY')).toEqual({
      matchKeys: [],
      includeFields: [],
      fuzzymatching: false,
      limit: undefined,
      offset: 0,
    });
  });

  it('reads sequence paths by keyword or tag', () => {
    const p = parseSearchParameters(q({ 'RequestAttributesSequence.ScheduledProcedureStepID': 'S1', '00400275.00401001': 'R1' }), 'SERIES');
    expect(p.matchKeys).toEqual([
      { tag: `${Tag.RequestAttributesSequence}.${Tag.ScheduledProcedureStepID}`, value: 'S1' },
      { tag: `${Tag.RequestAttributesSequence}.${Tag.RequestedProcedureID}`, value: 'R1' },
    ]);
  });

  it('accepts a comma-separated UID list and universal (empty) keys', () => {
    const p = parseSearchParameters(q({ StudyInstanceUID: '1.2.3,1.2.4', AccessionNumber: '' }), 'STUDY');
    expect(p.matchKeys).toEqual([
      { tag: Tag.StudyInstanceUID, value: '1.2.3,1.2.4' },
      { tag: Tag.AccessionNumber, value: '' },
    ]);
  });

  it('reads includefield by keyword, tag, repeated and comma-separated, and all', () => {
    const p = parseSearchParameters(q({ includefield: ['StudyDescription,00081030', '0020000E'] }), 'SERIES');
    expect(p.includeFields).toEqual([Tag.StudyDescription, Tag.SeriesInstanceUID]);
    expect(parseSearchParameters(q({ includefield: ['PatientSex', 'all'] }), 'STUDY').includeFields).toBe('all');
  });

  it('skips includefield when asked to (SEND-RS) and ignores negotiation parameters', () => {
    const p = parseSearchParameters(q({ includefield: 'NoSuchKeyword', accept: 'application/dicom+json' }), 'STUDY', {
      ignoreIncludefield: true,
    });
    expect(p.includeFields).toEqual([]);
    expect(p.matchKeys).toEqual([]);
  });

  it('allows study keys on series and instance searches, not instance keys on study searches', () => {
    expect(parseSearchParameters(q({ PatientID: 'P1', SOPClassUID: '1.2' }), 'INSTANCE').matchKeys).toHaveLength(2);
    expect(problems({ SOPClassUID: '1.2' }, 'STUDY')).toEqual([
      { target: 'SOPClassUID', message: expect.stringContaining('not a supported matching key of a study search') },
    ]);
    expect(problems({ ModalitiesInStudy: 'CT' }, 'SERIES')).toHaveLength(1);
    expect(parseSearchParameters(q({ ModalitiesInStudy: 'CT' }), 'STUDY').matchKeys).toHaveLength(1);
  });

  it.each([
    [{ foo: 'x' }, 'foo', 'neither a search parameter'],
    [{ NoSuchKeyword: 'x' }, 'NoSuchKeyword', 'neither a search parameter'],
    [{ 'RequestAttributesSequence.Bogus': 'x' }, 'RequestAttributesSequence.Bogus', 'neither a search parameter'],
    [{ 'RequestAttributesSequence.PatientID': 'x' }, 'RequestAttributesSequence.PatientID', 'not a supported matching key'],
    [{ StudyInstanceUID: '1.2.x' }, 'StudyInstanceUID', 'not a valid UID'],
    [{ StudyInstanceUID: '1.2.3,,1.2.4' }, 'StudyInstanceUID', 'not a valid UID'],
    [{ StudyInstanceUID: '1.2.*' }, 'StudyInstanceUID', 'not a valid UID'],
    [{ StudyDate: '2020-01-01' }, 'StudyDate', 'not a DA value or range'],
    [{ StudyDate: '20201301' }, 'StudyDate', 'not a valid date'],
    [{ StudyDate: '20201231-20200101' }, 'StudyDate', 'empty range'],
    [{ StudyDate: '2020*' }, 'StudyDate', 'not a DA value or range'],
    [{ StudyTime: '10:00' }, 'StudyTime', 'not a TM value or range'],
    [{ StudyTime: '-' }, 'StudyTime', 'not a TM value or range'],
    [{ SeriesNumber: 'many' }, 'SeriesNumber', 'not an integer'],
    [{ RequestAttributesSequence: 'x' }, 'RequestAttributesSequence', 'sequence'],
    [{ limit: '-1' }, 'limit', 'non-negative integer'],
    [{ limit: '1.5' }, 'limit', 'non-negative integer'],
    [{ offset: 'ten' }, 'offset', 'non-negative integer'],
    [{ fuzzymatching: 'yes' }, 'fuzzymatching', 'true or false'],
    [{ PatientID: ['A', 'B'] }, 'PatientID', 'given 2 times'],
    [{ limit: ['1', '2'] }, 'limit', 'given 2 times'],
    [{ includefield: 'NotAnAttribute' }, 'includefield', 'not a DICOM attribute'],
  ])('rejects %o', (entries, target, message) => {
    expect(problems(entries as Record<string, string | string[]>, 'SERIES')).toEqual([
      { target, message: expect.stringContaining(message) },
    ]);
  });

  it('rejects a key given by keyword and by tag', () => {
    expect(problems({ PatientID: 'A', '00100020': 'B' })).toEqual([
      { target: '00100020', message: expect.stringContaining('more than once') },
    ]);
  });

  it('lists every problem at once', () => {
    const details = problems({ foo: '1', StudyDate: 'yesterday', limit: 'x', fuzzymatching: '1' });
    expect(details.map((d) => d.target)).toEqual(['foo', 'StudyDate', 'limit', 'fuzzymatching']);
  });
});
