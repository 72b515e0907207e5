/**
 * The attributes the pixel pipeline reads (PS3.3 C.7.6.3 Image Pixel, C.11 LUTs, C.7.6.16 Multi-frame
 * Functional Groups), by keyword, and how to read them for one frame: a functional group macro of the
 * frame's Per-Frame item, else of the Shared item, else the top-level attribute (PS3.3 C.7.6.16.2).
 */
import type { DataSet } from '../data-set';

export const RenderTag = {
  SamplesPerPixel: '00280002',
  PhotometricInterpretation: '00280004',
  PlanarConfiguration: '00280006',
  NumberOfFrames: '00280008',
  Rows: '00280010',
  Columns: '00280011',
  BitsAllocated: '00280100',
  BitsStored: '00280101',
  HighBit: '00280102',
  PixelRepresentation: '00280103',
  WindowCenter: '00281050',
  WindowWidth: '00281051',
  RescaleIntercept: '00281052',
  RescaleSlope: '00281053',
  VOILUTFunction: '00281056',
  RedPaletteColorLookupTableDescriptor: '00281101',
  GreenPaletteColorLookupTableDescriptor: '00281102',
  BluePaletteColorLookupTableDescriptor: '00281103',
  RedPaletteColorLookupTableData: '00281201',
  GreenPaletteColorLookupTableData: '00281202',
  BluePaletteColorLookupTableData: '00281203',
  SegmentedRedPaletteColorLookupTableData: '00281221',
  SegmentedGreenPaletteColorLookupTableData: '00281222',
  SegmentedBluePaletteColorLookupTableData: '00281223',
  ModalityLUTSequence: '00283000',
  LUTDescriptor: '00283002',
  LUTData: '00283006',
  VOILUTSequence: '00283010',
  FrameVOILUTSequence: '00289132',
  PixelValueTransformationSequence: '00289145',
  PresentationLUTShape: '20500020',
  SharedFunctionalGroupsSequence: '52009229',
  PerFrameFunctionalGroupsSequence: '52009230',
} as const;

/** The values of an element as numbers (DS and IS arrive as strings or numbers); [] when absent. */
export function numbers(set: DataSet | undefined, tag: string): number[] {
  const values = set?.[tag]?.Value ?? [];
  return values.map((v) => (typeof v === 'string' ? Number.parseFloat(v) : Number(v))).filter((n) => Number.isFinite(n));
}

/** The first value of an element as a number; undefined when absent or not a number. */
export function firstNumber(set: DataSet | undefined, tag: string): number | undefined {
  return numbers(set, tag)[0];
}

/** The first value of a string element, trimmed and upper case; '' when absent. */
export function firstCode(set: DataSet | undefined, tag: string): string {
  const value = set?.[tag]?.Value?.[0];
  return typeof value === 'string' ? value.trim().toUpperCase() : '';
}

/** The items of a sequence element; [] when absent. */
export function items(set: DataSet | undefined, tag: string): DataSet[] {
  return (set?.[tag]?.Value ?? []).filter((v): v is DataSet => typeof v === 'object' && v !== null && !(v instanceof ArrayBuffer));
}

/**
 * The data set that holds the attributes of functional group `macro` (a sequence tag, e.g. Pixel Value
 * Transformation) for frame `frameIndex` (0-based): the macro's item of the frame's Per-Frame group,
 * else of the Shared group, else the top-level data set, where a non-enhanced image keeps them.
 */
export function frameMacro(dict: DataSet, macro: string, frameIndex: number): DataSet {
  const perFrame = items(dict, RenderTag.PerFrameFunctionalGroupsSequence)[frameIndex];
  const shared = items(dict, RenderTag.SharedFunctionalGroupsSequence)[0];
  return items(perFrame, macro)[0] ?? items(shared, macro)[0] ?? dict;
}

/** The 16-bit words of LUT Data: an OW value (ArrayBuffers, little endian) or US/SS values; undefined when absent. */
export function lutWords(set: DataSet | undefined, tag: string): Uint16Array | undefined {
  const values = set?.[tag]?.Value;
  if (!values || values.length === 0) return undefined;
  if (values[0] instanceof ArrayBuffer) {
    const buffers = values.filter((v): v is ArrayBuffer => v instanceof ArrayBuffer);
    const total = buffers.reduce((n, b) => n + b.byteLength, 0);
    const bytes = new Uint8Array(total + (total % 2));
    let at = 0;
    for (const b of buffers) {
      bytes.set(new Uint8Array(b), at);
      at += b.byteLength;
    }
    const words = new Uint16Array(bytes.length / 2);
    for (let i = 0; i < words.length; i++) words[i] = bytes[2 * i]! | (bytes[2 * i + 1]! << 8);
    return words;
  }
  return Uint16Array.from(values.map((v) => Number(v) & 0xffff));
}
