import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameImages, type FrameImagesJob } from '../../../lambdas/dicomweb/frame-images';
import { TransferSyntax } from '../../../lambdas/dicom/uid';
import { isHeavyDecode, RenderWorkers } from '../../../lib/local/render-workers';

const FIXTURES = path.join(__dirname, '../../fixtures/render');
const JPEG = { mediaType: 'image/jpeg' } as const;

const job = async (name: string, more: Partial<FrameImagesJob> = {}): Promise<FrameImagesJob> => ({
  part10: new Uint8Array(await readFile(path.join(FIXTURES, name))),
  frames: [1],
  encode: JPEG,
  ...more,
});

describe('isHeavyDecode', () => {
  it('sends JPEG 2000, HTJ2K, JPEG-LS and JPEG lossless frames to a thread, others not', () => {
    for (const ts of [TransferSyntax.JPEG2000Lossless, TransferSyntax.HTJ2K, TransferSyntax.JPEGLSLossless, TransferSyntax.JPEGLosslessSV1])
      expect(isHeavyDecode({ transferSyntaxUID: ts })).toBe(true);
    for (const ts of [TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.RLELossless, TransferSyntax.JPEGBaseline8Bit, undefined])
      expect(isHeavyDecode({ transferSyntaxUID: ts })).toBe(false);
  });
});

describe('RenderWorkers', () => {
  // Every job on a thread, whatever its transfer syntax: the threads' answers are what is tested.
  const workers = new RenderWorkers(2, () => true);
  beforeAll(async () => {
    await workers.start();
  });
  afterAll(async () => {
    await workers.close();
  });

  it('starts its threads', () => {
    expect(workers.readyThreads).toBe(2);
  });

  it('makes on a thread the very images frameImages makes inline, for every fixture', async () => {
    const names = (await readdir(FIXTURES)).filter((n) => n.endsWith('.dcm'));
    expect(names.length).toBeGreaterThan(30);
    for (const name of names) {
      const [threaded, inline] = await Promise.all([workers.imager(await job(name)), frameImages(await job(name))]);
      expect(threaded, name).toEqual(inline);
      if ('images' in threaded) expect(threaded.images[0]!.byteLength, name).toBeGreaterThan(100);
    }
  });

  it('answers the same failures: a codec RenderError reason, a viewport outside the image', async () => {
    expect(await workers.imager(await job('mono8-jpeg-extended.dcm', { frames: [2] }))).toEqual({ renderError: 'frame-out-of-range' });
    const outside = await workers.imager(
      await job('ct.dcm', { encode: { ...JPEG, viewport: { vw: 64, vh: 64, region: { sx: 5000, sy: 0, sw: 10, sh: 10 } } } }),
    );
    expect(outside).toMatchObject({ badRequest: { message: 'the viewport region lies outside the image' } });
  });

  it('makes an animated GIF of several frames', async () => {
    const gif = await workers.imager(
      await job('enhanced-ct.dcm', { frames: [1, 2], encode: { mediaType: 'image/gif' }, animated: { delayMs: 50 } }),
    );
    expect('images' in gif && Buffer.from(gif.images[0]!.subarray(0, 6)).toString('latin1')).toBe('GIF89a');
  });

  it('leaves the caller a view of a larger buffer intact', async () => {
    const file = await readFile(path.join(FIXTURES, 'ct.dcm'));
    const larger = new Uint8Array(file.byteLength + 10);
    larger.set(file, 5);
    const view = larger.subarray(5, 5 + file.byteLength);
    expect('images' in (await workers.imager({ part10: view, frames: [1], encode: JPEG }))).toBe(true);
    expect(Buffer.from(view).equals(file)).toBe(true);
  });

  it('makes images inline once closed', async () => {
    const closing = new RenderWorkers(1, () => true);
    await closing.start();
    await closing.close();
    expect(closing.readyThreads).toBe(0);
    expect(await closing.imager(await job('ct.dcm'))).toEqual(await frameImages(await job('ct.dcm')));
  });
});
