/**
 * A frame as decoders hand it to the pipeline: samples, how they are arranged and what color space
 * they are in once decoded; and the samples of native (uncompressed) Pixel Data (PS3.5 8.1.1, 8.2).
 */
import type { Samples } from './grayscale';
import type { ImagePixel } from './image';

export interface DecodedFrame {
  readonly samples: Samples;
  /** Color-by-plane: all of sample 0, then sample 1, then sample 2. */
  readonly planar: boolean;
  /** What the samples hold: the data set's, or RGB when the codec already converted YBR (JPEG, JPEG 2000 MCT). */
  readonly photometricInterpretation: string;
  /** Native YBR_FULL_422: pixel pairs as Y Y Cb Cr (PS3.3 C.7.6.3.1.2). */
  readonly subsampled: boolean;
  /** Resolution levels a JPEG 2000 decoder dropped (each halves the size); 0 or absent: full size. */
  readonly reduction?: number;
}

/** Words of `bytes`, little endian, as a typed array of their width (a copy when not aligned). */
export function wordsOf(bytes: Uint8Array, bitsAllocated: number): Samples {
  const width = bitsAllocated / 8;
  const aligned = bytes.byteOffset % width === 0 ? bytes : bytes.slice();
  const length = Math.floor(aligned.byteLength / width);
  switch (bitsAllocated) {
    case 8:
      return aligned;
    case 16:
      return new Uint16Array(aligned.buffer, aligned.byteOffset, length);
    default:
      return new Uint32Array(aligned.buffer, aligned.byteOffset, length);
  }
}

/** PS3.5 8.1.1 Bits Allocated 1: each pixel's bit, least significant first, as a byte 0 or 1. */
function unpackBits(bytes: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = (bytes[i >> 3]! >> (i & 7)) & 1;
  return out;
}

/** Samples of a native frame (the bytes frames/ cut, little endian whatever the transfer syntax). */
export function nativeSamples(bytes: Uint8Array, image: ImagePixel): DecodedFrame {
  const pixels = image.rows * image.columns;
  const subsampled = image.photometricInterpretation === 'YBR_FULL_422';
  let samples: Samples;
  if (image.bitsAllocated === 1) samples = unpackBits(bytes, pixels);
  else if (image.float) {
    const aligned = bytes.byteOffset % (image.bitsAllocated / 8) === 0 ? bytes : bytes.slice();
    samples =
      image.bitsAllocated === 32
        ? new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4)
        : new Float64Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 8);
  } else samples = wordsOf(bytes, image.bitsAllocated);
  return {
    samples,
    planar: image.planar && !subsampled,
    photometricInterpretation: image.photometricInterpretation,
    subsampled,
  };
}
