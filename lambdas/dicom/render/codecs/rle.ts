/**
 * RLE Lossless frames (PS3.5 Annex G): a 64-byte header of segment offsets, then one PackBits segment
 * per byte of each sample, most significant byte first, sample after sample. The frame comes out
 * color-by-plane, as G.2 orders it.
 */
import type { DecodedFrame } from '../decoded-frame';
import type { Samples } from '../grayscale';
import type { ImagePixel } from '../image';
import { RenderError } from '../render-error';

const HEADER_LENGTH = 64;
const MAX_SEGMENTS = 15;

/** G.3.2: one segment's PackBits runs into `out` (exactly its length; a short segment is corrupt). */
function unpackSegment(bytes: Uint8Array, start: number, end: number, out: Uint8Array): void {
  let at = start;
  let o = 0;
  while (o < out.length && at < end) {
    const n = bytes[at++]!;
    if (n < 128) {
      const count = Math.min(n + 1, out.length - o, end - at);
      out.set(bytes.subarray(at, at + count), o);
      at += n + 1;
      o += count;
    } else if (n > 128) {
      const count = Math.min(257 - n, out.length - o);
      out.fill(bytes[at++]!, o, o + count);
      o += count;
    } // n = 128 (-128): no operation
  }
  if (o < out.length) throw new RenderError('corrupt', 'an RLE segment is shorter than its frame');
}

export async function decodeRleFrame(frame: Uint8Array, image: ImagePixel): Promise<DecodedFrame> {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const bytesPerSample = image.bitsAllocated / 8;
  const segments = image.samplesPerPixel * bytesPerSample;
  if (frame.length < HEADER_LENGTH || !Number.isInteger(bytesPerSample) || segments > MAX_SEGMENTS)
    throw new RenderError('corrupt', 'not an RLE frame of this image');
  if (view.getUint32(0, true) !== segments)
    throw new RenderError('corrupt', `the RLE header declares ${view.getUint32(0, true)} segments, not ${segments}`);
  const pixels = image.rows * image.columns;
  const segment = new Uint8Array(pixels);
  const words = new Uint32Array(pixels * image.samplesPerPixel);
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : frame.length;
    if (start < HEADER_LENGTH || end > frame.length || start > end)
      throw new RenderError('corrupt', 'an RLE segment offset lies outside the frame');
    unpackSegment(frame, start, end, segment);
    const sample = Math.floor(s / bytesPerSample);
    const shift = 8 * (bytesPerSample - 1 - (s % bytesPerSample)); // G.2: most significant byte first
    const base = sample * pixels;
    for (let i = 0; i < pixels; i++) words[base + i] = (words[base + i]! | (segment[i]! << shift)) >>> 0;
  }
  const samples: Samples = bytesPerSample === 1 ? Uint8Array.from(words) : bytesPerSample === 2 ? Uint16Array.from(words) : words;
  return {
    samples,
    planar: image.samplesPerPixel > 1,
    photometricInterpretation: image.photometricInterpretation,
    subsampled: false,
  };
}
