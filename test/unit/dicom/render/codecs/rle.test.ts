/** The RLE Lossless decoder (PS3.5 Annex G) on frames written by hand. */
import { describe, expect, it } from 'vitest';
import { decodeRleFrame } from '../../../../../lambdas/dicom/render/codecs/rle';
import type { ImagePixel } from '../../../../../lambdas/dicom/render/image';

const image = (over: Partial<ImagePixel> = {}): ImagePixel => ({
  rows: 2,
  columns: 2,
  samplesPerPixel: 1,
  bitsAllocated: 8,
  bitsStored: 8,
  highBit: 7,
  signed: false,
  planar: false,
  photometricInterpretation: 'MONOCHROME2',
  float: false,
  ...over,
});

/** G.5: the 64-byte header (segment count, 15 offsets) then the segments. */
function rleFrame(segments: number[][]): Uint8Array {
  const header = new DataView(new ArrayBuffer(64));
  header.setUint32(0, segments.length, true);
  let offset = 64;
  segments.forEach((s, i) => {
    header.setUint32(4 + 4 * i, offset, true);
    offset += s.length;
  });
  return Uint8Array.from([...new Uint8Array(header.buffer), ...segments.flat()]);
}

describe('decodeRleFrame', () => {
  it('reads literal runs (n + 1 bytes) and replicate runs (-n + 1 copies)', async () => {
    const frame = await decodeRleFrame(rleFrame([[0, 7, 0xfe, 9]]), image()); // literal 7; replicate 9 three times
    expect(Array.from(frame.samples)).toEqual([7, 9, 9, 9]);
    expect(frame.planar).toBe(false);
  });
  it('joins 16-bit samples from their most significant segment then the least', async () => {
    const frame = await decodeRleFrame(
      rleFrame([
        [3, 0x12, 0x00, 0xff, 0x80],
        [0xfd, 0x34],
      ]),
      image({ bitsAllocated: 16, bitsStored: 16, highBit: 15 }),
    );
    expect(Array.from(frame.samples)).toEqual([0x1234, 0x0034, 0xff34, 0x8034]);
  });
  it('gives color samples by plane, one segment per sample', async () => {
    const frame = await decodeRleFrame(
      rleFrame([
        [0xfd, 1],
        [0xfd, 2],
        [0xfd, 3],
      ]),
      image({ samplesPerPixel: 3, photometricInterpretation: 'RGB' }),
    );
    expect(Array.from(frame.samples)).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
    expect(frame.planar).toBe(true);
  });
  it('answers corrupt for a short segment, a wrong segment count or offsets outside the frame', async () => {
    await expect(decodeRleFrame(rleFrame([[0, 7]]), image())).rejects.toMatchObject({ reason: 'corrupt' });
    await expect(
      decodeRleFrame(
        rleFrame([
          [0xfd, 1],
          [0xfd, 1],
        ]),
        image(),
      ),
    ).rejects.toMatchObject({ reason: 'corrupt' });
    const bad = rleFrame([[0xfd, 1]]);
    new DataView(bad.buffer).setUint32(4, 500, true);
    await expect(decodeRleFrame(bad, image())).rejects.toMatchObject({ reason: 'corrupt' });
    await expect(decodeRleFrame(new Uint8Array(10), image())).rejects.toMatchObject({ reason: 'corrupt' });
  });
});
