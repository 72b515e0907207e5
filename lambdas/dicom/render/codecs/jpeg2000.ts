/**
 * JPEG 2000 (PS3.5 A.4.4, ISO/IEC 15444-1) through OpenJPEG and HTJ2K (PS3.5 A.4.6, ISO/IEC 15444-15)
 * through OpenJPH. Both apply the inverse multiple component transform: YBR_RCT and YBR_ICT frames
 * come out RGB (PS3.5 8.2.4).
 */
import type { DecodedFrame } from '../decoded-frame';
import type { ImagePixel } from '../image';
import { checkedFrame } from './checked-frame';
import { decodeWith, once, quiet } from './wasm';

const openjpeg = once(async () => (await import('@cornerstonejs/codec-openjpeg/decodewasmjs')).default(quiet()));
const openjph = once(async () => (await import('@cornerstonejs/codec-openjph')).default(quiet()));

function photometricOut(image: ImagePixel): string {
  const declared = image.photometricInterpretation;
  return declared === 'YBR_RCT' || declared === 'YBR_ICT' ? 'RGB' : declared;
}

export async function decodeJpeg2000(frame: Uint8Array, image: ImagePixel): Promise<DecodedFrame> {
  return checkedFrame(await decodeWith(openjpeg, (m) => new m.J2KDecoder(), frame), image, photometricOut(image));
}

export async function decodeHtj2k(frame: Uint8Array, image: ImagePixel): Promise<DecodedFrame> {
  return checkedFrame(await decodeWith(openjph, (m) => new m.HTJ2KDecoder(), frame), image, photometricOut(image));
}
