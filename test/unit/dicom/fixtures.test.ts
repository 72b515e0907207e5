import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { extractFrames, numberOfFrames } from '../../../lambdas/dicom/frames/instance';
import { readPart10, toExplicitVRLittleEndian } from '../../../lambdas/dicom/part10';
import { Tag } from '../../../lambdas/dicom/tags';
import { fakeJpegFrame, makeInstance, pixelFrame } from '../../support/dicom-factory';
import { FIXTURES, FIXTURES_DIR } from '../../support/fixtures';

describe.each(Object.entries(FIXTURES))('fixture %s', (name, options) => {
  const bytes = readFileSync(`${FIXTURES_DIR}${name}`);

  it('is a few KB', () => {
    expect(bytes.length).toBeGreaterThan(1000);
    expect(bytes.length).toBeLessThan(8 * 1024);
  });

  it('reads with its documented UIDs and transfer syntax', () => {
    const instance = readPart10(bytes);
    expect(instance).toMatchObject({
      transferSyntaxUID: options.transferSyntaxUID,
      studyInstanceUID: options.studyInstanceUID,
      seriesInstanceUID: options.seriesInstanceUID,
      sopInstanceUID: options.sopInstanceUID,
      sopClassUID: options.sopClassUID,
      mediaStorageSOPInstanceUID: options.sopInstanceUID,
    });
    expect(instance.dict[Tag.PatientName]?.Value).toEqual([{ Alphabetic: options.patientName }]);
  });

  it('holds the factory pixel values in every frame', () => {
    const instance = readPart10(bytes);
    const count = options.numberOfFrames ?? 1;
    expect(numberOfFrames(instance)).toBe(count);
    const frameLength = options.rows! * options.columns! * ((options.bitsAllocated ?? 8) / 8);
    const expected = Array.from({ length: count }, (_, i) =>
      options.transferSyntaxUID === '1.2.840.10008.1.2.4.50' ? fakeJpegFrame(i + 1, frameLength) : pixelFrame(i + 1, frameLength),
    );
    expect(
      extractFrames(
        instance,
        expected.map((_, i) => i + 1),
      ).frames,
    ).toEqual(expected);
  });

  it('is what the factory still generates (golden file)', () => {
    expect(Buffer.from(makeInstance(options)).equals(bytes)).toBe(true);
  });
});

describe('fixture mr-implicit-le.dcm', () => {
  it('converts to Explicit VR Little Endian with the same pixel data', () => {
    const bytes = readFileSync(`${FIXTURES_DIR}mr-implicit-le.dcm`);
    const explicit = readPart10(toExplicitVRLittleEndian(bytes));
    expect(explicit.transferSyntaxUID).toBe('1.2.840.10008.1.2.1');
    expect(extractFrames(explicit, [1]).frames).toEqual(extractFrames(readPart10(bytes), [1]).frames);
  });
});
