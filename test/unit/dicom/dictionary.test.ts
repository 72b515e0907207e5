import { describe, expect, it } from 'vitest';
import { keywordOf, tagOf, vrOf, vrsOf } from '../../../lambdas/dicom/dictionary';
import { Tag } from '../../../lambdas/dicom/tags';

describe('tagOf', () => {
  it('maps a keyword to its tag', () => {
    expect(tagOf('PatientName')).toBe('00100010');
    expect(tagOf('StudyInstanceUID')).toBe('0020000D');
    expect(tagOf('PixelData')).toBe('7FE00010');
  });
  it('normalises hexadecimal tags to 8 upper-case digits', () => {
    expect(tagOf('00100010')).toBe('00100010');
    expect(tagOf('0020000d')).toBe('0020000D');
    expect(tagOf('(0020,000d)')).toBe('0020000D');
  });
  it('answers undefined for unknown keywords and malformed tags', () => {
    expect(tagOf('NoSuchKeyword')).toBeUndefined();
    expect(tagOf('patientname')).toBeUndefined();
    expect(tagOf('0010001')).toBeUndefined();
    expect(tagOf('001000100')).toBeUndefined();
    expect(tagOf('0010001G')).toBeUndefined();
    expect(tagOf('')).toBeUndefined();
    expect(tagOf('constructor')).toBeUndefined();
    expect(tagOf('toString')).toBeUndefined();
  });
  it('finds retired attributes by their PS3.6 keyword', () => {
    expect(tagOf('RETIRED_Copies')).toBe('00005170');
  });
});

describe('keywordOf and vrOf', () => {
  it('look a tag up in the dictionary', () => {
    expect(keywordOf('00100010')).toBe('PatientName');
    expect(keywordOf('0008103e')).toBe('SeriesDescription');
    expect(vrOf('00100010')).toBe('PN');
    expect(vrOf('00081199')).toBe('SQ');
    expect(vrOf('00201208')).toBe('IS');
  });
  it('give the first VR of a multi-VR entry', () => {
    expect(vrOf(Tag.PixelData)).toBe('OB'); // OB or OW
    expect(vrOf('00280106')).toBe('US'); // SmallestImagePixelValue: US or SS
  });
  it('list every VR of a multi-VR entry', () => {
    expect(vrsOf('00280106')).toEqual(['US', 'SS']);
    expect(vrsOf(Tag.PixelData)).toEqual(['OB', 'OW']);
    expect(vrsOf(Tag.PatientName)).toEqual(['PN']);
    expect(vrsOf('00111010')).toEqual([]);
  });
  it('know repeating groups', () => {
    expect(keywordOf('60023000')).toBe('OverlayData');
    expect(vrOf('60003000')).toBe('OB');
  });
  it('answer undefined for unknown or malformed tags', () => {
    expect(keywordOf('00111010')).toBeUndefined(); // private
    expect(vrOf('00111010')).toBeUndefined();
    expect(keywordOf('PatientName')).toBeUndefined();
    expect(vrOf('xyz')).toBeUndefined();
  });
});
