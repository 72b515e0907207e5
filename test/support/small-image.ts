/**
 * A small Part 10 image for the renderer's tests: a 2 x 2 8-bit MONOCHROME2 Secondary Capture whose
 * attributes a test overrides (undefined removes one), with the Pixel Data element given (none when
 * undefined), in the transfer syntax given.
 */
import { dataSet } from '../../lambdas/dicom/data-set';
import { newPart10 } from '../../lambdas/dicom/part10-write';
import { SopClass, TransferSyntax } from '../../lambdas/dicom/uid';

export function smallImage(
  attributes: Record<string, unknown>,
  pixelData: { vr: string; Value: unknown[] } | undefined,
  ts: string = TransferSyntax.ExplicitVRLittleEndian,
): Uint8Array {
  const dict = dataSet({
    SOPClassUID: SopClass.SecondaryCaptureImageStorage,
    SOPInstanceUID: '2.25.1',
    StudyInstanceUID: '2.25.2',
    SeriesInstanceUID: '2.25.3',
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: 2,
    Columns: 2,
    BitsAllocated: 8,
    BitsStored: 8,
    HighBit: 7,
    PixelRepresentation: 0,
    ...attributes,
  });
  return newPart10(pixelData ? { ...dict, '7FE00010': pixelData } : dict, ts);
}

/** Pixel Data of these byte values, OB. */
export const pixelBytes = (...values: number[]) => ({ vr: 'OB', Value: [Uint8Array.from(values).buffer] });
