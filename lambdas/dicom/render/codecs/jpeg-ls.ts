/** JPEG-LS frames (PS3.5 A.4.3, ISO/IEC 14495-1), lossless and near-lossless, through CharLS. */
import type { DecodedFrame } from '../decoded-frame';
import type { ImagePixel } from '../image';
import { checkedFrame } from './checked-frame';
import { decodeWith, once, quiet } from './wasm';

const charls = once(async () => (await import('@cornerstonejs/codec-charls/decodewasmjs')).default(quiet()));

export async function decodeJpegLs(frame: Uint8Array, image: ImagePixel): Promise<DecodedFrame> {
  let interleave = 2;
  const decoded = await decodeWith(
    charls,
    (m) => new m.JpegLSDecoder(),
    frame,
    (d) => (interleave = d.getInterleaveMode()),
  );
  // CharLS writes the components of a non-interleaved scan (mode 0) one plane after another.
  return checkedFrame(decoded, image, image.photometricInterpretation, decoded.components > 1 && interleave === 0);
}
