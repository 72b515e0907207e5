/**
 * JPEG frames (PS3.5 A.4.1, 8.2.1): Baseline and Extended through libjpeg-turbo's 8-bit build, which
 * turns YCbCr into RGB as it decodes; Lossless processes 14 and 14 SV1 through jpeg-lossless-decoder-js.
 * Extended with 12-bit samples (process 4) needs a 12-bit libjpeg, which neither package builds: such a
 * frame answers unsupported-transfer-syntax, told from its SOF header before any decoding.
 */
import type { DecodedFrame } from '../decoded-frame';
import type { ImagePixel } from '../image';
import { RenderError } from '../render-error';
import { checkedFrame } from './checked-frame';
import { decodeWith, once, quiet } from './wasm';

const libjpegTurbo = once(async () => (await import('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs')).default(quiet()));
const losslessDecoder = once(async () => (await import('jpeg-lossless-decoder-js')).Decoder);

/** The sample precision of the first SOF marker segment (ITU-T T.81 B.2.2), undefined when none is found. */
export function jpegPrecision(codestream: Uint8Array): number | undefined {
  let at = 2; // after SOI
  while (at + 4 < codestream.length) {
    if (codestream[at] !== 0xff) return undefined;
    const marker = codestream[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    // SOF0-SOF15, except DHT (C4), JPG (C8) and DAC (CC)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return codestream[at + 4];
    at += 2 + ((codestream[at + 2]! << 8) | codestream[at + 3]!);
  }
  return undefined;
}

/** JPEG Baseline (Process 1) and Extended (Process 2 & 4) with 8-bit samples. */
export async function decodeJpegBaseline(frame: Uint8Array, image: ImagePixel): Promise<DecodedFrame> {
  const precision = jpegPrecision(frame);
  if (precision !== undefined && precision > 8)
    throw new RenderError('unsupported-transfer-syntax', `JPEG with ${precision}-bit samples (process 4) cannot be rendered`);
  const decoded = await decodeWith(libjpegTurbo, (m) => new m.JPEGDecoder(), frame);
  // libjpeg-turbo outputs RGB for three components, converting YCbCr (YBR_FULL, YBR_FULL_422) itself.
  return checkedFrame(decoded, image, image.samplesPerPixel === 3 ? 'RGB' : image.photometricInterpretation);
}

/** JPEG Lossless, Non-Hierarchical (Process 14), and its First-Order Prediction (Selection Value 1). */
export async function decodeJpegLossless(frame: Uint8Array, image: ImagePixel): Promise<DecodedFrame> {
  const Decoder = await losslessDecoder();
  let samples: Uint8Array | Uint16Array;
  try {
    const bytes = new Uint8Array(frame); // the decoder reads an ArrayBuffer of its own
    samples = new Decoder().decode(bytes.buffer, 0, bytes.length, image.bitsAllocated <= 8 ? 1 : 2);
  } catch (error) {
    throw new RenderError('corrupt', `the frame cannot be decoded: ${error instanceof Error ? error.message : 'codec failure'}`);
  }
  const decoded = { samples, width: image.columns, height: image.rows, components: image.samplesPerPixel, reduction: 0 };
  return checkedFrame(decoded, image, image.photometricInterpretation);
}
