/**
 * headerRenderAttributes: the render attributes read from a header scan equal readPart10's for every
 * fixture it reads, and the images it must leave to readPart10 (sequences, palettes, big endian,
 * deflated, unexpected VRs) are left.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataSet } from '../../../../lambdas/dicom/data-set';
import { BulkDataValue, readPart10, scanPart10Header } from '../../../../lambdas/dicom/part10';
import { newPart10 } from '../../../../lambdas/dicom/part10-write';
import { numbers } from '../../../../lambdas/dicom/render/attributes';
import { headerRenderAttributes } from '../../../../lambdas/dicom/render/header-data-set';
import { PIXEL_DATA_SCAN_STOP } from '../../../../lambdas/dicom/frames/header-scan';
import { Tag as Tags } from '../../../../lambdas/dicom/tags';
import { SopClass, TransferSyntax } from '../../../../lambdas/dicom/uid';
import { pixelBytes, smallImage } from '../../../support/small-image';

const DIR = join(import.meta.dirname, '../../../fixtures/render');
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.dcm'));
const read = (name: string) => new Uint8Array(readFileSync(join(DIR, name)));
const attributesOf = (bytes: Uint8Array) => {
  const header = scanPart10Header(bytes, PIXEL_DATA_SCAN_STOP);
  return header && headerRenderAttributes(header, bytes);
};

const NUMERIC = [
  Tags.SamplesPerPixel,
  Tags.Rows,
  Tags.Columns,
  Tags.BitsAllocated,
  Tags.BitsStored,
  Tags.HighBit,
  Tags.PixelRepresentation,
];
const NUMERIC_MORE = [
  Tags.PlanarConfiguration,
  Tags.NumberOfFrames,
  Tags.WindowCenter,
  Tags.WindowWidth,
  Tags.RescaleIntercept,
  Tags.RescaleSlope,
];
const CODES = [Tags.PhotometricInterpretation, Tags.VOILUTFunction, Tags.PresentationLUTShape];

describe('headerRenderAttributes on the rendering fixtures', () => {
  // What must go to readPart10: LUT and functional group sequences, palettes, big endian, deflated.
  const DECLINED = new Set([
    'enhanced-ct.dcm',
    'enhanced-ct-rle.dcm',
    'enhanced-ct-jpeg-ls.dcm',
    'palette.dcm',
    'modality-lut.dcm',
    'voi-lut.dcm',
  ]);
  const UNSCANNED = new Set(['ct-big-endian.dcm', 'rgb-big-endian.dcm', 'ct-deflated.dcm']);

  it.each(FILES)('%s: the values readPart10 reads, or left to it', (name) => {
    const bytes = read(name);
    const attributes = attributesOf(bytes);
    if (DECLINED.has(name) || UNSCANNED.has(name)) {
      expect(attributes).toBeUndefined();
      return;
    }
    expect(attributes).toBeDefined();
    const parsed = readPart10(bytes, { bulkDataAbove: 0 });
    expect(attributes!.transferSyntaxUID).toBe(parsed.transferSyntaxUID);
    for (const tag of [...NUMERIC, ...NUMERIC_MORE]) expect(numbers(attributes!.dict, tag), tag).toEqual(numbers(parsed.dict, tag));
    for (const tag of CODES) expect(attributes!.dict[tag]?.Value ?? [], tag).toEqual(parsed.dict[tag]?.Value ?? []);
    const pixels = attributes!.dict[Tags.PixelData]!.Value![0] as BulkDataValue;
    const unread = parsed.dict[Tags.PixelData]!.Value![0] as BulkDataValue;
    expect([pixels.offset, pixels.length]).toEqual([unread.offset, unread.length]);
  });
});

describe('headerRenderAttributes on crafted headers', () => {
  const image = (attributes: Record<string, unknown>, ts?: string) => smallImage(attributes, pixelBytes(1, 2, 3, 4), ts);

  it('splits multi-valued windows and trims their padding', () => {
    const attributes = attributesOf(image({ WindowCenter: ['40', '-600'], WindowWidth: ['400', '1500'] }));
    expect(numbers(attributes!.dict, Tags.WindowCenter)).toEqual([40, -600]);
    expect(numbers(attributes!.dict, Tags.WindowWidth)).toEqual([400, 1500]);
  });
  it('reads Implicit VR Little Endian by the dictionary VRs', () => {
    const bytes = image({ RescaleSlope: '2', RescaleIntercept: '-1024' }, TransferSyntax.ImplicitVRLittleEndian);
    const attributes = attributesOf(bytes);
    expect(numbers(attributes!.dict, Tags.Rows)).toEqual([2]);
    expect(numbers(attributes!.dict, Tags.RescaleIntercept)).toEqual([-1024]);
  });
  it('leaves an attribute of another VR than the dictionary one (UN) to readPart10', () => {
    const bytes = newPart10(
      {
        ...dataSet({ SOPClassUID: SopClass.SecondaryCaptureImageStorage, SOPInstanceUID: '2.25.1', Rows: 2, Columns: 2, BitsAllocated: 8 }),
        '00281050': { vr: 'UN', Value: [Uint8Array.from(Buffer.from('40')).buffer] },
        '7FE00010': { vr: 'OB', Value: [Uint8Array.of(1, 2, 3, 4).buffer] },
      },
      TransferSyntax.ExplicitVRLittleEndian,
    );
    expect(attributesOf(bytes)).toBeUndefined();
  });
  it('leaves an image without Pixel Data, or with an empty one, to readPart10', () => {
    const none = newPart10(
      dataSet({ SOPClassUID: SopClass.SecondaryCaptureImageStorage, SOPInstanceUID: '2.25.1', Rows: 2 }),
      TransferSyntax.ExplicitVRLittleEndian,
    );
    expect(attributesOf(none)).toBeUndefined();
  });
});
