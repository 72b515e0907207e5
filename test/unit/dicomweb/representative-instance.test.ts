import { describe, expect, it } from 'vitest';
import { Tag } from '../../../lambdas/dicom/tags';
import { representativeOfSeries, representativeOfStudy } from '../../../lambdas/dicomweb/representative-instance';
import type { IndexEntry } from '../../../lambdas/storage/ports';

function entry(series: string, sop: string, seriesNumber: number | undefined, instanceNumber: number | undefined, frames = 1): IndexEntry {
  return {
    level: 'INSTANCE',
    studyInstanceUID: '1.2',
    seriesInstanceUID: series,
    sopInstanceUID: sop,
    studyDate: '',
    patientId: '',
    attributes: {
      ...(seriesNumber !== undefined && { [Tag.SeriesNumber]: { vr: 'IS', Value: [seriesNumber] } }),
      ...(instanceNumber !== undefined && { [Tag.InstanceNumber]: { vr: 'IS', Value: [instanceNumber] } }),
    },
    instance: {
      sopClassUID: '1.2.840.10008.5.1.4.1.1.2',
      transferSyntaxUID: '1.2.840.10008.1.2.1',
      objectKey: `${sop}.dcm`,
      metadataKey: `${sop}.json`,
      size: 1,
      digest: '',
      numberOfFrames: frames,
    },
  };
}

describe('representative instance of a thumbnail (PS3.18 10.4.1.1.4)', () => {
  it('of a series: the middle image in Instance Number order, the lower middle of an even count', () => {
    const five = [5, 1, 4, 2, 3].map((n) => entry('1.1', `1.1.${n}`, 1, n));
    expect(representativeOfSeries(five)?.sopInstanceUID).toBe('1.1.3');
    expect(representativeOfSeries(five.slice(0, 4))?.sopInstanceUID).toBe('1.1.2');
    // Without Instance Number: after the numbered ones, by UID.
    expect(
      representativeOfSeries([entry('1.1', '1.1.9', 1, undefined), entry('1.1', '1.1.8', 1, undefined), entry('1.1', '1.1.7', 1, 1)])
        ?.sopInstanceUID,
    ).toBe('1.1.8');
  });

  it('counts images only: an instance without Pixel Data is never chosen', () => {
    expect(representativeOfSeries([entry('1.1', '1.1.1', 1, 1, 0)])).toBeUndefined();
    expect(representativeOfSeries([entry('1.1', '1.1.1', 1, 1, 0), entry('1.1', '1.1.2', 1, 2)])?.sopInstanceUID).toBe('1.1.2');
  });

  it('of a study: that of its first series in Series Number order holding images', () => {
    const study = [
      entry('1.3', '1.3.1', 3, 1),
      entry('1.2', '1.2.1', 2, 1),
      entry('1.2', '1.2.2', 2, 2),
      entry('1.2', '1.2.3', 2, 3),
      // Series 1 is a report: no image.
      entry('1.1', '1.1.1', 1, 1, 0),
    ];
    expect(representativeOfStudy(study)?.sopInstanceUID).toBe('1.2.2');
    expect(representativeOfStudy([entry('1.9', '1.9.1', undefined, 1), entry('1.8', '1.8.1', 7, 1)])?.sopInstanceUID).toBe('1.8.1');
    expect(representativeOfStudy([])).toBeUndefined();
  });
});
