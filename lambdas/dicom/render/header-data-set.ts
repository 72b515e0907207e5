/**
 * The attributes the pixel pipeline reads, decoded from a header scan (part10-scan.ts) without dcmjs,
 * for the common image: the Image Pixel module's (PS3.3 C.7.6.3), Rescale Slope/Intercept (C.11.1),
 * the window and VOI LUT Function (C.11.2), Presentation LUT Shape (C.11.6), Number of Frames. An image
 * with a LUT or functional group sequence, a palette, float pixel data, or a value not encoded as this
 * reader expects is left to readPart10 (undefined). Read with dcmjs, a 512 x 512 CT's header was
 * 0.6 ms of the 2.4 ms its rendering took on the event loop.
 */
import type { DataSet } from '../data-set';
import { BulkDataValue, ElementWalker, transferSyntaxEncoding, UNDEFINED_LENGTH, type Part10Header } from '../part10-scan';
import { Tag, tagNumber } from '../tags';

/** What rendering reads of an instance: its transfer syntax and its attributes (a readPart10 dict). */
export interface RenderAttributes {
  readonly transferSyntaxUID: string;
  readonly dict: DataSet;
}

/** Attributes read as dcmjs reads them: US as numbers, the text VRs as trimmed strings, one per value. */
const READ: ReadonlyMap<number, 'US' | 'IS' | 'DS' | 'CS'> = new Map([
  ...[Tag.SamplesPerPixel, Tag.Rows, Tag.Columns, Tag.BitsAllocated, Tag.BitsStored, Tag.HighBit, Tag.PixelRepresentation].map(
    (t) => [tagNumber(t), 'US'] as const,
  ),
  [tagNumber(Tag.PlanarConfiguration), 'US'],
  [tagNumber(Tag.NumberOfFrames), 'IS'],
  [tagNumber(Tag.PhotometricInterpretation), 'CS'],
  [tagNumber(Tag.WindowCenter), 'DS'],
  [tagNumber(Tag.WindowWidth), 'DS'],
  [tagNumber(Tag.RescaleIntercept), 'DS'],
  [tagNumber(Tag.RescaleSlope), 'DS'],
  [tagNumber(Tag.VOILUTFunction), 'CS'],
  [tagNumber(Tag.PresentationLUTShape), 'CS'],
]);

/** Attributes whose presence sends the image to readPart10: sequences, and the palette's LUTs. */
const DECLINED: readonly number[] = [
  Tag.ModalityLUTSequence,
  Tag.VOILUTSequence,
  Tag.SharedFunctionalGroupsSequence,
  Tag.PerFrameFunctionalGroupsSequence,
  Tag.RedPaletteColorLookupTableDescriptor,
  Tag.GreenPaletteColorLookupTableDescriptor,
  Tag.BluePaletteColorLookupTableDescriptor,
  Tag.RedPaletteColorLookupTableData,
  Tag.GreenPaletteColorLookupTableData,
  Tag.BluePaletteColorLookupTableData,
  Tag.SegmentedRedPaletteColorLookupTableData,
  Tag.SegmentedGreenPaletteColorLookupTableData,
  Tag.SegmentedBluePaletteColorLookupTableData,
].map(tagNumber);

const PIXEL_DATA = tagNumber(Tag.PixelData);
const latin1 = new TextDecoder('latin1');

/**
 * The render attributes of a little endian file whose header `header` was scanned up to the pixel
 * data tags (PIXEL_DATA_SCAN_STOP): those of READ, and Pixel Data as one BulkDataValue where it lies
 * in `bytes` (as readPart10's bulkDataAbove leaves it). Undefined when readPart10 must read the file.
 */
export function headerRenderAttributes(header: Part10Header, bytes: Uint8Array): RenderAttributes | undefined {
  if (DECLINED.some((tag) => header.topLevelTags.has(tag))) return undefined;
  const { stop } = header;
  if (stop.tag !== PIXEL_DATA || stop.length === 0 || (stop.vr !== undefined && stop.vr !== 'OB' && stop.vr !== 'OW')) return undefined;
  const dict: DataSet = {};
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const [tag, vr] of READ) {
    const e = header.elements.get(tag);
    if (!e) {
      if (header.topLevelTags.has(tag)) return undefined; // of undefined length: not a value this reads
      continue;
    }
    if (e.vr !== undefined && e.vr !== vr) return undefined;
    const key = tagKey(tag);
    if (vr === 'US') {
      if (e.length % 2 !== 0) return undefined;
      const values: number[] = [];
      for (let at = e.valueStart; at < e.valueStart + e.length; at += 2) values.push(view.getUint16(at, true));
      dict[key] = { vr, Value: values };
    } else {
      const text = latin1.decode(bytes.subarray(e.valueStart, e.valueStart + e.length)).replace(/[\0 ]+$/, '');
      dict[key] = { vr, Value: text === '' ? [] : text.split('\\').map((v) => v.trim()) };
    }
  }
  const end = pixelDataEnd(header, bytes);
  if (end === undefined) return undefined;
  dict[Tag.PixelData] = { vr: stop.vr ?? 'OW', Value: [new BulkDataValue(stop.valueStart, end - stop.valueStart)] };
  return { transferSyntaxUID: header.transferSyntaxUID, dict };
}

/** Where Pixel Data ends (encapsulated: after its Sequence Delimitation Item); undefined when not in the bytes. */
function pixelDataEnd({ stop, transferSyntaxUID }: Part10Header, bytes: Uint8Array): number | undefined {
  if (stop.length !== UNDEFINED_LENGTH) return stop.valueStart + stop.length <= bytes.length ? stop.valueStart + stop.length : undefined;
  try {
    return new ElementWalker(bytes).fragments(stop.valueStart, bytes.length, transferSyntaxEncoding(transferSyntaxUID));
  } catch {
    return undefined; // items readPart10 will refuse, or read, itself
  }
}

/** A tag number as the dict's key: eight upper-case hex digits, as Tag's constants are. */
function tagKey(tag: number): string {
  return tag.toString(16).toUpperCase().padStart(8, '0');
}
