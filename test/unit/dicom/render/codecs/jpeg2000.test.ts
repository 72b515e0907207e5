/**
 * JPEG 2000 through the system's OpenJPEG (lambdas/dicom/render/codecs/openjpeg-native) against the WebAssembly build
 * of the same library: the same samples for every fixture and resolution level, and any codestream
 * that is not the frame's refused as a corrupt frame, never a crash of the process.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeJpeg2000, jpeg2000Decoder } from '../../../../../lambdas/dicom/render/codecs/jpeg2000';
import { frameBytes, readRenderSource } from '../../../../../lambdas/dicom/render/frame-bytes';
import { imagePixelOf, type ImagePixel } from '../../../../../lambdas/dicom/render/image';
import { RenderError } from '../../../../../lambdas/dicom/render/render-error';
import { Tag } from '../../../../../lambdas/dicom/tags';

const FIXTURES = ['ct-j2k-lossless.dcm', 'mr-j2k-lossless.dcm', 'mr-j2k.dcm', 'rgb-j2k-lossless.dcm'];

async function codestreamOf(name: string): Promise<{ codestream: Uint8Array; image: ImagePixel }> {
  const source = readRenderSource(readFileSync(join(import.meta.dirname, '../../../../fixtures/render', name)));
  const image = imagePixelOf(source.instance.dict);
  return { codestream: await frameBytes(source, Tag.PixelData, image, 1), image };
}

const native = (await jpeg2000Decoder()) !== 'webassembly';

describe('the JPEG 2000 decoder of this install', () => {
  // CI installs libopenjp2-7-dev and pkg-config (.ci/run), so there the addon must have been built.
  it.runIf(process.env.CI)('is the native OpenJPEG in CI', async () => {
    expect(await jpeg2000Decoder()).toMatch(/^native OpenJPEG 2\.\d+\.\d+/);
  });
});

describe.runIf(native)('native OpenJPEG', () => {
  it.each(FIXTURES.flatMap((name) => [0, 1, 2].map((reduction) => [name, reduction] as const)))(
    '%s at %i levels down: the WebAssembly build’s samples',
    async (name, reduction) => {
      const { codestream, image } = await codestreamOf(name);
      const ours = await decodeJpeg2000(codestream, image, reduction);
      const reference = await decodeJpeg2000(codestream, image, reduction, 'webassembly');
      expect(ours.reduction).toBe(reference.reduction);
      expect(ours.samples.BYTES_PER_ELEMENT).toBe(reference.samples.BYTES_PER_ELEMENT);
      expect(Array.from(ours.samples)).toEqual(Array.from(reference.samples));
    },
  );

  it('refuses a codestream of another size than Rows and Columns before decoding it', async () => {
    const { codestream, image } = await codestreamOf('ct-j2k-lossless.dcm');
    for (const other of [
      { ...image, rows: image.rows * 2 },
      { ...image, columns: image.columns - 1 },
      { ...image, samplesPerPixel: 3 },
    ]) {
      const refusal = await decodeJpeg2000(codestream, other).catch((e: unknown) => e);
      expect(refusal).toBeInstanceOf(RenderError);
      expect(refusal).toMatchObject({ reason: 'corrupt', message: expect.stringMatching(/Columns, Rows and Samples per Pixel/) });
    }
  });

  it('refuses a cut, emptied or foreign codestream as a corrupt frame', async () => {
    const { codestream, image } = await codestreamOf('mr-j2k-lossless.dcm');
    for (const bad of [
      codestream.subarray(0, codestream.length >> 1),
      codestream.subarray(0, 40),
      new Uint8Array(0),
      Uint8Array.of(0xff, 0xd8, 0xff, 0xe0),
    ]) {
      await expect(decodeJpeg2000(bad, image)).rejects.toMatchObject({ reason: 'corrupt' });
    }
  });

  it('survives damaged codestreams: each decodes to the frame or is refused as corrupt', async () => {
    const { codestream, image } = await codestreamOf('rgb-j2k-lossless.dcm');
    let seed = 2026;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const damaged = Uint8Array.from(codestream);
      // A few bytes changed, the main header's among them for a third of the cases.
      for (let k = 0; k < 1 + (i % 4); k++) {
        const at = i % 3 === 0 ? Math.floor(random() * Math.min(200, damaged.length)) : Math.floor(random() * damaged.length);
        damaged[at] = Math.floor(random() * 256);
      }
      try {
        const frame = await decodeJpeg2000(damaged, image);
        expect(frame.samples.length).toBeGreaterThanOrEqual(image.rows * image.columns * image.samplesPerPixel);
      } catch (error) {
        expect(error).toBeInstanceOf(RenderError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
  });
});
