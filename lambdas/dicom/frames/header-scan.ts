/**
 * Pixel Data located by a header scan (scanPart10Header, PS3.5 7.1) rather than a parse: where the
 * scan stops and the US and IS values it reads, as dcmjs would. native.ts and encapsulated.ts locate
 * the frames of a stored object from these, so Retrieve Frames reads the header and the frames' bytes
 * only, and loads no dcmjs.
 */
import type { Part10Header } from '../part10-scan';
import { Tag, tagNumber } from '../tags';

/** The tag a header scan for pixel data stops at: the first of the pixel data tags (PS3.5 7.1, ascending order). */
export const PIXEL_DATA_SCAN_STOP = tagNumber(Tag.FloatPixelData);

const latin1 = new TextDecoder('latin1');

/**
 * US and IS values of a scanned header, as instance.ts reads them from dcmjs: undefined when absent,
 * NaN when present but not a plain single value (the caller then declines).
 */
export function headerNumbers(header: Part10Header, bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    us: (tag: string): number | undefined => {
      const e = header.elements.get(tagNumber(tag));
      if (!e) return undefined;
      return (e.vr === undefined || e.vr === 'US') && e.length === 2 ? view.getUint16(e.valueStart, true) : NaN;
    },
    is: (tag: string): number | undefined => {
      const e = header.elements.get(tagNumber(tag));
      if (!e) return undefined;
      const text = latin1.decode(bytes.subarray(e.valueStart, e.valueStart + e.length)).replace(/[\0 ]+$/, '');
      return (e.vr === undefined || e.vr === 'IS') && /^ *[0-9]{1,9}$/.test(text) ? Number(text) : NaN;
    },
  };
}
