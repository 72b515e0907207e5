import { describe, expect, it } from 'vitest';
import { Part10Error, readPart10 } from '../../../lambdas/dicom/part10';
import { dataSetOf, IMPLEMENTATION_CLASS_UID, part10File } from '../../../lambdas/dimse/part10-file';
import { makeInstance } from '../../support/dicom-factory';

describe('Part 10 file from a C-STORE data set (PS3.10 7.1)', () => {
  it('wraps the data set bytes unchanged and describes them in the File Meta Information', () => {
    const original = makeInstance({ transferSyntaxUID: '1.2.840.10008.1.2' });
    const parsed = readPart10(original);
    const dataSet = dataSetOf(original);
    const file = part10File(
      {
        mediaStorageSOPClassUID: parsed.sopClassUID,
        mediaStorageSOPInstanceUID: parsed.sopInstanceUID,
        transferSyntaxUID: '1.2.840.10008.1.2',
        sourceAETitle: 'MODALITY',
      },
      dataSet,
    );
    expect(Buffer.from(dataSetOf(file)).equals(Buffer.from(dataSet))).toBe(true);
    const reread = readPart10(file);
    expect(reread.transferSyntaxUID).toBe('1.2.840.10008.1.2');
    expect(reread.sopInstanceUID).toBe(parsed.sopInstanceUID);
    expect(reread.mediaStorageSOPInstanceUID).toBe(parsed.sopInstanceUID);
    expect(reread.meta['00020012']?.Value?.[0]).toBe(IMPLEMENTATION_CLASS_UID);
    expect(String(reread.meta['00020016']?.Value?.[0]).trim()).toBe('MODALITY');
  });

  it('builds the same file from the data set as the fragments it arrived in', () => {
    const original = makeInstance();
    const dataSet = dataSetOf(original);
    const meta = { mediaStorageSOPClassUID: '1.2.3', mediaStorageSOPInstanceUID: '1.2.3.4', transferSyntaxUID: '1.2.840.10008.1.2.1' };
    const fragments = [dataSet.subarray(0, 7), dataSet.subarray(7, 100), dataSet.subarray(100, 100), dataSet.subarray(100)];
    expect(Buffer.from(part10File(meta, fragments)).equals(Buffer.from(part10File(meta, dataSet)))).toBe(true);
  });

  it('refuses bytes that are not a Part 10 file', () => {
    expect(() => dataSetOf(new Uint8Array(200))).toThrow(Part10Error);
  });
});
