/**
 * JPEG frames (PS3.5 A.4.1, 8.2.1): Baseline and Extended through libjpeg-turbo's 8-bit build, which
 * turns YCbCr into RGB as it decodes; Extended with 12-bit samples (process 4), told from its SOF
 * header, through IJG's 12-bit libjpeg (./jpeg-12bit.ts); Lossless processes 14 and 14 SV1 through
 * jpeg-lossless-decoder-js.
 */
import type { DecodedFrame } from '../decoded-frame';
import type { ImagePixel } from '../image';
import { RenderError } from '../render-error';
import { checkedFrame } from './checked-frame';
import { decodeJpeg12 } from './jpeg-12bit';
import { decodeWith, once, quiet } from './wasm';

const libjpegTurbo = once(async () => (await import('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs')).default(quiet()));
const losslessDecoder = once(async () => (await import('jpeg-lossless-decoder-js')).Decoder);

/** A frame header's (SOF) fields, ITU-T T.81 B.2.2: P, Y, X, Nf. */
export interface JpegFrameHeader {
  readonly precision: number;
  readonly lines: number;
  readonly samplesPerLine: number;
  readonly components: number;
}

/** The first SOF marker segment's fields, undefined when none is found before the data ends. */
export function jpegFrameHeader(codestream: Uint8Array): JpegFrameHeader | undefined {
  let at = 2; // after SOI
  while (at + 9 < codestream.length) {
    if (codestream[at] !== 0xff) return undefined;
    const marker = codestream[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    // SOF0-SOF15, except DHT (C4), JPG (C8) and DAC (CC)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const word = (i: number) => (codestream[at + i]! << 8) | codestream[at + i + 1]!;
      return { precision: codestream[at + 4]!, lines: word(5), samplesPerLine: word(7), components: codestream[at + 9]! };
    }
    at += 2 + ((codestream[at + 2]! << 8) | codestream[at + 3]!);
  }
  return undefined;
}

/** The sample precision of the first SOF marker segment, undefined when none is found. */
export function jpegPrecision(codestream: Uint8Array): number | undefined {
  return jpegFrameHeader(codestream)?.precision;
}

/** JPEG Baseline (Process 1) and Extended (Process 2 & 4), with 8-bit or 12-bit samples. */
export async function decodeJpegBaseline(frame: Uint8Array, image: ImagePixel): Promise<DecodedFrame> {
  const header = jpegFrameHeader(frame);
  const precision = header?.precision;
  if (header && precision === 12) {
    const decoded = await decodeJpeg12(frame, image, header);
    return checkedFrame(decoded, image, image.samplesPerPixel === 3 ? 'RGB' : image.photometricInterpretation);
  }
  if (precision !== undefined && precision !== 8)
    throw new RenderError('unsupported-transfer-syntax', `JPEG with ${precision}-bit samples is neither process 1, 2 nor 4`);
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
