import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../../lambdas/dicomweb/errors';
import { encodeAnimatedGif, encodeImage, type RasterImage } from '../../../lambdas/dicomweb/image-encoder';

/** A gray ramp: the value of a pixel is its column (x) times 2, so left is dark, right is light. */
function ramp(width: number, height: number): RasterImage {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = Math.min(255, x * 2);
  return { width, height, channels: 1, data };
}

/** Decoded samples (sharp answers three channels for gray too) and the channels the file holds. */
async function decode(bytes: Uint8Array) {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  const { channels } = await sharp(bytes).metadata();
  return { data, info, channels, at: (x: number, y: number) => data[(y * info.width + x) * info.channels]! };
}

describe('encodeImage', () => {
  it('encodes JPEG, PNG and GIF of the frame, size and samples kept', async () => {
    const image = ramp(100, 50);
    for (const mediaType of ['image/jpeg', 'image/png', 'image/gif'] as const) {
      const bytes = await encodeImage(image, { mediaType });
      const meta = await sharp(bytes).metadata();
      expect(meta.format, mediaType).toBe(mediaType.slice(6) === 'jpeg' ? 'jpeg' : mediaType.slice(6));
      expect([meta.width, meta.height]).toEqual([100, 50]);
    }
    const png = await decode(await encodeImage(image, { mediaType: 'image/png' }));
    expect(png.channels).toBe(1);
    expect(png.at(10, 5)).toBe(20);
    expect(png.at(99, 5)).toBe(198);
  });

  it('keeps three channels of an RGB frame', async () => {
    const data = new Uint8Array(8 * 8 * 3).map((_, i) => (i % 3 === 0 ? 255 : 0));
    const png = await decode(await encodeImage({ width: 8, height: 8, channels: 3, data }, { mediaType: 'image/png' }));
    expect(png.channels).toBe(3);
    expect([...png.data.subarray(0, 3)]).toEqual([255, 0, 0]);
  });

  it('scales to fit the viewport, keeping the aspect ratio', async () => {
    const meta = await sharp(await encodeImage(ramp(100, 50), { mediaType: 'image/png', viewport: { vw: 40, vh: 40 } })).metadata();
    expect([meta.width, meta.height]).toEqual([40, 20]);
  });

  it('cuts the source region, and mirrors it for a negative width', async () => {
    const region = { vw: 10, vh: 10, region: { sx: 50, sy: 0, sw: 10, sh: 10 } };
    const cut = await decode(await encodeImage(ramp(100, 50), { mediaType: 'image/png', viewport: region }));
    expect([cut.info.width, cut.info.height, cut.at(0, 0), cut.at(9, 0)]).toEqual([10, 10, 100, 118]);
    const mirrored = { vw: 10, vh: 10, region: { sx: 60, sy: 0, sw: -10, sh: 10 } };
    const flop = await decode(await encodeImage(ramp(100, 50), { mediaType: 'image/png', viewport: mirrored }));
    expect([flop.at(0, 0), flop.at(9, 0)]).toEqual([118, 100]);
  });

  it('answers 400 for a region outside the image', async () => {
    const viewport = { vw: 10, vh: 10, region: { sx: 95, sy: 0, sw: 10, sh: 10 } };
    await expect(encodeImage(ramp(100, 50), { mediaType: 'image/png', viewport })).rejects.toBeInstanceOf(BadRequestError);
  });

  it('fits a thumbnail inside its square without enlarging a small image', async () => {
    const big = await sharp(await encodeImage(ramp(512, 256), { mediaType: 'image/jpeg', fitInside: 128 })).metadata();
    expect([big.width, big.height]).toEqual([128, 64]);
    const small = await sharp(await encodeImage(ramp(64, 32), { mediaType: 'image/jpeg', fitInside: 128 })).metadata();
    expect([small.width, small.height]).toEqual([64, 32]);
  });

  it('embeds the sRGB profile on request, and follows the JPEG quality', async () => {
    const image = ramp(64, 64);
    expect((await sharp(await encodeImage(image, { mediaType: 'image/jpeg', iccProfile: 'srgb' })).metadata()).icc).toBeDefined();
    expect((await sharp(await encodeImage(image, { mediaType: 'image/jpeg' })).metadata()).icc).toBeUndefined();
    const noisy: RasterImage = { width: 64, height: 64, channels: 1, data: new Uint8Array(64 * 64).map((_, i) => (i * 7919) % 256) };
    const low = await encodeImage(noisy, { mediaType: 'image/jpeg', quality: 10 });
    const high = await encodeImage(noisy, { mediaType: 'image/jpeg', quality: 100 });
    expect(low.byteLength).toBeLessThan(high.byteLength);
  });
});

describe('encodeAnimatedGif', () => {
  it('makes one page per frame', async () => {
    const frames = [ramp(32, 16), { ...ramp(32, 16), data: new Uint8Array(32 * 16).fill(200) }];
    const bytes = await encodeAnimatedGif(frames, { mediaType: 'image/gif' });
    const meta = await sharp(bytes, { animated: true }).metadata();
    expect([meta.format, meta.pages, meta.width, meta.pageHeight]).toEqual(['gif', 2, 32, 16]);
    expect(meta.delay).toEqual([100, 100]);
    expect((await sharp(await encodeAnimatedGif(frames, { mediaType: 'image/gif' }, 33.3), { animated: true }).metadata()).delay).toEqual([
      30, 30,
    ]);
    const second = await decode(await sharp(bytes, { page: 1 }).png().toBuffer());
    expect(Math.abs(second.at(5, 5) - 200)).toBeLessThanOrEqual(8);
  });
});
